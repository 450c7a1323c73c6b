/**
 * `@mmlab/lab`: experiments on mmlab (this entry runs in Node and in the
 * browser; running a matrix and results files on disk are in
 * `@mmlab/lab/node`). The registry of proposal features,
 * the feature-set notation, paired A/B comparisons with confidence
 * intervals, the full combination matrix (worker threads, resumable
 * append-only results, shards and merge) with main and interaction effects,
 * and the reports people read (terminal tables, JSON, CSV, Markdown,
 * Vega-Lite SVG charts).
 * @packageDocumentation
 */
export { FEATURES, findFeature, listFeatures, type FeatureSummary } from './registry.js';
export {
  ALL,
  BASELINE,
  FeatureSetError,
  featureModulePaths,
  featureRequests,
  formatChoice,
  formatFeatureSet,
  makeFeatureSet,
  parseFeatureSet,
  splitFeatureSet,
  type FeatureChoice,
  type FeatureItemText,
  type FeatureLookup,
  type FeatureSet,
  type OptionValue,
} from './notation.js';
export { flattenMetrics, type Metrics } from './metrics.js';
export { DEFAULT_CONFIDENCE, METHOD, estimate, pairedDifference, summarize, type Estimate, type Summary } from './stats.js';
export { runOnce, seedsOf, type RunOutcome, type RunSettings } from './run.js';
export {
  AbInterrupted,
  compareRuns,
  runAb,
  type AbOptions,
  type AbResult,
  type AbRow,
  type AbRunner,
  type AbViolations,
} from './ab.js';
export {
  RESULTS_FORMAT,
  RESULTS_VERSION,
  ResultsError,
  cellKey,
  checkSameSettings,
  describeCell,
  mergeLines,
  parseResults,
  resultLine,
  settingsText,
  sortCells,
  type Cell,
  type ReadLine,
  type ResultLine,
} from './results.js';
export { runCell, type CellTask } from './cell.js';
export {
  parseOptionsGrid,
  parseShard,
  planCells,
  planMatrix,
  shardCells,
  type MatrixPlan,
  type OptionsGrid,
  type PlannedCells,
  type RefusedSet,
  type Shard,
} from './plan.js';
export { factorialEffects, matrixEffects, type Effect, type FactorialEffect, type WorkloadEffects } from './effects.js';
export { csvLine, fmt, interval, markdownTable, percent, signed, textTable, type Column, type Table } from './report/text.js';
export { formatAbCsv, formatAbMarkdown, formatAbText, rowChanged, type AbReportOptions } from './report/ab-report.js';
export {
  effectMatters,
  formatMatrixCsv,
  formatMatrixMarkdown,
  formatMatrixText,
  matrixReport,
  type CellViolations,
  type MatrixReport,
} from './report/matrix-report.js';
export { abChartSpec, interactionChartSpec, renderSvg, setsChartSpec } from './report/charts.js';
export { SHOWCASE, type Showcase } from './showcase.js';
