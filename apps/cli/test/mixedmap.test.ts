/**
 * The CLI knows `mixedmap`: `mmlab run --workload dio --features mixedmap`
 * pins the buffers with the lockless fast path and reports its counters;
 * `gupFast=false` leaves every page to the `mmap_sem` walk.
 */
import { describe, expect, it } from 'vitest';
import { mmlab } from './helpers.js';

interface Report {
  features: { name: string; options: Record<string, unknown> }[];
  metrics: { feature?: Record<string, Record<string, number>> };
  invariants?: { violations: unknown[] };
}

async function run(features: string): Promise<Report> {
  const r = await mmlab(['run', '--workload', 'dio:procs=2:size=1m', '--check', '--json', '--features', features]);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.out) as Report;
}

describe('mmlab run --features mixedmap', () => {
  it('direct I/O pins its pages without mmap_sem; gupFast=false takes the slow path for all of them', async () => {
    const fast = await run('mixedmap');
    expect(fast.features.map((f) => f.name)).toEqual(['mixedmap']);
    expect(fast.invariants?.violations).toEqual([]);
    const c = fast.metrics.feature?.mixedmap;
    expect(c?.gup_fast_pages).toBe(2 * 256 * 2);
    expect(c?.gup_slow_pages).toBe(0);
    expect(c?.pte_special).toBe(1);
    const slow = (await run('mixedmap:gupFast=false')).metrics.feature?.mixedmap;
    expect(slow?.gup_fast_pages).toBe(0);
    expect(slow?.gup_slow_pages).toBe(2 * 256 * 2);
  });

  it('names a bad option', async () => {
    const r = await mmlab(['run', '--workload', 'dio:procs=1:size=1m', '--features', 'mixedmap:special=maybe']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/mixedmap.*special/);
  });
});
