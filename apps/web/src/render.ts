/**
 * The results as HTML: an A/B comparison's metrics table (A, B, the
 * difference, its interval, the noise flag: the lab's statistics and the
 * lab's figure formats), a matrix's cells and effects (the lab's
 * `matrixEffects` and `matrixReport`), and the Vega-Lite charts (the lab's
 * specifications and its SVG renderer; the key-figures and timeline charts
 * are specifications of this page).
 * @module
 */

import {
  abChartSpec,
  effectMatters,
  estimate,
  fmt,
  interactionChartSpec,
  interval,
  matrixEffects,
  matrixReport,
  percent,
  renderSvg,
  rowChanged,
  setsChartSpec,
  signed,
  type AbResult,
  type AbRow,
  type Effect,
  type Estimate,
  type ResultLine,
  type WorkloadEffects,
} from '@mmlab/lab';
import type { KernelTrace } from '@mmlab/workloads';
import { html, raw, type Html } from './html.js';
import type { SweepResult } from './protocol.js';

/** Vega-Lite specification (the lab's chart functions' type). */
type Spec = ReturnType<typeof abChartSpec>;

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** Panel titles of the charts with one panel per metric: above each panel, level, so long names stay readable. */
const METRIC_HEADER = { labelAngle: 0, labelOrient: 'top', labelAnchor: 'start', labelFontWeight: 'bold', labelFontSize: 11 } as const;

/** A rendered chart. */
export interface Chart {
  /** What it shows. */
  readonly title: string;
  /** The SVG markup. */
  readonly svg: string;
}

/** A number cell: the figure as the lab prints it, the exact value in `data-value`. */
function num(value: number | null | undefined, text?: string): Html {
  if (value === null || value === undefined) return html`<td class="num">—</td>`;
  return html`<td class="num" data-value="${String(value)}">${text ?? fmt(value)}</td>`;
}

function side(s: AbRow['a']): Html {
  if (s === null) return num(null);
  return num(s.mean, s.exact ? fmt(s.mean) : `${fmt(s.mean)} ±${fmt(s.sd)}`);
}

/**
 * The noise flag of a row: `exact` (the same on every seed), `within noise`
 * (the interval contains 0), the p-value of a difference outside the noise,
 * or which side alone reports the metric.
 * @param row - one metric of a comparison
 */
export function noiseFlag(row: AbRow): string {
  if (row.diff === null) return row.a === null ? 'only in B' : 'only in A';
  return estimateFlag(row.diff);
}

function estimateFlag(e: Estimate): string {
  if (e.exact) return 'exact';
  if (e.ci === null) return 'one seed';
  if (e.withinNoise) return 'within noise';
  return e.p === null ? 'outside noise' : e.p < 0.001 ? 'p<0.001' : `p=${e.p.toFixed(3)}`;
}

/** A, B, B − A, the change, the interval and the noise flag of one metric. */
function compareCells(r: AbRow): Html {
  return html`${side(r.a)}${side(r.b)}${r.diff === null ? num(null) : num(r.diff.mean, signed(r.diff.mean))}<td class="num">${
    r.diff === null || r.a === null ? '' : percent(r.diff.mean, r.a.mean)
  }</td><td class="num">${r.diff === null ? '' : interval(r.diff)}</td><td class="flag">${noiseFlag(r)}</td>`;
}

function seedsText(seeds: readonly number[]): string {
  const first = seeds[0];
  const last = seeds[seeds.length - 1];
  if (first === undefined || last === undefined) return 'none';
  return seeds.length === 1 ? `${first}` : `${first}–${last} (${seeds.length}, paired)`;
}

/**
 * An A/B comparison: what ran, the metrics table and the checker's
 * violations.
 * @param result - what `runAb` returned
 * @param all - list every metric, also those identical in A and B
 */
