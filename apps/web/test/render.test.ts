import { describe, expect, it } from 'vitest';
import { compareRuns, DEFAULT_CONFIDENCE, estimate, fmt, interval, matrixEffects, METHOD, resultLine, type AbResult, type Metrics, type ResultLine } from '@mmlab/lab';
import { runWorkloadTraced } from '@mmlab/workloads';
import { escapeHtml, html, raw } from '../src/html.js';
import { abCharts, analyseMatrix, isKeyMetric, keyFiguresSpec, matrixCharts, noiseFlag, renderAb, renderCharts, renderMatrix, renderSweep, sweepCharts, sweepChartSpec, timelineSpec } from '../src/render.js';

function ab(runsA: Metrics[], runsB: Metrics[]): AbResult {
  return {
    a: 'baseline',
    b: 'shared-pagetables',
    workload: 'shm-procs:procs=4:size=16m',
    seeds: runsA.map((_, i) => i + 1),
    confidence: DEFAULT_CONFIDENCE,
    method: METHOD,
    violations: { a: [], b: ['seed 2: rss: <count> off by one'] },
    rows: compareRuns(runsA, runsB),
  };
}

/** The cells of one row of a rendered table, as text. */
function row(text: string, attr: string): string[] {
  const m = new RegExp(`<tr ${attr}[^>]*>(.*?)</tr>`).exec(text);
  if (m === null) throw new Error(`no row ${attr}`);
  return [...m[1]!.matchAll(/<t[hd][^>]*>(.*?)<\/t[hd]>/g)].map((c) => c[1]!);
}

describe('html', () => {
  it('escapes values and keeps built markup', () => {
    const inner = html`<b>${'x'}</b>`;
    expect(html`<p title="${'"<&>\''}">${inner}${['a', 1, null, undefined, false, true]}</p>`.text).toBe('<p title="&#34;&#60;&#38;&#62;&#39;"><b>x</b>a1true</p>');
    expect(escapeHtml('<svg>')).toBe('&#60;svg&#62;');
    expect(raw('<svg/>').toString()).toBe('<svg/>');
  });
});

describe('an A/B comparison', () => {
  const result = ab(
    [
      { 'meminfo.PageTables': 288, 'sim.ns': 1_000_000, 'vmstat.pgfault': 10, same: 5 },
      { 'meminfo.PageTables': 288, 'sim.ns': 1_100_000, 'vmstat.pgfault': 10, same: 5 },
      { 'meminfo.PageTables': 288, 'sim.ns': 1_050_000, 'vmstat.pgfault': 10, same: 5 },
    ],
    [
      { 'meminfo.PageTables': 92, 'sim.ns': 1_020_000, 'vmstat.pgfault': 10, same: 5, 'feature.shared-pagetables.share_fault': 49 },
      { 'meminfo.PageTables': 92, 'sim.ns': 1_090_000, 'vmstat.pgfault': 12, same: 5, 'feature.shared-pagetables.share_fault': 49 },
      { 'meminfo.PageTables': 92, 'sim.ns': 1_060_000, 'vmstat.pgfault': 14, same: 5, 'feature.shared-pagetables.share_fault': 49 },
    ]
  );
  const text = renderAb(result).text;

  it('shows A, B, the difference, its interval and the noise flag as the lab computes them', () => {
    expect(row(text, 'data-metric="meminfo.PageTables"')).toEqual(['meminfo.PageTables', '288', '92', '−196', '−68.1%', 'exact', 'exact']);
    const pgfault = result.rows.find((r) => r.metric === 'vmstat.pgfault')!;
    expect(row(text, 'data-metric="vmstat.pgfault"')).toEqual([
      'vmstat.pgfault',
      '10',
      `12 ±2`,
      '+2',
      '+20%',
      `[${fmt(pgfault.diff!.ci![0])}, ${fmt(pgfault.diff!.ci![1])}]`,
      'within noise',
    ]);
    expect(row(text, 'data-metric="feature.shared-pagetables.share_fault"')).toEqual(['feature.shared-pagetables.share_fault', '—', '49', '—', '', '', 'only in B']);
    expect(text).toContain('data-value="-196"');
  });

  it('lists only what changed unless asked for every metric', () => {
    expect(text).not.toContain('data-metric="same"');
    expect(text).toContain('1 more metrics identical in A and B');
    expect(renderAb(result, true).text).toContain('data-metric="same"');
  });

  it('shows the violations and what ran', () => {
    expect(text).toContain('B seed 2: rss: &#60;count&#62; off by one');
    expect(text).toContain('<code>shm-procs:procs=4:size=16m</code>, seeds 1–3 (3, paired)');
    expect(text).toContain(METHOD.replace("'", '&#39;'));
  });

  it('says when A and B are identical', () => {
    expect(renderAb(ab([{ x: 1 }], [{ x: 1 }])).text).toContain('A and B are identical on every metric and seed.');
  });

  it('flags noise from the lab\'s estimates', () => {
    const flags = Object.fromEntries(result.rows.map((r) => [r.metric, noiseFlag(r)]));
    expect(flags).toMatchObject({ 'meminfo.PageTables': 'exact', 'vmstat.pgfault': 'within noise', 'feature.shared-pagetables.share_fault': 'only in B' });
    expect(noiseFlag(ab([{ x: 1 }], [{ x: 2 }]).rows[0]!)).toBe('one seed');
  });

  it('charts the key figures and the changes as SVG', async () => {
    expect(['meminfo.PageTables', 'sim.ns', 'vmstat.nr_tlb_local_flush_all', 'feature.mmu-notifiers.invalidate_page'].every(isKeyMetric)).toBe(true);
    expect(isKeyMetric('vmstat.pgfault')).toBe(false);
    const spec = keyFiguresSpec(result) as { data: { values: { metric: string; side: string; mean: number }[] } };
    expect(spec.data.values).toContainEqual({ metric: 'meminfo.PageTables', side: 'B: shared-pagetables', mean: 92, low: 92, high: 92 });
    const charts = await abCharts(result);
    expect(charts.map((c) => c.title)).toEqual(['key figures', 'changes']);
    for (const c of charts) expect(c.svg).toMatch(/^<svg/);
    expect(renderCharts(charts).text).toContain('<figure class="chart" data-chart="key figures"><svg');
  });
});

