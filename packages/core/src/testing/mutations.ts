/**
 * Test-only mutations of the kernel and the race scenarios that expose them.
 *
 * TEST-ONLY: nothing here belongs in a simulation. Each mutation is a
 * feature that removes one guard of the baseline kernel on purpose, so that
 * a test can show the explore mode finding the race the guard prevents (and
 * finding nothing with the guard in place):
 *
 * - {@link freeBeforeFlush} (`mutation-free-before-flush`): the TLB gather
 *   frees the gathered pages before it flushes the TLB. Another CPU that
 *   still holds a TLB entry for a freed frame can use it between the free
 *   and the shootdown IPI; the `tlb` check of the user access reports it.
 * - {@link anonNoPtl} (`mutation-anon-no-ptl`): `do_anonymous_page()`
 *   without the PTE lock and without the `pte_none` re-check. Two threads
 *   faulting the same page both install one: the second PTE overwrites the
 *   first, whose page leaks with its mapcount, and RSS counts two pages for
 *   one PTE.
 * - {@link fileNoPtl} (`mutation-file-no-ptl`): `__do_fault()` installs its
 *   PTE without the PTE lock and without the `pte_same` re-check. Two
 *   threads faulting the same file page both install it: mapcount and
 *   refcount count two mappings for one PTE; a truncate that zapped the PTE
 *   meanwhile finds the page mapped again beyond the end of the file.
 *
 * {@link runScenario} and {@link search} drive the race of each mutation
 * in explore mode.
 * @module
 */
import {
  _PAGE_DIRTY,
  _PAGE_RW,
  allocPage,
  allocPageFast,
  addRss,
  awaitPath,
  anonVmaPrepare,
  type BuildOptions,
  buildKernel,
  defineFeature,
  type Feature,
  freePageAndSwapCache,
  tlbFlush,
  type Kernel,
  type KGen,
  lruCacheAdd,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_PRIVATE,
  MAP_SHARED,
  MIGHT_SLEEP,
  type MmStruct,
  type MmuGather,
  pageAddNewAnonRmap,
  pageAddFileRmap,
  putPage,
  PAGE_SIZE,
  PROT_READ,
  PROT_WRITE,
  pteIndex,
  SIGSEGV,
  type Task,
  type ThreadRef,
  type Vma,
  VM_FAULT_MINOR,
  VM_FAULT_ERROR,
  VM_FAULT_OOM,
  VM_SHARED,
  VM_WRITE,
  type Violation,
} from '../index.js';
import { sysFtruncate } from '../kernel/syscalls.js';

/** Where a test-only mutation "comes from" (no real mailing-list thread). */
const TEST_ONLY_THREAD: ThreadRef = { subject: 'test-only mutation', author: 'mmlab tests', date: '2008-01' };

const FREE_BEFORE_FLUSH = 'mutation-free-before-flush';
const ANON_NO_PTL = 'mutation-anon-no-ptl';
const FILE_NO_PTL = 'mutation-file-no-ptl';

/**
 * `tlb_flush_mmu()` with its two steps swapped: free the gathered pages,
 * then flush the TLB (the baseline flushes first).
 */
function* freeThenFlush(k: Kernel, tlb: MmuGather): KGen<void> {
  if (!tlb.needFlush) return;
  tlb.needFlush = false;
  if (!tlb.fast) {
    const pages = tlb.pages;
    for (let i = 0; i < tlb.nr; i++) freePageAndSwapCache(k, pages[i]!);
    tlb.nr = 0;
  }
  // the window: the frames are free, other CPUs' TLBs still map them
  yield* tlbFlush(k, tlb);
}

/**
 * Test-only mutation `mutation-free-before-flush`: the `tlbGather` seam's
 * `flush` frees the gathered pages before flushing the TLB (free → flush
 * instead of flush → free); `finish` flushes through it. The other gather
 * operations are the ones the kernel had.
 */
export const freeBeforeFlush: Feature = defineFeature({
  name: FREE_BEFORE_FLUSH,
  summary: 'test-only: tlb_flush_mmu frees the gathered pages before flushing the TLB',
  thread: TEST_ONLY_THREAD,
  options: {},
  install(k) {
    k.seamTable.wrap(FREE_BEFORE_FLUSH, 'tlbGather', (prev) => ({ ...prev, flush: freeThenFlush }));
  },
});

