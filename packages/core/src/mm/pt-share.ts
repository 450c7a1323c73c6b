/**
 * Page-table sharing primitives: a page-table page reachable from several
 * mms, as hugetlb's PMD sharing (2.6.20) does and as Dave McCracken's
 * shared page tables do for PTE and PMD tables.
 *
 * The rules the core keeps for a shared table:
 * - the share count is the table page's refcount (one reference per upper
 *   entry pointing at it), as `huge_pmd_share` keeps it;
 * - the table is accounted once in `nr_page_table_pages` (and the model's
 *   live-table counts), and once per mm in that mm's table counts, so each
 *   sharer's VmPTE shows it as the kernel's would;
 * - RSS is per sharing mm: every mm that reaches a PTE table counts its
 *   pages, so a change to a shared table's PTEs updates every sharer
 *   ({@link addRss});
 * - the sharers of a table are listed ({@link tableSharers}) for RSS and
 *   for features that must reach every sharing mm (a secondary MMU, a TLB
 *   flush);
 * - below a shared PMD table, each PTE table is private to that PMD table
 *   (refcount 1) but reached by every mm sharing it: it is listed with the
 *   PMD table's sharers while the PMD table is shared (at
 *   {@link pgtableShare}, and by {@link pgtableShareBelow} for a PTE table
 *   installed later), so that {@link addRss} counts its changes in each.
 *
 * A feature shares through the table seams (`pgtableAlloc` returns a
 * sibling's table after {@link pgtableShare}; `pgtableFree` and
 * `pgtableDiscard` drop a share with {@link pgtableUnshare}); the checker
 * accepts a table with several parents when its refcount matches.
 * @module
 */
import { LEVEL_PGD, LEVEL_PMD, LEVEL_PTE, LEVEL_PUD, type Level, _PAGE_PSE, ptePresent } from '../pgtable/entry.js';
import { PG_anon, PG_table } from '../mem/page.js';
import type { Kernel } from '../kernel/kernel.js';
import { getPage, putPage } from './page-ref.js';
import type { MmStruct } from './types.js';

/**
 * Add `delta` (±1) to `mm`'s own count of tables at `level` (`nr_ptes`,
 * and the PMD and PUD counts today's VmPTE includes), without the
 * machine-wide counts.
 * @see mm/memory.c __pte_alloc, free_pte_range (the per-mm nr_ptes count alone)
 */
