/**
 * Page-table allocation, population and lookup.
 *
 * Models `__pud_alloc`, `__pmd_alloc`, `__pte_alloc` (mm/memory.c), the
 * x86-64 `pgd_alloc`/`pte_alloc_one` (arch/x86/mm/pgtable.c), and the
 * lookups `pgd_offset` … `pte_offset_map`. Table pages come from the page
 * allocator through the `pgtableAlloc` seam, so a feature can share or
 * account them differently. As in the kernel, a new table is allocated
 * (which may sleep) before `page_table_lock` is taken; if another thread
 * populated the entry meanwhile, the new table is freed.
 * @module
 */
import {
  _PAGE_TABLE,
  LEVEL_PMD,
  LEVEL_PTE,
  LEVEL_PUD,
  type Level,
  pgdIndex,
  pmdIndex,
  pudIndex,
} from '../pgtable/entry.js';
import { PG_table } from '../mem/page.js';
import { spinLockSlow } from '../sched/lock.js';
import type { KGen } from '../sched/run.js';
import type { Kernel } from '../kernel/kernel.js';
import { accountTableMm } from './pt-share.js';
import type { MmStruct } from './types.js';
import { allocPage, putPage } from './page-ref.js';

/**
 * Baseline `pgtableAlloc` seam: allocate and zero a table page for `level`
 * of `mm` and account it: `mm->nr_ptes` and `NR_PAGETABLE` for PTE tables as
 * 2.6.24 did, plus the model's per-level counts. Returns the pfn, or 0 when
 * memory is exhausted.
 * @see mm/memory.c __pte_alloc, arch/x86 pte_alloc_one, pmd_alloc_one, pud_alloc_one, pgd_alloc
 */
export function* basePgtableAlloc(k: Kernel, mm: MmStruct, level: Level): KGen<number> {
  const pfn = yield* allocPage(k);
  if (pfn === 0) return 0;
  initTablePage(k, mm, pfn, level);
  return pfn;
}

/**
 * Make a fresh page a zeroed, accounted table page of `level`.
 * @see mm/memory.c __pte_alloc, __pmd_alloc, __pud_alloc; include/asm-x86/pgalloc_64.h pte_alloc_one
 */
export function initTablePage(k: Kernel, mm: MmStruct, pfn: number, level: Level): void {
  k.pages.flags[pfn]! |= PG_table;
  k.tables.attach(pfn);
  k.charge(k.costs.tableAlloc);
  accountTable(k, mm, level, 1);
}

/**
 * Baseline `pgtableDiscard` seam: free a table page that was never
 * installed (lost the populate race): `pte_free()` and friends.
 * @see mm/memory.c __pte_alloc, __pmd_alloc, __pud_alloc
 */
export function discardTablePage(k: Kernel, mm: MmStruct, level: Level, pfn: number): void {
  accountTable(k, mm, level, -1);
  putPage(k, pfn);
}

/**
 * Add `delta` (±1) to the table counts of `level`: per mm, per level, and
 * `nr_page_table_pages` for PTE tables.
 * @see mm/memory.c __pte_alloc, free_pte_range (nr_ptes and NR_PAGETABLE)
 */
export function accountTable(k: Kernel, mm: MmStruct, level: Level, delta: number): void {
  k.ptLive[level] += delta;
  if (level === LEVEL_PTE) {
    k.vm.nr_page_table_pages += delta;
    if (k.vm.nr_page_table_pages > k.vm.peak.nr_page_table_pages) {
      k.vm.peak.nr_page_table_pages = k.vm.nr_page_table_pages;
    }
  }
  accountTableMm(mm, level, delta);
}

/**
 * The PTE table mapping `addr` in `mm`, or 0 when an upper level is empty
 * (or the PMD maps a huge page). Models `pgd_offset` → `pud_offset` →
 * `pmd_offset` → `pte_offset_map` without allocation.
 * @see include/asm-x86/pgtable_64.h pgd_offset, pud_offset, pmd_offset, pte_offset_map
 */
export function lookupPteTable(k: Kernel, mm: MmStruct, addr: number): number {
  return k.tables.pteTableOf(mm.pgd, addr);
}

/**
 * The PMD table covering `addr`, or 0 (`get_old_pmd` in mm/mremap.c).
 * @see mm/mremap.c get_old_pmd
 */