/**
 * `do_anonymous_page()` as the baseline has it, less the PTE lock and the
 * `pte_none` re-check after the allocation (which may sleep).
 */
function* anonFaultUnlocked(k: Kernel, mm: MmStruct, vma: Vma, address: number, pte: number): KGen<number> {
  if (vma.anonVma === null) yield* anonVmaPrepare(k, vma);
  if (k.interleaving) yield MIGHT_SLEEP;
  let pfn = allocPageFast(k);
  if (pfn === 0) pfn = yield* allocPage(k);
  if (pfn === 0) return VM_FAULT_OOM;
  k.charge(k.costs.clearPage + k.costs.anonFaultRest);
  k.pages.token[pfn] = 0;
  const a = k.tables.arr(pte);
  const b = k.tables.base(pte) + pteIndex(address) * 2;
  // no pte_offset_map_lock, no "someone populated it meanwhile" check
  addRss(k, mm, pte, 1, 0);
  lruCacheAdd(k, pfn, true);
  pageAddNewAnonRmap(k, pfn, vma, address);
  const writable = (vma.vmFlags & VM_WRITE) !== 0 ? _PAGE_RW : 0;
  a[b] = (vma.vmPageProt | _PAGE_DIRTY | writable) >>> 0;
  a[b + 1] = pfn;
  k.vm.mmlab_anon_fault++;
  return VM_FAULT_MINOR;
}

/**
 * Test-only mutation `mutation-anon-no-ptl`: the `anonFault` seam installs
 * its PTE without taking the PTE lock and without re-checking that the PTE
 * is still empty.
 */
export const anonNoPtl: Feature = defineFeature({
  name: ANON_NO_PTL,
  summary: 'test-only: do_anonymous_page installs its PTE without the PTE lock and without re-checking pte_none',
  thread: TEST_ONLY_THREAD,
  options: {},
  install(k) {
    k.seamTable.replace(ANON_NO_PTL, 'anonFault', anonFaultUnlocked);
  },
});

/**
 * `__do_fault()` as the baseline has it, less the PTE lock and the
 * `pte_same` re-check: the page from `->fault` (copied for a write to a
 * private mapping) is installed over whatever the PTE holds by then.
 */
function* fileFaultUnlocked(k: Kernel, mm: MmStruct, vma: Vma, address: number, pte: number, pgoff: number, write: boolean): KGen<number> {
  const res = yield* awaitPath(vma.vmOps!.fault!(vma, pgoff));
  if ((res.ret & VM_FAULT_ERROR) !== 0) return res.ret;
  let page = res.pfn;
  const anon = write && (vma.vmFlags & VM_SHARED) === 0;
  if (anon) {
    if (vma.anonVma === null) yield* anonVmaPrepare(k, vma);
    let np = allocPageFast(k);
    if (np === 0) np = yield* allocPage(k);
    if (np === 0) {
      putPage(k, page);
      return VM_FAULT_OOM;
    }
    k.charge(k.costs.copyPage);
    k.pages.token[np] = k.tokenOf(page);
    putPage(k, page);
    page = np;
  }
  // the window the PTE lock would have closed
  if (k.interleaving) yield MIGHT_SLEEP;
  k.charge(k.costs.fileFaultRest);
  const a = k.tables.arr(pte);
  const b = k.tables.base(pte) + pteIndex(address) * 2;
  // no pte_offset_map_lock, no pte_same(*page_table, orig_pte)
  const writable = write && (vma.vmFlags & VM_WRITE) !== 0 ? _PAGE_RW | _PAGE_DIRTY : 0;
  a[b] = (vma.vmPageProt | writable) >>> 0;
  a[b + 1] = page;
  if (anon) {
    addRss(k, mm, pte, 1, 0);
    lruCacheAdd(k, page, true);
    pageAddNewAnonRmap(k, page, vma, address);
  } else {
    addRss(k, mm, pte, 0, 1);
    pageAddFileRmap(k, page);
  }
  k.vm.mmlab_file_fault++;
  return res.ret;
}

/**
 * Test-only mutation `mutation-file-no-ptl`: the `doFault` seam installs
 * its PTE without taking the PTE lock and without the `pte_same` re-check.
 */
