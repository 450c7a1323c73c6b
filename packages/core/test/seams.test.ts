/**
 * The seams. For every seam in `SEAM_NAMES` a test-only feature
 * (`test-wrap-<seam>`, test/seam-features.ts) wraps it, records each call
 * with its arguments of interest and the kernel function that made it, and
 * defers to the previous implementation. For each seam:
 *
 * - it is reached on each path it names, with the expected arguments
 *   (one test per path, from the table {@link PATHS});
 * - two wrappers compose in both orders: the one installed last is the
 *   outer one, both run on every call, and the seam table lists their
 *   owners in installation order;
 * - a wrapper that only defers is invisible: a small tour of the kernel
 *   gives exactly the same figures (`k.metrics()`) with it as without.
 *
 * Every kernel runs the invariant checker and the data oracle at each
 * operation boundary, and ends with every process gone and `finish()`'s
 * leak check clean.
 */
import { describe, expect, it } from 'vitest';
import {
  baseTlbGather,
  type BuildOptions,
  buildKernel,
  EINVAL,
  findVma,
  type Feature,
  FREE_PTE_NR,
  type FlushReason,
  HPAGE_SIZE,
  hugetlbVmaOps,
  type Kernel,
  type KGen,
  LEVEL_PMD,
  LEVEL_PTE,
  LEVEL_PUD,
  MADV_DONTNEED,
  MAP_NONBLOCK,
  MAP_PRIVATE,
  MAP_SHARED,
  type MmStruct,
  MREMAP_FIXED,
  MREMAP_MAYMOVE,
  pgdIndex,
  PMD_SIZE,
  pmdIndex,
  PROT_READ,
  PUD_SIZE,
  pudIndex,
  type RangeReason,
  SEAM_NAMES,
  type SeamName,
  type ShmemFile,
  type Task,
  type VmaChangeReason,
} from '../src/index.js';
import { pfnAt } from './helpers.js';
import { sharePte } from './share-pte-feature.js';
import { expectNoViolations, forked, mapAt, MiB, mmOf, P, PRESSURE, pressure, R, readOk, RW, shutdown, writeOk } from './rest-helpers.js';
import { type ArgValue, callers, callsOf, kebab, type SeamCall, SeamLog, WRAPPED_SEAMS, wrapFeature } from './seam-features.js';

/** One huge page. */
const H = HPAGE_SIZE;
/** The options of every kernel here (a case adds its own). */
const BASE: BuildOptions = { memBytes: 32 * MiB, check: true };
/** Hugetlb paths: a pool of four huge pages. */
const HUGE: BuildOptions = { hugePages: 4 };
/** Reclaim paths: the smallest RAM, half of it set aside as huge pages, so that pressure is cheap. */
const RECLAIM: BuildOptions = { memBytes: 16 * MiB, hugePages: 4 };

// ---- scenario building blocks ---------------------------------------------

/** A process with `pages` written pages of anonymous memory at R (one VMA). */
function anonProcess(k: Kernel, pages = 4): Task {
  const t = k.spawn();
  mapAt(k, t, R, pages * P);
  expect(k.touch(t, R, pages * P, true)).toBe(0);
  return t;
}

/** A process mapping a tmpfs file of 8 pages shared at R, every page written. */
function fileProcess(k: Kernel): { t: Task; f: ShmemFile } {
  const f = k.shmemCreate('file', 8 * P);
  const t = k.spawn();
  mapAt(k, t, R, 8 * P, RW, MAP_SHARED, f);
  expect(k.touch(t, R, 8 * P, true)).toBe(0);
  return { t, f };
}

/** A process with a private hugetlbfs mapping of two huge pages at R, both faulted in. */
function hugeProcess(k: Kernel): Task {
  const hf = k.hugetlbfsCreate('huge');
  const t = k.spawn();
  mapAt(k, t, R, 2 * H, RW, MAP_PRIVATE, hf);
  writeOk(k, t, R, 0x4000);
  writeOk(k, t, R + H, 0x4001);
  return t;
}

/** Memory pressure from `t` (anonymous memory at PRESSURE) until reclaim swaps pages out. */
function reclaim(k: Kernel, t: Task): void {
  pressure(k, t, PRESSURE, (k.mem.nrFree + 64) * P);
  expect(k.vm.pswpout).toBeGreaterThan(0);
}

/** The tables on the walk to `addr` in `mm`: the PTE, PMD and PUD tables' pfns (0 where missing). */
function tablesAt(k: Kernel, mm: MmStruct, addr: number): [pte: number, pmd: number, pud: number] {
  const below = (table: number, idx: number): number => {
    if (table === 0) return 0;
    const a = k.tables.arr(table);
    const b = k.tables.base(table) + idx * 2;
    return a[b] === 0 ? 0 : a[b + 1]!;
  };
  const pud = below(mm.pgd, pgdIndex(addr));
  const pmd = below(pud, pudIndex(addr));
  return [below(pmd, pmdIndex(addr)), pmd, pud];
}

/** The pfns mapped at `pages` pages from R. */
function pfnsAt(k: Kernel, t: Task, pages: number): number[] {
  return Array.from({ length: pages }, (_, i) => pfnAt(k, t, R + i * P));
}

/** The arguments of the calls of `op` (made from kernel function `from`, if given). */
function argsOf(calls: readonly SeamCall[], op: string, from?: string): Readonly<Record<string, ArgValue>>[] {
  return callsOf(calls, op)
    .filter((c) => from === undefined || c.from === from)
    .map((c) => c.args);
}

/** The ops of `calls` among `ops`, runs of the same op collapsed to one. */
function opSequence(calls: readonly SeamCall[], ops: readonly string[]): string[] {
  const seq: string[] = [];
  for (const c of calls) if (ops.includes(c.op) && seq.at(-1) !== c.op) seq.push(c.op);
  return seq;
}

/** Range events nest as brackets: each rangeEnd closes the latest open rangeBegin, with the same mm, range and reason, from the same function. */
function expectPaired(calls: readonly SeamCall[]): void {
  const open: SeamCall[] = [];
  for (const c of calls) {
    if (c.op === 'rangeBegin') open.push(c);
    if (c.op === 'rangeEnd') {
      const begin = open.pop();
      expect(begin, `rangeEnd ${JSON.stringify(c.args)} without a rangeBegin`).toBeDefined();
      expect([c.args, c.from]).toEqual([begin!.args, begin!.from]);
    }
  }
  expect(open, 'rangeBegin without a rangeEnd').toEqual([]);
}

/** The range events of `calls` as [op, reason, start, end], in order. */
function rangeEvents(calls: readonly SeamCall[]): [string, ArgValue, ArgValue, ArgValue][] {
  return calls.filter((c) => c.op === 'rangeBegin' || c.op === 'rangeEnd').map((c) => [c.op, c.args.reason!, c.args.start!, c.args.end!]);
}

/** A user program for {@link Kernel.runThreads}: write the page at `addr`. */
function* writePage(k: Kernel, t: Task, addr: number): KGen<void> {
  const sig = yield* k.sys(t).touch(addr, P, true);
  if (sig !== 0) throw new Error(`task ${t.pid}: signal ${sig} at 0x${addr.toString(16)}`);
}

/**
 * The populate race: two threads of one process fault the same fresh
 * region at once, each allocating the missing tables before taking
 * `page_table_lock`. Whether one loses (and discards its table) depends on
 * the interleaving, that is on the explore mode's seed.
 */
function populateRace(k: Kernel): { a: Task; b: Task } {
  const a = k.spawn();
  const b = k.clone(a);
  mapAt(k, a, R, 2 * P);
  k.runThreads([a, b].map((task, i) => ({ task, program: writePage(k, task, R + i * P) })));
  return { a, b };
}

/** Explore-mode options for the populate race with `seed`. */
function raceBuild(seed: number): BuildOptions {
  return { mode: 'explore', cpus: 2, seed };
}

// ---- the paths each seam names ----------------------------------------------

/** A kernel with the case's wrappers, and the log they record into. */
type Start = (opts?: BuildOptions) => { k: Kernel; log: SeamLog };

/** One path a seam is reached on. */
interface PathCase {
  /** The path (the test's name). */
  readonly path: string;
  /** Build options beyond {@link BASE}. */
  readonly build?: BuildOptions;
  /** Seams wrapped too, into the same log (to check the order of calls across seams). */
  readonly alsoWrap?: readonly SeamName[];
  /** Test-only features installed after the wrappers (a path only a feature takes). */
  readonly withFeatures?: readonly Feature[];
  /**
   * Drive `k` along the path and assert what the wrappers saw. `start`
   * builds further kernels with the same wrappers (each gets the same
   * end-of-scenario checks).
   */
  readonly run: (k: Kernel, log: SeamLog, start: Start) => void;
}