export function accountTableMm(mm: MmStruct, level: Level, delta: number): void {
  switch (level) {
    case LEVEL_PTE:
      mm.nrPtes += delta;
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
 * The mms sharing table `pfn` (empty when it is not shared).
 * @see arch/x86/mm/hugetlbpage.c huge_pmd_share (the only page-table sharing of 2.6.24)
 */
export function tableSharers(k: Kernel, pfn: number): readonly MmStruct[] {
  return k.sharedTables.get(pfn) ?? [];
}

/**
 * True when table `pfn` is reachable from more than one upper entry.
 * @see arch/x86/mm/hugetlbpage.c huge_pmd_unshare (a shared table's page count above one)
 */
export function tableShared(k: Kernel, pfn: number): boolean {
  return k.pages.count[pfn]! > 1;
}

/**
 * `add_mm_counter()` for PTEs of table `pte` changed on behalf of `mm`:
 * `anon` and `file` pages more (or fewer) mapped. A shared table's change
 * (or that of a PTE table below a shared PMD table) counts in every mm
 * sharing it; a private table's in `mm` alone.
 * @see include/linux/sched.h add_mm_counter
 */
export function addRss(k: Kernel, mm: MmStruct, pte: number, anon: number, file: number): void {
  if (k.sharedTables.size === 0) {
    mm.anonRss += anon;
    mm.fileRss += file;
  } else {
    addRssShared(k, mm, pte, anon, file);
  }
}

/** {@link addRss} once some table is shared (kept out of line: the common case stays small enough to inline into the fault paths). */
function addRssShared(k: Kernel, mm: MmStruct, pte: number, anon: number, file: number): void {
  const sharers = k.sharedTables.get(pte);
  if (sharers === undefined) {
    mm.anonRss += anon;
    mm.fileRss += file;
    return;
  }
  for (const s of sharers) {
    s.anonRss += anon;
    s.fileRss += file;
  }
  const valid = k.sharedTableRssValid;
  if (valid !== null && valid[pte] === 1) {
    const c = k.sharedTableRss!;
    c[2 * pte] = c[2 * pte]! + anon;
    c[2 * pte + 1] = c[2 * pte + 1]! + file;
  }
}

/** Pages mapped below a table, as {@link tableRss} counts them. */
export interface TableRss {
  /** Anonymous pages. */
  anon: number;
  /** File (page-cache) pages. */
  file: number;
}

/**
 * The pages mapped below table `pfn` of `level` (a PTE table's present
 * entries; for a PMD table, those of every PTE table below it), split into
 * anonymous and file pages, for the RSS a new sharer gains or an
 * unsharing one loses. Raw pfns (no struct page) are not counted.
 * @see include/linux/sched.h add_mm_counter (the RSS a sharer gains or loses)
 */
export function tableRss(k: Kernel, level: Level, pfn: number): TableRss {
  const out: TableRss = { anon: 0, file: 0 };
  if (level !== LEVEL_PTE && level !== LEVEL_PMD) return out;
  const a = k.tables.arr(pfn);
  const b0 = k.tables.base(pfn);
  for (let i = 0; i < 512; i++) {
    const f = a[b0 + 2 * i]!;
    if (level === LEVEL_PMD) {
      if (f === 0 || (f & _PAGE_PSE) !== 0) continue;
      const below = tableRss(k, LEVEL_PTE, a[b0 + 2 * i + 1]!);
      out.anon += below.anon;
      out.file += below.file;
      continue;
    }
    if (!ptePresent(f)) continue;
    const page = a[b0 + 2 * i + 1]!;
    if (!k.mem.pfnValid(page) || (k.pages.flags[page]! & PG_table) !== 0) continue;
    if ((k.pages.flags[page]! & PG_anon) !== 0) out.anon++;
    else out.file++;
  }
  return out;
}

/**
 * The pages mapped below shared PTE table `pfn`, as {@link tableRss}
 * counts them, kept in `k.sharedTableRss` (words `2 * pfn` and
 * `2 * pfn + 1`) while the table is shared: counted once when it becomes
 * shared, then kept by {@link addRss}, so that each further share or
 * unshare costs O(1) instead of a 512-entry count. With checking on, the
 * entries are counted every time (the kept count is refreshed from them).
 * Returns the array holding the count.
 * @see include/linux/sched.h add_mm_counter (the RSS a sharer gains or loses)
 */
function keptPteRss(k: Kernel, pfn: number): Int32Array {
  let c = k.sharedTableRss;
  let valid = k.sharedTableRssValid;
  if (c === null || valid === null) {
    c = k.sharedTableRss = new Int32Array(2 * k.pages.nrFrames);
    valid = k.sharedTableRssValid = new Uint8Array(k.pages.nrFrames);
  }
  if (valid[pfn] !== 1 || k.touched !== null) {
    const rss = tableRss(k, LEVEL_PTE, pfn);
    c[2 * pfn] = rss.anon;
    c[2 * pfn + 1] = rss.file;
    valid[pfn] = 1;
  }
  return c;
}

/** Stop listing table `pfn` as shared (and stop keeping its count). */
function forgetShared(k: Kernel, pfn: number): void {
  k.sharedTables.delete(pfn);
  const valid = k.sharedTableRssValid;
  if (valid !== null) valid[pfn] = 0;
}

/**
 * The PTE tables below PMD table `pfn` (none for any other level), each
 * passed to `fn` when given; returns how many.
 */
function tablesBelow(k: Kernel, level: Level, pfn: number, fn?: (pte: number) => void): number {
  if (level !== LEVEL_PMD) return 0;
  const a = k.tables.arr(pfn);
  const b0 = k.tables.base(pfn);
  let n = 0;
  for (let i = 0; i < 512; i++) {
    const f = a[b0 + 2 * i]!;
    if (f === 0 || (f & _PAGE_PSE) !== 0) continue;
    n++;
    fn?.(a[b0 + 2 * i + 1]!);
  }
  return n;
}

/**
 * Take a share of table `pfn` (level `level`, reached today from `owner`)
 * for `mm`, which is about to point an upper entry at it: a reference on
 * the table page, `mm`'s own table counts (a shared PMD table brings the
 * PTE tables below it), and `mm`'s RSS for the pages mapped below. The
 * machine-wide counts do not change. The caller installs the entry (with
 * `page_table_lock` held) or, if it loses the populate race, gives the
 * share back with {@link pgtableUnshare}.
 * @see arch/x86/mm/hugetlbpage.c huge_pmd_share (the only page-table sharing of 2.6.24)
 */
export function pgtableShare(k: Kernel, owner: MmStruct, mm: MmStruct, level: Level, pfn: number): void {
  if ((k.pages.flags[pfn]! & PG_table) === 0) throw new Error(`pgtable share: frame ${pfn} is not a page table`);
  let sharers = k.sharedTables.get(pfn);
  if (sharers === undefined) {
    sharers = [owner];
    k.sharedTables.set(pfn, sharers);
  }
  sharers.push(mm);
  getPage(k, pfn);
  accountTableMm(mm, level, 1);
  const list = sharers;
  const below = tablesBelow(k, level, pfn, (pte) => k.sharedTables.set(pte, list));
  if (below > 0) accountTableMm(mm, LEVEL_PTE, below);
  if (level === LEVEL_PTE) {
    const c = keptPteRss(k, pfn);
    mm.anonRss += c[2 * pfn]!;
    mm.fileRss += c[2 * pfn + 1]!;
  } else {
    const rss = tableRss(k, level, pfn);
    mm.anonRss += rss.anon;
    mm.fileRss += rss.file;
  }
  k.vm.mmlab_pgtable_share++;
}

/**
 * Drop `mm`'s share of table `pfn` (level `level`): the reverse of
 * {@link pgtableShare}, after the caller cleared `mm`'s upper entry and,
 * by Hugh Dickins' rule, flushed `mm`'s TLB for the range while it still
 * held the lock, so that no stale entry survives the other sharer freeing
 * the pages. Returns false, doing nothing, when the table is not shared
 * (the caller frees it the ordinary way).
 * @see arch/x86/mm/hugetlbpage.c huge_pmd_unshare
 */
export function pgtableUnshare(k: Kernel, mm: MmStruct, level: Level, pfn: number): boolean {
  if (k.pages.count[pfn]! <= 1) return false;
  const sharers = k.sharedTables.get(pfn);
  // the pages below, counted before the table may stop being shared
  let anon: number;
  let file: number;
  if (level === LEVEL_PTE && sharers !== undefined) {
    const c = keptPteRss(k, pfn);
    anon = c[2 * pfn]!;
    file = c[2 * pfn + 1]!;
  } else {
    const rss = tableRss(k, level, pfn);
    anon = rss.anon;
    file = rss.file;
  }
  if (sharers !== undefined) {
    // the first of equal entries: the same list as removing any other, and
    // the oldest sharer (the likeliest to leave first) is found at once
    const i = sharers.indexOf(mm);
    if (i === 0) sharers.shift(); // the host trims the front in place
    else if (i > 0) sharers.splice(i, 1);
    if (sharers.length <= 1) {
      forgetShared(k, pfn);
      tablesBelow(k, level, pfn, (pte) => {
        forgetShared(k, pte);
      });
    }
  }
  mm.anonRss -= anon;
  mm.fileRss -= file;
  const below = tablesBelow(k, level, pfn);
  if (below > 0) accountTableMm(mm, LEVEL_PTE, -below);
  accountTableMm(mm, level, -1);
  // put_page: the table stays (another mm still points at it)
  putPage(k, pfn);
  k.vm.mmlab_pgtable_unshare++;
  return true;
}

/**
 * Record that PTE table `pte`, just installed below PMD table `pmd`, is
 * reached by every mm sharing `pmd` (nothing when `pmd` is not shared), so
 * that {@link addRss} counts its changes in each of them. The caller
 * accounts the table in each sharer's `nr_ptes`. A table installed below a
 * shared PMD table is listed until the PMD table stops being shared.
 * @see arch/x86/mm/hugetlbpage.c huge_pmd_share (the only page-table sharing of 2.6.24)
 */
export function pgtableShareBelow(k: Kernel, pmd: number, pte: number): void {
  const sharers = k.sharedTables.get(pmd);
  if (sharers !== undefined) k.sharedTables.set(pte, sharers);
}

/**
 * Forget PTE table `pte` as listed by {@link pgtableShareBelow} (a table
 * that lost the populate race and is discarded).
 * @see mm/memory.c __pte_alloc (the table that lost the populate race is freed)
 */
export function pgtableUnshareBelow(k: Kernel, pte: number): void {
  if (k.pages.count[pte] === 1) forgetShared(k, pte);
}
