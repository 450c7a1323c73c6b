/**
 * Unsharing: dropping one mm's share of a table (zap, free, exit), and
 * giving an mm a private copy before a change that concerns it alone
 * (mprotect, mremap, remap_file_pages, a split, a first anonymous page).
 * By Hugh Dickins' rule the unsharing mm flushes its TLB for the table's
 * range before it drops the lock.
 * @module
 */
import {
  _PAGE_SWP,
  addRss,
  awaitPath,
  findVma,
  ipiWait,
  type KGen,
  LEVEL_PTE,
  type MmStruct,
  PAGE_SIZE,
  pageAnon,
  pageDupRmap,
  pgtableUnshare,
  populate,
  ptePresent,
  ptlLockSlow,
  spinLock,
  spinLockSlow,
  swapDuplicate,
  type Vma,
  type VmaChangeReason,
} from '@mmlab/core';
import { covers, upperIndex, upperTable } from './shareable.js';
import { baseOf, NAME, removeBase, sharedIn, type ShareState } from './state.js';

/**
 * Drop `mm`'s share of `table`, which entry `idx` of `upper` points at:
 * clear the entry and, by Hugh Dickins' rule, flush `mm`'s TLB for the
 * table's range while `page_table_lock` and the table's lock are held
 * ("otherwise the other sharer can unmap and free the pages and, not
 * knowing it was sharing, flush only its own mm"), then give the share
 * back. The other sharers keep the table and its entries. Nothing when
 * `upper` is 0 (no upper table, so no entry).
 * @see the series' mm/ptshare.c pt_unshare_range, pt_decrement_share
 */
export function* dropShare(st: ShareState, mm: MmStruct, upper: number, idx: number, table: number): KGen<void> {
  if (upper === 0) return;
  const k = st.k;
  const base = baseOf(st, mm, table);
  const lock = mm.pageTableLock;
  if (!lock.tryLock(k)) yield* spinLockSlow(k, lock);
  const a = k.tables.arr(upper);
  const b = k.tables.base(upper) + idx * 2;
  if (a[b] === 0 || a[b + 1] !== table) {
    lock.unlock(k);
    return;
  }
  if (!k.ptl.tryLock(k, table)) yield* ptlLockSlow(k, k.ptl, table);
  a[b] = 0;
  a[b + 1] = 0;
  removeBase(st, table, mm);
  if (st.unshareFlush) {
    const wait = base === undefined ? k.seams.flushTlb(k, 'mm', mm, 0, 0, 'unshare') : k.seams.flushTlb(k, 'range', mm, base, base + st.span, 'unshare');
    if (wait) yield* ipiWait(k);
  }
  pgtableUnshare(k, mm, st.level, table);
  k.ptl.unlock(k, table);
  lock.unlock(k);
}

/** {@link dropShare} for the table `mm` reaches at `base`. */
export function dropShareAt(st: ShareState, mm: MmStruct, base: number, table: number): KGen<void> {
  return dropShare(st, mm, upperTable(st, mm, base), upperIndex(st, base), table);
}

/**
 * Unshare the PTE table `table` (reached by `mm` at `base`) keeping the
 * mappings: a new private table with a copy of every PTE and the
 * references a copy needs (as fork's `copy_pte_range`: a page reference,
 * `page_dup_rmap`, RSS), installed in place of the shared one under
 * `page_table_lock`; then `mm`'s TLB is flushed and the share dropped.
 * Without memory for the copy the share is dropped and the pages re-fault
 * (a shareable VMA has no anonymous pages: nothing is lost).
 * @see the series' mm/ptshare.c pt_unshare_range
 */