/** `flushTlb`: one path for each reason (a record, so a new reason needs a path). */
const FLUSH_PATHS: Record<FlushReason, PathCase> = {
  unshare: {
    path: "'unshare': no baseline path; the test-only shared-PTE feature flushes before it drops a share",
    withFeatures: [sharePte],
    run(k, log) {
      const f = k.shmemCreate('shared', 2 * MiB);
      const a = k.spawn();
      const b = k.spawn();
      const RB = R + 1024 * MiB;
      mapAt(k, a, R, 2 * MiB, RW, MAP_SHARED, f);
      mapAt(k, b, RB, 2 * MiB, RW, MAP_SHARED, f);
      expect(k.touch(a, R, 2 * MiB, true)).toBe(0);
      expect(k.touch(b, RB, 2 * MiB, false)).toBe(0);
      const calls = log.during(() => { expect(k.munmap(b, RB, 2 * MiB)).toBe(0); });
      expect(argsOf(calls, 'flushTlb').filter((a) => a.reason === 'unshare')).toEqual([{ kind: 'range', mm: mmOf(b).id, start: RB, end: RB + 2 * MiB, reason: 'unshare' }]);
    },
  },
  gather: {
    path: "'gather': munmap's gather flushes the range it zapped",
    run(k, log) {
      const t = anonProcess(k);
      const calls = log.during(() => { expect(k.munmap(t, R, 4 * P)).toBe(0); });
      expect(argsOf(calls, 'flushTlb')).toEqual([{ kind: 'mm', mm: mmOf(t).id, start: R, end: R + 4 * P, reason: 'gather' }]);
      expect(callers(calls, 'flushTlb')).toEqual(['tlbFlush']);
    },
  },
  fault: {
    path: "'fault': a spurious write fault on a writable PTE",
    run(k, log) {
      const t = anonProcess(k);
      const calls = log.during(() => { expect(k.fault(t, R + P, true)).toBe(0); });
      expect(argsOf(calls, 'flushTlb', 'presentPteFault')).toEqual([{ kind: 'page', mm: mmOf(t).id, start: R + P, end: R + 2 * P, reason: 'fault' }]);
    },
  },
  wp_reuse: {
    path: "'wp_reuse': do_wp_page reuses a page nobody else maps any more",
    run(k, log) {
      const p = anonProcess(k);
      k.exit(forked(k, p));
      const calls = log.during(() => { writeOk(k, p, R + P, 1); });
      expect(argsOf(calls, 'flushTlb', 'doWpPage')).toEqual([{ kind: 'page', mm: mmOf(p).id, start: R + P, end: R + 2 * P, reason: 'wp_reuse' }]);
      expect(callers(calls, 'flushTlb')).toEqual(['doWpPage']);
    },
  },
  clear_flush: {
    path: "'clear_flush': a COW fault clears and flushes the old PTE",
    run(k, log) {
      const c = forked(k, anonProcess(k));
      const calls = log.during(() => { writeOk(k, c, R + P, 1); });
      expect(argsOf(calls, 'flushTlb')).toEqual([{ kind: 'page', mm: mmOf(c).id, start: R + P, end: R + 2 * P, reason: 'clear_flush' }]);
      expect(callers(calls, 'flushTlb')).toEqual(['basePtepClearFlush']);
    },
  },
  clear_flush_young: {
    path: "'clear_flush_young': reclaim clears young PTEs",
    build: RECLAIM,
    run(k, log) {
      const t = k.spawn();
      const calls = log.during(() => { reclaim(k, t); });
      const young = argsOf(calls, 'flushTlb', 'basePtepClearFlushYoung');
      expect(young.length).toBeGreaterThan(0);
      for (const a of young) expect(a).toEqual({ kind: 'page', mm: mmOf(t).id, start: a.start, end: Number(a.start) + P, reason: 'clear_flush_young' });
    },
  },
  mprotect: {
    path: "'mprotect': change_protection flushes the range",
    run(k, log) {
      const t = anonProcess(k);
      const calls = log.during(() => { expect(k.mprotect(t, R + P, 2 * P, PROT_READ)).toBe(0); });
      expect(argsOf(calls, 'flushTlb')).toEqual([{ kind: 'range', mm: mmOf(t).id, start: R + P, end: R + 3 * P, reason: 'mprotect' }]);
      expect(callers(calls, 'flushTlb')).toEqual(['changeProtection']);
    },
  },
  fork: {
    path: "'fork': dup_mmap flushes the parent it write-protected",
    run(k, log) {
      const p = anonProcess(k);
      const calls = log.during(() => forked(k, p));
      expect(argsOf(calls, 'flushTlb')).toEqual([{ kind: 'mm', mm: mmOf(p).id, start: 0, end: 0, reason: 'fork' }]);
      expect(callers(calls, 'flushTlb')).toEqual(['dupMmap']);
    },
  },
  hugetlb: {
    path: "'hugetlb': mprotect and munmap of a hugetlb VMA",
    build: HUGE,
    run(k, log) {
      const t = hugeProcess(k);
      const range = { kind: 'range', mm: mmOf(t).id, start: R, end: R + 2 * H, reason: 'hugetlb' };
      const prot = log.during(() => { expect(k.mprotect(t, R, 2 * H, PROT_READ)).toBe(0); });
      expect(argsOf(prot, 'flushTlb', 'hugetlbChangeProtection')).toEqual([range]);
      const unmap = log.during(() => { expect(k.munmap(t, R, 2 * H)).toBe(0); });
      expect(argsOf(unmap, 'flushTlb', 'unmapHugepageRange')).toEqual([range]);
    },
  },
};

/**
 * `rangeBegin` and `rangeEnd`: one path for each reason, checked on both
 * seams with the other one wrapped too, so that the pairing can be seen.
 */
function rangePaths(other: 'rangeBegin' | 'rangeEnd'): PathCase[] {
  const paths: Record<RangeReason, Omit<PathCase, 'alsoWrap'>> = {
    unmap: {
      path: "'unmap': munmap's unmap_vmas",
      run(k, log) {
        const t = anonProcess(k);
        const calls = log.during(() => { expect(k.munmap(t, R + P, 2 * P)).toBe(0); });
        expect(argsOf(calls, 'rangeBegin', 'unmapVmas')).toEqual([{ mm: mmOf(t).id, start: R + P, end: R + 3 * P, reason: 'unmap' }]);
        expect(callers(calls, 'rangeEnd')).toEqual(['unmapVmas']);
        expectPaired(calls);
      },
    },
    mprotect: {
      path: "'mprotect': change_protection, and hugetlb_change_protection",
      build: HUGE,
      run(k, log) {
        const t = anonProcess(k);
        const calls = log.during(() => { expect(k.mprotect(t, R + P, 2 * P, PROT_READ)).toBe(0); });
        expect(argsOf(calls, 'rangeBegin', 'changeProtection')).toEqual([{ mm: mmOf(t).id, start: R + P, end: R + 3 * P, reason: 'mprotect' }]);
        expect(callers(calls, 'rangeEnd')).toEqual(['changeProtection']);
        expectPaired(calls);
        const h = hugeProcess(k);
        const huge = log.during(() => { expect(k.mprotect(h, R, 2 * H, PROT_READ)).toBe(0); });
        expect(argsOf(huge, 'rangeBegin', 'hugetlbChangeProtection')).toEqual([{ mm: mmOf(h).id, start: R, end: R + 2 * H, reason: 'mprotect' }]);
        expect(callers(huge, 'rangeEnd')).toEqual(['hugetlbChangeProtection']);
        expectPaired(huge);
      },
    },
    mremap: {
      path: "'mremap': move_page_tables on the old range (then unmap_vmas unmaps it)",
      run(k, log) {
        const t = anonProcess(k);
        const calls = log.during(() => { expect(k.mremap(t, R, 4 * P, 4 * P, MREMAP_MAYMOVE | MREMAP_FIXED, R + PMD_SIZE)).toBe(R + PMD_SIZE); });
        expect(rangeEvents(calls)).toEqual([
          ['rangeBegin', 'mremap', R, R + 4 * P],
          ['rangeEnd', 'mremap', R, R + 4 * P],
          ['rangeBegin', 'unmap', R, R + 4 * P],
          ['rangeEnd', 'unmap', R, R + 4 * P],
        ]);
        expect(callers(calls, 'rangeBegin')).toEqual(['movePageTables', 'unmapVmas']);
        expectPaired(calls);
      },
    },
    fork: {
      path: "'fork': the parent's COW VMAs, not its shared ones",
      run(k, log) {
        const p = anonProcess(k);
        const f = k.shmemCreate('file', 4 * P);
        mapAt(k, p, R + PUD_SIZE, 4 * P, RW, MAP_SHARED, f);
        expect(k.touch(p, R + PUD_SIZE, 4 * P, true)).toBe(0);
        const calls = log.during(() => forked(k, p));
        expect(argsOf(calls, 'rangeBegin', 'dupMmap')).toEqual([{ mm: mmOf(p).id, start: R, end: R + 4 * P, reason: 'fork' }]);
        expect(rangeEvents(calls)).toEqual([
          ['rangeBegin', 'fork', R, R + 4 * P],
          ['rangeEnd', 'fork', R, R + 4 * P],
        ]);
        expectPaired(calls);
      },
    },
    truncate: {
      path: "'truncate': unmap_mapping_range, nesting unmap_vmas' events",
      run(k, log) {
        const { t, f } = fileProcess(k);
        const calls = log.during(() => { expect(k.ftruncate(f, 2 * P)).toBe(0); });
        expect(rangeEvents(calls)).toEqual([
          ['rangeBegin', 'truncate', R + 2 * P, R + 8 * P],
          ['rangeBegin', 'unmap', R + 2 * P, R + 8 * P],
          ['rangeEnd', 'unmap', R + 2 * P, R + 8 * P],
          ['rangeEnd', 'truncate', R + 2 * P, R + 8 * P],
        ]);
        expect(callers(calls, 'rangeBegin')).toEqual(['unmapMappingRange', 'unmapVmas']);
        expect(new Set(calls.map((c) => c.args.mm))).toEqual(new Set([mmOf(t).id]));
        expectPaired(calls);
      },
    },
  };
  return Object.values(paths).map((p) => ({ ...p, alsoWrap: [other] }));
}

