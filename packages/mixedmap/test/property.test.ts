/**
 * Property: for the same state, `get_user_pages_fast` and the slow
 * `mmap_sem` walk return the same pages (or the same error). Two kernels
 * run the same random operations, one with `gupFast`, one without; every
 * `get_user_pages` call must answer alike on both, and both stay clean.
 * On x86-64 the fast walk pins what it can; on the s390-like profile
 * (no special bit) it hands every call to the slow path. The operations
 * (faults, COW, fork and the child's accesses, mprotect, MADV_DONTNEED,
 * munmap over anonymous, tmpfs, PFNMAP, XIP and mixed VM_MIXEDMAP
 * mappings) keep the checker and the data oracle clean throughout, with
 * the special bit and without it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Kernel, MADV_DONTNEED, MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, PROT_READ, type Task } from '@mmlab/core';
import { mixedDevFileType, xipFileType } from '../src/index.js';
import { counters, expectClean, kernel, mapAt, MiB, P, PROFILES, R, RW } from './helpers.js';

/** The regions of the process, 16 pages each, one per 2 MiB. */
const REGIONS = ['anon', 'shm', 'pfnmap', 'xip', 'mixed'] as const;
const PAGES = 16;
const at = (region: number, page: number): number => R + region * 2 * MiB + page * P;

type Op =
  | { op: 'touch'; region: number; page: number; write: boolean }
  | { op: 'fork' }
  | { op: 'child'; region: number; page: number; write: boolean }
  | { op: 'mprotect'; region: number; page: number }
  | { op: 'dontneed'; region: number; page: number }
  | { op: 'munmap'; region: number; page: number }
  | { op: 'gup'; region: number; page: number; n: number; write: boolean };

const region = fc.integer({ min: 0, max: REGIONS.length - 1 });
const page = fc.integer({ min: 0, max: PAGES - 1 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('touch' as const), region, page, write: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('fork' as const) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('child' as const), region, page, write: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('mprotect' as const), region, page }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('dontneed' as const), region, page }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('munmap' as const), region, page }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('gup' as const), region, page, n: fc.integer({ min: 1, max: 8 }), write: fc.boolean() }) },
);

/** A process mapping the five regions. */
function setup(k: Kernel): Task {
  const t = k.spawn();
  mapAt(k, t, at(0, 0), PAGES * P, RW, MAP_PRIVATE | MAP_ANONYMOUS);
  mapAt(k, t, at(1, 0), PAGES * P, RW, MAP_SHARED, k.shmemCreate('shm', PAGES * P));
  mapAt(k, t, at(2, 0), PAGES * P, RW, MAP_PRIVATE, k.deviceCreate('fb', PAGES * P, 'pfnmap'));
  mapAt(k, t, at(3, 0), PAGES * P, RW, MAP_PRIVATE, k.fileCreate(xipFileType(k)!, 'lib', PAGES * P));
  mapAt(k, t, at(4, 0), PAGES * P, RW, MAP_SHARED, k.fileCreate(mixedDevFileType(k)!, 'mix', PAGES * P));
  return t;
}

/** Apply `op` to `k` (task `t`, forked children in `kids`): what it returned (a gup's pages are released at once). */
function apply(k: Kernel, t: Task, kids: Task[], op: Op): number[] | number | null {
  switch (op.op) {
    case 'touch':
      return k.touch(t, at(op.region, op.page), P, op.write);
    case 'fork': {
      const c = k.fork(t);
      if (typeof c !== 'number') kids.push(c);
      return null;
    }
    case 'child': {
      const c = kids.at(-1);
      return c === undefined ? null : k.touch(c, at(op.region, op.page), P, op.write);
    }
    case 'mprotect':
      return k.mprotect(t, at(op.region, op.page), P, PROT_READ);
    case 'dontneed':
      return k.madvise(t, at(op.region, op.page), P, MADV_DONTNEED);
    case 'munmap':
      return k.munmap(t, at(op.region, op.page), P);
    case 'gup': {
      const n = Math.min(op.n, PAGES - op.page);
      const r = k.getUserPages(t, at(op.region, op.page), n, op.write);
      if (typeof r !== 'number') k.putUserPages(r);
      return r;
    }
  }
}

describe.each(PROFILES.flatMap((machine) => [true, false].map((special) => ({ machine, special }))))('on $machine, special=$special: fast and slow get_user_pages agree', ({ machine, special }) => {
  it('for random states and ranges, the same pages or the same error; checker and oracle clean', () => {
    let fastPages = 0;
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 24 }), (ops) => {
        const fast = kernel(machine, { special });
        const slow = kernel(machine, { special, gupFast: false });
        const tf = setup(fast);
        const ts = setup(slow);
        const kf: Task[] = [];
        const ks: Task[] = [];
        for (const op of ops) {
          expect(apply(fast, tf, kf, op)).toEqual(apply(slow, ts, ks, op));
        }
        fastPages += counters(fast).gup_fast_pages ?? 0;
        expect(fast.invariants.violations).toEqual([]);
        expect(slow.invariants.violations).toEqual([]);
        expect(counters(slow).gup_fast_pages).toBe(0);
        for (const k of [fast, slow]) {
          for (const f of [...k.files.values()]) k.shmemUnlink(f);
        }
        for (const [k, t, kids] of [[fast, tf, kf], [slow, ts, ks]] as const) {
          for (const c of kids) k.exit(c);
          k.exit(t);
          k.finish();
          expectClean(k);
        }
      }),
      { numRuns: 30, seed: 20080312 },
    );
    if (machine === 'x86-64' && special) expect(fastPages).toBeGreaterThan(0);
    else expect(fastPages).toBe(0);
  });
});
