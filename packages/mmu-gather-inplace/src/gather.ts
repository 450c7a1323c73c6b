/**
 * The in-place gather: a small gather made for each zap (on the stack in
 * the RFC) that has no page vector. The zap leaves each page it unmaps in
 * its PTE, marked {@link _PAGE_GATHERED}; `free_pgtables` unhooks the
 * tables and hands them over; one TLB flush covers everything; then a
 * second walk over the PTE tables frees the gathered pages, and the
 * unhooked tables go last.
 * @module
 */
import { type Kernel, type MmStruct, MmuGather } from '@mmlab/core';

/**
 * The flags word of a gathered PTE: not present (the hardware walker
 * ignores it), not `_PAGE_FILE`, not `_PAGE_SWP` and not none; the value
 * word is the pfn of the page to free after the flush. No fault may see
 * one: the in-place gather is used only where faults on the mm are
 * excluded (see {@link inPlaceAllowed}).
 */
export const _PAGE_GATHERED = 0x1000;

/** `pte_gathered()`: a PTE the in-place gather owns until its second walk. */
export function pteGathered(flags: number): boolean {
  return flags === _PAGE_GATHERED;
}

/**
 * The in-place gather. It is an `MmuGather` (the seam's type) whose page
 * vector stays unused: pages wait in the PTEs. What it records instead is
 * small: which PTE tables hold gathered entries, and the first and last
 * gathered entry of each (the span the second walk reads), and the table
 * pages `free_pgtables` unhooked (in the RFC a list threaded through the
 * tables' own `struct page`, so it has no capacity and never forces a
 * flush).
 */
export class InplaceGather extends MmuGather {
  /** PTE tables holding gathered entries, in the order first gathered into. */
  readonly tables: number[] = [];
  /** First gathered entry index of each table of {@link tables}. */
  readonly lo: number[] = [];
  /** Last gathered entry index of each table of {@link tables}. */
  readonly hi: number[] = [];
  /** Table pages unhooked by `free_pgtables`, freed after the pages. */
  readonly unhooked: number[] = [];
  /**
   * Pages whose PTE was not free to hold them (a nonlinear truncation left
   * a file PTE there): kept aside, freed after the flush with the others.
   */
  readonly aside: number[] = [];
  /** Entries gathered and not yet freed. */
  gathered = 0;
  /** The last table gathered into (index into {@link tables}), for the common case. */
  private last = -1;

  /**
   * Note entry `idx` of PTE table `pte` as gathered.
   * @param pte - the PTE table's pfn
   * @param idx - the entry's index in it
   */
  note(pte: number, idx: number): void {
    let i = this.last >= 0 && this.tables[this.last] === pte ? this.last : this.tables.lastIndexOf(pte);
    if (i < 0) {
      i = this.tables.length;
      this.tables.push(pte);
      this.lo.push(idx);
      this.hi.push(idx);
    } else {
      if (idx < this.lo[i]!) this.lo[i] = idx;
      if (idx > this.hi[i]!) this.hi[i] = idx;
    }
    this.last = i;
    this.gathered++;
  }

  /** Forget the tables after a second walk. */
  reset(): void {
    this.tables.length = 0;
    this.lo.length = 0;
    this.hi.length = 0;
    this.unhooked.length = 0;
    this.aside.length = 0;
    this.gathered = 0;
    this.last = -1;
  }
}

/**
 * Whether a zap of `mm` may gather in place: only where no fault can meet
 * a gathered PTE before the second walk clears it, that is when the whole
 * address space is going (`exit_mmap`, `fullmm`) or the running CPU holds
 * `mmap_sem` for write (`munmap`, `mmap` over a mapping, `mremap`,
 * `brk`). `zap_page_range` under `mmap_sem` for read (MADV_DONTNEED) and
 * truncation (only `i_mmap_lock`) race with faults of other threads, which
 * read the PTE without a lock and would take a gathered PTE for a swap
 * entry: they keep the per-CPU gather.
 * @param k - the kernel
 * @param mm - the mm being zapped
 * @param fullmm - the gather is for the whole address space (exit)
 */
export function inPlaceAllowed(k: Kernel, mm: MmStruct, fullmm: boolean): boolean {
  return fullmm || mm.mmapSem.writer === k.cpu.id;
}
