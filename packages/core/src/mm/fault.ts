/**
 * Page faults: `handle_mm_fault` and the paths it dispatches to.
 * @see mm/memory.c handle_mm_fault, handle_pte_fault, do_anonymous_page, __do_fault, do_wp_page
 * @module
 */
import {
  _PAGE_ACCESSED,
  _PAGE_DIRTY,
  _PAGE_FILE,
  _PAGE_RW,
  PAGE_SIZE,
  PTE_PRESENT_MASK,
  pteIndex,
} from '../pgtable/entry.js';
import type { Kernel } from '../kernel/kernel.js';
import { ptlLockSlow } from '../sched/lock.js';
import { isPending, MIGHT_SLEEP, type KGen, type KPath } from '../sched/run.js';
import {
  allocPage,
  allocPageFast,
  getPage,
  linearPageIndex,
  pageAddAnonRmap,
  pageAddFileRmap,
  pageAddNewAnonRmap,
  pageAnon,
  pageRemoveRmap,
  putPage,
} from './page-ref.js';
import { lookupPteTable, pteAllocMapPath } from './pgalloc.js';
import { addRss } from './pt-share.js';
import { doNoPfn } from './pfnmap.js';
import { lruCacheAdd, markPageAccessed } from './lru-cache.js';
import { canShareSwapPage, lookupSwapCache, readSwapCacheAsync, removeExclusiveSwapPage, swapFree } from './swapfile.js';
import { ipiWait } from './tlbflush.js';
import { type MmStruct, type Vma, type VmFaultResult, VM_CAN_NONLINEAR, VM_NONLINEAR, VM_PFNMAP, VM_SHARED, VM_WRITE, isCowMapping } from './types.js';
import { anonVmaPrepare } from './vma.js';

/** `VM_FAULT_MINOR`: handled without I/O. */
export const VM_FAULT_MINOR = 0;
/** `VM_FAULT_OOM`. */
export const VM_FAULT_OOM = 0x1;
/** `VM_FAULT_SIGBUS`. */
export const VM_FAULT_SIGBUS = 0x2;
/** `VM_FAULT_MAJOR`: needed I/O. */
export const VM_FAULT_MAJOR = 0x4;
/** `VM_FAULT_WRITE`: a write made the page writable. */
export const VM_FAULT_WRITE = 0x8;
/**
 * `VM_FAULT_NOPAGE`: `->fault` installed the PTE itself (`vm_insert_pfn`,
 * `vm_insert_page`) and returns no page.
 */
export const VM_FAULT_NOPAGE = 0x100;
/** Mask of the error results. */
export const VM_FAULT_ERROR = VM_FAULT_OOM | VM_FAULT_SIGBUS;

/** `maybe_mkwrite()`. */
function maybeMkwrite(flags: number, vma: Vma): number {
  return (vma.vmFlags & VM_WRITE) !== 0 ? flags | _PAGE_RW : flags;
}

/**
 * Baseline `vmNormalPage` seam, 2.6.24's `vm_normal_page()`: the VM_PFNMAP
 * linearity rule, then the "anal sanity check" that the pfn has a struct
 * page (`pfn_valid`); a PTE that fails it is reported as the kernel's
 * `print_bad_pte` would and treated as raw. The PTE flags are not looked
 * at (2.6.24 has no `pte_special`).
 * @see mm/memory.c vm_normal_page, print_bad_pte
 */
export function baseVmNormalPage(k: Kernel, vma: Vma, addr: number, _flags: number, pfn: number): number {
  // the common case first, small enough to be inlined into the zap and copy loops
  if ((vma.vmFlags & VM_PFNMAP) === 0 && pfn > 0 && pfn < k.pages.nrFrames) return pfn;
  return vmNormalPageSlow(k, vma, addr, pfn);
}