/**
 * `exitMmapBegin` and `exitMmapUnmapped`, checked on both seams with the
 * other one, the gather and `pgtableFree` wrapped too, for the order.
 */
function exitPaths(other: 'exitMmapBegin' | 'exitMmapUnmapped'): PathCase[] {
  const alsoWrap: SeamName[] = [other, 'tlbGather', 'pgtableFree'];
  return [
    {
      path: 'exit: before the gather is taken, and after unmap_vmas before the tables are freed',
      alsoWrap,
      run(k, log) {
        const t = anonProcess(k);
        const mm = mmOf(t).id;
        const calls = log.during(() => { k.exit(t); });
        expect(opSequence(calls, ['exitMmapBegin', 'begin', 'removePage', 'exitMmapUnmapped', 'pgtableFree', 'finish'])).toEqual([
          'exitMmapBegin',
          'begin',
          'removePage',
          'exitMmapUnmapped',
          'pgtableFree',
          'finish',
        ]);
        expect(argsOf(calls, 'exitMmapBegin', 'exitMmap')).toEqual([{ mm }]);
        expect(argsOf(calls, 'exitMmapUnmapped', 'exitMmap')).toEqual([{ mm }]);
      },
    },
    {
      path: 'execve: the old address space',
      alsoWrap,
      run(k, log) {
        const t = anonProcess(k);
        const old = mmOf(t).id;
        const calls = log.during(() => { expect(k.execve(t)).toBe(0); });
        expect(mmOf(t).id).not.toBe(old);
        expect(argsOf(calls, 'exitMmapBegin', 'exitMmap')).toEqual([{ mm: old }]);
        expect(argsOf(calls, 'exitMmapUnmapped', 'exitMmap')).toEqual([{ mm: old }]);
      },
    },
    {
      path: 'the last user of the mm only (not a thread exiting while another runs)',
      alsoWrap,
      run(k, log) {
        const t = anonProcess(k);
        const thread = k.clone(t);
        const mm = mmOf(t).id;
        expect(callsOf(log.during(() => { k.exit(thread); }), 'exitMmapBegin')).toEqual([]);
        const calls = log.during(() => { k.exit(t); });
        expect(argsOf(calls, 'exitMmapBegin')).toEqual([{ mm }]);
        expect(argsOf(calls, 'exitMmapUnmapped')).toEqual([{ mm }]);
      },
    },
  ];
}

/** `vmaChange`: one path for each reason (a record, so a new reason needs a path). */
const VMA_CHANGE_PATHS: Record<VmaChangeReason, PathCase> = {
  anon_vma_prepare: {
    path: "'anon_vma_prepare': the first anonymous page of a VMA (the whole VMA)",
    run(k, log) {
      const t = k.spawn();
      mapAt(k, t, R, 4 * P);
      const calls = log.during(() => { writeOk(k, t, R + P, 1); });
      expect(argsOf(calls, 'vmaChange', 'anonVmaPrepare')).toEqual([{ mm: mmOf(t).id, start: R, end: R + 4 * P, reason: 'anon_vma_prepare', vmStart: R, vmEnd: R + 4 * P }]);
      expect(callers(calls, 'vmaChange')).toEqual(['anonVmaPrepare']);
      // the VMA has its anon_vma now
      expect(log.during(() => { writeOk(k, t, R + 2 * P, 2); })).toEqual([]);
    },
  },
  mprotect: {
    path: "'mprotect': mprotect_fixup's range, then the splits it makes",
    run(k, log) {
      const t = anonProcess(k);
      const mm = mmOf(t).id;
      const calls = log.during(() => { expect(k.mprotect(t, R + P, 2 * P, PROT_READ)).toBe(0); });
      expect(calls.map((c) => [c.from, c.args])).toEqual([
        ['mprotectFixup', { mm, start: R + P, end: R + 3 * P, reason: 'mprotect', vmStart: R, vmEnd: R + 4 * P }],
        ['splitVma', { mm, start: R + P, end: R + P, reason: 'split', vmStart: R, vmEnd: R + 4 * P }],
        ['splitVma', { mm, start: R + 3 * P, end: R + 3 * P, reason: 'split', vmStart: R + P, vmEnd: R + 4 * P }],
      ]);
    },
  },
  move: {
    path: "'move': mremap's move_vma (the range that moves)",
    run(k, log) {
      const t = anonProcess(k);
      const calls = log.during(() => { expect(k.mremap(t, R, 2 * P, 2 * P, MREMAP_MAYMOVE | MREMAP_FIXED, R + PMD_SIZE)).toBe(R + PMD_SIZE); });
      expect(argsOf(calls, 'vmaChange', 'moveVma')).toEqual([{ mm: mmOf(t).id, start: R, end: R + 2 * P, reason: 'move', vmStart: R, vmEnd: R + 4 * P }]);
    },
  },
  remap_file_pages: {
    path: "'remap_file_pages': a VMA becoming nonlinear",
    run(k, log) {
      const { t } = fileProcess(k);
      const calls = log.during(() => { expect(k.remapFilePages(t, R + P, 2 * P, 5, MAP_NONBLOCK)).toBe(0); });
      expect(argsOf(calls, 'vmaChange')).toEqual([{ mm: mmOf(t).id, start: R + P, end: R + 3 * P, reason: 'remap_file_pages', vmStart: R, vmEnd: R + 8 * P }]);
      expect(callers(calls, 'vmaChange')).toEqual(['sysRemapFilePages']);
      // already nonlinear: no change to announce
      expect(callsOf(log.during(() => { expect(k.remapFilePages(t, R, P, 6, MAP_NONBLOCK)).toBe(0); }), 'vmaChange')).toEqual([]);
    },
  },
  split: {
    path: "'split': munmap of a page inside a VMA (start = end = the split address)",
    run(k, log) {
      const t = anonProcess(k);
      const mm = mmOf(t).id;
      const calls = log.during(() => { expect(k.munmap(t, R + P, P)).toBe(0); });
      expect(argsOf(calls, 'vmaChange', 'splitVma')).toEqual([
        { mm, start: R + P, end: R + P, reason: 'split', vmStart: R, vmEnd: R + 4 * P },
        { mm, start: R + 2 * P, end: R + 2 * P, reason: 'split', vmStart: R + P, vmEnd: R + 4 * P },
      ]);
      expect(callers(calls, 'vmaChange')).toEqual(['splitVma']);
    },
  },
  adjust: {
    path: "'adjust': mremap growing a VMA in place (the new bounds)",
    run(k, log) {
      const t = anonProcess(k);
      const calls = log.during(() => { expect(k.mremap(t, R, 4 * P, 8 * P, 0)).toBe(R); });
      expect(argsOf(calls, 'vmaChange')).toEqual([{ mm: mmOf(t).id, start: R, end: R + 8 * P, reason: 'adjust', vmStart: R, vmEnd: R + 4 * P }]);
      expect(callers(calls, 'vmaChange')).toEqual(['vmaAdjust']);
    },
  },
};

