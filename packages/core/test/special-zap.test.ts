/**
 * `unmap_vmas()` and a special VMA's `unmapPageRange`: one that works
 * within the block's zap budget and returns the address it reached keeps
 * the `ZAP_BLOCK_SIZE` lock breaks (gather finished, `cond_resched()`)
 * that the generic path has; one that returns nothing did its whole range
 * in one call, charged as a huge page range (2.6.24's hugetlb branch).
 */
import { describe, expect, it } from 'vitest';
import {
  buildKernel,
  defineFeature,
  type Feature,
  genericVmaOps,
  type Kernel,
  MAP_SHARED,
  PAGE_SIZE,
  PROT_READ,
  type SpecialVmaOps,
  unmapPageRange,
  zapBlockSize,
} from '../src/index.js';

const SIZE = 64 << 20;
const PAGES = SIZE / PAGE_SIZE;

/** A feature routing every file VMA to `ops` through the `specialVmaOps` seam. */
function routeFiles(name: string, ops: SpecialVmaOps): Feature {
  return defineFeature({
    name,
    summary: 'routes file VMAs to special operations (test)',
    thread: { subject: '(test) special unmapPageRange', author: 'mmlab tests', date: '2026-11' },
    options: {},
    install(k) {
      k.seamTable.wrap(name, 'specialVmaOps', (prev) => (vma) => prev(vma) ?? (vma.vmFile !== null ? ops : null));
    },
  });
}

/** Map a 64 MiB tmpfs file, fault every page in, munmap it; the figures of the munmap. */
function munmapFile(features: Feature[], preempt: boolean): { maxNp: number; flushes: number; k: Kernel } {
  const k = buildKernel({ memBytes: 256 << 20, features, check: true, config: { preempt } });
  const t = k.spawn();
  const f = k.shmemCreate('big', SIZE);
  const addr = k.mmap(t, 0, SIZE, PROT_READ, MAP_SHARED, f, 0);
  expect(k.touch(t, addr, SIZE, false)).toBe(0);
  const cpu = k.cpus[t.cpu]!;
  cpu.maxNonpreemptNs = 0;
  const before = k.vm.mmlab_gather_flush;
  expect(k.munmap(t, addr, SIZE)).toBe(0);
  return { maxNp: cpu.maxNonpreemptNs, flushes: k.vm.mmlab_gather_flush - before, k };
}

/** The same operations with an `unmapPageRange` that does the whole range and returns nothing. */
const wholeRange: SpecialVmaOps = {
  ...genericVmaOps,
  name: 'whole-range',
  *unmapPageRange(k, tlb, vma, start, end, details) {
    const cpu = k.cpu;
    const budget = cpu.zapWork;
    cpu.zapWork = Number.POSITIVE_INFINITY;
    yield* unmapPageRange(k, tlb, vma, start, end, details);
    cpu.zapWork = budget;
  },
};

describe("unmap_vmas and a special VMA's unmapPageRange", () => {
  it.each([false, true])(
    'PREEMPT %s: routed to genericVmaOps (unmap_page_range within the budget), a munmap ends its gather every ZAP_BLOCK_SIZE and its longest stretch is the baseline\'s',
    (preempt) => {
      const base = munmapFile([], preempt);
      const blocks = munmapFile([routeFiles('route-generic', genericVmaOps)], preempt);
      expect(blocks.maxNp).toBe(base.maxNp);
      expect(blocks.flushes).toBe(base.flushes);
      // a block is ZAP_BLOCK_SIZE bytes of present pages: one flush per block at least
      expect(blocks.flushes).toBeGreaterThanOrEqual(PAGES / (zapBlockSize(preempt) / PAGE_SIZE));
      expect(blocks.k.invariants.violations).toEqual([]);
    },
  );

  it('one that returns nothing did the whole range at once: one gather, one long stretch', () => {
    const blocks = munmapFile([routeFiles('route-generic', genericVmaOps)], false);
    const whole = munmapFile([routeFiles('route-whole', wholeRange)], false);
    expect(whole.flushes).toBeLessThan(blocks.flushes);
    // 16,384 pages without a break against blocks of 1,024
    expect(whole.maxNp).toBeGreaterThan(8 * blocks.maxNp);
    expect(whole.k.invariants.violations).toEqual([]);
  });

  it('one that returns an address outside (start, end] is a bug, reported with its name', () => {
    const stuck: SpecialVmaOps = {
      ...genericVmaOps,
      name: 'stuck',
      // eslint-disable-next-line require-yield -- a zap that never gets anywhere
      *unmapPageRange(_k, _tlb, _vma, start) {
        return start;
      },
    };
    const k = buildKernel({ memBytes: 64 << 20, features: [routeFiles('route-stuck', stuck)] });
    const t = k.spawn();
    const f = k.shmemCreate('f', 8 * PAGE_SIZE);
    const addr = k.mmap(t, 0, 8 * PAGE_SIZE, PROT_READ, MAP_SHARED, f, 0);
    expect(() => k.munmap(t, addr, 8 * PAGE_SIZE)).toThrow(/stuck\.unmapPageRange from 0x[0-9a-f]+ to 0x[0-9a-f]+ returned/);
  });
});