/** {@link baseVmNormalPage} for a VM_PFNMAP VMA or a pfn beyond RAM. */
function vmNormalPageSlow(k: Kernel, vma: Vma, addr: number, pfn: number): number {
  if ((vma.vmFlags & VM_PFNMAP) !== 0) {
    if (pfn === vma.vmPgoff + (addr - vma.vmStart) / 4096) return 0;
    if (!isCowMapping(vma.vmFlags)) return 0;
  }
  if (!k.mem.pfnValid(pfn)) {
    k.reportViolation('bad_pte', `Bad page map: pte maps pfn ${pfn} without a struct page at 0x${addr.toString(16)} (mm ${vma.mm.id})`);
    return 0;
  }
  return pfn;
}

/**
 * `pte_offset_map_lock()` again after a point that may have slept: the PTE
 * table for `address` as the PMD entry holds it now, or 0 when there is
 * none. The kernel re-derives the table from the PMD after every sleep
 * (`anon_vma_prepare`, the page allocation, `->fault`, swap-in) instead of
 * keeping a pointer to it; with page-table sharing a `vmaChange` hook may
 * have swapped a shared table for a private copy meanwhile. Without
 * interleaving only `anon_vma_prepare`'s hook can have run, so the walk is
 * taken when `prepared` says it ran, or when other CPUs may have run.
 */
function pteAgain(k: Kernel, mm: MmStruct, address: number, pte: number, prepared: boolean): number {
  return prepared || k.interleaving ? lookupPteTable(k, mm, address) : pte;
}

/** `pte_offset_map_lock()` for PTE table `pte`: the fast path or wait. */
function* lockPte(k: Kernel, pte: number): KGen<void> {
  if (!k.ptl.tryLock(k, pte)) yield* ptlLockSlow(k, k.ptl, pte);
}

/**
 * `handle_mm_fault()`: count the fault, allocate the page-table levels and
 * resolve the PTE. Returns `VM_FAULT_*` bits.
 *
 * It is not a generator: it runs at once when called and returns the
 * result when the path it dispatches to finished without reaching a
 * scheduling point (a {@link KPath}), else the generator that goes on from
 * there; callers take it at once (`typeof r === 'number' ? r : yield* r`).
 * An uncontended anonymous or page-cache fault in the sequential modes
 * makes no generator at all. `pte`: the PTE table, when the caller knows
 * it (see {@link genericFault}).
 * @see mm/memory.c __handle_mm_fault
 */
export function handleMmFault(k: Kernel, mm: MmStruct, vma: Vma, address: number, write: boolean, pte = -1): KPath<number> {
  k.vm.pgfault++;
  const special = k.seams.specialVmaOps(vma);
  if (special !== null) return special.fault(k, mm, vma, address, write);
  return genericFault(k, mm, vma, address, write, pte);
}

/**
 * The generic part of `__handle_mm_fault()` (what a VMA without special
 * operations runs): allocate the page-table levels and resolve the PTE.
 * For a feature's special operations that defer to the generic path;
 * `pgfault` is counted by the caller. Not a generator (see
 * {@link handleMmFault}). `pte` is the PTE table for `address` when the
 * caller knows it has not changed since it was looked up (0: none), or -1.
 * @see mm/memory.c __handle_mm_fault
 */
export function genericFault(k: Kernel, mm: MmStruct, vma: Vma, address: number, write: boolean, pte = -1): KPath<number> {
  if (pte < 0) pte = lookupPteTable(k, mm, address);
  if (pte === 0) return allocThenFault(k, mm, vma, address, write);
  return handlePteFault(k, mm, vma, address, pte, write);
}

/**
 * {@link genericFault} as a generator, the form a {@link SpecialVmaOps}
 * `fault` has (`genericVmaOps.fault`).
 * @see mm/memory.c __handle_mm_fault
 */
export function* genericFaultPath(k: Kernel, mm: MmStruct, vma: Vma, address: number, write: boolean): KGen<number> {
  const r = genericFault(k, mm, vma, address, write);
  return typeof r === 'number' ? r : yield* r;
}

/**
 * {@link genericFault} when the PTE table is missing: `pte_alloc_map`
 * (which may sleep) first; at once when the allocation did not sleep.
 */
function allocThenFault(k: Kernel, mm: MmStruct, vma: Vma, address: number, write: boolean): KPath<number> {
  const pte = pteAllocMapPath(k, mm, address);
  if (typeof pte !== 'number') return allocThenFaultRest(k, mm, vma, address, write, pte);
  if (pte === 0) return VM_FAULT_OOM;
  return handlePteFault(k, mm, vma, address, pte, write);
}