/** The methods of hugetlb's special-VMA operations, as the wrappers name them. */
const HUGETLB_OPS = ['fault', 'copyPageRange', 'unmapPageRange', 'changeProtection', 'followPage', 'freePgtableRange'].map((m) => `hugetlb.${m}`);
/** The operations of the TLB gather. */
const GATHER_OPS = ['begin', 'removeTlbEntry', 'removePage', 'removeTable', 'flush', 'finish', 'blockSize', 'tableDone'];

/** Every seam's paths: a mapped type, so a new seam without paths does not compile (and the first test fails). */
const PATHS: { readonly [K in SeamName]: readonly PathCase[] } = {
  pgtableAlloc: [
    {
      path: 'a fault on a fresh region (the PUD, PMD and PTE tables, from the top)',
      run(k, log) {
        const t = k.spawn();
        mapAt(k, t, R, 4 * P);
        const mm = mmOf(t).id;
        const calls = log.during(() => { writeOk(k, t, R + P, 1); });
        expect(argsOf(calls, 'pgtableAlloc', 'allocBelow')).toEqual([LEVEL_PUD, LEVEL_PMD, LEVEL_PTE].map((level) => ({ mm, level, addr: R + P })));
        expect(callers(calls, 'pgtableAlloc')).toEqual(['allocBelow']);
        // a fault under the same tables allocates none
        expect(log.during(() => { writeOk(k, t, R + 2 * P, 2); })).toEqual([]);
      },
    },
    {
      path: "fork (the child's tables)",
      run(k, log) {
        const p = anonProcess(k);
        const mark = log.mark();
        const c = forked(k, p);
        const mm = mmOf(c).id;
        expect(argsOf(log.since(mark), 'pgtableAlloc', 'allocBelow')).toEqual([LEVEL_PUD, LEVEL_PMD, LEVEL_PTE].map((level) => ({ mm, level, addr: R })));
      },
    },
  ],
  pgtableDiscard: [
    {
      path: 'the populate race (explore mode: two threads fault the same fresh region)',
      alsoWrap: ['pgtableAlloc'],
      build: raceBuild(1),
      run(k1, log1, start) {
        for (let seed = 1; seed <= 64; seed++) {
          const { k, log } = seed === 1 ? { k: k1, log: log1 } : start(raceBuild(seed));
          const mark = log.mark();
          const { a } = populateRace(k);
          const calls = log.since(mark);
          const discarded = callsOf(calls, 'pgtableDiscard');
          if (discarded.length === 0) continue;
          const mm = mmOf(a);
          expect(callers(calls, 'pgtableDiscard')).toEqual(['populateLocked']);
          const installed = tablesAt(k, mm, R);
          for (const { args } of discarded) {
            expect(args.mm).toBe(mm.id);
            // the loser's table, not the one installed at its level
            expect(installed[args.level as 0 | 1 | 2]).not.toBe(args.pfn);
          }
          // every table the race allocated was installed or discarded, level by level
          for (const level of [LEVEL_PTE, LEVEL_PMD, LEVEL_PUD]) {
            const allocs = argsOf(calls, 'pgtableAlloc').filter((x) => x.level === level).length;
            const discards = discarded.filter((c) => c.args.level === level).length;
            expect(allocs).toBe(1 + discards);
          }
          expect(k.ptLive).toEqual([1, 1, 1, 1]);
          return;
        }
        throw new Error('no populate race in 64 seeds');
      },
    },
  ],
  pgtableFree: [
    {
      path: 'munmap of a PMD-sized region (its PTE table, then the PMD and PUD tables above it), not of a page inside it',
      run(k, log) {
        const t = k.spawn();
        mapAt(k, t, R, PMD_SIZE);
        expect(k.touch(t, R, 4 * P, true)).toBe(0);
        const mm = mmOf(t);
        const [pte, pmd, pud] = tablesAt(k, mm, R);
        // the table still maps the page's neighbours
        expect(callsOf(log.during(() => { expect(k.munmap(t, R + P, P)).toBe(0); }), 'pgtableFree')).toEqual([]);
        const calls = log.during(() => { expect(k.munmap(t, R, PMD_SIZE)).toBe(0); });
        expect(callsOf(calls, 'pgtableFree').map((c) => [c.from, c.args])).toEqual([
          ['freePmdRange', { mm: mm.id, level: LEVEL_PTE, parent: pmd, idx: pmdIndex(R) }],
          ['freePmdRange', { mm: mm.id, level: LEVEL_PMD, parent: pud, idx: pudIndex(R) }],
          ['freePudRange', { mm: mm.id, level: LEVEL_PUD, parent: mm.pgd, idx: pgdIndex(R) }],
        ]);
        expect(k.mem.isAllocated(pte)).toBe(false);
        expect(k.ptLive).toEqual([0, 0, 0, 1]);
      },
    },
    {
      path: 'exit (every table of the mm)',
      run(k, log) {
        const t = anonProcess(k);
        mapAt(k, t, R + PUD_SIZE, PMD_SIZE + P);
        expect(k.touch(t, R + PUD_SIZE, PMD_SIZE + P, true)).toBe(0);
        const mm = mmOf(t).id;
        const live = k.ptLive.slice(0, 3);
        const calls = callsOf(log.during(() => { k.exit(t); }), 'pgtableFree');
        expect([LEVEL_PTE, LEVEL_PMD, LEVEL_PUD].map((l) => calls.filter((c) => c.args.level === l).length)).toEqual(live);
        expect(new Set(calls.map((c) => c.args.mm))).toEqual(new Set([mm]));
        expect(new Set(calls.map((c) => c.from))).toEqual(new Set(['freePmdRange', 'freePudRange']));
      },
    },
  ],
  copyPageRange: [
    {
      path: 'fork: once per VMA, in address order, with or without pages to copy',
      run(k, log) {
        const p = anonProcess(k);
        const f = k.shmemCreate('file', 4 * P);
        mapAt(k, p, R + PUD_SIZE, 4 * P, RW, MAP_SHARED, f);
        expect(k.touch(p, R + PUD_SIZE, 4 * P, true)).toBe(0);
        mapAt(k, p, R + 2 * PUD_SIZE, 4 * P);
        const mark = log.mark();
        const c = forked(k, p);
        const [dst, src] = [mmOf(c).id, mmOf(p).id];
        expect(argsOf(log.since(mark), 'copyPageRange', 'dupMmap')).toEqual(
          [R, R + PUD_SIZE, R + 2 * PUD_SIZE].map((start) => ({ dst, src, start, end: start + 4 * P })),
        );
        // the anonymous pages were copied (COW), the shared file's are left to fault
        expect(pfnsAt(k, c, 4)).toEqual(pfnsAt(k, p, 4));
        expect(tablesAt(k, mmOf(c), R + PUD_SIZE)[0]).toBe(0);
      },
    },
  ],
  fileMmap: [
    {
      path: "mmap_region's f_op->mmap for a tmpfs file and a hugetlbfs file (not for anonymous memory)",
      build: HUGE,
      run(k, log) {
        const f = k.shmemCreate('tmp', 4 * P);
        const hf = k.hugetlbfsCreate('huge');
        const t = k.spawn();
        const mm = mmOf(t).id;
        const calls = log.during(() => {
          mapAt(k, t, R, 4 * P, RW, MAP_SHARED, f);
          mapAt(k, t, R + H, 2 * H, RW, MAP_PRIVATE, hf);
          mapAt(k, t, R + 4 * H, 4 * P);
        });
        expect(argsOf(calls, 'fileMmap', 'mmapRegion')).toEqual([
          { file: 'tmp', mm, start: R, end: R + 4 * P },
          { file: 'huge', mm, start: R + H, end: R + 3 * H },
        ]);
      },
    },
  ],
  anonFault: [
    {
      path: 'a write fault on an empty PTE of an anonymous VMA',
      run(k, log) {
        const t = k.spawn();
        mapAt(k, t, R, 4 * P);
        const calls = log.during(() => { writeOk(k, t, R + P, 1); });
        expect(argsOf(calls, 'anonFault', 'handlePteFault')).toEqual([{ mm: mmOf(t).id, address: R + P, pte: tablesAt(k, mmOf(t), R)[0] }]);
      },
    },
    {
      path: 'a read fault (2.6.24 maps a zeroed page for a read too)',
      run(k, log) {
        const t = k.spawn();
        mapAt(k, t, R, 4 * P);
        const calls = log.during(() => { expect(readOk(k, t, R + 2 * P)).toBe(0); });
        expect(argsOf(calls, 'anonFault', 'handlePteFault')).toEqual([{ mm: mmOf(t).id, address: R + 2 * P, pte: tablesAt(k, mmOf(t), R)[0] }]);
      },
    },
    {
      path: 'get_user_pages faulting pages in (direct I/O)',
      run(k, log) {
        const t = k.spawn();
        mapAt(k, t, R, 4 * P);
        const calls = log.during(() => { expect(k.directIo(t, R, 2, true)).toBe(2); });
        expect(argsOf(calls, 'anonFault', 'handlePteFault').map((a) => a.address)).toEqual([R, R + P]);
      },
    },
    {
      path: 'a fault on an anonymous VMA only (not a file fault, shared or private, nor a COW fault)',
      run(k, log) {
        const { t, f } = fileProcess(k);
        mapAt(k, t, R + PUD_SIZE, 8 * P, RW, MAP_PRIVATE, f);
        mapAt(k, t, R + 2 * PUD_SIZE, 4 * P);
        expect(k.touch(t, R + 2 * PUD_SIZE, 4 * P, true)).toBe(0);
        const c = forked(k, t);
        const calls = log.during(() => {
          readOk(k, c, R + P); // the shared file: fork left it to fault
          writeOk(k, t, R + PUD_SIZE, 1); // the private file: __do_fault copies the page
          writeOk(k, c, R + 2 * PUD_SIZE, 2); // COW: do_wp_page
        });
        expect(callsOf(calls, 'anonFault')).toEqual([]);
      },
    },
  ],
  doFault: [
    {
      path: 'a read fault on an empty PTE of a shared file mapping (do_linear_fault)',
      run(k, log) {
        const { t, f } = fileProcess(k);
        mapAt(k, t, R + PUD_SIZE, 4 * P, RW, MAP_SHARED, f);
        const calls = log.during(() => { readOk(k, t, R + PUD_SIZE + 2 * P); });
        expect(argsOf(calls, 'doFault', 'handlePteFault')).toEqual([{ mm: mmOf(t).id, address: R + PUD_SIZE + 2 * P, pgoff: 2, write: false }]);
      },
    },
    {
      path: 'a write fault on a private file mapping (the copy at once)',
      run(k, log) {
        const { t, f } = fileProcess(k);
        mapAt(k, t, R + PUD_SIZE, 4 * P, RW, MAP_PRIVATE, f);
        const calls = log.during(() => { writeOk(k, t, R + PUD_SIZE + P, 1); });
        expect(argsOf(calls, 'doFault', 'handlePteFault')).toEqual([{ mm: mmOf(t).id, address: R + PUD_SIZE + P, pgoff: 1, write: true }]);
      },
    },
    {
      path: 'not an anonymous fault',
      run(k, log) {
        const t = k.spawn();
        mapAt(k, t, R, 4 * P);
        const calls = log.during(() => { writeOk(k, t, R, 1); });
        expect(callsOf(calls, 'doFault')).toEqual([]);
      },
    },
  ],
  specialVmaOps: [
    {
      path: 'fault: handle_mm_fault → hugetlb_fault',
      build: HUGE,
      run(k, log) {
        const hf = k.hugetlbfsCreate('huge');
        const t = k.spawn();
        mapAt(k, t, R, 2 * H, RW, MAP_PRIVATE, hf);
        const calls = log.during(() => { writeOk(k, t, R + H + P, 1); });
        const mm = mmOf(t).id;
        expect(argsOf(calls, 'specialVmaOps', 'handleMmFault')).toEqual([{ mm, start: R, end: R + 2 * H, hugetlb: true }]);
        expect(argsOf(calls, 'hugetlb.fault', 'handleMmFault')).toEqual([{ mm, address: R + H + P, write: true }]);
      },
    },
    {
      path: "fork: copy_page_range → copy_hugetlb_page_range",
      build: HUGE,
      run(k, log) {
        const p = hugeProcess(k);
        const mark = log.mark();
        const c = forked(k, p);
        const calls = log.since(mark);
        expect(argsOf(calls, 'specialVmaOps', 'baseCopyPageRange')).toEqual([{ mm: mmOf(p).id, start: R, end: R + 2 * H, hugetlb: true }]);
        expect(argsOf(calls, 'hugetlb.copyPageRange', 'baseCopyPageRange')).toEqual([{ dst: mmOf(c).id, src: mmOf(p).id, start: R, end: R + 2 * H }]);
      },
    },
    {
      path: 'munmap: unmap_vmas → unmap_hugepage_range',
      build: HUGE,
      run(k, log) {
        const t = hugeProcess(k);
        const calls = log.during(() => { expect(k.munmap(t, R, 2 * H)).toBe(0); });
        expect(callers(calls, 'specialVmaOps')).toContain('unmapVmas');
        expect(argsOf(calls, 'hugetlb.unmapPageRange', 'unmapVmas')).toEqual([{ mm: mmOf(t).id, start: R, end: R + 2 * H }]);
      },
    },
    {
      path: 'mprotect: mprotect_fixup → hugetlb_change_protection',
      build: HUGE,
      run(k, log) {
        const t = hugeProcess(k);
        const calls = log.during(() => { expect(k.mprotect(t, R, 2 * H, PROT_READ)).toBe(0); });
        expect(callers(calls, 'specialVmaOps')).toContain('mprotectFixup');
        expect(argsOf(calls, 'hugetlb.changeProtection', 'mprotectFixup')).toEqual([{ mm: mmOf(t).id, start: R, end: R + 2 * H }]);
      },
    },
    {
      path: 'get_user_pages (direct I/O): follow_hugetlb_page',
      build: HUGE,
      run(k, log) {
        const t = hugeProcess(k);
        const calls = log.during(() => { expect(k.directIo(t, R + P, 2, false)).toBe(2); });
        const mm = mmOf(t).id;
        expect(argsOf(calls, 'specialVmaOps', 'getUserPages')).toEqual([{ mm, start: R, end: R + 2 * H, hugetlb: true }]);
        expect(argsOf(calls, 'hugetlb.followPage', 'getUserPages')).toEqual([R + P, R + 2 * P].map((addr) => ({ mm, addr, write: false, pin: true })));
      },
    },
    {
      path: 'free_pgtables (munmap and exit): hugetlb_free_pgd_range',
      build: HUGE,
      run(k, log) {
        const t = hugeProcess(k);
        const mm = mmOf(t).id;
        const unmap = log.during(() => { expect(k.munmap(t, R, H)).toBe(0); });
        expect(callers(unmap, 'specialVmaOps')).toContain('freePgtables');
        expect(argsOf(unmap, 'hugetlb.freePgtableRange', 'freePgtables')).toEqual([{ mm, addr: R, end: R + H }]);
        const exit = log.during(() => { k.exit(t); });
        expect(argsOf(exit, 'hugetlb.freePgtableRange', 'freePgtables')).toEqual([{ mm, addr: R + H, end: R + 2 * H }]);
      },
    },
    {
      path: 'mremap: asked, and refused with -EINVAL (2.6.24 moves no hugetlb VMA)',
      build: HUGE,
      run(k, log) {
        const t = hugeProcess(k);
        const calls = log.during(() => { expect(k.mremap(t, R, 2 * H, 4 * H, MREMAP_MAYMOVE)).toBe(-EINVAL); });
        expect(argsOf(calls, 'specialVmaOps', 'sysMremap')).toEqual([{ mm: mmOf(t).id, start: R, end: R + 2 * H, hugetlb: true }]);
        expect(calls.filter((c) => c.op.startsWith('hugetlb.'))).toEqual([]);
        expect(mmOf(t).vmas.map((v) => [v.vmStart, v.vmEnd])).toEqual([[R, R + 2 * H]]);
      },
    },
    {
      path: 'the invariant checker (huge PMD entries)',
      build: HUGE,
      run(k, log) {
        const t = hugeProcess(k);
        const calls = log.during(() => { expect(k.check()).toEqual([]); });
        // one call per huge PMD entry
        const vma = { mm: mmOf(t).id, start: R, end: R + 2 * H, hugetlb: true };
        expect(argsOf(calls, 'specialVmaOps', 'checkHugeEntry')).toEqual([vma, vma]);
      },
    },
    {
      path: 'a fault on a normal VMA (null: the generic paths run)',
      run(k, log) {
        const t = k.spawn();
        mapAt(k, t, R, 4 * P);
        const calls = log.during(() => { writeOk(k, t, R, 1); });
        expect(argsOf(calls, 'specialVmaOps', 'handleMmFault')).toEqual([{ mm: mmOf(t).id, start: R, end: R + 4 * P, hugetlb: false }]);
        expect(calls.filter((c) => c.op.startsWith('hugetlb.'))).toEqual([]);
      },
    },
  ],
  vmNormalPage: [
    {
      path: 'zap (munmap)',
      run(k, log) {
        const t = anonProcess(k);
        const pfns = pfnsAt(k, t, 4);
        const calls = log.during(() => { expect(k.munmap(t, R, 4 * P)).toBe(0); });
        expect(argsOf(calls, 'vmNormalPage', 'zapPtes')).toEqual(pfns.map((pfn, i) => ({ mm: mmOf(t).id, addr: R + i * P, pfn })));
      },
    },
    {
      path: "fork's copy of an anonymous COW VMA",
      run(k, log) {
        const p = anonProcess(k);
        const pfns = pfnsAt(k, p, 4);
        const calls = log.during(() => forked(k, p));
        expect(argsOf(calls, 'vmNormalPage', 'copyPteRange')).toEqual(pfns.map((pfn, i) => ({ mm: mmOf(p).id, addr: R + i * P, pfn })));
      },
    },
    {
      path: 'do_wp_page (a COW fault)',
      run(k, log) {
        const p = anonProcess(k);
        const c = forked(k, p);
        const shared = pfnAt(k, c, R + P);
        const calls = log.during(() => { writeOk(k, c, R + P, 1); });
        expect(argsOf(calls, 'vmNormalPage', 'doWpPage')).toEqual([{ mm: mmOf(c).id, addr: R + P, pfn: shared }]);
      },
    },
    {
      path: 'follow_page (direct I/O)',
      run(k, log) {
        const t = anonProcess(k);
        const pfns = pfnsAt(k, t, 2);
        const calls = log.during(() => { expect(k.directIo(t, R, 2, false)).toBe(2); });
        expect(argsOf(calls, 'vmNormalPage', 'followPageLocked')).toEqual(pfns.map((pfn, i) => ({ mm: mmOf(t).id, addr: R + i * P, pfn })));
      },
    },
    {
      path: "remap_file_pages' zap_pte",
      run(k, log) {
        const { t } = fileProcess(k);
        const pfn = pfnAt(k, t, R);
        const calls = log.during(() => { expect(k.remapFilePages(t, R, P, 5, MAP_NONBLOCK)).toBe(0); });
        expect(argsOf(calls, 'vmNormalPage', 'zapPte')).toEqual([{ mm: mmOf(t).id, addr: R, pfn }]);
      },
    },
    {
      path: 'the invariant checker',
      run(k, log) {
        const t = anonProcess(k);
        const pfns = pfnsAt(k, t, 4);
        const calls = log.during(() => { expect(k.check()).toEqual([]); });
        expect(argsOf(calls, 'vmNormalPage', 'checkPteEntry')).toEqual(pfns.map((pfn, i) => ({ mm: mmOf(t).id, addr: R + i * P, pfn })));
      },
    },
  ],
  pfnPte: [
    {
      path: "remap_pfn_range (a pfnmap device's mmap)",
      run(k, log) {
        const dev = k.deviceCreate('fb', 4 * P, 'pfnmap');
        const t = k.spawn();
        const calls = log.during(() => { mapAt(k, t, R, 4 * P, RW, MAP_SHARED, dev); });
        const vma = findVma(mmOf(t), R)!;
        const base = pfnAt(k, t, R);
        expect(argsOf(calls, 'pfnPte', 'remapPfnRange')).toEqual([0, 1, 2, 3].map((i) => ({ mm: mmOf(t).id, addr: R + i * P, pfn: base + i, prot: vma.vmPageProt })));
        expect(k.touch(t, R, 4 * P, true)).toBe(0);
      },
    },
    {
      path: "do_no_pfn (a fault on a nopfn device's mapping)",
      run(k, log) {
        const dev = k.deviceCreate('spu', 4 * P, 'nopfn');
        const t = k.spawn();
        mapAt(k, t, R, 4 * P, RW, MAP_SHARED, dev);
        const calls = log.during(() => { expect(k.touch(t, R + P, P, false)).toBe(0); });
        const vma = findVma(mmOf(t), R)!;
        expect(argsOf(calls, 'pfnPte', 'doNoPfn')).toEqual([{ mm: mmOf(t).id, addr: R + P, pfn: pfnAt(k, t, R + P), prot: vma.vmPageProt }]);
      },
    },
  ],
  getUserPages: [
    {
      path: 'direct I/O, both directions',
      run(k, log) {
        const t = anonProcess(k);
        const mm = mmOf(t).id;
        const toMemory = log.during(() => { expect(k.directIo(t, R + P, 2, true)).toBe(2); });
        expect(argsOf(toMemory, 'getUserPages', 'sysGetUserPages')).toEqual([{ mm, start: R + P, nrPages: 2, write: true, force: false }]);
        const fromMemory = log.during(() => { expect(k.directIo(t, R, 3, false)).toBe(3); });
        expect(argsOf(fromMemory, 'getUserPages', 'sysGetUserPages')).toEqual([{ mm, start: R, nrPages: 3, write: false, force: false }]);
      },
    },
    {
      path: 'access_process_vm: ptrace peek and poke (forced)',
      run(k, log) {
        const t = anonProcess(k);
        const mm = mmOf(t).id;
        const poke = log.during(() => { expect(k.accessProcessVm(t, R + P, 0x1234)).toBe(0x1234); });
        expect(argsOf(poke, 'getUserPages', 'sysGetUserPages')).toEqual([{ mm, start: R + P, nrPages: 1, write: true, force: true }]);
        const peek = log.during(() => { expect(k.accessProcessVm(t, R + P)).toBe(0x1234); });
        expect(argsOf(peek, 'getUserPages', 'sysGetUserPages')).toEqual([{ mm, start: R + P, nrPages: 1, write: false, force: true }]);
      },
    },
    {
      path: 'a driver pinning pages (Kernel.getUserPages)',
      run(k, log) {
        const t = anonProcess(k);
        const mark = log.mark();
        const pins = k.getUserPages(t, R, 2, true);
        expect(argsOf(log.since(mark), 'getUserPages', 'sysGetUserPages')).toEqual([{ mm: mmOf(t).id, start: R, nrPages: 2, write: true, force: false }]);
        if (typeof pins === 'number') throw new Error(`get_user_pages failed: ${pins}`);
        k.putUserPages(pins);
      },
    },
    {
      path: "direct I/O and ptrace only, not mlock's make_pages_present (which holds mmap_sem already)",
      run(k, log) {
        const t = k.spawn();
        mapAt(k, t, R, 4 * P);
        expect(callsOf(log.during(() => { expect(k.mlock(t, R, 4 * P)).toBe(0); }), 'getUserPages')).toEqual([]);
        expect(pfnsAt(k, t, 4)).toHaveLength(4);
      },
    },
  ],
  flushTlb: Object.values(FLUSH_PATHS),
  tlbMiss: [
    {
      path: 'a user access after the TLB was flushed (fork flushes the parent), before the walk',
      run(k, log) {
        const t = anonProcess(k);
        const mm = mmOf(t).id;
        forked(k, t);
        const calls = log.during(() => { expect(k.touch(t, R, 2 * P, false)).toBe(0); });
        expect(argsOf(calls, 'tlbMiss', 'userAccessFast')).toEqual([
          { mm, addr: R, write: false },
          { mm, addr: R + P, write: false },
        ]);
        expect(callers(calls, 'tlbMiss')).toEqual(['userAccessFast']);
        // a write to the now read-only (COW) page misses before and after its fault
        const write = log.during(() => { writeOk(k, t, R + 2 * P, 1); });
        expect(argsOf(write, 'tlbMiss').every((a) => a.addr === R + 2 * P && a.write === true)).toBe(true);
        expect(argsOf(write, 'tlbMiss').length).toBeGreaterThanOrEqual(2);
      },
    },
  ],
  ptepClearFlush: [
    {
      path: 'COW: do_wp_page',
      run(k, log) {
        const c = forked(k, anonProcess(k));
        const calls = log.during(() => { writeOk(k, c, R + P, 1); });
        expect(argsOf(calls, 'ptepClearFlush', 'doWpPage')).toEqual([{ mm: mmOf(c).id, addr: R + P, pte: tablesAt(k, mmOf(c), R)[0] }]);
      },
    },
    {
      path: 'mremap moving pages: move_ptes, each old PTE',
      run(k, log) {
        const t = anonProcess(k);
        const mm = mmOf(t);
        const [pte] = tablesAt(k, mm, R);
        const calls = log.during(() => { expect(k.mremap(t, R, 4 * P, 4 * P, MREMAP_MAYMOVE | MREMAP_FIXED, R + PMD_SIZE)).toBe(R + PMD_SIZE); });
        expect(argsOf(calls, 'ptepClearFlush', 'movePtes')).toEqual([0, 1, 2, 3].map((i) => ({ mm: mm.id, addr: R + i * P, pte })));
      },
    },
    {
      path: 'reclaim: try_to_unmap',
      build: RECLAIM,
      run(k, log) {
        const t = k.spawn();
        const calls = log.during(() => { reclaim(k, t); });
        const unmapped = argsOf(calls, 'ptepClearFlush', 'tryToUnmapOne');
        expect(unmapped.length).toBeGreaterThan(0);
        for (const a of unmapped) {
          expect(a.mm).toBe(mmOf(t).id);
          expect(a.addr).toBeGreaterThanOrEqual(PRESSURE);
        }
      },
    },
    {
      path: "remap_file_pages' zap_pte",
      run(k, log) {
        const { t } = fileProcess(k);
        const calls = log.during(() => { expect(k.remapFilePages(t, R, P, 5, MAP_NONBLOCK)).toBe(0); });
        expect(argsOf(calls, 'ptepClearFlush', 'zapPte')).toEqual([{ mm: mmOf(t).id, addr: R, pte: tablesAt(k, mmOf(t), R)[0] }]);
      },
    },
  ],
  ptepClearFlushYoung: [
    {
      path: 'reclaim: page_referenced and try_to_unmap_one',
      build: RECLAIM,
      run(k, log) {
        const t = k.spawn();
        const calls = callsOf(log.during(() => { reclaim(k, t); }), 'ptepClearFlushYoung');
        expect(new Set(calls.map((c) => c.from))).toEqual(new Set(['pageReferenced', 'tryToUnmapOne']));
        for (const { args } of calls) {
          expect(args.mm).toBe(mmOf(t).id);
          expect(args.addr).toBeGreaterThanOrEqual(PRESSURE);
        }
      },
    },
  ],
  tlbGather: [
    {
      path: 'munmap: begin, blockSize, per page removeTlbEntry and removePage, tableDone, per table removeTable, finish (which flushes)',
      run(k, log) {
        const t = k.spawn();
        mapAt(k, t, R, PMD_SIZE);
        expect(k.touch(t, R, 4 * P, true)).toBe(0);
        const mm = mmOf(t);
        const [pte, pmd, pud] = tablesAt(k, mm, R);
        const pfns = pfnsAt(k, t, 4);
        const calls = log.during(() => { expect(k.munmap(t, R, PMD_SIZE)).toBe(0); });
        expect(argsOf(calls, 'begin', 'unmapRegion')).toEqual([{ mm: mm.id, fullmm: false }]);
        expect(callers(calls, 'blockSize')).toEqual(['unmapVmas']);
        expect(argsOf(calls, 'removeTlbEntry', 'zapPtes')).toEqual(pfns.map((_, i) => ({ addr: R + i * P })));
        expect(argsOf(calls, 'removePage', 'zapPtes')).toEqual(pfns.map((pfn, i) => ({ pfn, addr: R + i * P, pte })));
        expect(callers(calls, 'tableDone')).toEqual(['zapPmdRange']);
        expect(argsOf(calls, 'removeTable', 'basePgtableFree')).toEqual([{ pfn: pte }, { pfn: pmd }, { pfn: pud }]);
        expect(argsOf(calls, 'finish', 'unmapRegion')).toEqual([{ mm: mm.id, fullmm: false }]);
        expect(argsOf(calls, 'flush', 'tlbFinishMmu')).toEqual([{ mm: mm.id }]);
        expect(calls.map((c) => c.op)).toEqual(expect.arrayContaining(GATHER_OPS));
        expect([calls[0]?.op, ...calls.slice(-2).map((c) => c.op)]).toEqual(['begin', 'finish', 'flush']);
      },
    },
    {
      path: 'exit: a full-mm gather',
      run(k, log) {
        const t = anonProcess(k);
        const mm = mmOf(t).id;
        const calls = log.during(() => { k.exit(t); });
        expect(argsOf(calls, 'begin', 'exitMmap')).toEqual([{ mm, fullmm: true }]);
        expect(argsOf(calls, 'removePage', 'zapPtes').map((a) => a.addr)).toEqual([0, 1, 2, 3].map((i) => R + i * P));
        expect(argsOf(calls, 'removeTable', 'basePgtableFree')).toHaveLength(3);
        expect(argsOf(calls, 'finish', 'exitMmap')).toEqual([{ mm, fullmm: true }]);
      },
    },
    {
      path: 'madvise(MADV_DONTNEED): zap_page_range gathers pages, no tables',
      run(k, log) {
        const t = anonProcess(k);
        const pfns = pfnsAt(k, t, 4);
        const [pte] = tablesAt(k, mmOf(t), R);
        const calls = log.during(() => { expect(k.madvise(t, R + P, 2 * P, MADV_DONTNEED)).toBe(0); });
        expect(callers(calls, 'begin')).toEqual(['zapPageRange']);
        expect(argsOf(calls, 'removePage', 'zapPtes')).toEqual([1, 2].map((i) => ({ pfn: pfns[i], addr: R + i * P, pte })));
        expect(callsOf(calls, 'removeTable')).toEqual([]);
        expect(callers(calls, 'finish')).toEqual(['zapPageRange']);
      },
    },
    {
      path: 'a full page vector: zap_pte_range flushes mid-walk (several CPUs, no fast mode)',
      run(k, log) {
        expect(k.cpus.length).toBeGreaterThan(1);
        const n = FREE_PTE_NR + 6;
        const t = anonProcess(k, n);
        const calls = log.during(() => { expect(k.munmap(t, R, n * P)).toBe(0); });
        expect(callsOf(calls, 'removePage')).toHaveLength(n);
        expect(callers(calls, 'flush')).toEqual(['zapPteRange', 'tlbFinishMmu']);
      },
    },
    {
      path: 'PREEMPT: unmap_vmas finishes and begins a gather at each ZAP_BLOCK_SIZE block',
      build: { config: { preempt: true } },
      run(k, log) {
        const t = anonProcess(k, 20);
        const calls = log.during(() => { expect(k.munmap(t, R, 20 * P)).toBe(0); });
        expect(callers(calls, 'begin')).toEqual(['unmapRegion', 'unmapVmas']);
        expect(callers(calls, 'finish')).toEqual(['unmapVmas', 'unmapRegion']);
        expect(callsOf(calls, 'blockSize').length).toBeGreaterThan(1);
        expect(callsOf(calls, 'removePage')).toHaveLength(20);
      },
    },
  ],
  rangeBegin: rangePaths('rangeEnd'),
  rangeEnd: rangePaths('rangeBegin'),
  exitMmapBegin: exitPaths('exitMmapUnmapped'),
  exitMmapUnmapped: exitPaths('exitMmapBegin'),
  vmaChange: Object.values(VMA_CHANGE_PATHS),
};