function* copyPteTable(st: ShareState, mm: MmStruct, vma: Vma, base: number, table: number): KGen<void> {
  const k = st.k;
  const fresh = yield* awaitPath(st.allocPrev(k, mm, LEVEL_PTE, base));
  if (fresh === 0) {
    yield* dropShareAt(st, mm, base, table);
    st.c.unshare_zap++;
    return;
  }
  yield* spinLock(k, mm.pageTableLock);
  const pmd = upperTable(st, mm, base);
  const idx = upperIndex(st, base);
  const ma = pmd === 0 ? null : k.tables.arr(pmd);
  const mb = pmd === 0 ? 0 : k.tables.base(pmd) + idx * 2;
  if (ma === null || ma[mb] === 0 || ma[mb + 1] !== table) {
    // someone unshared it meanwhile
    mm.pageTableLock.unlock(k);
    st.discardPrev(k, mm, LEVEL_PTE, fresh);
    return;
  }
  if (!k.ptl.tryLock(k, table)) yield* ptlLockSlow(k, k.ptl, table);
  const sa = k.tables.arr(table);
  const sb = k.tables.base(table);
  const da = k.tables.arr(fresh);
  const db = k.tables.base(fresh);
  let anon = 0;
  let file = 0;
  let copied = 0;
  for (let i = 0; i < 512; i++) {
    const f = sa[sb + 2 * i]!;
    const v = sa[sb + 2 * i + 1]!;
    if (f === 0 && v === 0) continue;
    if (ptePresent(f)) {
      const page = k.seams.vmNormalPage(k, vma, base + i * PAGE_SIZE, f, v);
      if (page !== 0) {
        k.pages.count[page]!++;
        pageDupRmap(k, page);
        if (pageAnon(k, page)) anon++;
        else file++;
      }
    } else if ((f & _PAGE_SWP) !== 0) {
      swapDuplicate(k, v);
    }
    da[db + 2 * i] = f;
    da[db + 2 * i + 1] = v;
    copied++;
  }
  populate(k, pmd, idx, fresh);
  addRss(k, mm, fresh, anon, file);
  k.charge(copied * k.costs.copyPte);
  removeBase(st, table, mm);
  if (st.unshareFlush && k.seams.flushTlb(k, 'range', mm, base, base + st.span, 'unshare')) yield* ipiWait(k);
  pgtableUnshare(k, mm, LEVEL_PTE, table);
  k.ptl.unlock(k, table);
  mm.pageTableLock.unlock(k);
  st.c.unshare_copy++;
  st.c.unshare_copy_ptes += copied;
}

/**
 * Give `mm` a private view of `table` (reached at `base`) before a change
 * for `mm` alone: a copy of a PTE table ({@link copyPteTable}); a shared
 * PMD table is dropped instead and its pages re-fault through private
 * tables (copying the PTE tables below a PMD table is left out: a
 * shareable VMA holds only page-cache pages, so nothing is lost).
 */
export function* privatize(st: ShareState, mm: MmStruct, base: number, table: number): KGen<void> {
  const vma = findVma(mm, base);
  if (vma === null || !covers(vma, base, st.span)) {
    throw new Error(`${NAME}: shared table ${table} of mm ${mm.id} at 0x${base.toString(16)} is not inside one VMA`);
  }
  if (st.level === LEVEL_PTE) {
    yield* copyPteTable(st, mm, vma, base, table);
    return;
  }
  yield* dropShareAt(st, mm, base, table);
  st.c.unshare_zap++;
}

/** Give `mm` private tables where it shares over [lo, hi). */
export function* privatizeRange(st: ShareState, mm: MmStruct, lo: number, hi: number): KGen<void> {
  for (const [table, base] of sharedIn(st, mm, lo, hi)) yield* privatize(st, mm, base, table);
}

/**
 * The `vmaChange` hook: unshare what a change for one mm will touch,
 * before it happens. VM_WRITE can come and go (mprotect), a VMA can move
 * (mremap), become nonlinear (remap_file_pages) or get its first
 * anonymous page (`anon_vma_prepare`): each leaves the shared state
 * first. A split or an adjust through a table's range leaves that table;
 * a merge that may hand an `anon_vma` to a sharing VMA unshares it whole.
 * @see the series' mm/mprotect.c, mm/mremap.c, mm/fremap.c, mm/rmap.c anon_vma_prepare (pt_unshare_range calls)
 */
export function* unshareForChange(st: ShareState, vma: Vma, start: number, end: number, reason: VmaChangeReason): KGen<void> {
  const mm = vma.mm;
  switch (reason) {
    case 'anon_vma_prepare':
    case 'remap_file_pages':
      yield* privatizeRange(st, mm, vma.vmStart, vma.vmEnd);
      return;
    case 'mprotect':
    case 'move':
      yield* privatizeRange(st, mm, start, end);
      return;
    case 'split':
      if (start % st.span !== 0) yield* privatizeRange(st, mm, start, start + 1);
      return;
    case 'adjust': {
      const lo = Math.min(start, vma.vmStart);
      const hi = Math.max(end, vma.vmEnd);
      const involved = mm.vmas.filter((v) => v.vmStart <= hi && v.vmEnd >= lo);
      if (involved.some((v) => v.anonVma !== null)) {
        for (const v of involved) yield* privatizeRange(st, mm, v.vmStart, v.vmEnd);
        return;
      }
      for (const at of [start, end, vma.vmStart, vma.vmEnd]) if (at % st.span !== 0) yield* privatizeRange(st, mm, at, at + 1);
      return;
    }
  }
}