/** {@link allocThenFault} when the allocation goes on as `pending`. */
function* allocThenFaultRest(k: Kernel, mm: MmStruct, vma: Vma, address: number, write: boolean, pending: KGen<number>): KGen<number> {
  const pte = yield* pending;
  if (pte === 0) return VM_FAULT_OOM;
  const r = handlePteFault(k, mm, vma, address, pte, write);
  return typeof r === 'number' ? r : yield* r;
}

// handle_pte_fault and the page-cache fault read these module constants:
// optimized code checks an imported binding at every use, a module
// constant not at all (`pteIndex` is inline for the same reason).
const PAGE = PAGE_SIZE;
const FILE = _PAGE_FILE;
const PRESENT = PTE_PRESENT_MASK;
const SHARED = VM_SHARED;

/**
 * `handle_pte_fault()`: dispatch on the PTE's state (read without the
 * lock); a present PTE is handled under the PTE lock, after checking it did
 * not change (`pte_same`). Not a generator: it reads the PTE at once and
 * returns what the path it dispatches to returns (see
 * {@link handleMmFault}).
 * @see mm/memory.c handle_pte_fault
 */
export function handlePteFault(k: Kernel, mm: MmStruct, vma: Vma, address: number, pte: number, write: boolean): KPath<number> {
  const a = k.tables.arr(pte);
  const b = k.tables.base(pte) + ((address / PAGE) & 511) * 2;
  const flags = a[b]!;
  const value = a[b + 1]!;
  // !pte_present
  if ((flags & PRESENT) === 0) {
    if (flags === 0 && value === 0) {
      const ops = vma.vmOps;
      if (ops !== null) {
        // do_linear_fault, without a generator of its own
        if (ops.fault !== undefined) return k.seams.doFault(k, mm, vma, address, pte, linearPageIndex(vma, address), write, 0, 0);
        if (ops.nopfn !== undefined) return doNoPfn(k, mm, vma, address, pte, write);
      }
      return k.seams.anonFault(k, mm, vma, address, pte);
    }
    if ((flags & FILE) !== 0) return doNonlinearFault(k, mm, vma, address, pte, write);
    return doSwapPage(k, mm, vma, address, pte, write);
  }
  return presentPteFault(k, mm, vma, address, pte, write, a, b, flags, value);
}

/**
 * {@link handlePteFault} for a present PTE (entry `b` of `a`, read as
 * `flags`, `value`): under the PTE lock if it did not change.
 * @see mm/memory.c handle_pte_fault (its `pte_present` part)
 */
function* presentPteFault(k: Kernel, mm: MmStruct, vma: Vma, address: number, pte: number, write: boolean, a: Uint32Array, b: number, flags: number, value: number): KGen<number> {
  yield* lockPte(k, pte);
  if (a[b] !== flags || a[b + 1] !== value) {
    k.ptl.unlock(k, pte);
    return VM_FAULT_MINOR;
  }
  if (write && (flags & _PAGE_RW) === 0) return yield* doWpPage(k, mm, vma, address, pte);
  // The hardware would have set these; a spurious fault just updates them.
  a[b] = flags | _PAGE_ACCESSED | (write ? _PAGE_DIRTY : 0);
  if (write && k.seams.flushTlb(k, 'page', mm, address, address + PAGE_SIZE, 'fault')) yield* ipiWait(k);
  k.ptl.unlock(k, pte);
  return VM_FAULT_MINOR;
}

/**
 * `do_anonymous_page()`: 2.6.24 allocates a zeroed page even for a read
 * (the zero page came back in 2.6.32), maps it dirty, writable if the VMA
 * is. The page is allocated (which may sleep) before the PTE lock is taken;
 * a PTE populated meanwhile wins and the new page is released.
 *
 * Not a generator: when the VMA has its anon_vma, the allocator's fast
 * path has a free frame and the PTE lock is free (the common case of the
 * sequential modes) the fault is resolved at once; otherwise the
 * generator of the rest is returned (a {@link KPath}).
 * @see mm/memory.c do_anonymous_page
 */
