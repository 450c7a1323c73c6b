/**
 * The registered proposals together: every pair the registry holds runs
 * with the checker on, and a proposal that changes only the dispatch
 * (hugetlb-pagetable-ops) leaves the other's figures exactly as they are.
 */
import { describe, expect, it } from 'vitest';
import { FEATURES } from '../src/features.js';
import { mmlab } from './helpers.js';

interface Report {
  features: { name: string }[];
  metrics: { sim: unknown; vmstat: Record<string, number>; feature?: Record<string, Record<string, number>> };
  invariants?: { checks: number; violations: unknown[] };
}

const WORKLOADS: readonly (readonly string[])[] = [
  ['--workload', 'hugetlb-shm:procs=2:size=64m', '--hugepages', '64'],
  ['--workload', 'kbuild:jobs=2:objs=4'],
  ['--workload', 'fork-exit:procs=3:size=2m', '--preempt'],
  ['--workload', 'shm-procs:procs=4:size=8m', '--mode', 'timed', '--cpus', '4'],
];

async function run(args: readonly string[], features: readonly string[]): Promise<Report> {
  const r = await mmlab(['run', ...args, '--check', '--json', ...(features.length > 0 ? ['--features', features.join(',')] : [])]);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.out) as Report;
}

describe('registered proposals in combination', () => {
  const names = FEATURES.map((f) => f.name);

  it.each(WORKLOADS)('all of them together run clean: %s %s', async (...args) => {
    const all = await run(args, names);
    expect(all.features.map((f) => f.name)).toEqual(names);
    expect(all.invariants?.violations).toEqual([]);
    expect(all.invariants?.checks).toBeGreaterThan(0);
  });

  it.each(WORKLOADS)('hugetlb-pagetable-ops changes nothing but its counters next to mmu-gather-inplace: %s %s', async (...args) => {
    const alone = await run(args, ['mmu-gather-inplace']);
    const both = await run(args, ['hugetlb-pagetable-ops', 'mmu-gather-inplace']);
    expect(both.invariants?.violations).toEqual([]);
    expect(both.metrics.sim).toEqual(alone.metrics.sim);
    expect(both.metrics.vmstat).toEqual(alone.metrics.vmstat);
    expect(both.metrics.feature?.['mmu-gather-inplace']).toEqual(alone.metrics.feature?.['mmu-gather-inplace']);
    expect(both.metrics.feature?.['hugetlb-pagetable-ops']?.special_checks).toBeGreaterThan(0);
  });
});
