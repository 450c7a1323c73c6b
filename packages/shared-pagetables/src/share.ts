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
  type KPath,
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
import { covers, findSibling, shareableKind, type Sibling, upperIndex } from './shareable.js';
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
 * table, or 0 on out-of-memory: at once when both locks were free (a
 * {@link KPath}, as the core's allocation answers), else the generator
 * that waits for them.
 * @see the series' mm/ptshare.c pt_share_pte, pt_share_pmd (called from __pte_alloc, __pmd_alloc)
 */
export function allocAtFault(st: ShareState, mm: MmStruct, level: Level, addr: number): KPath<number> {
  const k = st.k;
  const vma = level === st.level ? findVma(mm, addr) : null;
  const base = alignDown(addr, st.span);
  if (vma !== null && vma.vmFile !== null && vma.vmStart <= addr && shareableKind(k, vma) && covers(vma, base, st.span)) {
    if (!vma.vmFile.iMmapLock.tryLock(k)) return allocAtFaultWait(st, mm, level, addr, vma, base);
    const shared = shareSibling(st, mm, vma, base);
    if (typeof shared !== 'number') return allocAfterShare(st, mm, level, addr, shared);
    if (shared !== 0) return shared;
  }
  return allocPrivate(st, mm, level, addr);
}

/** {@link allocAtFault} when `i_mmap_lock` is held elsewhere: spin for it, then share or allocate. */
function* allocAtFaultWait(st: ShareState, mm: MmStruct, level: Level, addr: number, vma: Vma, base: number): KGen<number> {
  yield* spinLockSlow(st.k, vma.vmFile!.iMmapLock);
  return yield* allocAfterShare(st, mm, level, addr, shareSibling(st, mm, vma, base));
}

/** The rest of {@link allocAtFault} once the share (`shared`, maybe pending) is settled: the shared table, else a private one. */
function* allocAfterShare(st: ShareState, mm: MmStruct, level: Level, addr: number, shared: KPath<number>): KGen<number> {
  const table = yield* awaitPath(shared);
  if (table !== 0) return table;
  return yield* awaitPath(allocPrivate(st, mm, level, addr));
}

/**
 * With the `i_mmap_lock` of `vma`'s file held (dropped here): share the
 * table of a sibling found through `i_mmap`, under the table's lock.
 * Returns the table, or 0 when there is none to share.
 */
function shareSibling(st: ShareState, mm: MmStruct, vma: Vma, base: number): KPath<number> {
  const k = st.k;
  let pending: KGen<number> | null = null;
  try {
    const sib = findSibling(st, mm, vma, base);
    if (sib === null) return 0;
    // the table's lock (pte_lockptr, or the series' lock in the PMD page): no zap is half-way
    // through it (the RSS the share copies is settled) and its sharers do not change under us
    if (k.ptl.tryLock(k, sib.table)) return shareLocked(st, mm, base, sib);
    pending = shareAfterWait(st, mm, vma, base, sib);
    return pending;
  } finally {
    if (pending === null) vma.vmFile!.iMmapLock.unlock(k);
  }
}

/** {@link shareSibling} when the table's lock is held elsewhere: wait for it, share, then drop `i_mmap_lock`. */
function* shareAfterWait(st: ShareState, mm: MmStruct, vma: Vma, base: number, sib: Sibling): KGen<number> {
  const k = st.k;
  try {
    yield* ptlLockSlow(k, k.ptl, sib.table);
    return shareLocked(st, mm, base, sib);
  } finally {
    vma.vmFile!.iMmapLock.unlock(k);
  }
}

/** With the lock of the sibling's table held (dropped here): share it if it is still in place. Returns it, or 0. */
function shareLocked(st: ShareState, mm: MmStruct, base: number, sib: Sibling): number {
  const k = st.k;
  const table = sib.table;
  let shared = 0;
  if (tableAt(st, sib.mm, sib.base) === table) {
    pgtableShare(k, sib.mm, mm, st.level, table);
    addShare(st, table, sib.mm, sib.base, mm, base);
    st.c.share_fault++;
    shared = table;
  }
  k.ptl.unlock(k, table);
  return shared;
}

/** A private table from the `pgtableAlloc` below this feature's; with PMD sharing, a PTE table is installed below the PMD table ({@link installBelow}). */
function allocPrivate(st: ShareState, mm: MmStruct, level: Level, addr: number): KPath<number> {
  const fresh = st.allocPrev(st.k, mm, level, addr);
  if (typeof fresh === 'number' && (fresh === 0 || level !== LEVEL_PTE || st.level !== LEVEL_PMD)) return fresh;
  return allocPrivateRest(st, mm, addr, fresh);
}

/** {@link allocPrivate} when the allocation is pending or a PTE table goes below a PMD table. */
function* allocPrivateRest(st: ShareState, mm: MmStruct, addr: number, pending: KPath<number>): KGen<number> {
  const fresh = yield* awaitPath(pending);
  if (fresh !== 0 && st.level === LEVEL_PMD) yield* installBelow(st, mm, addr, fresh);
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