export function renderAb(result: AbResult, all = false): Html {
  const rows = result.rows.filter((r) => all || rowChanged(r));
  const same = result.rows.length - result.rows.filter(rowChanged).length;
  const level = `${Math.round(result.confidence * 100)}% CI`;
  const violations = [...result.violations.a.map((v) => `A ${v}`), ...result.violations.b.map((v) => `B ${v}`)];
  const body =
    rows.length === 0
      ? html`<p class="note">A and B are identical on every metric and seed.</p>`
      : html`<table class="metrics" id="ab-table">
<thead><tr><th>metric</th><th>A</th><th>B</th><th>B − A</th><th>change</th><th>${level}</th><th>noise</th></tr></thead>
<tbody>${rows.map(
          (r) => html`<tr data-metric="${r.metric}" class="${noiseClass(r)}"><th scope="row">${r.metric}</th>${compareCells(r)}</tr>\n`
        )}</tbody>
</table>`;
  return html`<div class="ab-head">
<p><strong>${result.b}</strong> (B) against <strong>${result.a}</strong> (A) on <code>${result.workload}</code>, seeds ${seedsText(result.seeds)}</p>
<p class="note">intervals: ${result.method}; exact: the same on every seed</p>
</div>
${body}
${all || same === 0 ? '' : html`<p class="note">${same} more metrics identical in A and B on every seed (tick “every metric” to list them).</p>`}
${violations.length === 0 ? '' : html`<div class="error" role="alert">Invariant violations (${violations.length}):<ul>${violations.slice(0, 20).map((v) => html`<li>${v}</li>`)}</ul></div>`}`;
}

function noiseClass(row: AbRow): string {
  if (row.diff === null) return 'one-side';
  if (row.diff.exact) return row.diff.mean === 0 ? 'same' : 'exact';
  if (row.diff.ci === null) return 'one-seed';
  return row.diff.withinNoise ? 'noise' : 'signal';
}

/**
 * The key figures the proposals argue about, where a run reports them:
 * page-table memory, TLB flushes, notifier invalidations and simulated time.
 * @param metric - a metric name
 */
export function isKeyMetric(metric: string): boolean {
  return (
    metric === 'meminfo.PageTables' ||
    metric === 'sim.ns' ||
    metric === 'sim.tlb_flush_ns' ||
    /^vmstat\.nr_tlb_.*flush/.test(metric) ||
    /^feature\.[^.]+\.invalidate/.test(metric)
  );
}

/** The rows of the key figures that are not 0 on both sides. */
function keyRows(result: AbResult): AbRow[] {
  return result.rows.filter((r) => isKeyMetric(r.metric) && ((r.a?.mean ?? 0) !== 0 || (r.b?.mean ?? 0) !== 0));
}

/**
 * A and B side by side on the key figures: one panel per metric (each its
 * own scale), the mean over the seeds with whiskers of one standard
 * deviation.
 * @param result - what `runAb` returned
 */
export function keyFiguresSpec(result: AbResult): Spec {
  const values = keyRows(result)
    .flatMap((r) =>
      (
        [
          ['A', r.a],
          ['B', r.b],
        ] as const
      ).flatMap(([name, s]) =>
        s === null ? [] : [{ metric: r.metric, side: `${name}: ${name === 'A' ? result.a : result.b}`, mean: s.mean, low: s.mean - s.sd, high: s.mean + s.sd }]
      )
    );
  return {
    $schema: SCHEMA,
    title: { text: 'Key figures, A and B', subtitle: `${result.workload}; mean over ${result.seeds.length} seed(s), whiskers: ±1 standard deviation` },
    data: { values },
    facet: { row: { field: 'metric', type: 'nominal', title: null, header: METRIC_HEADER } },
    spec: {
      width: 420,
      encoding: { y: { field: 'side', type: 'nominal', title: null, sort: null } },
      layer: [
        { mark: 'bar', encoding: { x: { field: 'mean', type: 'quantitative', title: null }, color: { field: 'side', type: 'nominal', legend: null } } },
        { mark: { type: 'errorbar', ticks: true }, encoding: { x: { field: 'low', type: 'quantitative' }, x2: { field: 'high' } } },
      ],
    },
    resolve: { scale: { x: 'independent' } },
  };
}

