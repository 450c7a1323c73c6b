/**
 * Reports of a matrix: what it ran, its violations, and per workload the
 * main effects and the pairwise interactions that are not zero (the
 * combinations that interfere stand out); as terminal text, Markdown, CSV
 * and JSON-able data.
 * @module
 */

import type { Effect, WorkloadEffects } from '../effects.js';
import type { ResultLine } from '../results.js';
import { METHOD } from '../stats.js';
import { csvLine, fmt, interval, markdownTable, percent, signed, textTable, type Table } from './text.js';

/** A cell with invariant violations. */
export interface CellViolations {
  /** The cell in words. */
  readonly cell: string;
  /** Its first violation. */
  readonly first: string;
  /** How many it has. */
  readonly count: number;
}

/** A matrix's results summarised. */
export interface MatrixReport {
  /** Cells read. */
  readonly cells: number;
  /** Workloads, in the order met. */
  readonly workloads: readonly string[];
  /** Distinct feature sets. */
  readonly sets: readonly string[];
  /** Distinct seeds. */
  readonly seeds: readonly number[];
  /** The shared run settings (of the first line). */
  readonly settings: ResultLine['settings'];
  /** Invariant checks run in all (0 without the checker). */
  readonly checks: number;
  /** Cells with violations, with the first of each. */
  readonly violations: readonly CellViolations[];
  /** Effects per workload. */
  readonly effects: readonly WorkloadEffects[];
  /** How intervals were computed. */
  readonly method: string;
}

/**
 * Summarises a matrix's lines and effects.
 * @param lines - results lines
 * @param effects - `matrixEffects(lines)`
 */
export function matrixReport(lines: readonly ResultLine[], effects: readonly WorkloadEffects[]): MatrixReport {
  return {
    cells: lines.length,
    workloads: [...new Set(lines.map((l) => l.workload))],
    sets: [...new Set(lines.map((l) => l.features))],
    seeds: [...new Set(lines.map((l) => l.seed))].sort((a, b) => a - b),
    settings: lines[0]?.settings ?? {},
    checks: lines.reduce((n, l) => n + (l.metrics['invariants.checks'] ?? 0), 0),
    violations: lines
      .filter((l) => l.violations.length > 0)
      .map((l) => ({ cell: `${l.workload} × ${l.features}, seed ${l.seed}`, first: l.violations[0] ?? '', count: l.violations.length })),
    effects,
    method: METHOD.replace('paired ', 'one-sample '),
  };
}

/**
 * True when an effect is not zero: exact (or from one seed) and non-zero,
 * or outside the noise.
 * @param e - an effect
 */
export function effectMatters(e: Effect): boolean {
  return e.effect.exact || e.effect.ci === null ? e.effect.mean !== 0 : !e.effect.withinNoise;
}

function effectCell(e: Effect | undefined): string {
  if (e === undefined) return '';
  const value = e.effect.mean === 0 && e.effect.exact ? '0' : signed(e.effect.mean);
  const pct = percent(e.effect.mean, e.base);
  const noise = e.effect.exact || e.effect.ci === null ? '' : e.effect.withinNoise ? ' ~' : ` ${interval(e.effect)}`;
  return `${value}${pct === '' ? '' : ` (${pct})`}${noise}`;
}

/** The main effects of one workload: one row per metric some feature changes, one column per feature. */
function mainTable(w: WorkloadEffects): Table {
  const mains = w.effects.filter((e) => e.kind === 'main');
  const metrics = [...new Set(mains.filter(effectMatters).map((e) => e.metric))];
  return {
    columns: [
      { title: 'metric', align: 'left' },
      { title: 'baseline', align: 'right' },
      ...w.factors.map((f) => ({ title: f, align: 'right' as const })),
    ],
    rows: metrics.map((m) => [
      m,
      fmt(mains.find((e) => e.metric === m)?.base ?? 0),
      ...w.factors.map((f) => effectCell(mains.find((e) => e.metric === m && e.features[0] === f))),
    ]),
  };
}

