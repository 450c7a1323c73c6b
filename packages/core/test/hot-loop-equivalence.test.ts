/**
 * The hot loops' fast paths (static keys on the baseline seams: the zap's
 * gather on locals and its free in runs, the sequential zap's blocks,
 * tables and flushes without generators, fork's and get_user_pages'
 * `vm_normal_page` skipped, page-table allocation without a generator)
 * must give exactly what the general paths give. A test-only feature wraps those seams with wrappers
 * that change nothing but defeat every static key (a wrapped gather is not
 * the baseline's, a wrapped `vmNormalPage` is called, `pgtableAlloc`
 * is the baseline written as a generator over `alloc_page`, a wrapped
 * `getUserPages` makes `getUserPagesInto` call the seam and copy its
 * answer, and a wrapped `doFault` or `anonFault` leaves no
 * `update_mmu_cache` note, so a faulting access's retry walks the tables
 * again, and a wrapped `tlbMiss` makes every access of a touch walk all
 * levels instead of following the walk of the page before, one page at a
 * time instead of a PTE table's pages as one run, and a read's faults on a
 * tmpfs file's cached pages one by one through `handle_mm_fault` instead
 * of as a run); each primitive then
 * must end with bit-identical clocks, counters and lock figures, frame
 * state (LRU links included), free-list order, page tables and TLBs, and
 * get_user_pages with the same pfns.
 */
import { describe, expect, it } from 'vitest';
import { sharePte } from './share-pte-feature.js';
import { mapAt } from './helpers.js';
import {
  allocPage,
  buildKernel,
  buildMetrics,
  type BuildOptions,
  defineFeature,
  initTablePage,
  type Kernel,
  MADV_DONTNEED,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_PRIVATE,
  MAP_SHARED,
  PG_table,
  preparePrimitive,
  type PrimitiveName,
  PROT_READ,
  PROT_WRITE,
  takeSnapshot,
} from '../src/index.js';

const generalPaths = defineFeature({
  name: 'general-paths',
  summary: 'Test fixture: wrap the hot loops’ seams without changing them, so every fast path is off',
  thread: { subject: '(test fixture for the hot-loop fast paths)', author: 'mmlab tests', date: '2026-11' },
  options: {},
  install(k) {
    k.seamTable.wrap('general-paths', 'tlbGather', (prev) => ({ ...prev }));
    k.seamTable.wrap('general-paths', 'vmNormalPage', (prev) => (kk, vma, addr, flags, pfn) => prev(kk, vma, addr, flags, pfn));
    // a wrapped __do_fault or do_anonymous_page leaves no update_mmu_cache note: the retried access walks again
    k.seamTable.wrap('general-paths', 'doFault', (prev) => (kk, mm, vma, address, pte, pgoff, write, origFlags, origValue) => prev(kk, mm, vma, address, pte, pgoff, write, origFlags, origValue));
    k.seamTable.wrap('general-paths', 'anonFault', (prev) => (kk, mm, vma, address, pte) => prev(kk, mm, vma, address, pte));
    // the baseline as a generator through alloc_page's full path (what it was before it answered at once)
    k.seamTable.replace('general-paths', 'pgtableAlloc', function* (kk, mm, level) {
      const pfn = yield* allocPage(kk);
      if (pfn !== 0) initTablePage(kk, mm, pfn, level);
      return pfn;
    });
    k.seamTable.wrap('general-paths', 'getUserPages', (prev) => (kk, mm, start, nrPages, write, force) => prev(kk, mm, start, nrPages, write, force));
    // a wrapped tlbMiss: each access of a touch walks every level (userAccessPage never follows)
    k.seamTable.wrap('general-paths', 'tlbMiss', (prev) => (kk, mm, address, write) => prev(kk, mm, address, write));
  },
});

/** Test fixture: only a wrapped `tlbMiss`, so that every access of a touch walks all levels (with features that replace seams `general-paths` wraps). */
const fullWalks = defineFeature({
  name: 'full-walks',
  summary: 'Test fixture: wrap tlbMiss without changing it, so each access of a touch walks every level',
  thread: { subject: '(test fixture for the hot-loop fast paths)', author: 'mmlab tests', date: '2026-11' },
  options: {},
  install(k) {
    k.seamTable.wrap('full-walks', 'tlbMiss', (prev) => (kk, mm, address, write) => prev(kk, mm, address, write));
  },
});