/**
 * The charts of an A/B comparison: the key figures, and every change in
 * percent of A with its interval (the lab's `abChartSpec`).
 * @param result - what `runAb` returned
 */
export async function abCharts(result: AbResult): Promise<Chart[]> {
  const charts: Chart[] = [];
  if (keyRows(result).length > 0) charts.push({ title: 'key figures', svg: await renderSvg(keyFiguresSpec(result)) });
  const changed = result.rows.filter((r) => rowChanged(r) && r.diff !== null && r.a !== null && r.a.mean !== 0);
  if (changed.length > 0) charts.push({ title: 'changes', svg: await renderSvg(abChartSpec(result)) });
  return charts;
}

/** The key metrics some comparison of a sweep reports (not 0 on both sides), in report order. */
function sweepMetrics(points: readonly SweepResult[]): string[] {
  return [...new Set(points.flatMap((p) => keyRows(p.result).map((r) => r.metric)))];
}

/**
 * A sweep: per key figure and value of the parameter, A, B, the difference,
 * its interval and the noise flag (each value is one `runAb`).
 * @param points - one comparison per value
 */
export function renderSweep(points: readonly SweepResult[]): Html {
  const first = points[0];
  if (first === undefined) return html`<p class="note">No values.</p>`;
  const metrics = sweepMetrics(points);
  const rows = metrics.flatMap((metric) =>
    points.flatMap((p) => {
      const r = p.result.rows.find((x) => x.metric === metric);
      return r === undefined ? [] : [{ p, r }];
    })
  );
  return html`<div class="ab-head">
<p><strong>${first.result.b}</strong> (B) against <strong>${first.result.a}</strong> (A) at ${first.key} = ${points.map((p) => fmt(p.value)).join(', ')}; seeds ${seedsText(first.result.seeds)}</p>
<p class="note">key figures; intervals: ${first.result.method}</p>
</div>
<table class="metrics" id="sweep-table">
<thead><tr><th>metric</th><th>${first.key}</th><th>A</th><th>B</th><th>B − A</th><th>change</th><th>${Math.round(first.result.confidence * 100)}% CI</th><th>noise</th></tr></thead>
<tbody>${rows.map(
    ({ p, r }) =>
      html`<tr data-metric="${r.metric}" data-value="${String(p.value)}" class="${noiseClass(r)}"><th scope="row">${r.metric}</th>${num(p.value)}${compareCells(r)}</tr>\n`
  )}</tbody>
</table>
${points.some((p) => p.result.violations.a.length + p.result.violations.b.length > 0) ? html`<div class="error" role="alert">Invariant violations: run the single comparisons to see them.</div>` : ''}`;
}

/**
 * The key figures of A and B against the swept parameter (page-table
 * memory against processes, …): one panel per metric, the mean over the
 * seeds per value, one line per side.
 * @param points - one comparison per value
 */
export function sweepChartSpec(points: readonly SweepResult[]): Spec {
  const first = points[0];
  const key = first?.key ?? '';
  const values = sweepMetrics(points).flatMap((metric) =>
    points.flatMap((p) => {
      const r = p.result.rows.find((x) => x.metric === metric);
      if (r === undefined) return [];
      return (
        [
          ['A', r.a, p.result.a],
          ['B', r.b, p.result.b],
        ] as const
      ).flatMap(([name, s, set]) => (s === null ? [] : [{ metric, [key]: p.value, side: `${name}: ${set}`, mean: s.mean }]));
    })
  );
  return {
    $schema: SCHEMA,
    title: { text: `Key figures against ${key}`, subtitle: `${first?.result.workload ?? ''} at each ${key}; mean over ${first?.result.seeds.length ?? 0} seed(s)` },
    data: { values },
    facet: { row: { field: 'metric', type: 'nominal', title: null, header: METRIC_HEADER } },
    spec: {
      width: 420,
      height: 120,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: key, type: 'quantitative', title: key },
        y: { field: 'mean', type: 'quantitative', title: null },
        color: { field: 'side', type: 'nominal', title: null },
      },
    },
    resolve: { scale: { y: 'independent' } },
  };
}