export function doAnonymousPage(k: Kernel, mm: MmStruct, vma: Vma, address: number, pte: number): KPath<number> {
  if (vma.anonVma === null || k.interleaving) return doAnonymousPageSlow(k, mm, vma, address, pte);
  // alloc_zeroed_user_highpage
  const pfn = allocPageFast(k);
  if (pfn === 0) return doAnonymousPageSlow(k, mm, vma, address, pte);
  k.charge(k.costs.clearPage);
  k.pages.token[pfn] = 0;
  if (!k.ptl.tryLock(k, pte)) return anonSetPteSlow(k, mm, vma, address, pte, pfn);
  return anonSetPte(k, mm, vma, address, pte, pfn);
}

/** {@link doAnonymousPage} from the start, where it may sleep: `anon_vma_prepare`, a sleeping allocation, the explore mode. */
function* doAnonymousPageSlow(k: Kernel, mm: MmStruct, vma: Vma, address: number, pte: number): KGen<number> {
  const prepared = vma.anonVma === null;
  if (prepared) yield* anonVmaPrepare(k, vma);
  // alloc_zeroed_user_highpage: may sleep; the fast path makes no generator
  if (k.interleaving) yield MIGHT_SLEEP;
  let pfn = allocPageFast(k);
  if (pfn === 0) pfn = yield* allocPage(k);
  if (pfn === 0) return VM_FAULT_OOM;
  k.charge(k.costs.clearPage);
  k.pages.token[pfn] = 0;
  pte = pteAgain(k, mm, address, pte, prepared);
  if (pte === 0) {
    putPage(k, pfn);
    return VM_FAULT_MINOR;
  }
  yield* lockPte(k, pte);
  return anonSetPte(k, mm, vma, address, pte, pfn);
}

/** {@link doAnonymousPage} when the PTE lock was busy: wait for it, then map the page. */
function* anonSetPteSlow(k: Kernel, mm: MmStruct, vma: Vma, address: number, pte: number, pfn: number): KGen<number> {
  yield* ptlLockSlow(k, k.ptl, pte);
  return anonSetPte(k, mm, vma, address, pte, pfn);
}

/**
 * The end of {@link doAnonymousPage}, with the PTE lock held: map the new
 * page `pfn` unless the PTE was populated meanwhile, and drop the lock.
 * @see mm/memory.c do_anonymous_page (from `pte_offset_map_lock`)
 */
function anonSetPte(k: Kernel, mm: MmStruct, vma: Vma, address: number, pte: number, pfn: number): number {
  const a = k.tables.arr(pte);
  const b = k.tables.base(pte) + pteIndex(address) * 2;
  // the rest of the fault (rmap, LRU, set_pte) runs under the PTE lock
  k.charge(k.costs.anonFaultRest);
  // raced: someone populated the PTE while we allocated
  if (a[b] !== 0 || a[b + 1] !== 0) return anonRaced(k, pte, pfn);
  addRss(k, mm, pte, 1, 0);
  lruCacheAdd(k, pfn, true);
  pageAddNewAnonRmap(k, pfn, vma, address);
  a[b] = maybeMkwrite(vma.vmPageProt | _PAGE_DIRTY, vma);
  a[b + 1] = pfn;
  updateMmuCache(k, pte, a, b, k.seams.anonFault === doAnonymousPage);
  k.ptl.unlock(k, pte);
  k.vm.mmlab_anon_fault++;
  return VM_FAULT_MINOR;
}

/** {@link anonSetPte} when the PTE was populated meanwhile: drop the lock and the new page. */
function anonRaced(k: Kernel, pte: number, pfn: number): number {
  k.ptl.unlock(k, pte);
  putPage(k, pfn);
  return VM_FAULT_MINOR;
}

/**
 * `do_linear_fault()`: a fault on an empty PTE of a file mapping, at the
 * linear file offset.
 * @see mm/memory.c do_linear_fault
 */
