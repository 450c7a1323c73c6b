/**
 * The seams: typed extension points through which a feature changes the
 * kernel's behaviour. Each seam sits where the 2008 kernel had the call
 * site a patch series changed, is named after that kernel function, and
 * has the 2.6.24 behaviour as its baseline. A feature installs into a seam
 * at build time and receives the previous implementation to wrap or to
 * replace (as Rollup/Vite hook tables compose plugins); see
 * {@link SeamTable}.
 *
 * Every call site of a seam is written `k.seams.<name>(…)`, so searching
 * for the seam's name finds all of them.
 * @module
 */
import type { AddressSpace } from '../fs/address-space.js';
import type { Level } from '../pgtable/entry.js';
import { baseCopyPageRange } from '../mm/copy.js';
import { baseFileMmap } from '../mm/mmap.js';
import { doAnonymousPage, baseVmNormalPage, doFault } from '../mm/fault.js';
import { basePgtableFree } from '../mm/free-pgtables.js';
import { baseGetUserPages } from '../mm/gup.js';
import { basePfnPte } from '../mm/pfnmap.js';
import { baseSpecialVmaOps } from '../mm/hugetlb.js';
import { basePgtableAlloc, discardTablePage } from '../mm/pgalloc.js';
import { basePtepClearFlush, basePtepClearFlushYoung } from '../mm/rmap.js';
import { baseTlbGather, type MmuGather, type TlbGatherOps } from '../mm/tlb-gather.js';
import { baseFlushTlb, type FlushKind, type FlushReason } from '../mm/tlbflush.js';
import { baseTlbMiss } from '../mm/access.js';
import type { MmStruct, Vma } from '../mm/types.js';
import type { ZapDetails } from '../mm/zap.js';
import type { Kernel } from '../kernel/kernel.js';
import type { KGen, KPath } from '../sched/run.js';

/**
 * The page-table operations of a special VMA: what 2.6.24 reached through
 * its `is_vm_hugetlb_page()` branches (and what Adam Litke's
 * `pagetable_operations_struct` made a per-VMA table). Each method replaces
 * the generic path at one branch point.
 */
export interface SpecialVmaOps {
  /** Name for reports and diagnostics (`hugetlb`). */
  readonly name: string;
  /**
   * `handle_mm_fault()`'s branch (`hugetlb_fault`): resolve a fault.
   * Returns `VM_FAULT_*` bits: at once when the fault finished without
   * reaching a scheduling point, else the generator of the rest (a
   * {@link KPath}, as `handle_mm_fault` answers).
   */
  fault(k: Kernel, mm: MmStruct, vma: Vma, address: number, write: boolean): KPath<number>;
  /**
   * `copy_page_range()`'s branch (`copy_hugetlb_page_range`): fork's copy
   * of the VMA's tables from `src` to `dst`. Returns 0 or a negative errno.
   */
  copyPageRange(k: Kernel, dst: MmStruct, src: MmStruct, vma: Vma): KGen<number>;
  /**
   * `unmap_vmas()`'s branch (`unmap_hugepage_range`): unmap [start, end) of
   * the VMA. Returning nothing means the whole range was done, and the
   * caller charges the zap budget for it as 2.6.24 charges a huge page
   * range (a huge page costs what a present PTE costs). A method that works
   * like `unmap_page_range` instead takes the block's remaining budget
   * (`k.cpu.zapWork`, a present PTE costing a page and an empty entry a
   * byte), charges it, stops once it is spent and returns the address
   * reached; `unmap_vmas` then finishes the gather, reschedules and calls
   * it again from there with a new block, so a long range keeps the
   * `ZAP_BLOCK_SIZE` lock breaks. It must reach `end` while budget is left.
   */
  // eslint-disable-next-line @typescript-eslint/no-invalid-void-type -- a generator that returns nothing (unmap_hugepage_range's) did the whole range
  unmapPageRange(k: Kernel, tlb: MmuGather, vma: Vma, start: number, end: number, details: ZapDetails | null): KGen<number | void>;
  /**
   * `mprotect_fixup()`'s branch (`hugetlb_change_protection`): apply
   * `newprot` to [start, end) and flush.
   */
  changeProtection(k: Kernel, vma: Vma, start: number, end: number, newprot: number): KGen<void>;
  /**
   * `get_user_pages()`'s branch (`follow_hugetlb_page`): one page at `addr`,
   * faulting it in if needed; with `pin`, take the reference and record the
   * pin on the frame that holds it. Returns the frame, or a negated
   * `VM_FAULT_*` error.
   */
  followPage(k: Kernel, mm: MmStruct, vma: Vma, addr: number, write: boolean, pin: boolean): KGen<number>;
  /**
   * `free_pgtables()`'s branch (`hugetlb_free_pgd_range`): free the tables
   * of [addr, end) within [floor, ceiling). Such a VMA is never coalesced
   * with its neighbours into one call.
   */
  freePgtableRange(k: Kernel, tlb: MmuGather, mm: MmStruct, addr: number, end: number, floor: number, ceiling: number): KGen<void>;
  /**
   * `do_mremap()`'s branch: move the VMA's tables (`move_page_tables`).
   * Absent: mremap of such a VMA fails with -EINVAL, as 2.6.24 refuses
   * hugetlb VMAs. Returns the length moved.
   */
  movePageTables?(k: Kernel, vma: Vma, oldAddr: number, newAddr: number, len: number): KGen<number>;
}