describe('a sweep', () => {
  // page-table memory grows with the processes in A, stays flat in B
  const points = [2, 4, 8].map((procs) => ({
    key: 'procs',
    value: procs,
    result: ab([{ 'meminfo.PageTables': 36 * procs, 'vmstat.pgfault': 5 }], [{ 'meminfo.PageTables': 40, 'vmstat.pgfault': 5 }]),
  }));

  it('shows the key figures at each value', () => {
    const text = renderSweep(points).text;
    expect(row(text, 'data-metric="meminfo.PageTables" data-value="8"')).toEqual(['meminfo.PageTables', '8', '288', '40', '−248', '−86.1%', 'n/a (1 seed)', 'one seed']);
    expect(text).not.toContain('vmstat.pgfault');
    expect(text).toContain('at procs = 2, 4, 8');
  });

  it('charts A and B against the parameter', async () => {
    const spec = sweepChartSpec(points) as { data: { values: Record<string, unknown>[] } };
    expect(spec.data.values).toContainEqual({ metric: 'meminfo.PageTables', procs: 4, side: 'A: baseline', mean: 144 });
    expect(spec.data.values).toContainEqual({ metric: 'meminfo.PageTables', procs: 4, side: 'B: shared-pagetables', mean: 40 });
    const charts = await sweepCharts(points);
    expect(charts.map((c) => c.title)).toEqual(['against the parameter']);
    expect(charts[0]!.svg).toContain('Key figures against procs');
  });
});

describe('a matrix', () => {
  // two features, two seeds: f adds 10, g adds 5, together 3 more
  const y = (f: boolean, g: boolean, seed: number): number => 100 + (f ? 10 : 0) + (g ? 5 : 0) + (f && g ? 3 : 0) + seed;
  const lines: ResultLine[] = [1, 2].flatMap((seed) =>
    (
      [
        ['baseline', false, false],
        ['mmu-gather-inplace', true, false],
        ['shared-pagetables', false, true],
        ['mmu-gather-inplace,shared-pagetables', true, true],
      ] as const
    ).map(([features, f, g]) => resultLine({ workload: 'fork-exit:procs=2:size=1m', features, seed }, { machine: 'x86-64' }, [], { 'sim.ns': y(f, g, seed), other: 1 }))
  );
  const view = analyseMatrix(lines);
  const text = renderMatrix(view, lines, 'sim.ns', 'results.jsonl').text;

  it('is the lab\'s analysis', () => {
    expect(view.effects).toEqual(matrixEffects(lines));
    expect(view.metrics).toEqual(['other', 'sim.ns']);
  });

  it('shows the metric per set and its main and interaction effects', () => {
    expect(row(text, 'data-set="baseline"')).toEqual(['baseline', '101.5', interval(estimate([101, 102])), '2']);
    expect(row(text, 'data-kind="main" data-features="mmu-gather-inplace"')).toEqual(['main', 'mmu-gather-inplace', '+11.5', '+11.3%', 'exact', 'exact']);
    expect(row(text, 'data-kind="interaction" data-features="mmu-gather-inplace,shared-pagetables"')).toEqual([
      'interaction',
      'mmu-gather-inplace × shared-pagetables',
      '+3',
      '+2.96%',
      'exact',
      'exact',
    ]);
    expect(text).toContain('<strong>results.jsonl</strong>: 8 cells, 1 workload(s) (fork-exit:procs=2:size=1m) × 4 feature set(s) × 2 seed(s)');
    expect(text).toContain('1 interaction(s) of sim.ns outside the noise');
  });

  it('says why an incomplete design has no effects', () => {
    const part = lines.filter((l) => l.features !== 'shared-pagetables');
    expect(renderMatrix(analyseMatrix(part), part, 'sim.ns', 'x').text).toContain('incomplete design: 1 of 4 combinations lack a seed (shared-pagetables)');
  });

  it('charts the sets and the heat map of the effects', async () => {
    const charts = await matrixCharts(view, lines, 'sim.ns');
    expect(charts.map((c) => c.title)).toEqual(['per feature set', 'effects heat map']);
    expect(charts[1]!.svg).toContain('main effects (diagonal) and interactions');
  });
});

describe('the timeline of one run', () => {
  it('has one track per CPU and the complete and instant events', async () => {
    const { trace } = await runWorkloadTraced({ workload: 'fork-exit:procs=2:size=1m', mode: 'timed', cpus: 2, traceEvents: 10_000 });
    const spec = timelineSpec(trace!, 'fork-exit') as { data: { values: { cpu: string; start: number; end: number; instant: boolean }[] } };
    const values = spec.data.values;
    expect(values.length).toBe(trace!.traceEvents.filter((e) => e.ph !== 'M').length);
    expect(new Set(values.map((v) => v.cpu))).toEqual(new Set(['CPU 0', 'CPU 1']));
    expect(values.every((v) => v.end >= v.start)).toBe(true);
    expect(values.some((v) => v.instant)).toBe(true);
  });
});
