/**
 * The CLI knows `mmu-gather-inplace`: `mmlab run --workload kbuild
 * --features mmu-gather-inplace --preempt` runs it and reports its
 * counters, and it flushes far less than the baseline on the same run.
 */
import { describe, expect, it } from 'vitest';
import { mmlab } from './helpers.js';

interface Report {
  features: { name: string }[];
  metrics: { vmstat: Record<string, number>; sim: { tlb_flush_ns: number }; feature?: Record<string, Record<string, number>> };
}

async function run(extra: string[]): Promise<Report> {
  const r = await mmlab(['run', '--workload', 'kbuild:jobs=2:objs=4:bin=256k:lib=128k:heap=128k', '--preempt', '--check', '--mem', '16m', '--json', ...extra]);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.out) as Report;
}

describe('mmlab run --features mmu-gather-inplace', () => {
  it('runs kbuild with the in-place gather and PREEMPT, with fewer TLB flushes than the baseline', async () => {
    const base = await run([]);
    const inplace = await run(['--features', 'mmu-gather-inplace']);
    expect(inplace.features.map((f) => f.name)).toEqual(['mmu-gather-inplace']);
    const c = inplace.metrics.feature?.['mmu-gather-inplace'];
    expect(c?.gathers).toBeGreaterThan(0);
    expect(c?.pages_in_place).toBeGreaterThan(0);
    expect(inplace.metrics.vmstat.mmlab_gather_flush).toBeLessThan(base.metrics.vmstat.mmlab_gather_flush!);
    expect(inplace.metrics.sim.tlb_flush_ns).toBeLessThan(base.metrics.sim.tlb_flush_ns);
  });

  it('lists the feature', async () => {
    const r = await mmlab(['list', 'features']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('mmu-gather-inplace');
  });
});