/** Why a range of an address space is about to change ({@link Seams.rangeBegin}). */
export type RangeReason = 'unmap' | 'mprotect' | 'mremap' | 'fork' | 'truncate';

/** Why a VMA is about to change ({@link Seams.vmaChange}). */
export type VmaChangeReason = 'anon_vma_prepare' | 'mprotect' | 'move' | 'remap_file_pages' | 'split' | 'adjust';

/** The seam table. */
export interface Seams {
  // ---- page-table pages --------------------------------------------------

  /**
   * Allocate a page-table page for `level` (PTE, PMD or PUD) of `mm`
   * covering `addr`, accounted; returns its pfn or 0 on out-of-memory
   * (`__pte_alloc`, `__pmd_alloc`, `__pud_alloc` → `pte_alloc_one` …):
   * at once when it did not have to sleep, else a generator (a
   * {@link KPath}: a wrapper that needs the answer takes it with
   * `yield* awaitPath(prev(…))`).
   */
  pgtableAlloc: (k: Kernel, mm: MmStruct, level: Level, addr: number) => KPath<number>;
  /**
   * A table allocated for `mm` that lost the populate race (another thread
   * installed one first) is released at once: `pte_free()`, `pmd_free()`,
   * `pud_free()` in `__pte_alloc` and friends.
   */
  pgtableDiscard: (k: Kernel, mm: MmStruct, level: Level, pfn: number) => void;
  /**
   * Free the table that entry `idx` of table `parent` points at (level
   * `level` is the freed table's level): clear the entry, unaccount, and
   * hand the page to the gather (`free_pte_range` → `pte_free_tlb`, and
   * the PMD and PUD levels).
   */
  pgtableFree: (k: Kernel, tlb: MmuGather, mm: MmStruct, level: 0 | 1 | 2, parent: number, idx: number) => KGen<void>;
  /** `copy_page_range()`: fork's copy of `vma`'s page tables from `src` to `dst`; 0 or a negative errno. */
  copyPageRange: (k: Kernel, dst: MmStruct, src: MmStruct, vma: Vma) => KGen<number>;

  // ---- faults and special VMAs --------------------------------------------

