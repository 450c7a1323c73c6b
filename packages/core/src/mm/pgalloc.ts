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
 *
 * The walks return a {@link KPath}: the table at once when nothing had to
 * sleep or wait (the allocator's fast path had a frame, `page_table_lock`
 * was free: the common case of the sequential modes makes no generator),
 * else the generator of the rest. `pteAllocMap`, `pmdAlloc` and `pudAlloc`
 * are their generator forms.
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
import type { KGen, KPath } from '../sched/run.js';
import type { Kernel } from '../kernel/kernel.js';
import { accountTableMm } from './pt-share.js';
import type { MmStruct } from './types.js';
import { allocPage, allocPageFast, putPage } from './page-ref.js';

/**
 * Baseline `pgtableAlloc` seam: allocate and zero a table page for `level`
 * of `mm` and account it: `mm->nr_ptes` and `NR_PAGETABLE` for PTE tables as
 * 2.6.24 did, plus the model's per-level counts. Returns the pfn, or 0 when
 * memory is exhausted. Outside the explore mode and atomic context, when
 * the allocator's fast path has a frame, the answer comes at once (no
 * generator); otherwise the generator of `alloc_page`'s full path.
 * @see mm/memory.c __pte_alloc, arch/x86 pte_alloc_one, pmd_alloc_one, pud_alloc_one, pgd_alloc
 */
export function basePgtableAlloc(k: Kernel, mm: MmStruct, level: Level): KPath<number> {
  const cpu = k.cpu;
  // alloc_page's might_sleep has nothing to say here, and its first try is the fast path
  if (!k.interleaving && cpu.preemptCount === 0 && cpu.irqsOff === 0) {
    const pfn = allocPageFast(k);
    if (pfn !== 0) {
      initTablePage(k, mm, pfn, level);
      return pfn;
    }
  }
  return pgtableAllocSlow(k, mm, level);
}