export const fileNoPtl: Feature = defineFeature({
  name: FILE_NO_PTL,
  summary: 'test-only: __do_fault installs its PTE without the PTE lock and without the pte_same re-check',
  thread: TEST_ONLY_THREAD,
  options: {},
  install(k) {
    k.seamTable.replace(FILE_NO_PTL, 'doFault', fileFaultUnlocked);
  },
});

/**
 * A race scenario: `tlb-free-before-flush` ({@link freeBeforeFlush}: one
 * thread unmaps while another reads the pages), `anon-fault-no-ptl`
 * ({@link anonNoPtl}: two threads write-fault the same pages), and the
 * file-fault paths, each racing a second fault, munmap or truncate:
 * `file-fault-no-ptl` ({@link fileNoPtl}: two threads fault the same
 * shared file pages, one reading, one writing), `file-fault-vs-truncate`
 * ({@link fileNoPtl}: one thread faults file pages in while another
 * truncates the file), `file-fault-vs-munmap` (one thread faults while
 * another unmaps), `file-cow-race` (two threads
 * write-fault read-only PTEs of page-cache pages in a private file
 * mapping: `do_wp_page` copies), `swap-in-race` (two threads fault on the
 * same swapped-out pages: `do_swap_page`). The last three have no
 * mutation, the baseline must pass them: munmap takes `mmap_sem` for
 * writing, so it never runs inside a fault and the planted `__do_fault`
 * cannot show there; no planted bug is on the other two paths.
 */
export type Scenario =
  | 'tlb-free-before-flush'
  | 'anon-fault-no-ptl'
  | 'file-fault-no-ptl'
  | 'file-fault-vs-truncate'
  | 'file-fault-vs-munmap'
  | 'file-cow-race'
  | 'swap-in-race';

/** Every {@link Scenario}. */
export const SCENARIOS: readonly Scenario[] = [
  'tlb-free-before-flush',
  'anon-fault-no-ptl',
  'file-fault-no-ptl',
  'file-fault-vs-truncate',
  'file-fault-vs-munmap',
  'file-cow-race',
  'swap-in-race',
];

/** What one seeded run of a {@link Scenario} found. */
export interface SeedResult {
  /** The seed. */
  seed: number;
  /** The violations the kernel's checker recorded. */
  violations: Violation[];
  /** The interleaving of the concurrent part (`c0 c1 i1 …`). */
  interleaving: string;
  /** How many times the checker ran (operation boundaries and quiescent points). */
  checks: number;
}

/** What a seed {@link search} found. */
export interface SearchResult {
  /** The result of the first seed with a violation, or null when none had one. */
  first: SeedResult | null;
  /** How many seeds ran. */
  seedsRun: number;
  /** Seeds whose interleaving took a TLB-shootdown IPI (the race window was open). */
  ipiSeeds: number;
  /** Checker runs over all the seeds. */
  checks: number;
  /** Wall-clock time, in ms. */
  ms: number;
}

const MiB = 1024 * 1024;
const RW = PROT_READ | PROT_WRITE;
const PRIVATE_ANON = MAP_PRIVATE | MAP_ANONYMOUS;
/** A fixed, PMD-aligned address for the scenarios' mappings. */
const BASE = 2 ** 40;

/** The mutation that opens each scenario's race (null: the scenario checks the baseline only). */
export const MUTATION_OF: Readonly<Record<Scenario, Feature | null>> = {
  'tlb-free-before-flush': freeBeforeFlush,
  'anon-fault-no-ptl': anonNoPtl,
  'file-fault-no-ptl': fileNoPtl,
  'file-fault-vs-truncate': fileNoPtl,
  'file-fault-vs-munmap': null,
  'file-cow-race': null,
  'swap-in-race': null,
};

/** Map `len` bytes of private anonymous memory at {@link BASE} in `task`'s mm. */
function mapAtBase(k: Kernel, task: Task, len: number): number {
  const addr = k.mmap(task, BASE, len, RW, PRIVATE_ANON | MAP_FIXED);
  if (addr !== BASE) throw new Error(`mmap failed: ${addr}`);
  return addr;
}

/**
 * Two threads of one process: the first unmaps 4 pages it has written,
 * while the second reads them (up to 8 times, until it takes a SIGSEGV).
 * Returns the interleaving.
 */