  /**
   * `do_anonymous_page()`: resolve a fault on an empty PTE of an
   * anonymous VMA (`pte` is the PTE table's pfn). Returns `VM_FAULT_*`,
   * at once when it did not have to sleep or wait, else as a generator
   * (a {@link KPath}: the hot path makes no generator). A wrapper takes
   * the previous implementation's answer with `awaitPath` or
   * `typeof r === 'number'`.
   */
  anonFault: (k: Kernel, mm: MmStruct, vma: Vma, address: number, pte: number) => KPath<number>;
  /**
   * `__do_fault()` (from `do_linear_fault` and `do_nonlinear_fault`): get
   * the page at file offset `pgoff` from `->fault`, copy it for a write to
   * a private mapping, and install it under the PTE lock if the PTE still
   * holds (`origFlags`, `origValue`) (`pte_same`). Returns `VM_FAULT_*`,
   * at once or as a generator like {@link Seams.anonFault}. Baseline: the
   * kernel's.
   */
  doFault: (k: Kernel, mm: MmStruct, vma: Vma, address: number, pte: number, pgoff: number, write: boolean, origFlags: number, origValue: number) => KPath<number>;
  /**
   * `mmap_region()`'s `file->f_op->mmap(file, vma)`: the file's mmap method
   * sets up the new VMA (flags, `vm_ops`, a driver's mapping). Returns 0 or
   * a negative errno. Baseline: the file's own `fileOps.mmap` (tmpfs,
   * hugetlbfs, a device driver, XIP, or a feature's file type).
   */
  fileMmap: (k: Kernel, file: AddressSpace, vma: Vma) => KGen<number>;
  /**
   * `is_vm_hugetlb_page()` at each of its branch points (`handle_mm_fault`,
   * `copy_page_range`, `unmap_vmas`, `mprotect_fixup`, `get_user_pages`,
   * `free_pgtables`, `do_mremap`): the VMA's special page-table operations,
   * or null for the generic paths. Baseline: hugetlb's operations for a
   * VM_HUGETLB VMA.
   */
  specialVmaOps: (vma: Vma) => SpecialVmaOps | null;
  /**
   * `vm_normal_page()`: the refcounted page a present PTE (flags `flags`,
   * frame `pfn`) maps at `addr`, or 0 for a raw pfn. Every path that turns
   * a PTE into a struct page asks it: zap, fork's copy, `do_wp_page`,
   * `follow_page`, `remap_file_pages`' zap and the invariant checker.
   */
  vmNormalPage: (k: Kernel, vma: Vma, addr: number, flags: number, pfn: number) => number;
  /**
   * `pfn_pte()` where a raw pfn (no refcounted struct page) is mapped into
   * `vma` at `addr`: `remap_pte_range` (`remap_pfn_range`), `vm_insert_pfn`
   * and `do_no_pfn`. Returns the flags word of the new PTE, given the
   * protection `prot` the call site would install. Baseline: `prot` as
   * given (2.6.24 has no `pte_special`).
   */
  pfnPte: (k: Kernel, vma: Vma, addr: number, pfn: number, prot: number) => number;
  /**
   * `get_user_pages()` as called by direct I/O and `access_process_vm`,
   * entered before mmap_sem is taken (so a lockless fast path can stand in
   * front): pin `nrPages` pages of `mm` from `start`. Returns the pinned
   * pfns or a negative errno. `Kernel.getUserPagesInto` calls it too and
   * copies the answer into the caller's array (with the baseline here it
   * walks straight into that array).
   */
  getUserPages: (k: Kernel, mm: MmStruct, start: number, nrPages: number, write: boolean, force: boolean) => KGen<number[] | number>;

  // ---- TLB -----------------------------------------------------------------

  /**
   * Every TLB flush of `mm/`: `flush_tlb_page` (`kind` 'page', `start` the
   * page), `flush_tlb_range` ('range', [start, end)), `flush_tlb_mm`
   * ('mm'), and the gather's flush, with the reason. Returns true when the
   * caller must wait for IPI acknowledgements (`ipiWait`).
   */
  flushTlb: (k: Kernel, kind: FlushKind, mm: MmStruct, start: number, end: number, reason: FlushReason) => boolean;
  /**
   * A user access of `mm` at `address` missed this CPU's TLB, before the
   * page-table walk: the x86 hardware walker, ppc64's `hash_page()` reload
   * (where translations are keyed by segment, so an entry another address
   * space made for the same segment can serve). Returns the frame when the
   * translation was found without a walk, this CPU's TLB then holding an
   * entry for `mm` at `address` that allows the access; 0 to walk the page
   * tables (counted in `mmlab_tlb_miss`). Atomic context (the access path):
   * it must not sleep.
   */
  tlbMiss: (k: Kernel, mm: MmStruct, address: number, write: boolean) => number;
  /**
   * `ptep_clear_flush()`: clear the present PTE for `addr` in PTE table
   * `pte` and flush its TLB entry, under the PTE lock (atomic context). The
   * caller has read the old entry. Used by `do_wp_page`, `try_to_unmap`,
   * `move_ptes` and `remap_file_pages`' `zap_pte`.
   */
  ptepClearFlush: (k: Kernel, vma: Vma, addr: number, pte: number) => KGen<void>;
  /**
   * `ptep_clear_flush_young()`: test and clear the young bit of the PTE for
   * `addr` in PTE table `pte`, flushing if it was set; returns whether it
   * was young (`page_referenced_one`, `try_to_unmap_one`).
   */
  ptepClearFlushYoung: (k: Kernel, vma: Vma, addr: number, pte: number) => KGen<boolean>;
  /**
   * `struct mmu_gather` and its operations as every zap and every table
   * free uses them (`unmap_vmas`, `zap_pte_range`, `free_pgtables`,
   * `unmap_region`, `zap_page_range`, `exit_mmap`): `tlb_gather_mmu` to
   * `tlb_finish_mmu`, one member each ({@link TlbGatherOps}). Baseline:
   * 2.6.24's per-CPU gather with its vector of `FREE_PTE_NR` pages.
   */
  tlbGather: TlbGatherOps;

