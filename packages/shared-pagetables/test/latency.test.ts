/**
 * Scheduling latency of a zap (simulated time, not wall-clock): a
 * shareable VMA's `unmapPageRange` works within `unmap_vmas`' block budget,
 * so exit and munmap keep the `ZAP_BLOCK_SIZE` lock breaks (gather
 * finished, `cond_resched()`) of the generic path, whether the tables are
 * shared, dropped one share at a time, or private to the last sharer.
 */
import { describe, expect, it, vi } from 'vitest';
import { type Kernel, PAGE_SIZE, zapBlockSize } from '@mmlab/core';
import { NAME } from '../src/index.js';
import { clean, kernelWith, mapShared, MiB, P, R } from './helpers.js';

/** The file: 32 MiB, 16 PTE tables, 8,192 pages. */
const FILE = 32 * MiB;
/** Processes mapping it. */
const PROCS = 4;

/** The longest non-preemptible stretch of the exits (every task exits in turn), and the gather flushes and `cond_resched()` calls of each exit. */
function exits(k: Kernel): { maxNp: number; flushes: number[]; rescheds: number[] } {
  const f = k.shmemCreate('shm', FILE);
  const tasks = Array.from({ length: PROCS }, () => k.spawn());
  for (const t of tasks) {
    mapShared(k, t, R, f);
    expect(k.touch(t, R, FILE, false)).toBe(0);
  }
  for (const c of k.cpus) c.maxNonpreemptNs = 0;
  const flushes: number[] = [];
  const rescheds: number[] = [];
  const condResched = vi.spyOn(k, 'condResched');
  for (const t of tasks) {
    const before = k.vm.mmlab_gather_flush;
    condResched.mockClear();
    k.exit(t);
    flushes.push(k.vm.mmlab_gather_flush - before);
    rescheds.push(condResched.mock.calls.length);
  }
  condResched.mockRestore();
  clean(k);
  return { maxNp: Math.max(...k.cpus.map((c) => c.maxNonpreemptNs)), flushes, rescheds };
}

describe('zap latency with shared page tables', () => {
  it.each([false, true])('PREEMPT %s: the longest stretch of the exits is one ZAP_BLOCK_SIZE block, not a whole VMA', (preempt) => {
    const blockPages = zapBlockSize(preempt) / PAGE_SIZE;
    const blocks = FILE / P / blockPages;
    const base = exits(kernelWith(null, { memBytes: 256 * MiB, config: { preempt } }));
    const k = kernelWith('pte', { memBytes: 256 * MiB, config: { preempt } });
    const shared = exits(k);
    expect(k.metrics().feature?.[NAME]?.unshare_zap).toBe((PROCS - 1) * (FILE / (2 * MiB)));
    // the baseline's longest stretch is one block of present PTEs; the file is `blocks` of them
    expect(blocks).toBeGreaterThanOrEqual(8);
    expect(shared.maxNp).toBeLessThanOrEqual(2 * base.maxNp);
    // the last exit zaps the tables no one shares any more: in blocks, each ending the gather
    expect(shared.flushes.at(-1)).toBeGreaterThanOrEqual(blocks);
  });

  it('PREEMPT: a dropped share is charged as a present PTE, so an exit that only drops shares still reschedules every ZAP_BLOCK_SIZE', () => {
    const blockPages = zapBlockSize(true) / PAGE_SIZE;
    const tables = FILE / (2 * MiB);
    const k = kernelWith('pte', { memBytes: 256 * MiB, config: { preempt: true } });
    const { rescheds } = exits(k);
    // the first exit drops 16 shares (an aligned mapping: no private table) and zaps no page
    expect(tables / blockPages).toBe(2);
    expect(rescheds[0]).toBeGreaterThanOrEqual(tables / blockPages);
  });
});
