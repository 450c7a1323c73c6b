/**
 * The registered proposal `hugetlb-pagetable-ops` runs from the command
 * line with the checker on, and changes nothing but its own counters.
 */
import { describe, expect, it } from 'vitest';
import { mmlab } from './helpers.js';

interface Report {
  features: { name: string }[];
  metrics: { sim: unknown; vmstat: Record<string, number>; feature?: Record<string, Record<string, number>>; seams?: Record<string, string[]> };
  invariants?: { checks: number; violations: unknown[] };
}

describe('mmlab run --features hugetlb-pagetable-ops', () => {
  it('runs hugetlb-shm with --hugepages 64 and --check, and prints the feature counters', async () => {
    const r = await mmlab(['run', '--workload', 'hugetlb-shm:procs=2:size=64m', '--hugepages', '64', '--features', 'hugetlb-pagetable-ops', '--check']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/hugetlb-pagetable-ops\.special_checks\s+\d+/);
    expect(r.out).toMatch(/hugetlb-pagetable-ops\.vma_bytes\s+\d+/);
    expect(r.out).toMatch(/specialVmaOps\s+hugetlb-pagetable-ops \(replace\)/);
  });

  it('gives the same figures as the baseline apart from its counters', async () => {
    const args = ['run', '--workload', 'hugetlb-shm:procs=2:size=64m', '--hugepages', '64', '--check', '--json'];
    const off = JSON.parse((await mmlab(args)).out) as Report;
    const on = JSON.parse((await mmlab([...args, '--features', 'hugetlb-pagetable-ops'])).out) as Report;
    expect(on.features.map((f) => f.name)).toEqual(['hugetlb-pagetable-ops']);
    expect(on.invariants?.violations).toEqual([]);
    expect(on.metrics.sim).toEqual(off.metrics.sim);
    expect(on.metrics.vmstat).toEqual(off.metrics.vmstat);
    const c = on.metrics.feature?.['hugetlb-pagetable-ops'];
    expect(c?.fault).toBeGreaterThan(0);
    expect(c?.vma_bytes).toBe((c?.vmas ?? 0) * 8);
  });
});