// ---- composition and invisibility -------------------------------------------

/** What each seam's wrappers must see in the figure scenarios: every operation it has. */
function opsOf(seam: SeamName): readonly string[] {
  if (seam === 'tlbGather') return GATHER_OPS;
  if (seam === 'specialVmaOps') return ['specialVmaOps', ...HUGETLB_OPS];
  return [seam];
}

/**
 * A small tour of the kernel that reaches every seam but the populate race:
 * anonymous memory (faults, fork, COW, reuse, mprotect, mremap, madvise,
 * direct I/O, ptrace, munmap, exit), a shared tmpfs file
 * (remap_file_pages, truncation), hugetlb (fault, fork, COW, mprotect,
 * get_user_pages, the refused mremap, munmap), device mappings
 * (remap_pfn_range, do_no_pfn) and reclaim.
 */
function tour(k: Kernel): void {
  const p = anonProcess(k, 8);
  expect(k.fault(p, R, true)).toBe(0);
  const c = forked(k, p);
  writeOk(k, c, R, 1);
  k.exit(c);
  writeOk(k, p, R + P, 2);
  expect(k.mprotect(p, R + 2 * P, 2 * P, PROT_READ)).toBe(0);
  expect(k.mremap(p, R + 4 * P, 4 * P, 8 * P, 0)).toBe(R + 4 * P);
  expect(k.mremap(p, R, 2 * P, 2 * P, MREMAP_MAYMOVE | MREMAP_FIXED, R + PMD_SIZE)).toBe(R + PMD_SIZE);
  expect(k.madvise(p, R + 4 * P, 2 * P, MADV_DONTNEED)).toBe(0);
  expect(k.directIo(p, R + 4 * P, 2, true)).toBe(2);
  expect(k.accessProcessVm(p, R + 6 * P, 0x7007)).toBe(0x7007);
  expect(k.munmap(p, R + 4 * P, 8 * P)).toBe(0);

  const f = k.shmemCreate('file', 8 * P);
  mapAt(k, p, R + PUD_SIZE, 8 * P, RW, MAP_SHARED, f);
  expect(k.touch(p, R + PUD_SIZE, 8 * P, true)).toBe(0);
  expect(k.remapFilePages(p, R + PUD_SIZE, P, 5, MAP_NONBLOCK)).toBe(0);
  expect(k.ftruncate(f, 2 * P)).toBe(0);

  const huge = R + 2 * PUD_SIZE;
  mapAt(k, p, huge, 2 * H, RW, MAP_PRIVATE, k.hugetlbfsCreate('huge'));
  writeOk(k, p, huge, 3);
  writeOk(k, p, huge + H, 4);
  const c2 = forked(k, p);
  writeOk(k, c2, huge, 5);
  expect(k.mprotect(p, huge, 2 * H, PROT_READ)).toBe(0);
  expect(k.directIo(p, huge, 1, false)).toBe(1);
  expect(k.mremap(p, huge, 2 * H, 4 * H, MREMAP_MAYMOVE)).toBe(-EINVAL);
  expect(k.munmap(c2, huge, 2 * H)).toBe(0);

  const dev = R + 3 * PUD_SIZE;
  mapAt(k, p, dev, 4 * P, RW, MAP_SHARED, k.deviceCreate('fb', 4 * P, 'pfnmap'));
  mapAt(k, p, dev + PMD_SIZE, 4 * P, RW, MAP_SHARED, k.deviceCreate('spu', 4 * P, 'nopfn'));
  expect(k.touch(p, dev, 4 * P, true)).toBe(0);
  expect(k.touch(p, dev + PMD_SIZE, 4 * P, true)).toBe(0);
  expect(k.munmap(p, dev, PMD_SIZE + 4 * P)).toBe(0);

  reclaim(k, p);
}

