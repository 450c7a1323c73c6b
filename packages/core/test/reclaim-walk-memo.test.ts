/**
 * Direct reclaim remembers the page-table walks of its rmap walks, and
 * for a page with one mapping the PTE found mapping it last time (host
 * state only, in the sequential mode with the baseline seams). Whatever
 * it remembers, the simulated run is the one without it: the same
 * counters, lock figures and simulated time as a run where a
 * pass-through wrapper of `ptepClearFlushYoung` turns the memo off, or
 * where the checker does.
 */
import { describe, expect, it } from 'vitest';
import { buildKernel, defineFeature, type Kernel, MAP_ANONYMOUS, MAP_SHARED, pageReferenced, PMD_SIZE, rmapWalkMemoBegin, rmapWalkMemoEnd, runSync, type Task } from '../src/index.js';
import { MiB, P, R, RW, mapAt, pteAt, vmstat } from './rest-helpers.js';

/** A feature that wraps `ptepClearFlushYoung` and changes nothing. */
const passThrough = defineFeature({
  name: 'young-pass-through',
  summary: 'wraps ptepClearFlushYoung without changing it',
  thread: { subject: '(test feature for the reclaim walk memo)', author: 'mmlab tests', date: '2025-01' },
  options: {},
  install(k) {
    k.seamTable.wrap('young-pass-through', 'ptepClearFlushYoung', (prev) => (kk, vma, addr, pte) => prev(kk, vma, addr, pte));
  },
});

/** Private memory across three PMD spans. */
const PRIV = R + 256 * P;
const SHARED = R + 2 ** 30;
/** Private memory below the first PMD boundary. */
const LOW = 0x100000;

/** Private pages in the order a child writes them: the two PMD spans of PRIV taken in turn (1 : 2). */
const INTERLEAVED = Array.from({ length: 256 }, (_, j) => [j, 256 + 2 * j, 257 + 2 * j]).flat();

/**
 * A parent with private (one mapping below 2 MiB) and shared anonymous memory forks `children`
 * children that write all of it, on a machine too small for their copies:
 * reclaim walks one anon_vma shared by every child (and the shared
 * mapping's i_mmap). With `interleave`, each child writes its private
 * pages in the two PMD spans in turn, so one reclaim meets both spans'
 * PTE tables of a VMA. Returns the simulated figures.
 */
function forkUnderPressure(opts: { memo: 'on' | 'wrapped' | 'checked'; preempt: boolean; interleave?: boolean }): string {
  const k: Kernel = buildKernel({
    memBytes: 16 * MiB,
    swapBytes: 64 * MiB,
    check: opts.memo === 'checked',
    config: { preempt: opts.preempt },
    features: opts.memo === 'wrapped' ? [passThrough] : [],
  });
  const parent = k.spawn();
  const size = 768 * P;
  mapAt(k, parent, PRIV, size);
  mapAt(k, parent, SHARED, 64 * P, RW, MAP_SHARED | MAP_ANONYMOUS);
  mapAt(k, parent, LOW, 64 * P);
  expect(k.touch(parent, PRIV, size, true)).toBe(0);
  expect(k.touch(parent, SHARED, 64 * P, true)).toBe(0);
  expect(k.touch(parent, LOW, 64 * P, true)).toBe(0);
  const children: Task[] = [];
  for (let i = 0; i < 12; i++) {
    const c = k.fork(parent);
    if (typeof c === 'number') throw new Error(`fork failed: ${c}`);
    children.push(c);
  }
  // one anon_vma for the parent and every child: the walks this is about
  expect(parent.mm!.vmas.find((v) => v.vmStart === PRIV)!.anonVma!.vmas.length).toBe(children.length + 1);
  for (const c of children) {
    if (opts.interleave === true) for (const j of INTERLEAVED) expect(k.write(c, PRIV + j * P, j)).toBe(0);
    else expect(k.touch(c, PRIV, size, true)).toBe(0);
    expect(k.touch(c, SHARED, 64 * P, false)).toBe(0);
    expect(k.touch(c, LOW, 64 * P, true)).toBe(0);
  }
  // the parent reads it all back: swap-ins, more reclaim
  expect(k.touch(parent, PRIV, size, false)).toBe(0);
  expect(vmstat(k, 'pgsteal_direct')).toBeGreaterThan(0);
  const m = k.metrics();
  const figures = JSON.stringify({ vm: m.vmstat, locks: m.locks, sim: m.sim, now: k.simNs() });
  for (const t of [...children, parent]) k.exit(t);
  return figures;
}

