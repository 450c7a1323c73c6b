/**
 * Scenarios with the checker and the data oracle on, with and without
 * PREEMPT: each runs on the baseline kernel and on a kernel with the
 * in-place gather, which must end in the same state with no violation.
 */
import { describe, expect, it } from 'vitest';
import {
  buildKernel,
  type BuildOptions,
  type Kernel,
  MADV_DONTNEED,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_PRIVATE,
  MAP_SHARED,
  PAGE_SIZE,
  PROT_READ,
  PROT_WRITE,
  type Task,
} from '@mmlab/core';
import { _PAGE_GATHERED, mmuGatherInplace, NAME } from '../src/index.js';

const MiB = 2 ** 20;
const P = PAGE_SIZE;
const RW = PROT_READ | PROT_WRITE;
/** A fixed, PMD-aligned address. */
const R = 2 ** 40;

function kernel(preempt: boolean, inplace: boolean, opts: BuildOptions = {}): Kernel {
  return buildKernel({ cpus: 4, memBytes: 64 * MiB, check: true, config: { preempt }, features: inplace ? [mmuGatherInplace] : [], ...opts });
}

function ok(n: number): number {
  expect(n).toBeGreaterThanOrEqual(0);
  return n;
}

function forked(k: Kernel, t: Task): Task {
  const c = k.fork(t);
  if (typeof c === 'number') throw new Error(`fork failed: ${c}`);
  return c;
}

function counters(k: Kernel): Record<string, number> {
  return k.metrics().feature?.[NAME] ?? {};
}

/** What must be the same with and without the feature at the end of a scenario. */
function state(k: Kernel): { free: number; tables: number; rss: number[] } {
  return { free: k.mem.nrFree, tables: k.vm.nr_page_table_pages, rss: k.liveMms().map((mm) => mm.anonRss + mm.fileRss) };
}

type Scenario = (k: Kernel) => void;

const SCENARIOS: Record<string, Scenario> = {
  munmap(k) {
    const t = k.spawn();
    ok(k.mmap(t, R, 6 * MiB, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED));
    expect(k.touch(t, R, 6 * MiB, true)).toBe(0);
    // a hole in the middle: tables shared with the neighbours stay
    expect(k.munmap(t, R + MiB, 3 * MiB)).toBe(0);
    expect(k.touch(t, R, MiB, false)).toBe(0);
    // the rest, sparse: every 16th page written
    ok(k.mmap(t, R + 8 * MiB, 8 * MiB, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED));
    for (let a = R + 8 * MiB; a < R + 16 * MiB; a += 16 * P) expect(k.touch(t, a, P, true)).toBe(0);
    expect(k.munmap(t, R + 8 * MiB, 8 * MiB)).toBe(0);
  },
  exit(k) {
    const t = k.spawn();
    ok(k.mmap(t, R, 4 * MiB, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED));
    expect(k.touch(t, R, 4 * MiB, true)).toBe(0);
    const f = k.shmemCreate('lib', 2 * MiB);
    const lib = ok(k.mmap(t, 0, 2 * MiB, PROT_READ, MAP_SHARED, f, 0));
    expect(k.touch(t, lib, 2 * MiB, false)).toBe(0);
    k.exit(t);
  },
  madvise(k) {
    const t = k.spawn();
    ok(k.mmap(t, R, 2 * MiB, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED));
    expect(k.touch(t, R, 2 * MiB, true)).toBe(0);
    expect(k.madvise(t, R, MiB, MADV_DONTNEED)).toBe(0);
    expect(k.touch(t, R, 2 * MiB, false)).toBe(0);
  },
  truncate(k) {
    const f = k.shmemCreate('data', 2 * MiB);
    const t = k.spawn();
    ok(k.mmap(t, R, 2 * MiB, RW, MAP_SHARED | MAP_FIXED, f, 0));
    expect(k.touch(t, R, 2 * MiB, true)).toBe(0);
    const u = k.spawn();
    ok(k.mmap(u, R, 2 * MiB, RW, MAP_PRIVATE | MAP_FIXED, f, 0));
    expect(k.touch(u, R, MiB, true)).toBe(0);
    expect(k.ftruncate(f, MiB / 2)).toBe(0);
    expect(k.munmap(t, R, 2 * MiB)).toBe(0);
  },
  forkExit(k) {
    const t = k.spawn();
    ok(k.mmap(t, R, 3 * MiB, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED));
    expect(k.touch(t, R, 3 * MiB, true)).toBe(0);
    const children = [forked(k, t), forked(k, t), forked(k, t)];
    children.forEach((c, i) => { expect(k.touch(c, R + i * MiB, MiB, true)).toBe(0); });
    for (const c of children) k.exit(c);
    expect(k.touch(t, R, 3 * MiB, true)).toBe(0);
    k.exit(t);
  },
  hugetlb(k) {
    const hf = k.hugetlbfsCreate('huge', 8 * MiB);
    const t = k.spawn();
    ok(k.mmap(t, R, 8 * MiB, RW, MAP_SHARED | MAP_FIXED, hf, 0));
    expect(k.touch(t, R, 8 * MiB, true)).toBe(0);
    ok(k.mmap(t, R + 8 * MiB, 2 * MiB, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED));
    expect(k.touch(t, R + 8 * MiB, 2 * MiB, true)).toBe(0);
    const c = forked(k, t);
    // one munmap covering a hugetlb VMA and a normal one
    expect(k.munmap(t, R + 4 * MiB, 6 * MiB)).toBe(0);
    k.exit(c);
    k.exit(t);
  },
  nonlinear(k) {
    const n = 64;
    const f = k.shmemCreate('db', n * P);
    const t = k.spawn();
    ok(k.mmap(t, R, n * P, RW, MAP_SHARED | MAP_FIXED, f, 0));
    expect(k.touch(t, R, n * P, true)).toBe(0);
    expect(k.remapFilePages(t, R, 8 * P, 40, 0)).toBe(0);
    expect(k.remapFilePages(t, R + 16 * P, 4 * P, 2, 0x10000)).toBe(0);
    const c = forked(k, t);
    // truncation of a nonlinear mapping (zap_details, nonlinear)
    expect(k.ftruncate(f, 32 * P)).toBe(0);
    expect(k.munmap(t, R, 24 * P)).toBe(0);
    k.exit(c);
    k.exit(t);
  },
};

