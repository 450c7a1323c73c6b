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
  MIGHT_SLEEP,
  type MmStruct,
  type MmuGather,
  pageAddNewAnonRmap,
  PAGE_SIZE,
  PROT_READ,
  PROT_WRITE,
  pteIndex,
  SIGSEGV,
  type Task,
  type ThreadRef,
  type Vma,
  VM_FAULT_MINOR,
  VM_FAULT_OOM,
  VM_WRITE,
  type Violation,
} from '../index.js';

/** Where a test-only mutation "comes from" (no real mailing-list thread). */
const TEST_ONLY_THREAD: ThreadRef = { subject: 'test-only mutation', author: 'mmlab tests', date: '2008-01' };

const FREE_BEFORE_FLUSH = 'mutation-free-before-flush';
const ANON_NO_PTL = 'mutation-anon-no-ptl';

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
 * A race scenario, named after the guard its mutation removes:
 * `tlb-free-before-flush` ({@link freeBeforeFlush}: one thread unmaps
 * while another reads the pages) and `anon-fault-no-ptl`
 * ({@link anonNoPtl}: two threads write-fault the same pages).
 */
export type Scenario = 'tlb-free-before-flush' | 'anon-fault-no-ptl';

/** Every {@link Scenario}. */
export const SCENARIOS: readonly Scenario[] = ['tlb-free-before-flush', 'anon-fault-no-ptl'];

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

/** The mutation that opens each scenario's race. */
const MUTATION_OF: Readonly<Record<Scenario, Feature>> = {
  'tlb-free-before-flush': freeBeforeFlush,
  'anon-fault-no-ptl': anonNoPtl,
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

/**
 * Run one seed of `scenario` in explore mode on 2 CPUs (32 MiB, checker
 * on), on a kernel with the scenario's mutation when `mutated` is true and
 * on the baseline kernel otherwise. `opts` adds to or overrides the build
 * options (the explore strategy, for instance); `fullCheck` checks the
 * whole machine at every boundary instead of what was touched.
 */
export function runScenario(scenario: Scenario, seed: number, mutated: boolean, opts: BuildOptions = {}, fullCheck = false): SeedResult {
  const features = mutated ? [MUTATION_OF[scenario]] : [];
  const k = buildKernel({ mode: 'explore', cpus: 2, check: true, memBytes: 32 * MiB, seed, features, ...opts });
  k.fullCheck = fullCheck;
  const interleaving = scenario === 'tlb-free-before-flush' ? unmapWhileReading(k) : faultTogether(k);
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