/** Where {@link forkSparseUnderPressure} maps its six PMD spans (one page past a span boundary). */
const SPARSE = R + 2 ** 32 + P;
/** Spans, and pages written in each, of {@link forkSparseUnderPressure}. */
const SPANS = 6;
const PER_SPAN = 64;

/**
 * Like {@link forkUnderPressure}, over six PMD spans, 64 pages written in
 * each, every child writing them in the spans in turn: more spans than a
 * memo entry keeps tables for, so one reclaim meets tables in and out of
 * its slots.
 */
function forkSparseUnderPressure(memo: 'on' | 'wrapped'): string {
  const k = buildKernel({ memBytes: 16 * MiB, swapBytes: 64 * MiB, features: memo === 'wrapped' ? [passThrough] : [] });
  const parent = k.spawn();
  mapAt(k, parent, SPARSE, SPANS * PMD_SIZE);
  const pages: number[] = [];
  for (let j = 0; j < PER_SPAN; j++) for (let s = 0; s < SPANS; s++) pages.push(SPARSE + s * PMD_SIZE + j * P);
  for (const a of pages) expect(k.write(parent, a, 1)).toBe(0);
  const children: Task[] = [];
  for (let i = 0; i < 12; i++) {
    const c = k.fork(parent);
    if (typeof c === 'number') throw new Error(`fork failed: ${c}`);
    children.push(c);
  }
  for (const c of children) for (const a of pages) expect(k.write(c, a, 2)).toBe(0);
  expect(vmstat(k, 'pgsteal_direct')).toBeGreaterThan(0);
  const m = k.metrics();
  return JSON.stringify({ vm: m.vmstat, locks: m.locks, sim: m.sim, now: k.simNs() });
}

/**
 * Within one memo's life (one reclaim), the walks of three pages of one
 * anon_vma, with the PTE lock of one table taken and dropped by another
 * CPU between the second and the third: returns the walking CPU's clock,
 * busy time and the ptl acquisitions after them.
 */
function walksAroundAnotherCpu(memo: boolean): number[] {
  const k = buildKernel({ memBytes: 64 * MiB });
  const parent = k.spawn();
  mapAt(k, parent, R, 4 * P);
  expect(k.write(parent, R, 1)).toBe(0);
  const children: Task[] = [];
  for (let i = 0; i < 11; i++) {
    const c = k.fork(parent);
    if (typeof c === 'number') throw new Error(`fork failed: ${c}`);
    children.push(c);
  }
  for (const c of children) expect(k.write(c, R, 2)).toBe(0);
  const pageOf = (t: Task): number => pteAt(k, t, R)!.val;
  const cpu = k.cpu;
  const other = k.cpus[(cpu.id + 1) % k.cpus.length]!;
  const prev = memo ? rmapWalkMemoBegin(k) : null;
  try {
    // the first walk reads every PTE (no mapping known yet), the second counts on what it read
    runSync(pageReferenced(k, pageOf(children[10]!)));
    runSync(pageReferenced(k, pageOf(children[9]!)));
    // another CPU takes and drops the lock of child 3's table: its word moves there
    const table = k.tables.pteTableOf(children[3]!.mm!.pgd, R);
    k.cpu = other;
    expect(k.ptl.tryLock(k, table)).toBe(true);
    k.ptl.unlock(k, table);
    k.cpu = cpu;
    runSync(pageReferenced(k, pageOf(children[8]!)));
  } finally {
    if (memo) rmapWalkMemoEnd(prev);
  }
  return [cpu.clock, cpu.busyNs, k.ptl.stat.acquisitions];
}

describe('the rmap walk memo of direct reclaim', () => {
  it('leaves every simulated figure as without it over more spans than it keeps tables for', () => {
    expect(forkSparseUnderPressure('on')).toBe(forkSparseUnderPressure('wrapped'));
  });

  it('does not count on a lock word another CPU took since', () => {
    const on = walksAroundAnotherCpu(true);
    expect(on).toEqual(walksAroundAnotherCpu(false));
  });


  for (const preempt of [false, true]) {
    it(`leaves every simulated figure as without it${preempt ? ' (PREEMPT)' : ''}`, () => {
      const on = forkUnderPressure({ memo: 'on', preempt });
      expect(forkUnderPressure({ memo: 'wrapped', preempt })).toBe(on);
      expect(forkUnderPressure({ memo: 'checked', preempt })).toBe(on);
    });
  }

  it('leaves every simulated figure as without it when a reclaim meets two PTE tables of each VMA', () => {
    const on = forkUnderPressure({ memo: 'on', preempt: false, interleave: true });
    expect(forkUnderPressure({ memo: 'wrapped', preempt: false, interleave: true })).toBe(on);
  });
});