function unmapWhileReading(k: Kernel): string {
  const a = k.spawn();
  const b = k.clone(a);
  const len = 4 * PAGE_SIZE;
  const addr = mapAtBase(k, a, len);
  if (k.touch(a, addr, len, true) !== 0) throw new Error('touch failed');
  const sa = k.sys(a);
  const sb = k.sys(b);
  k.runThreads([
    {
      task: a,
      program: (function* (): KGen<void> {
        yield* sa.munmap(addr, len);
      })(),
    },
    {
      task: b,
      program: (function* (): KGen<void> {
        for (let i = 0; i < 8; i++) {
          if ((yield* sb.touch(addr, len, false)) === SIGSEGV) return;
        }
      })(),
    },
  ]);
  return k.lastScheduler!.interleaving();
}

/**
 * Two threads of one process write-fault the same 2 fresh pages at once;
 * then both exit and the kernel is finished (so leaks are checked).
 * Returns the interleaving.
 */
function faultTogether(k: Kernel): string {
  const a = k.spawn();
  const b = k.clone(a);
  const len = 2 * PAGE_SIZE;
  const addr = mapAtBase(k, a, len);
  const sa = k.sys(a);
  const sb = k.sys(b);
  k.runThreads([
    {
      task: a,
      program: (function* (): KGen<void> {
        yield* sa.touch(addr, len, true);
      })(),
    },
    {
      task: b,
      program: (function* (): KGen<void> {
        yield* sb.touch(addr, len, true);
      })(),
    },
  ]);
  const interleaving = k.lastScheduler!.interleaving();
  k.exit(b);
  k.exit(a);
  k.finish();
  return interleaving;
}

/** Two threads of one process each running `a` and `b` at once; returns the interleaving. */
function race(k: Kernel, t: Task, u: Task, a: () => KGen<void>, b: () => KGen<void>): string {
  k.runThreads([
    { task: t, program: a() },
    { task: u, program: b() },
  ]);
  return k.lastScheduler!.interleaving();
}

/** Exit both threads and finish (so leaks are checked). */
function done(k: Kernel, t: Task, u: Task): void {
  k.exit(u);
  k.exit(t);
  k.finish();
}

/**
 * A tmpfs file of `pages` pages, written through a first mapping that is
 * then unmapped (so the pages are in the page cache, mapped by nobody),
 * and mapped again at {@link BASE} with `flags`.
 */
function cachedFile(k: Kernel, t: Task, pages: number, flags: number): ReturnType<Kernel['shmemCreate']> {
  const f = k.shmemCreate('race', pages * PAGE_SIZE);
  const len = pages * PAGE_SIZE;
  const w = k.mmap(t, 0, len, RW, MAP_SHARED, f);
  if (w < 0 || k.touch(t, w, len, true) !== 0 || k.munmap(t, w, len) !== 0) throw new Error('cachedFile set-up failed');
  if (k.mmap(t, BASE, len, RW, flags | MAP_FIXED, f) !== BASE) throw new Error('mmap failed');
  return f;
}

/** Two threads fault the same 2 shared file pages at once (one reads, one writes). */
function fileFaultTogether(k: Kernel): string {
  const a = k.spawn();
  const b = k.clone(a);
  cachedFile(k, a, 2, MAP_SHARED);
  const sa = k.sys(a);
  const sb = k.sys(b);
  const il = race(k, a, b, function* () {
    yield* sa.touch(BASE, 2 * PAGE_SIZE, false);
  }, function* () {
    yield* sb.touch(BASE, 2 * PAGE_SIZE, true);
  });
  done(k, a, b);
  return il;
}

/** One thread faults 4 shared file pages in, another truncates the file to nothing. */
function fileFaultVsTruncate(k: Kernel): string {
  const a = k.spawn();
  const b = k.clone(a);
  const f = cachedFile(k, a, 4, MAP_SHARED);
  const sa = k.sys(a);
  const il = race(k, a, b, function* () {
    // a SIGBUS beyond the new end is a result
    yield* sa.touch(BASE, 4 * PAGE_SIZE, false);
  }, function* () {
    yield* sysFtruncate(k, f, 0);
  });
  done(k, a, b);
  return il;
}

/** One thread faults 4 private file pages in (writing: the copy at once), another unmaps them. */
function fileFaultVsMunmap(k: Kernel): string {
  const a = k.spawn();
  const b = k.clone(a);
  cachedFile(k, a, 4, MAP_PRIVATE);
  const sa = k.sys(a);
  const sb = k.sys(b);
  const il = race(k, a, b, function* () {
    yield* sa.touch(BASE, 4 * PAGE_SIZE, true);
  }, function* () {
    yield* sb.munmap(BASE, 4 * PAGE_SIZE);
  });
  done(k, a, b);
  return il;
}

