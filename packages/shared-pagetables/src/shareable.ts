/**
 * Which VMAs and tables may be shared, and where a sharer's table sits:
 * the series' `pt_shareable_vma` and `next_shareable_vma` with Hugh
 * Dickins' corrections, and the walks to the entry that points at a
 * shared table.
 * @module
 */
import {
  type Kernel,
  LEVEL_PTE,
  linearPageIndex,
  lookupPmdTable,
  type MmStruct,
  PAGE_SIZE,
  pgdIndex,
  pmdIndex,
  pudIndex,
  VM_EXEC,
  VM_HUGETLB,
  VM_INSERTPAGE,
  VM_MIXEDMAP,
  VM_NONLINEAR,
  VM_PFNMAP,
  VM_READ,
  VM_SHARED,
  VM_WRITE,
  type Vma,
} from '@mmlab/core';
import { baseOf, type ShareState, tableAt } from './state.js';

/** VMA kinds that never share: nonlinear, hugetlb (it shares on its own), raw pfns, inserted pages. */
const NEVER_SHARED = VM_NONLINEAR | VM_HUGETLB | VM_PFNMAP | VM_INSERTPAGE | VM_MIXEDMAP;
/** Flags two sharers must agree on (the entries of one table serve both). */
const SAME_FLAGS = VM_READ | VM_WRITE | VM_EXEC | VM_SHARED;

/**
 * `pt_shareable_vma()` of the series, with Hugh Dickins' review: a VMA whose
 * tables may be shared is backed by a (tmpfs) file, shared or read-only,
 * linear (not nonlinear), not hugetlb (hugetlb shares its PMD tables
 * itself, with the same count) nor a driver's raw pfns, and has no
 * `anon_vma` ("you must keep away from sharing pagetables once you've got
 * anonymous pages in your vma"). The range test is {@link covers}.
 * @see the series' mm/ptshare.c pt_shareable_vma
 */
export function shareableKind(k: Kernel, vma: Vma): boolean {
  if (vma.vmFile === null || vma.vmOps !== k.shmemOps || vma.anonVma !== null) return false;
  if ((vma.vmFlags & NEVER_SHARED) !== 0) return false;
  return (vma.vmFlags & VM_SHARED) !== 0 || (vma.vmFlags & VM_WRITE) === 0;
}

/** The VMA spans the whole table range of `span` bytes from `base`. */
export function covers(vma: Vma, base: number, span: number): boolean {
  return vma.vmStart <= base && base + span <= vma.vmEnd;
}

/** The PUD table covering `addr` in `mm`, or 0 (`pud_offset` without allocation). */
export function lookupPudTable(k: Kernel, mm: MmStruct, addr: number): number {
  const a = k.tables.arr(mm.pgd);
  const b = k.tables.base(mm.pgd) + pgdIndex(addr) * 2;
  return a[b] === 0 ? 0 : a[b + 1]!;
}

/**
 * The table holding the entry that points at the shared-level table for
 * `base` in `mm`: the PMD table for PTE sharing, the PUD table for PMD
 * sharing; 0 when it is missing. The entry is {@link upperIndex}.
 */
export function upperTable(st: ShareState, mm: MmStruct, base: number): number {
  return st.level === LEVEL_PTE ? lookupPmdTable(st.k, mm, base) : lookupPudTable(st.k, mm, base);
}

/** The index of the entry for `base` in its {@link upperTable}. */
export function upperIndex(st: ShareState, base: number): number {
  return st.level === LEVEL_PTE ? pmdIndex(base) : pudIndex(base);
}

/** A sibling mapping whose table an mm can share at `base`. */
export interface Sibling {
  /** The mm that has the table. */
  readonly mm: MmStruct;
  /** Where the table's range starts in that mm. */
  readonly base: number;
  /** The table. */
  readonly table: number;
}

/**
 * `next_shareable_vma()` over the file's `i_mmap` (the caller holds
 * `i_mmap_lock`): another mm's shareable VMA that maps the same file
 * offsets at the same alignment, with the same protection, spans the
 * table's whole range and has the table. VMAs with an `anon_vma` are
 * skipped (Hugh Dickins: "next_shareable_vma needs to skip any vma with
 * its anon_vma set"), as is a table `mm` already reaches.
 * @see the series' mm/ptshare.c next_shareable_vma, pt_share_pte
 */
export function findSibling(st: ShareState, mm: MmStruct, vma: Vma, base: number): Sibling | null {
  const k = st.k;
  const file = vma.vmFile;
  if (file === null) return null;
  const idx = linearPageIndex(vma, base);
  for (const svma of file.iMmap) {
    if (svma.mm === mm || svma.mm.dead || !shareableKind(k, svma)) continue;
    if (svma.vmPageProt !== vma.vmPageProt || ((svma.vmFlags ^ vma.vmFlags) & SAME_FLAGS) !== 0) continue;
    const sbase = svma.vmStart + (idx - svma.vmPgoff) * PAGE_SIZE;
    if (sbase % st.span !== 0 || !covers(svma, sbase, st.span)) continue;
    const table = tableAt(st, svma.mm, sbase);
    if (table === 0 || baseOf(st, mm, table) !== undefined) continue;
    return { mm: svma.mm, base: sbase, table };
  }
  return null;
}
