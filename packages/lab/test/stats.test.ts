import { describe, expect, it } from 'vitest';
import { compareRuns, estimate, pairedDifference, summarize } from '../src/index.js';

// Student (1908) / Cushny & Peebles: extra hours of sleep with two drugs on
// the same ten patients, R's `sleep` data set. R's
// `t.test(extra ~ group, data = sleep, paired = TRUE)` prints
// t = -4.0621, df = 9, p-value = 0.002833,
// 95 percent confidence interval: -2.4598858 -0.7001142, mean difference -1.58.
const DRUG1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0];
const DRUG2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4];

describe('statistics against published values', () => {
  it("paired t on Student's sleep data matches R's t.test", () => {
    const d = pairedDifference(DRUG2, DRUG1); // DRUG1 − DRUG2, as R's group 1 − group 2
    expect(d.mean).toBeCloseTo(-1.58, 10);
    expect(d.ci?.[0]).toBeCloseTo(-2.4598858, 6);
    expect(d.ci?.[1]).toBeCloseTo(-0.7001142, 6);
    expect(d.p).toBeCloseTo(0.002833, 5);
    expect(d.withinNoise).toBe(false);
    expect(d.exact).toBe(false);
  });

  it('a one-sample interval that contains 0 is within the noise', () => {
    // R: t.test(sleep$extra[sleep$group == 1]) → t = 1.3257, df = 9,
    // p-value = 0.2176, 95 percent confidence interval -0.5297804 2.0297804
    const e = estimate(DRUG1);
    expect(e.mean).toBeCloseTo(0.75, 10);
    expect(e.ci?.[0]).toBeCloseTo(-0.5297804, 6);
    expect(e.ci?.[1]).toBeCloseTo(2.0297804, 6);
    expect(e.p).toBeCloseTo(0.2176, 4);
    expect(e.withinNoise).toBe(true);
  });

  it('values that do not vary are exact, with a degenerate interval', () => {
    expect(pairedDifference([5, 5, 5], [7, 7, 7])).toMatchObject({ mean: 2, ci: [2, 2], exact: true, withinNoise: false });
    expect(pairedDifference([1, 2, 3], [1, 2, 3])).toMatchObject({ mean: 0, exact: true, withinNoise: true });
    // the sides vary, the paired difference does not: exact difference
    expect(pairedDifference([1, 2, 3], [2, 3, 4])).toMatchObject({ mean: 1, exact: true });
    expect(summarize([3, 3])).toEqual({ mean: 3, sd: 0, exact: true });
    expect(summarize([DRUG1[0]!, DRUG1[1]!]).exact).toBe(false);
  });

  it('one seed gives a value, no interval and no claim that it is exact', () => {
    expect(estimate([2])).toEqual({ mean: 2, ci: null, exact: false, withinNoise: false, p: null, n: 1 });
  });

  it('compares runs metric by metric, a metric one side lacks has no difference', () => {
    const rows = compareRuns(
      [{ x: 1, y: 2 }, { x: 1, y: 3 }],
      [{ x: 2, y: 2, z: 1 }, { x: 2, y: 3, z: 1 }]
    );
    expect(rows.map((r) => r.metric)).toEqual(['x', 'y', 'z']);
    expect(rows[0]?.diff).toMatchObject({ mean: 1, exact: true });
    expect(rows[1]?.diff).toMatchObject({ mean: 0, exact: true, withinNoise: true });
    expect(rows[2]).toMatchObject({ a: null, diff: null });
  });
});

describe('flat metrics of a run', () => {
  it('sums per-process figures once per mm (threads share one), and keeps the checker figures', async () => {
    const { runOnce, parseFeatureSet } = await import('../src/index.js');
    const one = await runOnce('threads-fault:threads=4:size=1m', parseFeatureSet('baseline'), 1, { memBytes: 64 * 1024 * 1024, check: true });
    const procs = await runOnce('fork-exit:procs=3:size=1m', parseFeatureSet('baseline'), 1, { memBytes: 64 * 1024 * 1024 });
    // four threads of one mm: the mm's anonymous RSS (1 MiB), not four times it
    expect(one.metrics['procs.RssAnon_kB']).toBe(1024);
    expect(one.metrics['invariants.violations']).toBe(0);
    expect(one.metrics['procs.mm']).toBeUndefined();
    // a parent and three children, each writing 1 MiB: four mms
    expect(procs.metrics['procs.RssAnon_kB']).toBe(4 * 1024);
    expect(Object.keys(procs.metrics).some((k) => k.startsWith('featureDocs') || k.startsWith('seams'))).toBe(false);
  });
});