/** Everything a primitive leaves behind that a report or the checker could read, raw (no rounding). */
function outcome(k: Kernel): unknown {
  const m = buildMetrics(k, takeSnapshot(k));
  // the seam chains differ by construction
  delete m.seams;
  const cpus = k.cpus.map((c) => [c.clock, c.busyNs, c.maxNonpreemptNs, c.npStart, c.preemptCount]);
  const p = k.pages;
  const frames = [p.count, p.mapcount, p.flags, p.lineCpu, p.pinned, p.mapping, p.token, p.gen, p.lruPrev, p.lruNext].map((a) => Array.from(a));
  // every table's entries (the accessed and dirty bits the MMU set) and every TLB entry
  const tables: number[][] = [];
  for (let pfn = 0; pfn < p.nrFrames; pfn++) {
    if ((p.flags[pfn]! & PG_table) === 0) continue;
    const base = k.tables.base(pfn);
    tables.push([pfn, ...k.tables.arr(pfn).subarray(base, base + 1024)]);
  }
  return { m, cpus, now: k.now, flush: k.tlbFlushNs, frames, lru: [...k.lru.nr], nrFree: k.mem.nrFree, tables, tlbs: tlbsOf(k) };
}

/** Every TLB entry of every CPU. */
function tlbsOf(k: Kernel): number[][][] {
  return k.cpus.map(({ tlb }) => [tlb.vpn, tlb.mmId, tlb.pfn, tlb.perm, tlb.gen].map((a) => Array.from(a)));
}

/** The order the allocator hands out its free frames (empties it: call last). */
function freeOrder(k: Kernel): number[] {
  const order: number[] = [];
  for (let pfn = k.mem.allocPage(); pfn !== 0; pfn = k.mem.allocPage()) order.push(pfn);
  return order;
}

function run(name: PrimitiveName, build: BuildOptions): { after: unknown; released: unknown; free: number[] } {
  const p = preparePrimitive(name, 1500, { memBytes: 64 * 2 ** 20, ...build });
  p.run();
  const after = outcome(p.kernel);
  p.units();
  const released = outcome(p.kernel);
  return { after, released, free: freeOrder(p.kernel) };
}

const BUILDS: Record<string, BuildOptions> = {
  default: {},
  preempt: { config: { preempt: true } },
  'one cpu': { cpus: 1 },
};

/**
 * An munmap of pages faulted on three CPUs, whose `struct page` lines a
 * child's exit on the other socket and pins from another CPU of this one
 * moved (the zap takes them back), with a hole of empty PTEs and a tmpfs
 * and an XIP file mapping in the same range (file pages, which the zap's
 * quick loop passes their PTEs' dirty and young bits as the general loop
 * does).
 */