export function lookupPmdTable(k: Kernel, mm: MmStruct, addr: number): number {
  return k.tables.pmdTableOf(mm.pgd, addr);
}

/**
 * Populate entry `idx` of table `parent` with a pointer to table `child` (`pgd_populate` and friends).
 * @see include/asm-x86/pgalloc_64.h pgd_populate, pud_populate, pmd_populate
 */
export function populate(k: Kernel, parent: number, idx: number, child: number): void {
  const a = k.tables.arr(parent);
  const b = k.tables.base(parent) + idx * 2;
  a[b] = _PAGE_TABLE;
  a[b + 1] = child;
}

/**
 * Install a new table below entry `idx` of `parent` unless someone did
 * meanwhile: `page_table_lock` is taken after the allocation, as in
 * `__pte_alloc`. Returns the table now there, or 0 on out-of-memory.
 */
function* allocBelow(k: Kernel, mm: MmStruct, parent: number, idx: number, level: Level, addr: number): KGen<number> {
  const fresh = yield* k.seams.pgtableAlloc(k, mm, level, addr);
  if (fresh === 0) return 0;
  const ptl = mm.pageTableLock;
  if (!ptl.tryLock(k)) yield* spinLockSlow(k, ptl);
  k.charge(k.costs.tablePopulate);
  const a = k.tables.arr(parent);
  const b = k.tables.base(parent) + idx * 2;
  let table: number;
  if (a[b] !== 0) {
    // raced: another thread populated it while we allocated
    table = a[b + 1]!;
    ptl.unlock(k);
    k.seams.pgtableDiscard(k, mm, level, fresh);
    return table;
  }
  populate(k, parent, idx, fresh);
  table = fresh;
  ptl.unlock(k);
  return table;
}

/**
 * Walk to the PTE table for `addr`, allocating missing PUD, PMD and PTE
 * tables through the `pgtableAlloc` seam. Returns the PTE table's pfn, or 0
 * on out-of-memory. Models `pud_alloc`, `pmd_alloc`, `pte_alloc_map` as
 * called from `__handle_mm_fault`.
 * @see mm/memory.c __handle_mm_fault, __pud_alloc, __pmd_alloc, __pte_alloc
 */
export function* pteAllocMap(k: Kernel, mm: MmStruct, addr: number): KGen<number> {
  const pmd = yield* pmdAlloc(k, mm, addr);
  if (pmd === 0) return 0;
  const idx = pmdIndex(addr);
  const a = k.tables.arr(pmd);
  const b = k.tables.base(pmd) + idx * 2;
  if (a[b] !== 0) return a[b + 1]!;
  return yield* allocBelow(k, mm, pmd, idx, LEVEL_PTE, addr);
}

/**
 * `pud_alloc()`: the PUD table for `addr`, allocated if missing; 0 on
 * out-of-memory.
 * @see mm/memory.c __pud_alloc
 */
export function* pudAlloc(k: Kernel, mm: MmStruct, addr: number): KGen<number> {
  const gi = pgdIndex(addr);
  const a = k.tables.arr(mm.pgd);
  const b = k.tables.base(mm.pgd) + gi * 2;
  if (a[b] !== 0) return a[b + 1]!;
  return yield* allocBelow(k, mm, mm.pgd, gi, LEVEL_PUD, addr);
}

/**
 * Walk to the PMD table for `addr`, allocating the PUD and PMD tables if
 * missing. Returns the PMD table's pfn or 0 on out-of-memory.
 * @see mm/memory.c __pud_alloc, __pmd_alloc
 */
export function* pmdAlloc(k: Kernel, mm: MmStruct, addr: number): KGen<number> {
  const t = k.tables;
  const gi = pgdIndex(addr);
  let a = t.arr(mm.pgd);
  let b = t.base(mm.pgd) + gi * 2;
  const pud = a[b] !== 0 ? a[b + 1]! : yield* allocBelow(k, mm, mm.pgd, gi, LEVEL_PUD, addr);
  if (pud === 0) return 0;
  const ui = pudIndex(addr);
  a = t.arr(pud);
  b = t.base(pud) + ui * 2;
  if (a[b] !== 0) return a[b + 1]!;
  return yield* allocBelow(k, mm, pud, ui, LEVEL_PMD, addr);
}