/**
 * The chart of a sweep.
 * @param points - one comparison per value
 */
export async function sweepCharts(points: readonly SweepResult[]): Promise<Chart[]> {
  return sweepMetrics(points).length === 0 ? [] : [{ title: 'against the parameter', svg: await renderSvg(sweepChartSpec(points)) }];
}

/** A matrix's figures for the page: the lab's report and effects. */
export interface MatrixView {
  /** The lab's summary of the lines. */
  readonly report: ReturnType<typeof matrixReport>;
  /** The lab's effects per workload. */
  readonly effects: readonly WorkloadEffects[];
  /** Every metric some line reports, sorted. */
  readonly metrics: readonly string[];
}

/**
 * The lab's analysis of a matrix's lines.
 * @param lines - results lines (one matrix)
 */
export function analyseMatrix(lines: readonly ResultLine[]): MatrixView {
  const effects = matrixEffects(lines);
  return { report: matrixReport(lines, effects), effects, metrics: [...new Set(lines.flatMap((l) => Object.keys(l.metrics)))].sort() };
}

function effectRow(e: Effect): Html {
  return html`<tr data-kind="${e.kind}" data-features="${e.features.join(',')}"><td>${e.kind === 'main' ? 'main' : 'interaction'}</td><th scope="row">${e.features.join(' × ')}</th>${num(
    e.effect.mean,
    signed(e.effect.mean)
  )}<td class="num">${percent(e.effect.mean, e.base)}</td><td class="num">${interval(e.effect)}</td><td class="flag">${estimateFlag(e.effect)}</td></tr>\n`;
}

/**
 * A matrix: what it holds, one metric per feature set (mean and interval
 * over the seeds) and that metric's main and interaction effects.
 * @param view - {@link analyseMatrix} of the lines
 * @param lines - the lines
 * @param metric - the metric to show
 * @param source - where the lines come from (a file name, or the page's run)
 */
export function renderMatrix(view: MatrixView, lines: readonly ResultLine[], metric: string, source: string): Html {
  const r = view.report;
  const sets = r.sets.map((set) => {
    const values = lines.filter((l) => l.features === set).flatMap((l) => (l.metrics[metric] === undefined ? [] : [l.metrics[metric]]));
    return { set, e: values.length === 0 ? null : estimate(values) };
  });
  const violations = r.violations;
  return html`<div class="matrix-head">
<p><strong>${source}</strong>: ${r.cells} cells, ${r.workloads.length} workload(s) (${r.workloads.join('; ')}) × ${r.sets.length} feature set(s) × ${r.seeds.length} seed(s)</p>
<p class="note">settings ${JSON.stringify(r.settings)}; intervals: ${r.method}${r.checks > 0 ? `; checker: ${fmt(r.checks)} checks` : ''}</p>
</div>
${violations.length === 0 ? '' : html`<div class="error" role="alert">Invariant violations in ${violations.length} cell(s):<ul>${violations.slice(0, 20).map((v) => html`<li>${v.cell}: ${v.first}${v.count > 1 ? ` (+${v.count - 1} more)` : ''}</li>`)}</ul></div>`}
<h3>${metric} per feature set</h3>
<table class="metrics" id="sets-table">
<thead><tr><th>feature set</th><th>mean</th><th>95% CI</th><th>seeds</th></tr></thead>
<tbody>${sets.map(
    ({ set, e }) =>
      html`<tr data-set="${set}"><th scope="row">${set}</th>${e === null ? num(null) : num(e.mean)}<td class="num">${e === null ? '' : interval(e)}</td><td class="num">${e?.n ?? 0}</td></tr>\n`
  )}</tbody>
</table>
${view.effects.map(
    (w) => html`<h3>Effects on ${metric}: <code>${w.workload}</code></h3>
${
  w.note !== null
    ? html`<p class="note">${w.note}</p>`
    : html`<table class="metrics effects">
<thead><tr><th>kind</th><th>features</th><th>effect</th><th>% of baseline</th><th>95% CI</th><th>noise</th></tr></thead>
<tbody>${w.effects.filter((e) => e.metric === metric).map(effectRow)}</tbody>
</table>
<p class="note">${w.effects.filter((e) => e.metric === metric && e.kind === 'interaction' && effectMatters(e)).length} interaction(s) of ${metric} outside the noise; main: switching one feature on, averaged over the others; interaction: what a pair does beyond each alone.</p>`
}`
  )}`;
}