export function doLinearFault(k: Kernel, mm: MmStruct, vma: Vma, address: number, pte: number, write: boolean): KPath<number> {
  return k.seams.doFault(k, mm, vma, address, pte, linearPageIndex(vma, address), write, 0, 0);
}

/**
 * The page-cache read fault at `address` (an empty PTE of PTE table
 * `pte`, in a tmpfs VMA without special operations, the baseline
 * `__do_fault`) whose page `page` `shmem_fault` finds in the page cache
 * (`shmemCachedPage`), with the PTE table's lock free and nothing
 * else running: what {@link handleMmFault}, {@link handlePteFault},
 * {@link doLinearFault}, {@link doFault} and shmem's `->fault` do for it
 * (the fault counted, the page's reference), then `doFaultSetPte`
 * under the PTE lock, in the same order, without their dispatch. For a
 * run of such faults (`userFaultRun`, which checks the conditions).
 * @see mm/memory.c __handle_mm_fault, handle_pte_fault, do_linear_fault, __do_fault; mm/shmem.c shmem_fault
 */
export function doLinearFaultCached(k: Kernel, mm: MmStruct, vma: Vma, address: number, pte: number, page: number): void {
  k.vm.pgfault++;
  // shmem_fault: the reference for the caller
  getPage(k, page);
  if (!k.ptl.tryLock(k, pte)) throw new Error(`page-cache fault at 0x${address.toString(16)}: PTE table ${pte} locked`);
  doFaultSetPte(k, mm, vma, address, pte, false, 0, 0, page, false, VM_FAULT_MINOR);
}

/**
 * `do_nonlinear_fault()`: a fault on a file PTE left by remap_file_pages;
 * the offset comes from the PTE.
 * @see mm/memory.c do_nonlinear_fault
 */
export function doNonlinearFault(k: Kernel, mm: MmStruct, vma: Vma, address: number, pte: number, write: boolean): KPath<number> {
  if ((vma.vmFlags & (VM_CAN_NONLINEAR | VM_NONLINEAR)) !== (VM_CAN_NONLINEAR | VM_NONLINEAR)) {
    // print_bad_pte: a file PTE where none can be
    return VM_FAULT_SIGBUS;
  }
  const a = k.tables.arr(pte);
  const b = k.tables.base(pte) + pteIndex(address) * 2;
  return k.seams.doFault(k, mm, vma, address, pte, a[b + 1]!, write, a[b]!, a[b + 1]!);
}

/**
 * `__do_fault()`: ask `->fault` for the page at file offset `pgoff` (which
 * may sleep); a handler that installed the PTE itself says so with
 * {@link VM_FAULT_NOPAGE} and is done; a write to a private mapping copies
 * it into a new anonymous page at once; otherwise map the page-cache page.
 * The PTE must still hold (`origFlags`, `origValue`) under the PTE lock
 * when the page is installed (`pte_same`).
 *
 * Not a generator: a page `->fault` found without sleeping (a cached
 * page), mapped for a read or a shared write with the PTE lock free, is
 * installed at once; otherwise the generator of the rest is returned (a
 * {@link KPath}).
 * @see mm/memory.c __do_fault
 */
export function doFault(k: Kernel, mm: MmStruct, vma: Vma, address: number, pte: number, pgoff: number, write: boolean, origFlags: number, origValue: number): KPath<number> {
  const res = vma.vmOps!.fault!(vma, pgoff);
  if (isPending(res)) return doFaultSlow(k, mm, vma, address, pte, write, origFlags, origValue, res);
  return doFaultPage(k, mm, vma, address, pte, write, origFlags, origValue, res);
}

/** {@link doFault} when `->fault` has to sleep: run it, then go on as {@link doFaultPage}. */
function* doFaultSlow(k: Kernel, mm: MmStruct, vma: Vma, address: number, pte: number, write: boolean, origFlags: number, origValue: number, fault: KGen<VmFaultResult>): KGen<number> {
  const res = yield* fault;
  const r = doFaultPage(k, mm, vma, address, pte, write, origFlags, origValue, res);
  return typeof r === 'number' ? r : yield* r;
}

