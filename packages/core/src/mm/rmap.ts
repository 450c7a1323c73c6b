/**
 * Reverse maps: find every PTE that maps a page through its anon_vma or
 * its file's `i_mmap`, to age it (`page_referenced`) or unmap it
 * (`try_to_unmap`).
 * @see mm/rmap.c vma_address, page_check_address, page_referenced, try_to_unmap
 * @module
 */
import { _PAGE_ACCESSED, _PAGE_DIRTY, _PAGE_FILE, _PAGE_SWP, PAGE_SIZE, pteIndex, ptePresent } from '../pgtable/entry.js';
import { PG_anon, PG_dirty, PG_referenced, PG_swapcache } from '../mem/page.js';
import type { Kernel } from '../kernel/kernel.js';
import { pageRemoveRmap, putPage } from './page-ref.js';
import { lookupPteTable } from './pgalloc.js';
import { addRss } from './pt-share.js';
import { swapDuplicate } from './swapfile.js';
import { ipiWait } from './tlbflush.js';
import { ptlLockSlow, type SpinLock, spinLock } from '../sched/lock.js';
import type { KGen } from '../sched/run.js';
import { updateHiwaterRss } from './mmap.js';
import { type Vma, VM_LOCKED, VM_MAYSHARE, VM_NONLINEAR } from './types.js';

/** `try_to_unmap` result: every mapping removed. */
export const SWAP_SUCCESS = 0;
/** `try_to_unmap` result: try again later. */
export const SWAP_AGAIN = 1;
/** `try_to_unmap` result: cannot unmap now (mlocked, or just referenced). */
export const SWAP_FAIL = 2;

/** Where a PTE lives: its table, the table's words and the entry's word offset. */
export interface PteLocation {
  /** The PTE table's pfn. */
  pte: number;
  /** The PTE table's words. */
  a: Uint32Array;
  /** Word offset of the PTE. */
  b: number;
}

/**
 * `vma_address()`: where `pfn` would be mapped in `vma`, or -1.
 * @see mm/rmap.c vma_address
 */
export function vmaAddress(k: Kernel, pfn: number, vma: Vma): number {
  const addr = vma.vmStart + (k.pages.index[pfn]! - vma.vmPgoff) * PAGE_SIZE;
  return addr >= vma.vmStart && addr < vma.vmEnd ? addr : -1;
}

/**
 * The second half of `page_check_address()`, with the PTE lock of table
 * `pte` held: the word offset of the entry for `addr` when it is present
 * and maps `pfn`; otherwise -1, the lock dropped.
 * @see mm/rmap.c page_check_address
 */
function pteMapsPage(k: Kernel, pfn: number, addr: number, pte: number): number {
  const a = k.tables.arr(pte);
  const b = k.tables.base(pte) + pteIndex(addr) * 2;
  if (!ptePresent(a[b]!) || a[b + 1] !== pfn) {
    k.ptl.unlock(k, pte);
    return -1;
  }
  return b;
}

/**
 * `page_check_address()`: the PTE at `addr`, locked, if it is present and
 * maps `pfn`; null (unlocked) otherwise.
 * @see mm/rmap.c page_check_address
 */
export function* pageCheckAddress(k: Kernel, pfn: number, vma: Vma, addr: number): KGen<PteLocation | null> {
  const pte = lookupPteTable(k, vma.mm, addr);
  if (pte === 0) return null;
  if (!k.ptl.tryLock(k, pte)) yield* ptlLockSlow(k, k.ptl, pte);
  const b = pteMapsPage(k, pfn, addr, pte);
  return b < 0 ? null : { pte, a: k.tables.arr(pte), b };
}

/**
 * The VMAs that may map `pfn` (anon_vma list, or the file's i_mmap).
 * @see mm/rmap.c page_referenced_anon, page_referenced_file (their anon_vma and i_mmap walks)
 */
export function rmapVmas(k: Kernel, pfn: number): readonly Vma[] {
  const p = k.pages;
  if ((p.flags[pfn]! & PG_anon) !== 0) return k.anonVmas.get(p.mapping[pfn]!)?.vmas ?? [];
  return k.files.get(p.mapping[pfn]!)?.iMmap ?? [];
}