/** {@link basePgtableAlloc} through `alloc_page`, which may sleep (reclaim) or yield (explore mode). */
function* pgtableAllocSlow(k: Kernel, mm: MmStruct, level: Level): KGen<number> {
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
function allocBelow(k: Kernel, mm: MmStruct, parent: number, idx: number, level: Level, addr: number): KPath<number> {
  const fresh = k.seams.pgtableAlloc(k, mm, level, addr);
  if (typeof fresh !== 'number') return allocBelowSlow(k, mm, parent, idx, level, fresh);
  return lockAndPopulate(k, mm, parent, idx, level, fresh);
}

/** {@link allocBelow} when the allocation has to go on as a generator (`pending`). */
function* allocBelowSlow(k: Kernel, mm: MmStruct, parent: number, idx: number, level: Level, pending: KGen<number>): KGen<number> {
  const fresh = yield* pending;
  const r = lockAndPopulate(k, mm, parent, idx, level, fresh);
  return typeof r === 'number' ? r : yield* r;
}

/** The end of {@link allocBelow} with the new table `fresh` (0: none): under `page_table_lock`, populate unless raced. */
function lockAndPopulate(k: Kernel, mm: MmStruct, parent: number, idx: number, level: Level, fresh: number): KPath<number> {
  if (fresh === 0) return 0;
  if (!mm.pageTableLock.tryLock(k)) return spinThenPopulate(k, mm, parent, idx, level, fresh);
  return populateLocked(k, mm, parent, idx, level, fresh);
}

/** {@link lockAndPopulate} when `page_table_lock` is held elsewhere: spin, then populate. */
function* spinThenPopulate(k: Kernel, mm: MmStruct, parent: number, idx: number, level: Level, fresh: number): KGen<number> {
  yield* spinLockSlow(k, mm.pageTableLock);
  return populateLocked(k, mm, parent, idx, level, fresh);
}

/** With `page_table_lock` held: install `fresh` below entry `idx` of `parent`, or discard it if another thread populated the entry first; drops the lock. */
function populateLocked(k: Kernel, mm: MmStruct, parent: number, idx: number, level: Level, fresh: number): number {
  const ptl = mm.pageTableLock;
  k.charge(k.costs.tablePopulate);
  const a = k.tables.arr(parent);
  const b = k.tables.base(parent) + idx * 2;
  if (a[b] !== 0) {
    // raced: another thread populated it while we allocated
    const table = a[b + 1]!;
    ptl.unlock(k);
    k.seams.pgtableDiscard(k, mm, level, fresh);
    return table;
  }
  populate(k, parent, idx, fresh);
  ptl.unlock(k);
  return fresh;
}

/** The table below entry `idx` of `parent`, allocated if missing; 0 on out-of-memory. */
function below(k: Kernel, mm: MmStruct, parent: number, idx: number, level: Level, addr: number): KPath<number> {
  const a = k.tables.arr(parent);
  const b = k.tables.base(parent) + idx * 2;
  if (a[b] !== 0) return a[b + 1]!;
  return allocBelow(k, mm, parent, idx, level, addr);
}

/**
 * The table below entry `idx` of the table `upper` (the walk to it may
 * still be pending), allocated if missing; 0 when `upper` is 0.
 */
function belowPath(k: Kernel, mm: MmStruct, upper: KPath<number>, idx: number, level: Level, addr: number): KPath<number> {
  if (typeof upper !== 'number') return belowPending(k, mm, upper, idx, level, addr);
  if (upper === 0) return 0;
  return below(k, mm, upper, idx, level, addr);
}

/** {@link belowPath} once the walk to the upper table (`pending`) has finished. */
function* belowPending(k: Kernel, mm: MmStruct, pending: KGen<number>, idx: number, level: Level, addr: number): KGen<number> {
  const upper = yield* pending;
  if (upper === 0) return 0;
  const r = below(k, mm, upper, idx, level, addr);
  return typeof r === 'number' ? r : yield* r;
}

/**
 * Walk to the PTE table for `addr`, allocating missing PUD, PMD and PTE
 * tables through the `pgtableAlloc` seam. Returns the PTE table's pfn, or 0
 * on out-of-memory: at once, or the generator of the rest ({@link KPath}).
 * Models `pud_alloc`, `pmd_alloc`, `pte_alloc_map` as called from
 * `__handle_mm_fault`.
 * @see mm/memory.c __handle_mm_fault, __pud_alloc, __pmd_alloc, __pte_alloc
 */
export function pteAllocMapPath(k: Kernel, mm: MmStruct, addr: number): KPath<number> {
  return belowPath(k, mm, pmdAllocPath(k, mm, addr), pmdIndex(addr), LEVEL_PTE, addr);
}

/**
 * {@link pteAllocMapPath} as a generator.
 * @see mm/memory.c __handle_mm_fault, __pud_alloc, __pmd_alloc, __pte_alloc
 */
export function* pteAllocMap(k: Kernel, mm: MmStruct, addr: number): KGen<number> {
  const r = pteAllocMapPath(k, mm, addr);
  return typeof r === 'number' ? r : yield* r;
}

/**
 * `pud_alloc()`: the PUD table for `addr`, allocated if missing; 0 on
 * out-of-memory.
 * @see mm/memory.c __pud_alloc
 */
export function* pudAlloc(k: Kernel, mm: MmStruct, addr: number): KGen<number> {
  const r = below(k, mm, mm.pgd, pgdIndex(addr), LEVEL_PUD, addr);
  return typeof r === 'number' ? r : yield* r;
}

/**
 * Walk to the PMD table for `addr`, allocating the PUD and PMD tables if
 * missing. Returns the PMD table's pfn or 0 on out-of-memory: at once, or
 * the generator of the rest ({@link KPath}).
 * @see mm/memory.c __pud_alloc, __pmd_alloc
 */
export function pmdAllocPath(k: Kernel, mm: MmStruct, addr: number): KPath<number> {
  return belowPath(k, mm, below(k, mm, mm.pgd, pgdIndex(addr), LEVEL_PUD, addr), pudIndex(addr), LEVEL_PMD, addr);
}

/**
 * {@link pmdAllocPath} as a generator.
 * @see mm/memory.c __pud_alloc, __pmd_alloc
 */
export function* pmdAlloc(k: Kernel, mm: MmStruct, addr: number): KGen<number> {
  const r = pmdAllocPath(k, mm, addr);
  return typeof r === 'number' ? r : yield* r;
}