/** {@link doFault} once `->fault` has answered `res`. */
function doFaultPage(k: Kernel, mm: MmStruct, vma: Vma, address: number, pte: number, write: boolean, origFlags: number, origValue: number, res: VmFaultResult): KPath<number> {
  if ((res.ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE)) !== 0) return res.ret;
  if (write && (vma.vmFlags & SHARED) === 0) return doFaultCopy(k, mm, vma, address, pte, origFlags, origValue, res.pfn, res.ret);
  return doFaultMap(k, mm, vma, address, pte, write, origFlags, origValue, res.pfn, false, false, res.ret);
}

/**
 * {@link doFault}'s write to a private mapping: `anon_vma_prepare`, a new
 * anonymous page (which may sleep) holding a copy of `page`, whose
 * reference from `->fault` is dropped; then map the copy.
 * @see mm/memory.c __do_fault (its `FAULT_FLAG_WRITE` without `VM_SHARED` part)
 */
function* doFaultCopy(k: Kernel, mm: MmStruct, vma: Vma, address: number, pte: number, origFlags: number, origValue: number, page: number, ret: number): KGen<number> {
  const prepared = vma.anonVma === null;
  if (prepared) yield* anonVmaPrepare(k, vma);
  const np = yield* allocPage(k);
  if (np === 0) {
    putPage(k, page);
    return VM_FAULT_OOM;
  }
  k.charge(k.costs.copyPage);
  k.pages.token[np] = k.tokenOf(page);
  // drop the reference ->fault gave us on the page-cache page
  putPage(k, page);
  const r = doFaultMap(k, mm, vma, address, pte, true, origFlags, origValue, np, true, prepared, ret);
  return typeof r === 'number' ? r : yield* r;
}

/** {@link doFault}'s installation of `page` (`anon`: a private copy): find the PTE again and take its lock. */
function doFaultMap(k: Kernel, mm: MmStruct, vma: Vma, address: number, pte: number, write: boolean, origFlags: number, origValue: number, page: number, anon: boolean, prepared: boolean, ret: number): KPath<number> {
  pte = pteAgain(k, mm, address, pte, prepared);
  if (pte === 0) {
    putPage(k, page);
    return VM_FAULT_MINOR;
  }
  if (!k.ptl.tryLock(k, pte)) return doFaultMapSlow(k, mm, vma, address, pte, write, origFlags, origValue, page, anon, ret);
  return doFaultSetPte(k, mm, vma, address, pte, write, origFlags, origValue, page, anon, ret);
}

/** {@link doFaultMap} when the PTE lock was busy: wait for it. */
function* doFaultMapSlow(k: Kernel, mm: MmStruct, vma: Vma, address: number, pte: number, write: boolean, origFlags: number, origValue: number, page: number, anon: boolean, ret: number): KGen<number> {
  yield* ptlLockSlow(k, k.ptl, pte);
  return doFaultSetPte(k, mm, vma, address, pte, write, origFlags, origValue, page, anon, ret);
}

/**
 * The end of {@link doFault}, with the PTE lock held: install `page` if
 * the PTE still holds (`origFlags`, `origValue`) (`pte_same`), account it,
 * and drop the lock. Returns `ret`, what `->fault` answered.
 * @see mm/memory.c __do_fault (from `pte_offset_map_lock`)
 */
function doFaultSetPte(k: Kernel, mm: MmStruct, vma: Vma, address: number, pte: number, write: boolean, origFlags: number, origValue: number, page: number, anon: boolean, ret: number): number {
  const a = k.tables.arr(pte);
  const b = k.tables.base(pte) + ((address / PAGE) & 511) * 2;
  k.charge(k.costs.fileFaultRest);
  if (a[b] !== origFlags || a[b + 1] !== origValue) return doFaultRaced(k, pte, page);
  let f = vma.vmPageProt;
  if (write) f = maybeMkwrite(f | _PAGE_DIRTY, vma);
  a[b] = f;
  a[b + 1] = page;
  if (anon) {
    doFaultAnonRmap(k, mm, vma, address, pte, page);
  } else {
    addRss(k, mm, pte, 0, 1);
    pageAddFileRmap(k, page);
  }
  updateMmuCache(k, pte, a, b, vma.vmOps === k.shmemOps && k.seams.doFault === doFault);
  k.ptl.unlock(k, pte);
  k.vm.mmlab_file_fault++;
  return ret;
}