/** The lock guarding the page's reverse map: its anon_vma's, or its file's `i_mmap_lock`. */
function rmapLock(k: Kernel, pfn: number): SpinLock | null {
  const p = k.pages;
  if ((p.flags[pfn]! & PG_anon) !== 0) return k.anonVmas.get(p.mapping[pfn]!)?.lock ?? null;
  return k.files.get(p.mapping[pfn]!)?.iMmapLock ?? null;
}

/**
 * Baseline `ptepClearFlushYoung` seam, `ptep_clear_flush_young()`: test
 * and clear the young bit of the PTE for `addr` in PTE table `pte`; flush
 * the TLB entry if it was set. Returns whether it was young.
 * @see include/asm-generic/pgtable.h ptep_clear_flush_young
 */
export function* basePtepClearFlushYoung(k: Kernel, vma: Vma, addr: number, pte: number): KGen<boolean> {
  const a = k.tables.arr(pte);
  const b = k.tables.base(pte) + pteIndex(addr) * 2;
  const f = a[b]!;
  if ((f & _PAGE_ACCESSED) === 0) return false;
  a[b] = f & ~_PAGE_ACCESSED;
  if (k.seams.flushTlb(k, 'page', vma.mm, addr, addr + PAGE_SIZE, 'clear_flush_young')) yield* ipiWait(k);
  return true;
}

/**
 * Baseline `ptepClearFlush` seam, `ptep_clear_flush()`: clear the PTE for
 * `addr` in PTE table `pte` and flush its TLB entry.
 * @see include/asm-generic/pgtable.h ptep_clear_flush
 */
export function* basePtepClearFlush(k: Kernel, vma: Vma, addr: number, pte: number): KGen<void> {
  const a = k.tables.arr(pte);
  const b = k.tables.base(pte) + pteIndex(addr) * 2;
  a[b] = 0;
  a[b + 1] = 0;
  if (k.seams.flushTlb(k, 'page', vma.mm, addr, addr + PAGE_SIZE, 'clear_flush')) yield* ipiWait(k);
}

/**
 * `page_referenced()`: count the young PTEs mapping the page, clearing
 * them, plus its `PG_referenced` bit (cleared too). The walk holds the
 * anon_vma lock or `i_mmap_lock`.
 * @see mm/rmap.c page_referenced, page_referenced_anon, page_referenced_file
 */
export function* pageReferenced(k: Kernel, pfn: number): KGen<number> {
  const p = k.pages;
  let referenced = 0;
  if ((p.flags[pfn]! & PG_referenced) !== 0) {
    p.flags[pfn]! &= ~PG_referenced;
    referenced++;
  }
  if (p.mapcount[pfn] === 0 || p.mapping[pfn] === 0) return referenced;
  const anon = (p.flags[pfn]! & PG_anon) !== 0;
  let mapcount = p.mapcount[pfn]!;
  const lock = rmapLock(k, pfn);
  if (lock !== null) yield* spinLock(k, lock);
  for (const vma of rmapVmas(k, pfn)) {
    if (!anon && (vma.vmFlags & (VM_LOCKED | VM_MAYSHARE)) === (VM_LOCKED | VM_MAYSHARE)) {
      referenced++;
      break;
    }
    if ((vma.vmFlags & VM_NONLINEAR) !== 0) continue;
    const addr = vmaAddress(k, pfn, vma);
    if (addr < 0) continue;
    // page_check_address, inline: an anon_vma shared by many forked
    // processes makes this the walk's per-VMA step
    const pte = lookupPteTable(k, vma.mm, addr);
    if (pte === 0) continue;
    if (!k.ptl.tryLock(k, pte)) yield* ptlLockSlow(k, k.ptl, pte);
    if (pteMapsPage(k, pfn, addr, pte) < 0) continue;
    if (yield* k.seams.ptepClearFlushYoung(k, vma, addr, pte)) referenced++;
    k.ptl.unlock(k, pte);
    if (--mapcount === 0) break;
  }
  lock?.unlock(k);
  return referenced;
}

/**
 * `try_to_unmap_one()`: unmap `pfn` from one VMA unless mlocked or young;
 * an anonymous page leaves a swap entry behind.
 */