let raceSeedFound = 0;

/** The first seed whose interleaving loses the populate race (searched once, with a pgtableDiscard wrapper). */
function raceSeed(): number {
  if (raceSeedFound !== 0) return raceSeedFound;
  for (let seed = 1; seed <= 64; seed++) {
    const log = new SeamLog();
    const k = buildKernel({ ...BASE, ...raceBuild(seed), features: [wrapFeature('pgtableDiscard', log)] });
    populateRace(k);
    shutdown(k);
    if (log.calls.length > 0) return (raceSeedFound = seed);
  }
  throw new Error('no populate race in 64 seeds');
}

/** The scenarios whose figures must not change: the tour, and the populate race with a seed that loses it. */
const FIGURE_SCENARIOS: readonly { readonly build: () => BuildOptions; readonly drive: (k: Kernel) => void }[] = [
  { build: () => RECLAIM, drive: tour },
  { build: () => raceBuild(raceSeed()), drive: (k) => populateRace(k) },
];

/** Run the figure scenarios with `features`, each to its end (every process gone, `finish()`, checks clean). */
function runFigureScenarios(features: readonly Feature[]): { kernels: Kernel[]; figures: string[] } {
  const kernels = FIGURE_SCENARIOS.map((s) => {
    const k = buildKernel({ ...BASE, ...s.build(), features });
    s.drive(k);
    expectNoViolations(k);
    shutdown(k);
    return k;
  });
  // the kernel's figures; the chain of installed seams (`seams`) names the wrappers and is left out
  return { kernels, figures: kernels.map((k) => JSON.stringify({ ...k.metrics(), seams: undefined })) };
}