describe('mmu-gather-inplace scenarios (checker and oracle on)', () => {
  for (const preempt of [false, true]) {
    for (const [name, run] of Object.entries(SCENARIOS)) {
      it(`${name}, ${preempt ? 'PREEMPT' : 'no PREEMPT'}: same end state as the baseline, no violation`, () => {
        const opts: BuildOptions = name === 'hugetlb' ? { hugePages: 8 } : {};
        const plain = kernel(preempt, false, opts);
        run(plain);
        const k = kernel(preempt, true, opts);
        run(k);
        expect(plain.invariants.violations).toEqual([]);
        expect(k.invariants.violations).toEqual([]);
        expect(k.invariants.checks).toBeGreaterThan(0);
        expect(state(k)).toEqual(state(plain));
        const c = counters(k);
        // never more gather flushes than the per-CPU gather
        expect(k.vm.mmlab_gather_flush).toBeLessThanOrEqual(plain.vm.mmlab_gather_flush);
        if (name === 'madvise' || name === 'truncate') expect(c.fallbacks).toBeGreaterThan(0);
        if (name !== 'madvise') {
          expect(c.gathers).toBeGreaterThan(0);
          expect(c.pages_in_place).toBeGreaterThan(0);
        }
        expect(c.walk_entries).toBeGreaterThanOrEqual(c.pages_in_place ?? 0);
        k.finish();
        plain.finish();
        expect(k.invariants.violations).toEqual([]);
      });
    }
  }

  it('flushes once per munmap where the PREEMPT per-CPU gather flushes every 8 pages', () => {
    const run = (k: Kernel): void => {
      const t = k.spawn();
      ok(k.mmap(t, R, 4 * MiB, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED));
      expect(k.touch(t, R, 4 * MiB, true)).toBe(0);
      const before = k.vm.mmlab_gather_flush;
      expect(k.munmap(t, R, 4 * MiB)).toBe(0);
      k.exit(t);
      expect(k.vm.mmlab_gather_flush - before).toBeGreaterThan(0);
    };
    const plain = kernel(true, false);
    run(plain);
    const k = kernel(true, true);
    run(k);
    // 1024 pages in blocks of 8: 128 flushes (and the tables) against 1 for the munmap (exit has nothing left)
    expect(plain.vm.mmlab_gather_flush).toBeGreaterThanOrEqual(128);
    expect(counters(k).flushes).toBe(1);
    expect(counters(k).pages_in_place).toBe(1024);
    // dense: the second walk reads about one entry per page
    expect(counters(k).walk_entries).toBeLessThanOrEqual(1024 + 2);
    expect(k.metrics().sim.tlb_flush_ns).toBeLessThan(plain.metrics().sim.tlb_flush_ns);
  });

  it('charges the second walk per entry: a sparse zap walks far more entries than it frees', () => {
    const k = kernel(false, true);
    const t = k.spawn();
    ok(k.mmap(t, R, 2 * MiB, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED));
    expect(k.touch(t, R, P, true)).toBe(0);
    expect(k.touch(t, R + 2 * MiB - P, P, true)).toBe(0);
    expect(k.munmap(t, R, 2 * MiB)).toBe(0);
    const c = counters(k);
    expect(c.pages_in_place).toBe(2);
    expect(c.walk_entries).toBe(512);
    expect(c.walk_ns).toBe(512 * 2 + 40);
  });

  it('reschedules between PTE tables without ending the batch, and keeps preemption on', () => {
    const k = kernel(true, true);
    const t = k.spawn();
    ok(k.mmap(t, R, 8 * MiB, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED));
    expect(k.touch(t, R, 8 * MiB, true)).toBe(0);
    const gather = k.seams.tlbGather;
    // (called outside any system call: only exit's fullmm gather may be in place here)
    const g = gather.begin(k, t.mm!, true);
    expect(k.cpu.preemptCount).toBe(0);
    expect(gather.blockSize(k, g)).toBe(Number.MAX_SAFE_INTEGER);
    expect(gather.tableDone(k, g)).toBe(true);
    // finish the empty gather so the check stays quiet
    const it = gather.finish(k, g);
    while (!it.next().done) {
      /* nothing to wait for */
    }
    expect(k.check()).toEqual([]);
  });

  it('reports a gather left open and a gathered PTE left behind as violations of its check', () => {
    const k = kernel(false, true, { check: false });
    const t = k.spawn();
    ok(k.mmap(t, R, 2 * MiB, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED));
    expect(k.touch(t, R, 2 * MiB, true)).toBe(0);
    const g = k.seams.tlbGather.begin(k, t.mm!, true);
    expect(k.check()).toContainEqual({ check: `${NAME}:no-gathered-pte`, message: `in-place gather of mm ${t.mm!.id} still open (0 entries, 0 tables)` });
    // plant a gathered entry where the zap would have left one
    const pte = findPte(k, t, R);
    const a = k.tables.arr(pte);
    const b = k.tables.base(pte);
    const pfn = a[b + 1]!;
    a[b] = 0;
    a[b + 1] = 0;
    expect(k.seams.tlbGather.removePage(k, g, pfn, R, pte)).toBe(false);
    expect(a[b]).toBe(_PAGE_GATHERED);
    const found = k.check();
    expect(found).toContainEqual({ check: `${NAME}:no-gathered-pte`, message: '1 gathered PTE(s) survive the operation' });
    // the core checker does not take it for a swap or file entry either
    expect(found.some((v) => v.check === 'pte' && v.message.includes('unexpected non-present PTE'))).toBe(true);
  });

  it('refuses a bad option value, naming it', () => {
    expect(() => buildKernel({ features: [{ feature: mmuGatherInplace, options: { resched: 'sometimes' } }] })).toThrow(/option 'resched'/);
  });
});

/** The PTE table mapping `addr` in `t`'s mm (the walk of the four levels). */
function findPte(k: Kernel, t: Task, addr: number): number {
  let table = t.mm!.pgd;
  for (const shift of [39, 30, 21]) {
    const idx = Math.floor(addr / 2 ** shift) % 512;
    table = k.tables.arr(table)[k.tables.base(table) + idx * 2 + 1]!;
  }
  return table;
}
