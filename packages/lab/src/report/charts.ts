/**
 * Charts as SVG, rendered in Node by Vega-Lite and Vega (no browser):
 * bars with confidence intervals for an A/B comparison and for a metric
 * across a matrix's feature sets, and a heat map of a matrix's main effects
 * (diagonal) and pairwise interactions.
 * @module
 */

import type { TopLevelSpec } from 'vega-lite';
import type { AbResult } from '../ab.js';
import type { WorkloadEffects } from '../effects.js';
import type { ResultLine } from '../results.js';
import { estimate } from '../stats.js';
import { rowChanged } from './ab-report.js';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/**
 * Renders a Vega-Lite specification to SVG text. Vega and Vega-Lite are
 * loaded on the first call, not with the package: loading Vega takes
 * about 0.2 s, which every command of the CLI paid before it drew any
 * chart.
 * @param spec - a Vega-Lite specification with inline data
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const [{ View, parse }, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Relative change of one metric, for the A/B chart. */
interface AbBar {
  readonly metric: string;
  readonly change: number;
  readonly low: number;
  readonly high: number;
  readonly label: string;
}

/**
 * The A/B chart: for each metric that differs (and is not 0 in A), the
 * change B − A in percent of A as a bar, with its confidence interval.
 * @param result - what `runAb` returned
 * @param metrics - the metrics to show (default: every metric that differs)
 */
export function abChartSpec(result: AbResult, metrics?: readonly string[]): TopLevelSpec {
  const bars: AbBar[] = result.rows
    .filter((r) => (metrics === undefined ? rowChanged(r) : metrics.includes(r.metric)))
    .flatMap((r) => {
      if (r.diff === null || r.a === null || r.a.mean === 0) return [];
      const scale = 100 / Math.abs(r.a.mean);
      const [lo, hi] = r.diff.ci ?? [r.diff.mean, r.diff.mean];
      return [
        {
          metric: r.metric,
          change: r.diff.mean * scale,
          low: lo * scale,
          high: hi * scale,
          label: r.diff.exact ? 'exact' : r.diff.withinNoise ? 'within noise' : 'outside noise',
        },
      ];
    });
  const level = Math.round(result.confidence * 100);
  return {
    $schema: SCHEMA,
    title: { text: `${result.b} against ${result.a}`, subtitle: `${result.workload}, ${result.seeds.length} paired seed(s); bars: change of the mean, whiskers: ${level}% CI` },
    data: { values: bars },
    encoding: { y: { field: 'metric', type: 'nominal', sort: null, title: null } },
    layer: [
      {
        mark: 'bar',
        encoding: {
          x: { field: 'change', type: 'quantitative', title: 'B − A, % of A' },
          color: { field: 'label', type: 'nominal', title: null, scale: { domain: ['exact', 'outside noise', 'within noise'], range: ['#4c78a8', '#f58518', '#bab0ac'] } },
        },
      },
      { mark: { type: 'errorbar', ticks: true }, encoding: { x: { field: 'low', type: 'quantitative' }, x2: { field: 'high' } } },
    ],
  };
}

/**
 * A metric across a matrix's feature sets: per workload, one bar per set
 * (the mean over the seeds) with its t confidence interval.
 * @param lines - results lines
 * @param metric - the metric
 */
export function setsChartSpec(lines: readonly ResultLine[], metric: string): TopLevelSpec {
  const groups = new Map<string, number[]>();
  for (const l of lines) {
    const v = l.metrics[metric];
    if (v === undefined) continue;
    const key = JSON.stringify([l.workload, l.features]);
    groups.set(key, [...(groups.get(key) ?? []), v]);
  }
  const values = [...groups].map(([key, vs]) => {
    const [workload, features] = JSON.parse(key) as [string, string];
    const e = estimate(vs);
    const [low, high] = e.ci ?? [e.mean, e.mean];
    return { workload, features, mean: e.mean, low, high };
  });
  return {
    $schema: SCHEMA,
    title: { text: metric, subtitle: 'mean over the seeds, whiskers: 95% t interval' },
    data: { values },
    facet: { row: { field: 'workload', type: 'nominal', title: null } },
    spec: {
      encoding: { y: { field: 'features', type: 'nominal', sort: null, title: null } },
      layer: [
        { mark: 'bar', encoding: { x: { field: 'mean', type: 'quantitative', title: metric } } },
        { mark: { type: 'errorbar', ticks: true }, encoding: { x: { field: 'low', type: 'quantitative' }, x2: { field: 'high' } } },
      ],
    },
    resolve: { scale: { x: 'independent' } },
  };
}

/**
 * The heat map of one metric's effects: per workload, feature × feature,
 * main effects on the diagonal and the interaction of each pair off it,
 * coloured by size relative to the baseline.
 * @param effects - `matrixEffects(lines)`
 * @param metric - the metric
 */
export function interactionChartSpec(effects: readonly WorkloadEffects[], metric: string): TopLevelSpec {
  const values = effects.flatMap((w) =>
    w.effects
      .filter((e) => e.metric === metric)
      .flatMap((e) => {
        const [f, g = f] = e.features as [string, string?];
        const rel = e.base === 0 ? 0 : (100 * e.effect.mean) / Math.abs(e.base);
        const cell = { workload: w.workload, value: e.effect.mean, rel, label: e.effect.withinNoise && !e.effect.exact ? '~' : fmtShort(e.effect.mean) };
        return f === g ? [{ ...cell, x: f, y: f }] : [{ ...cell, x: f, y: g }, { ...cell, x: g, y: f }];
      })
  );
  return {
    $schema: SCHEMA,
    title: { text: `${metric}: main effects (diagonal) and interactions`, subtitle: 'colour: % of the baseline; ~ within noise' },
    data: { values },
    facet: { row: { field: 'workload', type: 'nominal', title: null } },
    spec: {
      width: { step: 90 },
      height: { step: 40 },
      encoding: {
        x: { field: 'x', type: 'nominal', title: null, sort: null },
        y: { field: 'y', type: 'nominal', title: null, sort: null },
      },
      layer: [
        { mark: 'rect', encoding: { color: { field: 'rel', type: 'quantitative', title: '% of baseline', scale: { scheme: 'redblue', domainMid: 0, reverse: true } } } },
        { mark: { type: 'text', fontSize: 11 }, encoding: { text: { field: 'label', type: 'nominal' } } },
      ],
    },
  };
}

function fmtShort(n: number): string {
  const a = Math.abs(n);
  if (a >= 1e9) return `${(n / 1e9).toPrecision(3)}G`;
  if (a >= 1e6) return `${(n / 1e6).toPrecision(3)}M`;
  if (a >= 1e4) return `${(n / 1e3).toPrecision(3)}k`;
  return Number.isInteger(n) ? String(n) : n.toPrecision(3);
}
