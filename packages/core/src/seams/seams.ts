/**
 * The seams: typed extension points through which a feature changes the
 * kernel's behaviour. Each seam has a baseline implementation; a feature
 * overrides a seam at build time and receives the previous implementation
 * to wrap or defer to (as Rollup/Vite hook tables compose plugins).
 * @module
 */
import type { Level } from '../pgtable/entry.js';
import { baseCopyPageRange } from '../mm/copy.js';
import { doAnonymousPage } from '../mm/fault.js';
import { basePgtableFree } from '../mm/free-pgtables.js';
import { basePgtableAlloc } from '../mm/pgalloc.js';
import { baseTlbGather, type MmuGather, type TlbGatherOps } from '../mm/tlb-gather.js';
import type { MmStruct, Vma } from '../mm/types.js';
import type { Kernel } from '../kernel/kernel.js';
import type { KGen } from '../sched/run.js';

/** The seam table. */
export interface Seams {
  /**
   * Allocate a page-table page for `level` (PTE, PMD or PUD) of `mm`
   * covering `addr`, accounted; returns its pfn or 0 on out-of-memory.
   */
  pgtableAlloc(k: Kernel, mm: MmStruct, level: Level, addr: number): KGen<number>;
  /**
   * Free the table that entry `idx` of table `parent` points at (level
   * `level` is the freed table's level): clear the entry, unaccount, and
   * hand the page to the gather.
   */
  pgtableFree(k: Kernel, tlb: MmuGather, mm: MmStruct, level: 0 | 1 | 2, parent: number, idx: number): KGen<void>;
  /** fork: copy `vma`'s page tables from `src` to `dst`; 0 or a negative errno. */
  copyPageRange(k: Kernel, dst: MmStruct, src: MmStruct, vma: Vma): KGen<number>;
  /** The TLB gather used by every zap and table free. */
  tlbGather: TlbGatherOps;
  /**
   * `do_anonymous_page()`: resolve a fault on an empty PTE of an
   * anonymous VMA (`pte` is the PTE table's pfn). Returns `VM_FAULT_*`.
   */
  anonFault(k: Kernel, mm: MmStruct, vma: Vma, address: number, pte: number): KGen<number>;
}

/** Names of the seams. */
export type SeamName = keyof Seams;

/** The baseline seam table. */
export function baselineSeams(): Seams {
  return {
    pgtableAlloc: basePgtableAlloc,
    pgtableFree: basePgtableFree,
    copyPageRange: baseCopyPageRange,
    tlbGather: baseTlbGather,
    anonFault: doAnonymousPage,
  };
}
