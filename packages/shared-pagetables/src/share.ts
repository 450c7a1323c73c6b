/**
 * Sharing: at fault time (a sibling's table found through `i_mmap`) and at
 * fork (the child points at the parent's tables instead of re-faulting),
 * and, with PMD sharing, the PTE tables installed below a shared PMD table.
 * @module
 */
import {
  accountTableMm,
  alignDown,
  ENOMEM,
  findVma,
  type Kernel,
  type KGen,
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
  tableSharers,
  type Vma,
} from '@mmlab/core';
import { covers, findSibling, shareableKind, tableAt, upperEntry } from './shareable.js';
import { addBase, type ShareState } from './state.js';

/**
 * The lock in a shared table's page (`pte_lockptr()` for a PTE table; the
 * series' lock in the PMD page for a PMD table): one lock for every mm
 * sharing it, taken to share, to unshare and to populate below it.
 */
export function* lockTable(k: Kernel, table: number): KGen<void> {
  if (!k.ptl.tryLock(k, table)) yield* ptlLockSlow(k, k.ptl, table);
}

/**
 * The `pgtableAlloc` of a fault for a table at the shared level: share a
 * sibling's table when the rules allow, taking a reference and recording
 * both sharers; 0 when they do not (the caller allocates a private one).
 * The core installs the returned table under `page_table_lock`, or gives
 * it back through `pgtableDiscard` when another thread won the race.
 * @see the series' mm/ptshare.c pt_share_pte, pt_share_pmd (called from __pte_alloc, __pmd_alloc)
 */
export function* shareAtFault(st: ShareState, mm: MmStruct, addr: number): KGen<number> {
  const k = st.k;
  const base = alignDown(addr, st.span);
  const vma = findVma(mm, addr);
  if (vma === null || vma.vmStart > addr || !shareableKind(k, vma) || !covers(vma, base, st.span)) return 0;
  const file = vma.vmFile;
  if (file === null) return 0;
  yield* spinLock(k, file.iMmapLock);
  try {
    const sib = findSibling(st, mm, vma, base);
    if (sib === null) return 0;
    // the table's lock: no zap is half-way through it (the RSS the share copies is settled)
    // and its sharers do not change under us
    yield* lockTable(k, sib.table);
    const still = tableAt(st, sib.mm, sib.base) === sib.table;
    if (still) {
      pgtableShare(k, sib.mm, mm, st.level, sib.table);
      addBase(st, sib.table, sib.mm, sib.base);
      addBase(st, sib.table, mm, base);
      st.c.share_fault++;
    }
    k.ptl.unlock(k, sib.table);
    return still ? sib.table : 0;
  } finally {
    file.iMmapLock.unlock(k);
  }
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
    const { idx } = upperEntry(st, dst, base);
    yield* spinLock(k, dst.pageTableLock);
    yield* lockTable(k, table);
    const a = k.tables.arr(upper);
    const b = k.tables.base(upper) + idx * 2;
    if (a[b] === 0 && tableAt(st, src, base) === table) {
      pgtableShare(k, src, dst, st.level, table);
      addBase(st, table, src, base);
      addBase(st, table, dst, base);
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
  yield* lockTable(k, pmd);
  try {
    if (lookupPmdTable(k, mm, addr) !== pmd) return false;
    const a = k.tables.arr(pmd);
    const b = k.tables.base(pmd) + pmdIndex(addr) * 2;
    if (a[b] !== 0) return false;
    populate(k, pmd, pmdIndex(addr), fresh);
    if (st.bases.has(pmd)) {
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
