/**
 * The series' `struct pagetable_operations_struct`: a table of page-table
 * operations that a VMA may carry (`vma->pagetable_ops`), and
 * `hugetlb_pagetable_ops`, the table hugetlbfs installs. Each member stands
 * for one of 2.6.24's `is_vm_hugetlb_page()` branch points; a member the
 * table lacks leaves that path to the generic code, as
 * `if (has_pt_op(vma, op)) pt_op(vma, op)(…) else …` does in the series.
 * @see [PATCH 1/7] Introduce the pagetable_operations and associated helper macros
 * @module
 */
import {
  copyHugetlbPageRange,
  followHugetlbPage,
  freePgdRange,
  hugetlbChangeProtection,
  hugetlbFault,
  unmapHugepageRange,
  type Kernel,
  type KGen,
  type MmStruct,
  type MmuGather,
  type Vma,
  type ZapDetails,
} from '@mmlab/core';

/**
 * `struct pagetable_operations_struct`: the page-table operations of a
 * VMA. Every member is optional: `has_pt_op()` tests for it, and the
 * generic path runs where it is absent.
 */
export interface PagetableOperations {
  /** Name for reports and diagnostics (`hugetlb`, `hugepages-device`). */
  readonly name: string;
  /**
   * `->fault` ([PATCH 7/7], `hugetlb_fault`): resolve a fault at
   * `address`. Returns `VM_FAULT_*` bits.
   */
  readonly fault?: (k: Kernel, mm: MmStruct, vma: Vma, address: number, write: boolean) => KGen<number>;
  /**
   * `->copy_vma` ([PATCH 2/7], `copy_hugetlb_page_range`): fork's copy of
   * the VMA's page tables from `src` to `dst`. Returns 0 or a negative errno.
   */
  readonly copyVma?: (k: Kernel, dst: MmStruct, src: MmStruct, vma: Vma) => KGen<number>;
  /**
   * `->pin_pages` ([PATCH 3/7], `follow_hugetlb_page`): one
   * `get_user_pages` step at `addr`, faulting the page in if needed; with
   * `pin`, take the reference. Returns the frame or a negated `VM_FAULT_*`
   * error.
   */
  readonly pinPages?: (k: Kernel, mm: MmStruct, vma: Vma, addr: number, write: boolean, pin: boolean) => KGen<number>;
  /**
   * `->unmap_page_range` ([PATCH 4/7], `unmap_hugepage_range`): unmap
   * [start, end) of the VMA.
   */
  readonly unmapPageRange?: (k: Kernel, tlb: MmuGather, vma: Vma, start: number, end: number, details: ZapDetails | null) => KGen<void>;
  /**
   * `->change_protection` ([PATCH 5/7], `hugetlb_change_protection`):
   * apply `newprot` to [start, end) and flush.
   */
  readonly changeProtection?: (k: Kernel, vma: Vma, start: number, end: number, newprot: number) => KGen<void>;
  /**
   * `->free_pgtable_range` ([PATCH 6/7], `hugetlb_free_pgd_range`): free
   * the tables of [addr, end) within [floor, ceiling).
   */
  readonly freePgtableRange?: (k: Kernel, tlb: MmuGather, mm: MmStruct, addr: number, end: number, floor: number, ceiling: number) => KGen<void>;
}

/** The members of a {@link PagetableOperations} table (the `op` of `has_pt_op(vma, op)`). */
export type PtOpName = Exclude<keyof PagetableOperations, 'name'>;

/** Every {@link PtOpName}, in the order of the series' patches (fault last, as patch 7). */
export const PT_OP_NAMES: readonly PtOpName[] = ['copyVma', 'pinPages', 'unmapPageRange', 'changeProtection', 'freePgtableRange', 'fault'];

/**
 * `hugetlb_pagetable_ops`: hugetlb's page-table functions of 2.6.24 (the
 * targets of its `is_vm_hugetlb_page()` branches) as one table, which
 * hugetlbfs's mmap gives each VMA it maps.
 * @see mm/hugetlb.c (with the series applied) hugetlb_pagetable_ops
 */
export const hugetlbPagetableOps: PagetableOperations = Object.freeze({
  name: 'hugetlb',
  fault: hugetlbFault,
  copyVma: copyHugetlbPageRange,
  pinPages: followHugetlbPage,
  unmapPageRange: (k: Kernel, _tlb: MmuGather, vma: Vma, start: number, end: number) => unmapHugepageRange(k, vma, start, end),
  changeProtection: hugetlbChangeProtection,
  // hugetlb_free_pgd_range is free_pgd_range on x86
  freePgtableRange: freePgdRange,
});