function munmapMixed(build: BuildOptions): { after: unknown; free: number[] } {
  const k = buildKernel({ check: false, memBytes: 64 * 2 ** 20, xipBytes: 2 ** 20, ...build });
  const t = k.spawn();
  // cpus 1 to 4 of the x86-64 profile's two sockets of four
  const threads = [k.clone(t), k.clone(t), k.clone(t), k.clone(t)];
  const P = 4096;
  // an XIP file's pages are never PG_dirty: a written PTE's dirty bit reaches them only through the zap
  const xip = k.xipFileCreate('xip', 40 * P);
  const x = k.mmap(t, 0, 40 * P, PROT_READ | PROT_WRITE, MAP_SHARED, xip, 0);
  expect(k.touch(t, x, 40 * P, false)).toBe(0);
  expect(k.touch(t, x, 20 * P, true)).toBe(0);
  const file = k.shmemCreate('mixed', 300 * P);
  const f = k.mmap(t, 0, 300 * P, PROT_READ | PROT_WRITE, MAP_SHARED, file, 0);
  const a = k.mmap(t, 0, 1300 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  // read first: the write then sets the PTEs' dirty bits through clean TLB entries, for the zap to pass on to PG_dirty
  expect(k.touch(t, f, 300 * P, false)).toBe(0);
  expect(k.touch(t, f, 300 * P, true)).toBe(0);
  expect(k.touch(t, a, 500 * P, true)).toBe(0);
  expect(k.touch(threads[0]!, a + 500 * P, 400 * P, true)).toBe(0);
  expect(k.touch(threads[3]!, a + 900 * P, 300 * P, true)).toBe(0);
  expect(k.madvise(t, a + 100 * P, 50 * P, MADV_DONTNEED)).toBe(0);
  // forked and exited on cpu 5 (the other socket), pinned on cpu 1
  const child = k.fork(threads[3]!);
  if (typeof child === 'number') throw new Error(`fork: ${child}`);
  k.exit(child);
  expect(k.getUserPages(threads[0]!, a + 600 * P, 100, false)).toHaveLength(100);
  const lo = Math.min(a, f, x);
  const hi = Math.max(a + 1300 * P, f + 300 * P, x + 40 * P);
  expect(k.munmap(t, lo, hi - lo)).toBe(0);
  return { after: outcome(k), free: freeOrder(k) };
}

/**
 * An munmap of a sparse mapping: two pages in each of 600 PTE tables and
 * no table in every seventh 2 MiB, so that `free_pgtables` fills the
 * gather's vector with table pages (and flushes it there) and the walk
 * passes empty PMD entries, then a tmpfs file's pages in the same range;
 * with `child`, a forked child still maps the pages, anonymous and the
 * file's (the zap leaves them mapped, the free keeps them).
 */
function munmapSparse(build: BuildOptions, child: boolean): { after: unknown; free: number[] } {
  const k = buildKernel({ check: false, memBytes: 64 * 2 ** 20, ...build });
  const t = k.spawn();
  const P = 4096;
  const span = 2 * 2 ** 20;
  const n = 700;
  const a = k.mmap(t, 0, n * span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  expect(a).toBeGreaterThan(0);
  for (let i = 0; i < n; i++) {
    if (i % 7 !== 3) expect(k.touch(t, a + i * span + (i % 5) * P, 2 * P, true)).toBe(0);
  }
  const file = k.shmemCreate('sparse', 700 * P);
  const f = k.mmap(t, a + n * span, 700 * P, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, file, 0);
  expect(f).toBe(a + n * span);
  expect(k.touch(t, f, 700 * P, true)).toBe(0);
  if (child) {
    const c = k.fork(t);
    if (typeof c === 'number') throw new Error(`fork: ${c}`);
    // fork copies no PTEs of a shared file mapping: the child maps the file's pages by faulting
    expect(k.touch(c, f, 700 * P, false)).toBe(0);
  }
  expect(k.munmap(t, a, n * span + 700 * P)).toBe(0);
  return { after: outcome(k), free: freeOrder(k) };
}

describe('hot-loop fast paths give what the general paths give', () => {
  for (const [label, build] of Object.entries(BUILDS)) {
    it(`munmap of pages from several CPUs, with holes and a file mapping, ${label}`, () => {
      const fast = munmapMixed(build);
      const general = munmapMixed({ ...build, features: [generalPaths] });
      expect(general).toEqual(fast);
    });
    for (const child of [false, true]) {
      it(`munmap of a sparse mapping whose tables fill the gather${child ? ', a child mapping its pages' : ''}, ${label}`, () => {
        const fast = munmapSparse(build, child);
        const general = munmapSparse({ ...build, features: [generalPaths] }, child);
        expect(general).toEqual(fast);
      });
    }
  }

  for (const name of ['fork_pte', 'munmap_page', 'gup_fast_page', 'anon_fault', 'shared_file_fault'] as const) {
    for (const [label, build] of Object.entries(BUILDS)) {
      it(`${name}, ${label}`, () => {
        const fast = run(name, build);
        const general = run(name, { ...build, features: [generalPaths] });
        expect(general).toEqual(fast);
      });
    }
  }
});

/**
 * get_user_pages through both APIs (a new array, the caller's typed array)
 * over a written and a never-touched part, so the walk both reads PTE
 * tables and faults: the pfns and everything after the pins and after
 * their release.
 */
function gup(build: BuildOptions, into: boolean, write: boolean): unknown {
  const k = buildKernel({ check: false, memBytes: 64 * 2 ** 20, ...build });
  const t = k.spawn();
  const pages = 700;
  const addr = k.mmap(t, 0, pages * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  if (addr < 0) throw new Error(`mmap: ${addr}`);
  k.touch(t, addr, 600 * 4096, true);
  // 10 pages past the mapping's end: the walk stops there
  let pfns: number[];
  if (into) {
    const out = new Int32Array(pages + 10);
    const n = k.getUserPagesInto(t, addr, out, write);
    pfns = Array.from(out.subarray(0, Math.max(n, 0)));
  } else {
    const r = k.getUserPages(t, addr, pages + 10, write);
    pfns = typeof r === 'number' ? [] : r;
  }
  const after = outcome(k);
  k.putUserPages(pfns);
  return { pfns, after, released: outcome(k) };
}

describe('get_user_pages into a new array and into the caller’s array give the same', () => {
  for (const [label, build] of Object.entries(BUILDS)) {
    for (const write of [false, true]) {
      it(`${label}, ${write ? 'write' : 'read'}`, () => {
        const general = gup({ ...build, features: [generalPaths] }, true, write);
        expect((general as { pfns: number[] }).pfns).toHaveLength(700);
        expect(gup(build, true, write)).toEqual(general);
        expect(gup(build, false, write)).toEqual(general);
        expect(gup({ ...build, features: [generalPaths] }, false, write)).toEqual(general);
      });
    }
  }
});

/**
 * Processes mapping one tmpfs file (shm-procs) and touching it, with the
 * test-only shared-PTE feature or without: a first process faults in
 * parts of the file only (so later runs of pages go from walked pages to
 * faulting ones and back), mappings 2 MiB-aligned (shareable) and one not
 * (its runs cross PTE tables mid-touch), reads and writes (through clean
 * TLB entries as well), a hole zapped and touched again, and touches that
 * start and end inside pages, and two processes mapping the file at the
 * same address. Returns every touch's answer and the
 * outcome.
 */
function shmProcs(build: BuildOptions, features: BuildOptions['features']): unknown {
  const k = buildKernel({ check: false, memBytes: 64 * 2 ** 20, ...build, features });
  const P = 4096;
  const MiB = 2 ** 20;
  const R = 2 ** 44;
  const size = 5 * MiB;
  const file = k.shmemCreate('shm-procs', size);
  const at = [R, R + 2 ** 30, R + 2 ** 31 + 37 * P, R + 2 ** 32];
  const tasks = at.map((addr) => {
    const t = k.spawn();
    mapAt(k, t, addr, size, PROT_READ | PROT_WRITE, MAP_SHARED, file);
    return t;
  });
  const [t0, t1, t2, t3] = tasks as [(typeof tasks)[0], (typeof tasks)[0], (typeof tasks)[0], (typeof tasks)[0]];
  const t4 = k.spawn();
  mapAt(k, t4, at[0]!, size, PROT_READ | PROT_WRITE, MAP_SHARED, file);
  const answers = [
    k.touch(t0, at[0]!, 100 * P, true),
    k.touch(t0, at[0]! + 300 * P, 400 * P, false),
    k.touch(t0, at[0]! + 1000 * P + 5, 3 * P, true),
    k.touch(t1, at[1]!, size, false),
    k.touch(t2, at[2]!, size, false),
    k.touch(t2, at[2]!, size, true),
    k.touch(t1, at[1]! + 700 * P, 300 * P, true),
    k.touch(t1, at[1]!, size, true),
    k.madvise(t1, at[1]! + 600 * P, 50 * P, MADV_DONTNEED),
    k.touch(t1, at[1]! + 590 * P + 100, 80 * P, false),
    k.touch(t3, at[3]!, size, false),
    k.touch(t0, at[0]!, size, false),
    k.touch(t0, at[0]! + size - 200 * P, 200 * P, false),
    // a process mapping at t0's address: its access of the first page hits its TLB, t0's walked last there
    k.touch(t4, at[0]!, P, false),
    k.touch(t0, at[0]!, P, false),
    k.touch(t4, at[0]!, 3 * P, false),
  ];
  return { answers, after: outcome(k), free: freeOrder(k) };
}

describe('touches that follow the last walk give what full walks give', () => {
  for (const [label, build] of Object.entries(BUILDS)) {
    for (const share of [false, true]) {
      it(`processes mapping one tmpfs file, ${share ? 'shared PTE tables' : 'own tables'}, ${label}`, () => {
        const base = share ? [sharePte] : [];
        const fast = shmProcs(build, base);
        const general = shmProcs(build, [...base, fullWalks]);
        expect((fast as { answers: number[] }).answers.every((r) => r === 0)).toBe(true);
        expect(general).toEqual(fast);
      });
    }
    // the read faults' runs (userFaultRun) record each fault's trace slice as the faults one by one do
    it(`processes mapping one tmpfs file, traced, ${label}`, () => {
      const traced = { ...build, traceEvents: 1_000_000 };
      const fast = shmProcsTraced(traced, []);
      const general = shmProcsTraced(traced, [fullWalks]);
      expect(fast.events).toBeGreaterThan(4000);
      expect(general).toEqual(fast);
    });
  }
});

/** {@link shmProcs} with a trace recorded: its outcome, and the trace's events. */
function shmProcsTraced(build: BuildOptions, features: BuildOptions['features']): { run: unknown; events: number; trace: unknown } {
  let kernel: Kernel | null = null;
  const capture = defineFeature({
    name: 'capture-kernel',
    summary: 'Test fixture: keeps the kernel it is installed on',
    thread: { subject: '(test fixture for the hot-loop fast paths)', author: 'mmlab tests', date: '2026-11' },
    options: {},
    install(k) {
      kernel = k;
    },
  });
  const run = shmProcs(build, [capture, ...(features ?? [])]);
  const k = kernel as Kernel | null;
  if (k === null || k.trace === null) throw new Error('no trace recorded');
  const trace = k.trace.toJSON(k.cpus.length);
  return { run, events: trace.traceEvents.length, trace };
}

/** {@link lazyFlush}: whether the zap's gather flush is skipped too (around one madvise). */
let lazyGather = false;

/**
 * Test fixture: mprotect leaves the TLBs as they are, so a write finds a
 * read-only entry over a PTE mprotect made writable (the entry the access
 * drops); and with {@link lazyGather} a zap leaves them too, so an access
 * hits an entry to a freed frame (a stale entry, reported).
 */
const lazyFlush = defineFeature({
  name: 'lazy-flush',
  summary: 'Test fixture: mprotect (and a zap, when asked) does not flush TLBs, so entries outlive the PTEs they were filled from',
  thread: { subject: '(test fixture for the hot-loop fast paths)', author: 'mmlab tests', date: '2026-11' },
  options: {},
  install(k) {
    k.seamTable.wrap('lazy-flush', 'flushTlb', (prev) => (kk, kind, mm, start, end, reason) => (reason === 'mprotect' || (lazyGather && reason === 'gather') ? false : prev(kk, kind, mm, start, end, reason)));
  },
});

/**
 * Touches whose pages after the first of a PTE table go as one run
 * (`userAccessRun`): runs that miss on every page and evict across every
 * set (more pages than TLB entries), runs that start with some of their
 * pages still in the TLB (a touch overlapping the one before), runs that
 * end in a fault (pages never faulted in, a hole with the page after it
 * present, a write through read-only PTEs), writes through clean entries,
 * writes through read-only entries over PTEs made writable (mprotect
 * without its flush), hits through stale entries (a zap without its
 * flush, the pages faulted in again by get_user_pages), a run whose first
 * page only is in the TLB, a run longer than the TLB into a flushed one,
 * runs over frames freed and allocated again,
 * runs that start and end inside a table and inside pages, threads on
 * other CPUs and processes switching mms, with PTE tables shared or each
 * process's own. Returns every answer, the TLBs after the clean entries
 * were written through and after the run into a flushed TLB, the
 * violations and the outcome.
 */
function touchRuns(build: BuildOptions, features: BuildOptions['features']): unknown {
  const k = buildKernel({ check: false, memBytes: 64 * 2 ** 20, ...build, features: [lazyFlush, ...(features ?? [])] });
  const P = 4096;
  const MiB = 2 ** 20;
  const R = 2 ** 44;
  const size = 4 * MiB;
  const file = k.shmemCreate('runs', size);
  const t = k.spawn();
  const thread = k.clone(t);
  const u = k.spawn();
  const T = R;
  const U = R + 2 ** 30;
  const V = R + 2 ** 31;
  const W = R + 2 ** 32;
  mapAt(k, t, T, size, PROT_READ | PROT_WRITE, MAP_SHARED, file);
  mapAt(k, u, U, size, PROT_READ | PROT_WRITE, MAP_SHARED, file);
  // read-only until made writable again without a flush
  mapAt(k, u, V, MiB, PROT_READ, MAP_SHARED, file, MiB);
  mapAt(k, t, W, 2 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE, file);
  const anon = k.mmap(t, 0, 2 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  const stale = k.mmap(t, 0, 64 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  if (anon < 0 || stale < 0) throw new Error(`mmap: ${anon}, ${stale}`);
  const answers = [
    k.touch(u, U, size, false),
    k.touch(t, T, 300 * P, false),
    // pages 44 to 299 still in the TLB, then faults from 300 on (own tables) or walks (shared)
    k.touch(t, T + 100 * P + 7, 600 * P, false),
    // every page present: misses on every page, evicting across every set
    k.touch(u, U, size, false),
    // clean entries (pages 768 to 1023 still in the TLB) hit
    k.touch(u, U + 780 * P, 200 * P, true),
  ];
  // the entries the writes made dirty, before later misses evict them
  const probe = tlbsOf(k);
  answers.push(
    // misses that evict the entries the next pages would hit (round-robin)
    k.touch(u, U + 300 * P, 300 * P, true),
    // a run that stops at a hole, the page after it present
    k.madvise(u, U + 10 * P, P, MADV_DONTNEED),
    k.touch(u, U, 20 * P, false),
    // a read that goes on into the next PTE table and stops at its first page, a hole
    k.madvise(u, U + 512 * P, P, MADV_DONTNEED),
    k.touch(u, U + 30 * P, 600 * P, false),
    // and a few pages into it
    k.madvise(t, T + 517 * P, P, MADV_DONTNEED),
    k.touch(t, T + 300 * P, 400 * P, false),
    k.touch(thread, T + 10 * P, 200 * P, true),
    k.touch(t, T, 400 * P, true),
    k.touch(u, V, MiB, false),
    k.mprotect(u, V, MiB, PROT_READ | PROT_WRITE),
    // read-only entries over writable PTEs: dropped, walked and filled again
    k.touch(u, V + 20 * P, 200 * P, true),
    // a private file mapping read, then written: read-only PTEs, each write faults (COW)
    k.touch(t, W, 300 * P, false),
    k.touch(t, W + 100 * P, 100 * P, true),
    // faults, then a run through writable PTEs that stops at the read-only ones
    k.touch(t, W, 300 * P, true),
    k.touch(thread, anon, 2 * MiB, true),
    k.touch(t, anon + 50 * P, 460 * P, true),
    k.touch(u, U + size - 3 * P, 3 * P, true),
    k.touch(t, T + size - 700 * P, 700 * P, false),
    // only the run's first page in the TLB, the highest filled since the TLB was flushed (with one CPU, u's touch switches mm)
    k.touch(u, U, P, false),
    k.touch(t, T + 601 * P, P, false),
    k.touch(t, T + 600 * P, 10 * P, false),
    // with one CPU, a run of more pages than TLB entries into a TLB just flushed (the switch to u)
    k.touch(t, T, P, false),
    k.touch(u, U + 100 * P, 400 * P, false)
  );
  // where those fills went, before later ones overwrite them
  const probeFlushed = tlbsOf(k);
  answers.push(
    // entries to frames a zap then frees without its flush
    k.touch(t, stale + P, 50 * P, true)
  );
  lazyGather = true;
  answers.push(k.madvise(t, stale + P, 50 * P, MADV_DONTNEED));
  lazyGather = false;
  // get_user_pages sets the PTEs again; the touch's first page misses, the rest (a run) hits the stale entries
  const pins = k.getUserPages(t, stale, 51, true);
  if (typeof pins === 'number') throw new Error(`get_user_pages: ${pins}`);
  answers.push(k.touch(t, stale, 51 * P, false));
  k.putUserPages(pins);
  // frames freed and allocated again (generation above 0), read in runs that fill a full TLB
  answers.push(k.munmap(t, anon, 2 * MiB));
  const again = k.mmap(t, 0, 2 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  answers.push(k.touch(t, again, 2 * MiB, true), k.touch(t, T, size, false), k.touch(t, again, 2 * MiB, false));
  return { answers, probe, probeFlushed, violations: k.invariants.violations, after: outcome(k), free: freeOrder(k) };
}

describe('touches whose pages go as runs give what page-by-page accesses give', () => {
  for (const [label, build] of Object.entries(BUILDS)) {
    for (const share of [false, true]) {
      it(`${share ? 'shared PTE tables' : 'own tables'}, ${label}`, () => {
        const base = share ? [sharePte] : [];
        const fast = touchRuns(build, base);
        const general = touchRuns(build, [...base, fullWalks]);
        expect((fast as { answers: number[] }).answers.every((r) => r === 0)).toBe(true);
        expect((fast as { violations: unknown[] }).violations.length).toBeGreaterThan(0);
        expect(general).toEqual(fast);
      });
    }
  }
});
