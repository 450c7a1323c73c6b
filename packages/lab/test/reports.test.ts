import { describe, expect, it } from 'vitest';
import {
  abChartSpec,
  formatAbCsv,
  formatAbMarkdown,
  formatAbText,
  formatMatrixCsv,
  formatMatrixMarkdown,
  formatMatrixText,
  interactionChartSpec,
  matrixEffects,
  matrixReport,
  parseFeatureSet,
  renderSvg,
  resultLine,
  runAb,
  setsChartSpec,
  type AbResult,
} from '../src/index.js';

const SETTINGS = { memBytes: 64 * 1024 * 1024 };

describe('A/B reports', () => {
  let result: AbResult;

  it('runs both sets on the same seeds and reports every metric', async () => {
    result = await runAb({
      a: parseFeatureSet('baseline'),
      b: parseFeatureSet('mmu-gather-inplace'),
      workload: 'kbuild:jobs=2:objs=4',
      reps: 3,
      settings: { ...SETTINGS, mode: 'explore' },
    });
    expect(result.seeds).toEqual([1, 2, 3]);
    const row = (m: string): (typeof result.rows)[number] | undefined => result.rows.find((r) => r.metric === m);
    // the in-place gather flushes once per gather: fewer gather flushes, on every seed
    expect(row('vmstat.mmlab_gather_flush')?.diff).toMatchObject({ exact: true });
    expect(row('vmstat.mmlab_gather_flush')?.diff?.mean).toBeLessThan(0);
    expect(row('vmstat.pgfault')?.diff).toMatchObject({ mean: 0, exact: true });
    expect(row('feature.mmu-gather-inplace.gathers')).toMatchObject({ a: null, diff: null });
    // explore mode: the seed changes the interleaving, so some time varies with an interval
    expect(result.rows.some((r) => r.diff !== null && !r.diff.exact && r.diff.ci !== null)).toBe(true);
  });

  it('prints a terminal table, Markdown and CSV', () => {
    const text = formatAbText(result);
    expect(text).toMatch(/^mmlab ab on kbuild:jobs=2:objs=4, seeds 1–3 \(3, paired\)/);
    expect(text).toContain("paired Student's t");
    expect(text).toMatch(/vmstat\.mmlab_gather_flush +\d+ +\d+ +−\d+ +−[\d.]+% +exact/);
    expect(text).toMatch(/more metrics identical in A and B/);
    expect(text).not.toMatch(/^vmstat\.pgfault /m);
    expect(formatAbText(result, { all: true })).toMatch(/^vmstat\.pgfault /m);
    expect(formatAbMarkdown(result)).toMatch(/^\| metric \| A \| B \| B − A \| change \| 95% CI \|/m);
    const csv = formatAbCsv(result).trimEnd().split('\n');
    expect(csv[0]).toBe('workload,a,b,metric,a_mean,a_sd,b_mean,b_sd,diff,ci_low,ci_high,exact,within_noise,p,seeds');
    expect(csv).toHaveLength(result.rows.length + 1);
  });

  it('draws bars with intervals as SVG', async () => {
    const svg = await renderSvg(abChartSpec(result));
    expect(svg).toMatch(/^<svg /);
    expect(svg).toContain('vmstat.mmlab_gather_flush');
    expect(svg).toContain('B − A, % of A');
  });
});

describe('matrix reports', () => {
  // a made-up 2^2 design with one seed: f doubles x, g adds 1, together they add 3 more
  const x = (f: boolean, g: boolean): number => 10 * (f ? 2 : 1) + (g ? 1 : 0) + (f && g ? 3 : 0);
  const lines = [
    ['baseline', x(false, false)],
    ['hugetlb-pagetable-ops', x(true, false)],
    ['mmu-gather-inplace', x(false, true)],
    ['hugetlb-pagetable-ops,mmu-gather-inplace', x(true, true)],
  ].map(([features, v]) => resultLine({ workload: 'w', features: features as string, seed: 1 }, {}, [], { x: v as number, same: 7 }));
  const report = matrixReport(lines, matrixEffects(lines));

  it('lists the main effects and the interactions that are not zero', () => {
    const text = formatMatrixText(report);
    expect(text).toMatch(/4 cells: 1 workload\(s\) × 4 feature set\(s\) × 1 seed\(s\)/);
    expect(text).toMatch(/x +10 +\+11\.5 \(\+115%\) +\+2\.5 \(\+25%\)/);
    expect(text).toMatch(/hugetlb-pagetable-ops × mmu-gather-inplace +x +10 +\+3 \(\+30%\)/);
    expect(text).not.toMatch(/^ *same /m);
    expect(formatMatrixMarkdown(report)).toContain('| features | metric | baseline | together beyond each alone |');
    const csv = formatMatrixCsv(report).trimEnd().split('\n');
    expect(csv).toContain('w,x,interaction,hugetlb-pagetable-ops+mmu-gather-inplace,10,3,,,false,false,,1');
  });

  it('draws the sets and the interaction heat map as SVG', async () => {
    const sets = await renderSvg(setsChartSpec(lines, 'x'));
    expect(sets).toContain('hugetlb-pagetable-ops,mmu-gather-inplace');
    const heat = await renderSvg(interactionChartSpec(report.effects, 'x'));
    expect(heat).toMatch(/^<svg /);
    expect(heat).toContain('x: main effects (diagonal) and interactions');
  });
});
