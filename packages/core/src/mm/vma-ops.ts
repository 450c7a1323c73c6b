/**
 * The generic page-table paths as one {@link SpecialVmaOps} table, so that
 * a feature which routes some VMAs to operations of its own (through the
 * `specialVmaOps` seam) can defer to what a VMA without special operations
 * would do, method by method.
 * @module
 */
import type { Kernel } from '../kernel/kernel.js';
import type { KGen } from '../sched/run.js';
import type { SpecialVmaOps } from '../seams/seams.js';
import { copyPageRangeGeneric } from './copy.js';
import { genericFaultPath } from './fault.js';
import { freePgdRange } from './free-pgtables.js';
import { followPageFaulting } from './gup.js';
import { changeProtection } from './mprotect.js';
import { movePageTables } from './mremap.js';
import type { MmStruct, Vma } from './types.js';
import { unmapPageRange } from './zap.js';

/** {@link SpecialVmaOps} whose fault is a generator: {@link genericVmaOps}. */
export interface GenericVmaOps extends SpecialVmaOps {
  /** {@link genericFaultPath}: the generic fault as a kernel path of its own (a generator). */
  fault(k: Kernel, mm: MmStruct, vma: Vma, address: number, write: boolean): KGen<number>;
}

/**
 * What 2.6.24 does for a VMA that is not special: the generic fault,
 * fork copy, zap (`unmap_page_range` within the block's zap budget,
 * returning the address reached), `change_protection`, `get_user_pages`
 * step, `free_pgd_range` and `move_page_tables`.
 */
export const genericVmaOps: GenericVmaOps = {
  name: 'generic',
  fault: genericFaultPath,
  copyPageRange: copyPageRangeGeneric,
  unmapPageRange,
  changeProtection,
  followPage: followPageFaulting,
  freePgtableRange: freePgdRange,
  movePageTables,
};