  // ---- mm events -------------------------------------------------------------

  /**
   * A range of `mm` is about to change: before `unmap_vmas`,
   * `change_protection`, `move_page_tables`, fork's write-protect of the
   * parent (`copy_page_range` of a COW VMA) and truncation's
   * `unmap_mapping_range` (which nests the `unmap_vmas` events). Baseline:
   * nothing.
   */
  rangeBegin: (k: Kernel, mm: MmStruct, start: number, end: number, reason: RangeReason) => KGen<void>;
  /**
   * The range of {@link Seams.rangeBegin} has changed. At the end of
   * `unmap_vmas` this comes before the caller's final `tlb_finish_mmu`, as
   * mainline placed `mmu_notifier_invalidate_range_end` later; elsewhere
   * after the TLB flush. Baseline: nothing.
   */
  rangeEnd: (k: Kernel, mm: MmStruct, start: number, end: number, reason: RangeReason) => KGen<void>;
  /** `exit_mmap()` before `unmap_vmas`. Baseline: nothing. */
  exitMmapBegin: (k: Kernel, mm: MmStruct) => KGen<void>;
  /** `exit_mmap()` after `unmap_vmas`, before the tables are freed. Baseline: nothing. */
  exitMmapUnmapped: (k: Kernel, mm: MmStruct) => KGen<void>;
  /**
   * `vma` is about to change in a way page-table sharing cares about:
   * `anon_vma_prepare` (a first anonymous page; the whole VMA),
   * `mprotect_fixup` ([start, end) changes flags), `move_vma` (the range
   * moves), `remap_file_pages` (the VMA becomes nonlinear), `split_vma`
   * (start = end = the split address), `vma_adjust` ([start, end) are the
   * new bounds). A hook may sleep where the call site may (each holds
   * mmap_sem). Baseline: nothing.
   */
  vmaChange: (k: Kernel, vma: Vma, start: number, end: number, reason: VmaChangeReason) => KGen<void>;
}

/** Names of the seams. */
export type SeamName = keyof Seams;

/** A seam implementation that does nothing (the baseline of the event seams). */
function* nothing(): KGen<void> {
  // 2.6.24 has no hook here
}

/** The baseline seam table: 2.6.24's behaviour at every seam. */
export function baselineSeams(): Seams {
  return {
    pgtableAlloc: basePgtableAlloc,
    pgtableDiscard: discardTablePage,
    pgtableFree: basePgtableFree,
    copyPageRange: baseCopyPageRange,
    anonFault: doAnonymousPage,
    doFault,
    fileMmap: baseFileMmap,
    specialVmaOps: baseSpecialVmaOps,
    vmNormalPage: baseVmNormalPage,
    pfnPte: basePfnPte,
    getUserPages: baseGetUserPages,
    flushTlb: baseFlushTlb,
    tlbMiss: baseTlbMiss,
    ptepClearFlush: basePtepClearFlush,
    ptepClearFlushYoung: basePtepClearFlushYoung,
    tlbGather: baseTlbGather,
    rangeBegin: nothing,
    rangeEnd: nothing,
    exitMmapBegin: nothing,
    exitMmapUnmapped: nothing,
    vmaChange: nothing,
  };
}

/** The names of every seam, in the table's order. */
export const SEAM_NAMES: readonly SeamName[] = Object.keys(baselineSeams()) as SeamName[];