/**
 * {@link doFaultSetPte} when the PTE changed meanwhile (`!pte_same`):
 * drop the lock and the page. Out of line, as the private copy's rmap
 * below, so the common path stays small enough for the host's compiler
 * to inline.
 */
function doFaultRaced(k: Kernel, pte: number, page: number): number {
  k.ptl.unlock(k, pte);
  putPage(k, page);
  return VM_FAULT_MINOR;
}

/** {@link doFaultSetPte}'s accounting of a private copy (`anon`): anon RSS, the active list, its first rmap. */
function doFaultAnonRmap(k: Kernel, mm: MmStruct, vma: Vma, address: number, pte: number, page: number): void {
  addRss(k, mm, pte, 1, 0);
  lruCacheAdd(k, page, true);
  pageAddNewAnonRmap(k, page, vma, address);
}

/**
 * `update_mmu_cache()` after {@link doFault} or {@link doAnonymousPage}
 * set entry `b` of `a` (PTE table `pte`): nothing on x86. The model
 * notes the entry for the host (`Tlb.noteSet`) when the fault ran the
 * `baseline` path (the baseline `__do_fault` on a tmpfs page, the
 * baseline `do_anonymous_page`) in the sequential mode, where nothing but
 * the core's own code can have run since the MMU's walk, so the walk of
 * the retried access would end at the same entry. A feature's special
 * operations fault as a generator, and the retry takes the note only
 * after a fault that finished at once (`userAccessPage`).
 * @see include/asm-x86/pgtable_64.h update_mmu_cache
 */
function updateMmuCache(k: Kernel, pte: number, a: Uint32Array, b: number, baseline: boolean): void {
  if (baseline && !k.interleaving) k.cpu.tlb.noteSet(pte, a, b);
}

/**
 * `do_wp_page()`, entered with the PTE lock held: a write to a present
 * read-only PTE. An anonymous page nobody else maps is reused in place; a
 * shared writable mapping is made writable; otherwise the lock is dropped,
 * the page copied into a new one (which may sleep), and under the lock
 * again, if the PTE did not change, the old PTE is cleared and flushed
 * (`ptep_clear_flush`) and the new page mapped (COW).
 * @see mm/memory.c do_wp_page
 */