let baseline: string[] | null = null;

/** The figures of the scenarios without any feature (computed once). */
function baselineFigures(): string[] {
  baseline ??= runFigureScenarios([]).figures;
  return baseline;
}

/** Every path of one seam: build the kernels with the wrappers, drive, then end each one cleanly. */
function runPath(seam: SeamName, c: PathCase): void {
  const kernels: Kernel[] = [];
  const start: Start = (opts = {}) => {
    const log = new SeamLog();
    const features = [...[seam, ...(c.alsoWrap ?? [])].map((s) => wrapFeature(s, log)), ...(c.withFeatures ?? [])];
    const k = buildKernel({ ...BASE, ...c.build, ...opts, features });
    kernels.push(k);
    return { k, log };
  };
  const { k, log } = start();
  c.run(k, log, start);
  for (const kk of kernels) {
    expectNoViolations(kk);
    shutdown(kk);
  }
}

// ---- the tests ----------------------------------------------------------------

describe('coverage of the seam tests', () => {
  it('every seam in SEAM_NAMES has a test wrapper and paths (a new seam must add both)', () => {
    const seams = [...SEAM_NAMES].sort();
    expect([...WRAPPED_SEAMS].sort()).toEqual(seams);
    expect(Object.keys(PATHS).sort()).toEqual(seams);
    for (const seam of SEAM_NAMES) expect(PATHS[seam].length, seam).toBeGreaterThan(0);
  });

  it("the wrappers know every operation of the gather and of hugetlb's special-VMA operations", () => {
    expect(Object.keys(baseTlbGather).sort()).toEqual([...GATHER_OPS].sort());
    expect(
      Object.keys(hugetlbVmaOps)
        .filter((m) => m !== 'name')
        .map((m) => `hugetlb.${m}`)
        .sort(),
    ).toEqual([...HUGETLB_OPS].sort());
  });
});