/** The interactions of one workload that are not zero, largest relative size first. */
function interactionTable(w: WorkloadEffects): Table {
  const size = (e: Effect): number => Math.abs(e.base === 0 ? e.effect.mean : e.effect.mean / e.base);
  const list = w.effects.filter((e) => e.kind === 'interaction' && effectMatters(e)).sort((a, b) => size(b) - size(a));
  return {
    columns: [
      { title: 'features', align: 'left' },
      { title: 'metric', align: 'left' },
      { title: 'baseline', align: 'right' },
      { title: 'together beyond each alone', align: 'right' },
    ],
    rows: list.map((e) => [e.features.join(' × '), e.metric, fmt(e.base), effectCell(e)]),
  };
}

function headLines(r: MatrixReport): string[] {
  const lines = [
    `${r.cells} cells: ${r.workloads.length} workload(s) × ${r.sets.length} feature set(s) × ${r.seeds.length} seed(s); settings ${JSON.stringify(r.settings)}`,
  ];
  if (r.checks > 0) {
    lines.push(
      r.violations.length === 0
        ? `checker: ${fmt(r.checks)} checks, no violation`
        : `checker: VIOLATIONS in ${r.violations.length} cell(s): ${r.violations
            .slice(0, 5)
            .map((v) => `${v.cell}: ${v.first}`)
            .join('; ')}`
    );
  }
  const variants = r.sets.filter((set) => set.includes('='));
  if (variants.length > 0) {
    lines.push(
      `${variants.length} set(s) with option variants (${variants.slice(0, 3).join('; ')}${variants.length > 3 ? '; …' : ''}) are in the file and the CSV/JSON of the cells, not in the effects below`
    );
  }
  lines.push(
    `${r.seeds.length === 1 ? 'one seed: figures as measured, no intervals; ' : ''}effects on the cells at default options; main: switching one feature on, averaged over the others; interaction: what a pair does beyond each alone. ~ within noise; intervals: ${r.method}`
  );
  return lines;
}

function workloadSections(r: MatrixReport, table: (t: Table) => string, title: (s: string) => string): string {
  return r.effects
    .map((w) => {
      let out = title(`${w.workload} (factors: ${w.factors.join(', ') || 'none'})`);
      if (w.note !== null) return `${out}${w.note}\n`;
      const main = mainTable(w);
      out += main.rows.length === 0 ? 'main effects: no feature changes any metric\n' : `main effects:\n${table(main)}`;
      const inter = interactionTable(w);
      const pairs = (w.factors.length * (w.factors.length - 1)) / 2;
      out +=
        pairs === 0
          ? ''
          : inter.rows.length === 0
            ? `interactions: none; every pair's effects add up on every metric\n`
            : `interactions (${inter.rows.length} not zero):\n${table(inter)}`;
      return out;
    })
    .join('\n');
}

/**
 * The matrix as terminal text.
 * @param r - the summary
 */
export function formatMatrixText(r: MatrixReport): string {
  return `${headLines(r).join('\n')}\n\n${workloadSections(r, (t) => textTable(t, 2), (s) => `== ${s}\n`)}`;
}

/**
 * The matrix as Markdown.
 * @param r - the summary
 */
export function formatMatrixMarkdown(r: MatrixReport): string {
  return `${headLines(r).join('\n\n')}\n\n${workloadSections(r, (t) => `\n${markdownTable(t)}\n`, (s) => `### ${s}\n\n`)}`;
}

/**
 * Every effect as CSV, one row per workload, metric and effect.
 * @param r - the summary
 */
export function formatMatrixCsv(r: MatrixReport): string {
  const head = csvLine(['workload', 'metric', 'kind', 'features', 'baseline', 'effect', 'ci_low', 'ci_high', 'exact', 'within_noise', 'p', 'seeds']);
  return (
    head +
    r.effects
      .flatMap((w) =>
        w.effects.map((e) =>
          csvLine([
            e.workload,
            e.metric,
            e.kind,
            e.features.join('+'),
            e.base,
            e.effect.mean,
            e.effect.ci?.[0] ?? null,
            e.effect.ci?.[1] ?? null,
            e.effect.exact,
            e.effect.withinNoise,
            e.effect.p,
            e.effect.n,
          ])
        )
      )
      .join('')
  );
}
