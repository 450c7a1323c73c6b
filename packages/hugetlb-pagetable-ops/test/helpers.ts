/**
 * What the tests share: kernels with the feature off and on, a recorder of
 * user-visible results, and the comparison of two runs.
 */
import { expect } from 'vitest';
import { buildKernel, type BuildOptions, type Kernel, type Metrics, type Task } from '@mmlab/core';
import { hugetlbPagetableOpsFeature } from '../src/index.js';

/** 2 MiB. */
export const H = 2 * 1024 * 1024;
/** 1 MiB. */
export const MiB = 1024 * 1024;
/** 1 GiB. */
export const GiB = 1024 * MiB;
/** A 1 GiB-aligned address where the tests map (PMD sharing needs the alignment). */
export const BASE = 2 ** 40;

/** A kernel with the checker on, with or without the feature. */
export function kernelWith(on: boolean, opts: BuildOptions = {}): Kernel {
  return buildKernel({ check: true, ...opts, features: on ? [hugetlbPagetableOpsFeature] : [] });
}

/** The metrics without what only the feature adds (its counters and the seam chain). */
export function plainMetrics(k: Kernel): Partial<Metrics> {
  const m: Partial<Metrics> = { ...k.metrics() };
  delete m.feature;
  delete m.featureDocs;
  delete m.seams;
  return m;
}

/** A record of everything user space saw. */
export type Seen = (number | string)[];

/** Fork, recording a failure as a result. */
export function forkOf(k: Kernel, t: Task, seen: Seen): Task | null {
  const c = k.fork(t);
  if (typeof c === 'number') {
    seen.push(`fork ${c}`);
    return null;
  }
  return c;
}

/** Read a page and record the signal and the token. */
export function readInto(k: Kernel, t: Task, addr: number, seen: Seen): void {
  const r = k.read(t, addr);
  seen.push(`r ${r.sig} ${r.value}`);
}

/** The feature's counters in `k`. */
export function counters(k: Kernel): Record<string, number> {
  return k.metrics().feature?.['hugetlb-pagetable-ops'] ?? {};
}

/**
 * Run `scenario` on a kernel without and with the feature, with the
 * checker on, and expect identical user-visible results, metrics (apart
 * from the feature's own keys), simulated time, and no violation.
 * Returns the kernel with the feature.
 */
export function expectEquivalent(opts: BuildOptions, scenario: (k: Kernel, seen: Seen) => void): Kernel {
  const runs = [false, true].map((on) => {
    const k = kernelWith(on, opts);
    const seen: Seen = [];
    scenario(k, seen);
    k.finish();
    expect(k.invariants.violations).toEqual([]);
    return { k, seen };
  });
  const [off, on] = runs as [{ k: Kernel; seen: Seen }, { k: Kernel; seen: Seen }];
  expect(on.seen).toEqual(off.seen);
  expect(plainMetrics(on.k)).toEqual(plainMetrics(off.k));
  expect(on.k.simNs()).toBe(off.k.simNs());
  expect(off.k.metrics().feature).toBeUndefined();
  return on.k;
}