/**
 * The charts of a matrix: the metric per feature set and the heat map of
 * its effects (the lab's specifications).
 * @param view - {@link analyseMatrix} of the lines
 * @param lines - the lines
 * @param metric - the metric
 */
export async function matrixCharts(view: MatrixView, lines: readonly ResultLine[], metric: string): Promise<Chart[]> {
  const charts: Chart[] = [{ title: 'per feature set', svg: await renderSvg(setsChartSpec(lines, metric)) }];
  if (view.effects.some((w) => w.effects.some((e) => e.metric === metric))) {
    charts.push({ title: 'effects heat map', svg: await renderSvg(interactionChartSpec(view.effects, metric)) });
  }
  return charts;
}

/** Most events the timeline draws. */
export const TIMELINE_EVENTS = 3000;

/**
 * A timeline of one run: one track per CPU, the complete events of the
 * trace (system calls, faults, lock waits) as bars, instant events (IPIs,
 * TLB flushes) as ticks; the first {@link TIMELINE_EVENTS} events.
 * @param trace - the run's trace
 * @param label - what ran
 */
export function timelineSpec(trace: KernelTrace, label: string): Spec {
  const events = trace.traceEvents.filter((e) => e.ph !== 'M').slice(0, TIMELINE_EVENTS);
  const values = events.map((e) => ({
    cpu: `CPU ${e.tid}`,
    start: e.ts,
    end: e.ts + (e.ph === 'X' ? (e.dur ?? 0) : 0),
    name: e.name,
    cat: e.cat,
    instant: e.ph === 'i',
  }));
  const cut = trace.traceEvents.filter((e) => e.ph !== 'M').length > events.length;
  return {
    $schema: SCHEMA,
    title: { text: `Timeline: ${label}`, subtitle: `simulated µs; ${cut ? `first ${TIMELINE_EVENTS} events` : `${events.length} events`}${trace.metadata.truncated ? ' (trace cut)' : ''}` },
    data: { values },
    width: 900,
    encoding: {
      y: { field: 'cpu', type: 'nominal', title: null, sort: null },
      color: { field: 'cat', type: 'nominal', title: 'category' },
      tooltip: [{ field: 'name' }, { field: 'cat' }, { field: 'start', title: 'µs' }],
    },
    layer: [
      { transform: [{ filter: '!datum.instant' }], mark: { type: 'bar', height: 14 }, encoding: { x: { field: 'start', type: 'quantitative', title: 'simulated time (µs)' }, x2: { field: 'end' } } },
      { transform: [{ filter: 'datum.instant' }], mark: { type: 'tick', thickness: 1 }, encoding: { x: { field: 'start', type: 'quantitative' } } },
    ],
  };
}

/**
 * The timeline chart of one run.
 * @param trace - the run's trace
 * @param label - what ran
 */
export async function timelineChart(trace: KernelTrace, label: string): Promise<Chart> {
  return { title: 'timeline', svg: await renderSvg(timelineSpec(trace, label)) };
}

/**
 * Charts as figures.
 * @param charts - rendered charts
 */
export function renderCharts(charts: readonly Chart[]): Html {
  return html`${charts.map((c) => html`<figure class="chart" data-chart="${c.title}">${raw(c.svg)}<figcaption>${c.title}</figcaption></figure>`)}`;
}
