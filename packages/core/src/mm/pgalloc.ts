/**
 * Page-table allocation, population and lookup.
 *
 * Models `__pud_alloc`, `__pmd_alloc`, `__pte_alloc` (mm/memory.c), the
 * x86-64 `pgd_alloc`/`pte_alloc_one` (arch/x86/mm/pgtable.c), and the
 * lookups `pgd_offset` … `pte_offset_map`. Table pages come from the page
 * allocator through the `pgtableAlloc` seam, so a feature can share or
 * account them differently.
 * @module
 */
import {
  _PAGE_PSE,
  _PAGE_TABLE,
  LEVEL_PGD,
  LEVEL_PMD,
  LEVEL_PTE,
  LEVEL_PUD,
  type Level,
  pgdIndex,
  pmdIndex,
  pudIndex,
} from '../pgtable/entry.js';
import { PG_table } from '../mem/page.js';
import type { Kernel } from '../seams/kernel.js';
import type { MmStruct } from './types.js';
import { allocPage } from './page-ref.js';

/**
 * Baseline `pgtableAlloc` seam: allocate and zero a table page for `level`
 * of `mm` and account it: `mm->nr_ptes` and `NR_PAGETABLE` for PTE tables as
 * 2.6.24 did, plus the model's per-level counts. Returns the pfn, or 0 when
 * memory is exhausted.
 * @see mm/memory.c __pte_alloc, arch/x86 pte_alloc_one, pmd_alloc_one, pud_alloc_one, pgd_alloc
 */
export function basePgtableAlloc(k: Kernel, mm: MmStruct, level: Level): number {
  const pfn = allocPage(k);
  if (pfn === 0) return 0;
  k.pages.flags[pfn]! |= PG_table;
  k.tables.attach(pfn);
  k.charge(k.costs.tableAlloc);
  accountTable(k, mm, level, 1);
  return pfn;
}

/**
 * Add `delta` (±1) to the table counts of `level`: per mm, per level, and
 * `nr_page_table_pages` for PTE tables.
 */
export function accountTable(k: Kernel, mm: MmStruct, level: Level, delta: number): void {
  k.ptLive[level] += delta;
  switch (level) {
    case LEVEL_PTE:
      mm.nrPtes += delta;
      k.vm.nr_page_table_pages += delta;
      if (k.vm.nr_page_table_pages > k.vm.peak.nr_page_table_pages) {
        k.vm.peak.nr_page_table_pages = k.vm.nr_page_table_pages;
      }
      break;
    case LEVEL_PMD:
      mm.nrPmds += delta;
      break;
    case LEVEL_PUD:
      mm.nrPuds += delta;
      break;
    case LEVEL_PGD:
      break;
  }
}

/**
 * The PTE table mapping `addr` in `mm`, or 0 when an upper level is empty
 * (or the PMD maps a huge page). Models `pgd_offset` → `pud_offset` →
 * `pmd_offset` → `pte_offset_map` without allocation.
 */
export function lookupPteTable(k: Kernel, mm: MmStruct, addr: number): number {
  const t = k.tables;
  let tbl = mm.pgd;
  let a = t.arr(tbl);
  let b = t.base(tbl) + pgdIndex(addr) * 2;
  if (a[b] === 0) return 0;
  tbl = a[b + 1]!;
  a = t.arr(tbl);
  b = t.base(tbl) + pudIndex(addr) * 2;
  if (a[b] === 0) return 0;
  tbl = a[b + 1]!;
  a = t.arr(tbl);
  b = t.base(tbl) + pmdIndex(addr) * 2;
  const f = a[b]!;
  if (f === 0 || (f & _PAGE_PSE) !== 0) return 0;
  return a[b + 1]!;
}

/**
 * The PMD table covering `addr`, or 0 (`get_old_pmd` in mm/mremap.c).
 */
export function lookupPmdTable(k: Kernel, mm: MmStruct, addr: number): number {
  const t = k.tables;
  let tbl = mm.pgd;
  let a = t.arr(tbl);
  let b = t.base(tbl) + pgdIndex(addr) * 2;
  if (a[b] === 0) return 0;
  tbl = a[b + 1]!;
  a = t.arr(tbl);
  b = t.base(tbl) + pudIndex(addr) * 2;
  if (a[b] === 0) return 0;
  return a[b + 1]!;
}

/** Populate entry `idx` of table `parent` with a pointer to table `child` (`pgd_populate` and friends). */
export function populate(k: Kernel, parent: number, idx: number, child: number): void {
  const a = k.tables.arr(parent);
  const b = k.tables.base(parent) + idx * 2;
  a[b] = _PAGE_TABLE;
  a[b + 1] = child;
}

/**
 * Walk to the PTE table for `addr`, allocating missing PUD, PMD and PTE
 * tables through the `pgtableAlloc` seam. Returns the PTE table's pfn, or 0
 * on out-of-memory. Models `pud_alloc`, `pmd_alloc`, `pte_alloc_map` as
 * called from `__handle_mm_fault`.
 * @see mm/memory.c __handle_mm_fault, __pud_alloc, __pmd_alloc, __pte_alloc
 */
export function pteAllocMap(k: Kernel, mm: MmStruct, addr: number): number {
  const pmd = pmdAlloc(k, mm, addr);
  if (pmd === 0) return 0;
  const t = k.tables;
  const idx = pmdIndex(addr);
  const a = t.arr(pmd);
  const b = t.base(pmd) + idx * 2;
  if (a[b] !== 0) return a[b + 1]!;
  const pte = k.seams.pgtableAlloc(k, mm, LEVEL_PTE, addr);
  if (pte === 0) return 0;
  populate(k, pmd, idx, pte);
  return pte;
}

/**
 * Walk to the PMD table for `addr`, allocating the PUD and PMD tables if
 * missing. Returns the PMD table's pfn or 0 on out-of-memory.
 * @see mm/memory.c __pud_alloc, __pmd_alloc
 */
export function pmdAlloc(k: Kernel, mm: MmStruct, addr: number): number {
  const t = k.tables;
  const gi = pgdIndex(addr);
  let a = t.arr(mm.pgd);
  let b = t.base(mm.pgd) + gi * 2;
  let pud: number;
  if (a[b] === 0) {
    pud = k.seams.pgtableAlloc(k, mm, LEVEL_PUD, addr);
    if (pud === 0) return 0;
    populate(k, mm.pgd, gi, pud);
  } else {
    pud = a[b + 1]!;
  }
  const ui = pudIndex(addr);
  a = t.arr(pud);
  b = t.base(pud) + ui * 2;
  if (a[b] !== 0) return a[b + 1]!;
  const pmd = k.seams.pgtableAlloc(k, mm, LEVEL_PMD, addr);
  if (pmd === 0) return 0;
  populate(k, pud, ui, pmd);
  return pmd;
}