function* tryToUnmapOne(k: Kernel, pfn: number, vma: Vma): KGen<number> {
  const addr = vmaAddress(k, pfn, vma);
  if (addr < 0) return SWAP_AGAIN;
  const pte = yield* pageCheckAddress(k, pfn, vma, addr);
  if (pte === null) return SWAP_AGAIN;
  const { a, b } = pte;
  if ((vma.vmFlags & VM_LOCKED) !== 0 || (yield* k.seams.ptepClearFlushYoung(k, vma, addr, pte.pte))) {
    k.ptl.unlock(k, pte.pte);
    return SWAP_FAIL;
  }
  const mm = vma.mm;
  const f = a[b]!;
  yield* k.seams.ptepClearFlush(k, vma, addr, pte.pte);
  const p = k.pages;
  if ((f & _PAGE_DIRTY) !== 0) p.flags[pfn]! |= PG_dirty;
  updateHiwaterRss(mm);
  if ((p.flags[pfn]! & PG_anon) !== 0) {
    if ((p.flags[pfn]! & PG_swapcache) === 0) throw new Error(`try_to_unmap of anonymous page ${pfn} not in the swap cache`);
    const slot = p.private[pfn]!;
    swapDuplicate(k, slot);
    addRss(k, mm, pte.pte, -1, 0);
    a[b] = _PAGE_SWP;
    a[b + 1] = slot;
  } else {
    addRss(k, mm, pte.pte, 0, -1);
  }
  pageRemoveRmap(k, pfn);
  putPage(k, pfn);
  k.ptl.unlock(k, pte.pte);
  return SWAP_AGAIN;
}

/**
 * `try_to_unmap()`: unmap the page from every VMA that maps it, under the
 * anon_vma lock or `i_mmap_lock`.
 * @see mm/rmap.c try_to_unmap, try_to_unmap_anon, try_to_unmap_file
 */
export function* tryToUnmap(k: Kernel, pfn: number): KGen<number> {
  let ret = SWAP_AGAIN;
  const lock = rmapLock(k, pfn);
  if (lock !== null) yield* spinLock(k, lock);
  for (const vma of rmapVmas(k, pfn).slice()) {
    ret = yield* tryToUnmapOne(k, pfn, vma);
    if (ret === SWAP_FAIL || k.pages.mapcount[pfn] === 0) break;
  }
  if (ret !== SWAP_FAIL && k.pages.mapcount[pfn]! > 0 && (k.pages.flags[pfn]! & PG_anon) === 0) {
    const f = k.files.get(k.pages.mapping[pfn]!);
    if (f !== undefined) ret = yield* tryToUnmapNonlinear(k, pfn, f.iMmapNonlinear);
  }
  lock?.unlock(k);
  if (k.pages.mapcount[pfn] === 0) ret = SWAP_SUCCESS;
  return ret;
}

/**
 * `try_to_unmap_nonlinear()`: a page-cache page may sit anywhere in a
 * nonlinear VMA, so scan them; a mapping that is not young is replaced by a
 * file PTE keeping the page's offset (the kernel scans clusters with a
 * cursor and unmaps every page it meets; the model unmaps only this page).
 */
function* tryToUnmapNonlinear(k: Kernel, pfn: number, vmas: readonly Vma[]): KGen<number> {
  for (const vma of vmas) if ((vma.vmFlags & VM_LOCKED) !== 0) return SWAP_FAIL;
  const p = k.pages;
  for (const vma of vmas.slice()) {
    for (let addr = vma.vmStart; addr < vma.vmEnd && p.mapcount[pfn]! > 0; addr += PAGE_SIZE) {
      const pte = yield* pageCheckAddress(k, pfn, vma, addr);
      if (pte === null) continue;
      const { a, b } = pte;
      if (yield* k.seams.ptepClearFlushYoung(k, vma, addr, pte.pte)) {
        k.ptl.unlock(k, pte.pte);
        continue;
      }
      const f = a[b]!;
      yield* k.seams.ptepClearFlush(k, vma, addr, pte.pte);
      if (p.index[pfn] !== (addr - vma.vmStart) / PAGE_SIZE + vma.vmPgoff) {
        a[b] = _PAGE_FILE;
        a[b + 1] = p.index[pfn]!;
      }
      if ((f & _PAGE_DIRTY) !== 0) p.flags[pfn]! |= PG_dirty;
      addRss(k, vma.mm, pte.pte, 0, -1);
      pageRemoveRmap(k, pfn);
      putPage(k, pfn);
      k.ptl.unlock(k, pte.pte);
    }
  }
  return SWAP_AGAIN;
}