/** Two threads write the same 2 page-cache pages mapped read-only in a private file mapping (COW at once). */
function fileCowRace(k: Kernel): string {
  const a = k.spawn();
  const b = k.clone(a);
  cachedFile(k, a, 2, MAP_PRIVATE);
  if (k.touch(a, BASE, 2 * PAGE_SIZE, false) !== 0) throw new Error('read failed');
  const sa = k.sys(a);
  const sb = k.sys(b);
  const il = race(k, a, b, function* () {
    yield* sa.touch(BASE, 2 * PAGE_SIZE, true);
  }, function* () {
    yield* sb.touch(BASE, 2 * PAGE_SIZE, true);
  });
  done(k, a, b);
  return il;
}

/** Two threads fault on the same 2 swapped-out pages at once (one reads, one writes). */
function swapInRace(k: Kernel): string {
  const a = k.spawn();
  const b = k.clone(a);
  // more than RAM: the first pages written go to swap
  const len = 20 * MiB;
  const addr = mapAtBase(k, a, len);
  if (k.touch(a, addr, len, true) !== 0) throw new Error('touch failed');
  if (k.swap.inuse === 0) throw new Error('nothing was swapped out');
  const sa = k.sys(a);
  const sb = k.sys(b);
  const il = race(k, a, b, function* () {
    yield* sa.touch(addr, 2 * PAGE_SIZE, false);
  }, function* () {
    yield* sb.touch(addr, 2 * PAGE_SIZE, true);
  });
  done(k, a, b);
  return il;
}

const RUN_OF: Readonly<Record<Scenario, (k: Kernel) => string>> = {
  'tlb-free-before-flush': unmapWhileReading,
  'anon-fault-no-ptl': faultTogether,
  'file-fault-no-ptl': fileFaultTogether,
  'file-fault-vs-truncate': fileFaultVsTruncate,
  'file-fault-vs-munmap': fileFaultVsMunmap,
  'file-cow-race': fileCowRace,
  'swap-in-race': swapInRace,
};

/**
 * Run one seed of `scenario` in explore mode on 2 CPUs (32 MiB, checker
 * on; `swap-in-race`: 16 MiB and 16 MiB of swap), on a kernel with the scenario's mutation when `mutated` is true and
 * on the baseline kernel otherwise. `opts` adds to or overrides the build
 * options (the explore strategy, for instance); `fullCheck` checks the
 * whole machine at every boundary instead of what was touched.
 */
export function runScenario(scenario: Scenario, seed: number, mutated: boolean, opts: BuildOptions = {}, fullCheck = false): SeedResult {
  const m = MUTATION_OF[scenario];
  if (mutated && m === null) throw new Error(`scenario ${scenario} has no mutation`);
  const features = mutated && m !== null ? [m] : [];
  const swapIn = scenario === 'swap-in-race';
  const k = buildKernel({ mode: 'explore', cpus: 2, check: true, memBytes: (swapIn ? 16 : 32) * MiB, swapBytes: swapIn ? 16 * MiB : 0, seed, features, ...opts });
  k.fullCheck = fullCheck;
  const interleaving = RUN_OF[scenario](k);
  return { seed, violations: k.invariants.violations.slice(), interleaving, checks: k.invariants.checks };
}

/**
 * Run seeds 1 to `seeds` of `scenario` with {@link runScenario}, stopping
 * at the first seed that records a violation.
 */
export function search(scenario: Scenario, mutated: boolean, seeds: number, opts: BuildOptions = {}): SearchResult {
  const t0 = performance.now();
  let ipiSeeds = 0;
  let checks = 0;
  for (let seed = 1; seed <= seeds; seed++) {
    const r = runScenario(scenario, seed, mutated, opts);
    if (/\bi\d/.test(r.interleaving)) ipiSeeds++;
    checks += r.checks;
    if (r.violations.length > 0) return { first: r, seedsRun: seed, ipiSeeds, checks, ms: performance.now() - t0 };
  }
  return { first: null, seedsRun: seeds, ipiSeeds, checks, ms: performance.now() - t0 };
}