export function* doWpPage(k: Kernel, mm: MmStruct, vma: Vma, address: number, pte: number): KGen<number> {
  let a = k.tables.arr(pte);
  let b = k.tables.base(pte) + pteIndex(address) * 2;
  const oldFlags = a[b]!;
  const oldPfn = a[b + 1]!;
  const old = k.seams.vmNormalPage(k, vma, address, oldFlags, oldPfn);
  const p = k.pages;
  let reuse = false;
  if (old !== 0) {
    if (pageAnon(k, old)) {
      reuse = canShareSwapPage(k, old);
    } else if ((vma.vmFlags & (VM_SHARED | VM_WRITE)) === (VM_SHARED | VM_WRITE)) {
      reuse = true;
    }
  }
  if (reuse) {
    a[b] = maybeMkwrite(oldFlags | _PAGE_ACCESSED | _PAGE_DIRTY, vma);
    k.charge(k.costs.wpReuse);
    k.vm.mmlab_wp_reuse++;
    // ptep_set_access_flags: x86 flushes the stale read-only entry
    if (k.seams.flushTlb(k, 'page', mm, address, address + PAGE_SIZE, 'wp_reuse')) yield* ipiWait(k);
    k.ptl.unlock(k, pte);
    return VM_FAULT_WRITE;
  }
  // gotten: keep the old page while the lock is dropped
  if (old !== 0) getPage(k, old);
  k.ptl.unlock(k, pte);
  const prepared = vma.anonVma === null;
  if (prepared) yield* anonVmaPrepare(k, vma);
  const np = yield* allocPage(k);
  if (np === 0) {
    if (old !== 0) putPage(k, old);
    return VM_FAULT_OOM;
  }
  k.charge(k.costs.copyPage + k.costs.wpCopyRest);
  // cow_user_page: a raw pfn has no struct page; the kernel copies from the user address
  p.token[np] = k.tokenOf(old !== 0 ? old : oldPfn);
  pte = pteAgain(k, mm, address, pte, prepared);
  if (pte === 0) {
    putPage(k, np);
    if (old !== 0) putPage(k, old);
    return VM_FAULT_MINOR;
  }
  a = k.tables.arr(pte);
  b = k.tables.base(pte) + pteIndex(address) * 2;
  yield* lockPte(k, pte);
  if (a[b] !== oldFlags || a[b + 1] !== oldPfn) {
    // the PTE changed while we copied (another fault, reclaim): retry
    k.ptl.unlock(k, pte);
    putPage(k, np);
    if (old !== 0) putPage(k, old);
    return VM_FAULT_MINOR;
  }
  if (old !== 0) {
    pageRemoveRmap(k, old);
    if (!pageAnon(k, old)) {
      addRss(k, mm, pte, 1, -1);
    }
  } else {
    addRss(k, mm, pte, 1, 0);
  }
  // ptep_clear_flush + set_pte_at
  yield* k.seams.ptepClearFlush(k, vma, address, pte);
  a[b] = maybeMkwrite(vma.vmPageProt | _PAGE_DIRTY, vma);
  a[b + 1] = np;
  lruCacheAdd(k, np, true);
  pageAddNewAnonRmap(k, np, vma, address);
  k.ptl.unlock(k, pte);
  k.vm.mmlab_cow_fault++;
  if (old !== 0) {
    putPage(k, old); // the reference taken above
    putPage(k, old); // the reference the old PTE held
  }
  return VM_FAULT_WRITE;
}

/**
 * `do_swap_page()`: bring a swapped-out anonymous page back (from the swap
 * cache, or read from swap: a major fault), map it under the PTE lock if
 * the swap entry is still there, and drop the entry's slot reference; a
 * write to a page nobody shares maps it writable at once.
 * @see mm/memory.c do_swap_page
 */
export function* doSwapPage(k: Kernel, mm: MmStruct, vma: Vma, address: number, pte: number, write: boolean): KGen<number> {
  let a = k.tables.arr(pte);
  let b = k.tables.base(pte) + pteIndex(address) * 2;
  const origFlags = a[b]!;
  const slot = a[b + 1]!;
  let ret = VM_FAULT_MINOR;
  let page = lookupSwapCache(k, slot);
  if (page !== 0) {
    getPage(k, page);
  } else {
    const io = { major: false };
    page = yield* readSwapCacheAsync(k, slot, io);
    if (page === 0) return a[b] === origFlags && a[b + 1] === slot ? VM_FAULT_OOM : VM_FAULT_MINOR;
    if (io.major) {
      ret = VM_FAULT_MAJOR;
      k.vm.pgmajfault++;
    }
  }
  markPageAccessed(k, page);
  pte = pteAgain(k, mm, address, pte, false);
  if (pte === 0) {
    putPage(k, page);
    return ret;
  }
  a = k.tables.arr(pte);
  b = k.tables.base(pte) + pteIndex(address) * 2;
  yield* lockPte(k, pte);
  if (a[b] !== origFlags || a[b + 1] !== slot) {
    k.ptl.unlock(k, pte);
    putPage(k, page);
    return ret;
  }
  addRss(k, mm, pte, 1, 0);
  let f = vma.vmPageProt;
  if (write && canShareSwapPage(k, page)) {
    f = maybeMkwrite(f | _PAGE_DIRTY, vma);
    write = false;
  }
  a[b] = f;
  a[b + 1] = page;
  pageAddAnonRmap(k, page, vma, address);
  swapFree(k, slot);
  if (k.swap.full) removeExclusiveSwapPage(k, page);
  k.charge(k.costs.anonFaultRest);
  // do_wp_page takes over the PTE lock
  if (write) return ret | (yield* doWpPage(k, mm, vma, address, pte));
  k.ptl.unlock(k, pte);
  return ret;
}