describe.each(SEAM_NAMES)('seam %s', (seam) => {
  for (const c of PATHS[seam]) {
    it(`is reached by ${c.path}`, () => {
      runPath(seam, c);
    });
  }

  it.each([
    ['A then B', false],
    ['B then A', true],
  ])('composes: two wrappers installed %s, the last installed is outer, both run on every call', (_order, swap) => {
    const log = new SeamLog();
    const a = wrapFeature(seam, log, `test-wrap-${kebab(seam)}-a`);
    const b = wrapFeature(seam, log, `test-wrap-${kebab(seam)}-b`);
    const [first, second] = swap ? [b, a] : [a, b];
    const { kernels, figures } = runFigureScenarios([first, second]);
    for (const k of kernels) expect(k.seamTable.owners).toEqual({ [seam]: [first.name, second.name] });
    expect(new Set(log.calls.map((c) => c.op))).toEqual(new Set(opsOf(seam)));
    for (const op of opsOf(seam)) {
      const by = callsOf(log.calls, op).map((c) => c.by);
      expect(by.length, op).toBeGreaterThan(0);
      expect(by, op).toEqual(by.map((_, i) => (i % 2 === 0 ? second.name : first.name)));
    }
    // two wrappers that only defer are as invisible as one
    expect(figures).toEqual(baselineFigures());
  });

  it('is invisible when the wrapper only defers: the same figures as without it', () => {
    const log = new SeamLog();
    const { figures } = runFigureScenarios([wrapFeature(seam, log)]);
    expect(new Set(log.calls.map((c) => c.op))).toEqual(new Set(opsOf(seam)));
    expect(figures).toEqual(baselineFigures());
  });
});

it('with every seam wrapped at once, the figures are unchanged', () => {
  const log = new SeamLog();
  const { kernels, figures } = runFigureScenarios(SEAM_NAMES.map((s) => wrapFeature(s, log)));
  expect(Object.keys(kernels[0]!.seamTable.owners).sort()).toEqual([...SEAM_NAMES].sort());
  expect(new Set(log.calls.map((c) => c.seam))).toEqual(new Set(SEAM_NAMES));
  expect(figures).toEqual(baselineFigures());
});
