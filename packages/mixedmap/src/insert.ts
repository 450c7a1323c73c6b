/**
 * Inserting pfns into a VM_MIXEDMAP VMA: `vm_insert_mixed` for drivers and
 * the XIP file, with its two halves `insert_page` (a refcounted struct
 * page: reference, mapcount, file RSS) and `insert_pfn` (a raw pfn, marked
 * special where the kernel has the bit).
 * @see mm/memory.c vm_insert_mixed, insert_page, insert_pfn (2.6.25)
 * @module
 */
import { addRss, EBUSY, EFAULT, ENOMEM, getPage, type Kernel, type KGen, pageAddFileRmap, pteAllocMap, pteIndex, ptlLockSlow, type Vma, VM_MIXEDMAP } from '@mmlab/core';
import { pteSpecialInUse } from './normal-page.js';

/**
 * The PTE for `addr` in `vma`'s mm, allocated if needed, locked and empty:
 * returns its table and the entry's word offset, or a negative errno (-ENOMEM,
 * or -EBUSY with the lock dropped when something is mapped there already).
 */
function* lockEmptyPte(k: Kernel, vma: Vma, addr: number): KGen<{ pte: number; b: number } | number> {
  const pte = yield* pteAllocMap(k, vma.mm, addr);
  if (pte === 0) return -ENOMEM;
  const t = k.tables.arr(pte);
  const b = k.tables.base(pte) + pteIndex(addr) * 2;
  if (!k.ptl.tryLock(k, pte)) yield* ptlLockSlow(k, k.ptl, pte);
  if (t[b] !== 0 || t[b + 1] !== 0) {
    k.ptl.unlock(k, pte);
    return -EBUSY;
  }
  return { pte, b };
}

/**
 * `insert_page()`: map refcounted page `page` at `addr` with the VMA's
 * protection: a reference and a mapcount for the PTE, counted as a file
 * page. Unlike `vm_insert_page` it leaves VM_INSERTPAGE alone. 0 or a
 * negative errno.
 * @see mm/memory.c insert_page
 */
export function* insertPage(k: Kernel, vma: Vma, addr: number, page: number): KGen<number> {
  const at = yield* lockEmptyPte(k, vma, addr);
  if (typeof at === 'number') return at;
  getPage(k, page);
  addRss(k, vma.mm, at.pte, 0, 1);
  pageAddFileRmap(k, page);
  const t = k.tables.arr(at.pte);
  t[at.b] = vma.vmPageProt;
  t[at.b + 1] = page;
  k.ptl.unlock(k, at.pte);
  return 0;
}

/**
 * `insert_pfn()`: map raw pfn `pfn` at `addr` with the VMA's protection,
 * through the `pfnPte` seam (which sets `_PAGE_SPECIAL` where the kernel
 * has the bit); no reference, no RSS. 0 or a negative errno.
 * @see mm/memory.c insert_pfn
 */
export function* insertPfn(k: Kernel, vma: Vma, addr: number, pfn: number): KGen<number> {
  const at = yield* lockEmptyPte(k, vma, addr);
  if (typeof at === 'number') return at;
  const t = k.tables.arr(at.pte);
  t[at.b] = k.seams.pfnPte(k, vma, addr, pfn, vma.vmPageProt);
  t[at.b + 1] = pfn;
  k.ptl.unlock(k, at.pte);
  return 0;
}

/**
 * `vm_insert_mixed()`: map `pfn` at `addr` of a VM_MIXEDMAP VMA. Without
 * `pte_special` a `pfn_valid()` pfn is inserted as its refcounted page
 * (`insert_page`), any other as a raw pfn; with the bit every pfn goes in
 * as a special raw pfn, refcounted or not. Returns 0, -EFAULT (outside the
 * VMA), -ENOMEM or -EBUSY (the PTE is not empty).
 * @see mm/memory.c vm_insert_mixed
 */
export function* vmInsertMixed(k: Kernel, vma: Vma, addr: number, pfn: number): KGen<number> {
  if ((vma.vmFlags & VM_MIXEDMAP) === 0) throw new Error('vm_insert_mixed needs a VM_MIXEDMAP VMA (BUG_ON in the kernel)');
  if (addr < vma.vmStart || addr >= vma.vmEnd) return -EFAULT;
  if (!pteSpecialInUse(k) && k.mem.pfnValid(pfn)) return yield* insertPage(k, vma, addr, pfn);
  return yield* insertPfn(k, vma, addr, pfn);
}
