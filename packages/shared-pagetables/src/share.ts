/**
 * Sharing: at fault time (a sibling's table found through `i_mmap`) and at
 * fork (the child points at the parent's tables instead of re-faulting),
 * and, with PMD sharing, the PTE tables installed below a shared PMD table.
 * @module
 */
import {
  accountTableMm,
  alignDown,
  awaitPath,
  ENOMEM,
  findVma,
  type KGen,
  type Level,
  LEVEL_PMD,
  LEVEL_PTE,
  lookupPmdTable,
  type MmStruct,
  pgtableShare,
  pgtableShareBelow,
  pmdAlloc,
  pmdIndex,
  populate,
  ptlLockSlow,
  pudAlloc,
  spinLock,
  spinLockSlow,
  tableSharers,
  type Vma,
} from '@mmlab/core';
import { covers, findSibling, shareableKind, upperIndex } from './shareable.js';
import { addShare, isShared, type ShareState, tableAt } from './state.js';

/**
 * The `pgtableAlloc` of a fault (the feature's seam calls it only for an
 * allocation a fault makes). At the shared level it shares a sibling's
 * table when the rules allow: a shareable VMA spanning the table's range,
 * a sibling found through the file's `i_mmap` under `i_mmap_lock`, whose
 * table is still in place under the table's lock; it takes a reference
 * and records both sharers. Else (or when no sibling has the table) a
 * private table from the seam below, which with PMD sharing a PTE table
 * is installed below a shared PMD table by {@link installBelow}. The core
 * installs a shared table under `page_table_lock`, or gives it back
 * through `pgtableDiscard` when another thread won the race. Returns the
 * table, or 0 on out-of-memory. (One generator for all of it: this runs
 * once per share.)
 * @see the series' mm/ptshare.c pt_share_pte, pt_share_pmd (called from __pte_alloc, __pmd_alloc)
 */
export function* allocAtFault(st: ShareState, mm: MmStruct, level: Level, addr: number): KGen<number> {
  const k = st.k;
  const vma = level === st.level ? findVma(mm, addr) : null;
  const base = alignDown(addr, st.span);
  if (vma !== null && vma.vmFile !== null && vma.vmStart <= addr && shareableKind(k, vma) && covers(vma, base, st.span)) {
    const lock = vma.vmFile.iMmapLock;
    if (!lock.tryLock(k)) yield* spinLockSlow(k, lock);
    let shared = 0;
    try {
      const sib = findSibling(st, mm, vma, base);
      if (sib !== null) {
        // the table's lock (pte_lockptr, or the series' lock in the PMD page): no zap is half-way
        // through it (the RSS the share copies is settled) and its sharers do not change under us
        const table = sib.table;
        if (!k.ptl.tryLock(k, table)) yield* ptlLockSlow(k, k.ptl, table);
        if (tableAt(st, sib.mm, sib.base) === table) {
          pgtableShare(k, sib.mm, mm, st.level, table);
          addShare(st, table, sib.mm, sib.base, mm, base);
          st.c.share_fault++;
          shared = table;
        }
        k.ptl.unlock(k, table);
      }
    } finally {
      lock.unlock(k);
    }
    if (shared !== 0) return shared;
  }
  const fresh = yield* awaitPath(st.allocPrev(k, mm, level, addr));
  if (fresh !== 0 && level === LEVEL_PTE && st.level === LEVEL_PMD) yield* installBelow(st, mm, addr, fresh);
  return fresh;
}

/**
 * Fork of a shareable VMA: the child's entries point at the parent's
 * tables for every table range the VMA spans whole (the rest the child
 * re-faults, as 2.6.24 does for the whole VMA). Returns 0 or -ENOMEM.
 * @see the series' mm/memory.c copy_page_range (pt_share at fork)
 */
export function* shareAtFork(st: ShareState, dst: MmStruct, src: MmStruct, vma: Vma): KGen<number> {
  const k = st.k;
  for (let base = Math.ceil(vma.vmStart / st.span) * st.span; base + st.span <= vma.vmEnd; base += st.span) {
    const table = tableAt(st, src, base);
    if (table === 0) continue;
    const upper = st.level === LEVEL_PTE ? yield* pmdAlloc(k, dst, base) : yield* pudAlloc(k, dst, base);
    if (upper === 0) return -ENOMEM;
    const idx = upperIndex(st, base);
    yield* spinLock(k, dst.pageTableLock);
    if (!k.ptl.tryLock(k, table)) yield* ptlLockSlow(k, k.ptl, table);
    const a = k.tables.arr(upper);
    const b = k.tables.base(upper) + idx * 2;
    if (a[b] === 0 && tableAt(st, src, base) === table) {
      pgtableShare(k, src, dst, st.level, table);
      addShare(st, table, src, base, dst, base);
      populate(k, upper, idx, table);
      st.c.share_fork++;
    }
    k.ptl.unlock(k, table);
    dst.pageTableLock.unlock(k);
    yield* k.condResched();
  }
  return 0;
}

/**
 * PMD sharing: a PTE table `fresh`, just allocated by a fault of `mm` at
 * `addr`, is installed below the PMD table under that table's own lock
 * (the series: below the shared level, the lock in the upper table's
 * page), so that sharing and unsharing the PMD table, which take the same
 * lock, see it or not as a whole. When the PMD table is shared, the new
 * table is accounted in every sharer's `nr_ptes` and listed with the
 * sharers for RSS (`pgtableShareBelow`). Returns true when it installed
 * the table; the core's populate then finds it in place and hands it to
 * `pgtableDiscard`, which {@link installedBelow} consumes.
 */
export function* installBelow(st: ShareState, mm: MmStruct, addr: number, fresh: number): KGen<boolean> {
  const k = st.k;
  const pmd = lookupPmdTable(k, mm, addr);
  if (pmd === 0) return false;
  if (!k.ptl.tryLock(k, pmd)) yield* ptlLockSlow(k, k.ptl, pmd);
  try {
    if (lookupPmdTable(k, mm, addr) !== pmd) return false;
    const a = k.tables.arr(pmd);
    const b = k.tables.base(pmd) + pmdIndex(addr) * 2;
    if (a[b] !== 0) return false;
    populate(k, pmd, pmdIndex(addr), fresh);
    if (isShared(st, pmd)) {
      for (const s of tableSharers(k, pmd)) if (s !== mm) accountTableMm(s, LEVEL_PTE, 1);
      pgtableShareBelow(k, pmd, fresh);
      st.c.pte_below_shared++;
    }
    st.installedBelow.add(fresh);
    return true;
  } finally {
    k.ptl.unlock(k, pmd);
  }
}

/**
 * The populate that follows {@link installBelow}: the core found the table
 * already installed and hands the fresh one to `pgtableDiscard`; true when
 * that was ours (nothing to free).
 */
export function installedBelow(st: ShareState, pfn: number): boolean {
  return st.installedBelow.delete(pfn);
}
