/**
 * Driver mappings: `remap_pfn_range` (VM_PFNMAP, raw pfns, the linearity
 * rule for COW), `vm_insert_page` (VM_INSERTPAGE, refcounted driver
 * pages), `vm_insert_pfn` and the `->nopfn` fault path.
 * @see mm/memory.c remap_pfn_range, vm_insert_page, insert_page, vm_insert_pfn, do_no_pfn
 * @module
 */
import { EBUSY, EFAULT, EINVAL, ENOMEM } from '../errno.js';
import { _PAGE_DIRTY, _PAGE_RW, PAGE_SIZE, pteIndex } from '../pgtable/entry.js';
import type { Kernel } from '../kernel/kernel.js';
import { ptlLockSlow } from '../sched/lock.js';
import type { KGen } from '../sched/run.js';
import { VM_FAULT_MINOR, VM_FAULT_OOM, VM_FAULT_SIGBUS } from './fault.js';
import { getPage, pageAddFileRmap, pageAnon } from './page-ref.js';
import { pteAllocMap } from './pgalloc.js';
import { addRss } from './pt-share.js';
import { type MmStruct, type Vma, VM_INSERTPAGE, VM_IO, VM_PFNMAP, VM_RESERVED, VM_WRITE, isCowMapping } from './types.js';

/**
 * Baseline `pfnPte` seam: `pfn_pte(pfn, prot)` where a raw pfn is mapped
 * (`remap_pte_range`, `vm_insert_pfn`, `do_no_pfn`): the PTE's flags word
 * is the protection as given. 2.6.24 has no `pte_special`, so nothing
 * marks such a PTE; the VMA's flags (VM_PFNMAP and the linearity rule)
 * are all `vm_normal_page` has to go on.
 * @see mm/memory.c remap_pte_range, vm_insert_pfn, do_no_pfn
 */
export function basePfnPte(_k: Kernel, _vma: Vma, _addr: number, _pfn: number, prot: number): number {
  return prot;
}

/** `->nopfn` result: out of memory. */
export const NOPFN_OOM = -1;
/** `->nopfn` result: SIGBUS. */
export const NOPFN_SIGBUS = -2;

/**
 * `remap_pfn_range()`: map `size` bytes of raw pfns from `pfn` at `addr`.
 * A COW mapping must be mapped whole and gets `vm_pgoff = pfn`, so that
 * `vm_normal_page` can tell the raw pfns (linear) from COWed pages.
 * Returns 0 or a negative errno.
 */
export function* remapPfnRange(k: Kernel, vma: Vma, addr: number, pfn: number, size: number, prot: number): KGen<number> {
  const end = addr + Math.ceil(size / PAGE_SIZE) * PAGE_SIZE;
  if (isCowMapping(vma.vmFlags)) {
    if (addr !== vma.vmStart || end !== vma.vmEnd) return -EINVAL;
    vma.vmPgoff = pfn;
  }
  vma.vmFlags |= VM_IO | VM_RESERVED | VM_PFNMAP;
  for (let a = addr, p = pfn; a < end; a += PAGE_SIZE, p++) {
    const pte = yield* pteAllocMap(k, vma.mm, a);
    if (pte === 0) return -ENOMEM;
    const t = k.tables.arr(pte);
    const b = k.tables.base(pte) + pteIndex(a) * 2;
    if (!k.ptl.tryLock(k, pte)) yield* ptlLockSlow(k, k.ptl, pte);
    t[b] = k.seams.pfnPte(k, vma, a, p, prot);
    t[b + 1] = p;
    k.ptl.unlock(k, pte);
  }
  k.charge(((end - addr) / PAGE_SIZE) * k.costs.copyPte);
  return 0;
}

/**
 * `vm_insert_page()`: map a driver's refcounted page (not anonymous) at
 * `addr`; it counts as a file page (file_rss, mapcount). 0, -EFAULT,
 * -EINVAL or -EBUSY.
 */
export function* vmInsertPage(k: Kernel, vma: Vma, addr: number, page: number): KGen<number> {
  if (addr < vma.vmStart || addr >= vma.vmEnd) return -EFAULT;
  if (k.pages.count[page] === 0 || pageAnon(k, page)) return -EINVAL;
  vma.vmFlags |= VM_INSERTPAGE;
  const mm = vma.mm;
  const pte = yield* pteAllocMap(k, mm, addr);
  if (pte === 0) return -ENOMEM;
  const t = k.tables.arr(pte);
  const b = k.tables.base(pte) + pteIndex(addr) * 2;
  if (!k.ptl.tryLock(k, pte)) yield* ptlLockSlow(k, k.ptl, pte);
  if (t[b] !== 0 || t[b + 1] !== 0) {
    k.ptl.unlock(k, pte);
    return -EBUSY;
  }
  getPage(k, page);
  addRss(k, mm, pte, 0, 1);
  pageAddFileRmap(k, page);
  t[b] = vma.vmPageProt;
  t[b + 1] = page;
  k.ptl.unlock(k, pte);
  return 0;
}

/**
 * `vm_insert_pfn()`: map one raw pfn into a VM_PFNMAP, non-COW VMA.
 */
export function* vmInsertPfn(k: Kernel, vma: Vma, addr: number, pfn: number): KGen<number> {
  if ((vma.vmFlags & VM_PFNMAP) === 0 || isCowMapping(vma.vmFlags)) throw new Error('vm_insert_pfn needs a shared VM_PFNMAP mapping (BUG_ON in the kernel)');
  if (addr < vma.vmStart || addr >= vma.vmEnd) return -EFAULT;
  const pte = yield* pteAllocMap(k, vma.mm, addr);
  if (pte === 0) return -ENOMEM;
  const t = k.tables.arr(pte);
  const b = k.tables.base(pte) + pteIndex(addr) * 2;
  if (!k.ptl.tryLock(k, pte)) yield* ptlLockSlow(k, k.ptl, pte);
  const busy = t[b] !== 0 || t[b + 1] !== 0;
  if (!busy) {
    t[b] = k.seams.pfnPte(k, vma, addr, pfn, vma.vmPageProt);
    t[b + 1] = pfn;
  }
  k.ptl.unlock(k, pte);
  return busy ? -EBUSY : 0;
}

/**
 * `do_no_pfn()`: a fault on an empty PTE of a VMA whose driver supplies
 * raw pfns through `->nopfn`.
 */
export function* doNoPfn(k: Kernel, _mm: MmStruct, vma: Vma, address: number, pte: number, write: boolean): KGen<number> {
  if (isCowMapping(vma.vmFlags)) throw new Error('do_no_pfn on a COW mapping (BUG_ON in the kernel)');
  const pfn = vma.vmOps!.nopfn!(vma, Math.floor(address / PAGE_SIZE) * PAGE_SIZE);
  if (pfn === NOPFN_OOM) return VM_FAULT_OOM;
  if (pfn === NOPFN_SIGBUS) return VM_FAULT_SIGBUS;
  const a = k.tables.arr(pte);
  const b = k.tables.base(pte) + pteIndex(address) * 2;
  if (!k.ptl.tryLock(k, pte)) yield* ptlLockSlow(k, k.ptl, pte);
  if (a[b] === 0 && a[b + 1] === 0) {
    let f = vma.vmPageProt;
    if (write) {
      f |= _PAGE_DIRTY;
      if ((vma.vmFlags & VM_WRITE) !== 0) f |= _PAGE_RW;
    }
    a[b] = k.seams.pfnPte(k, vma, address, pfn, f);
    a[b + 1] = pfn;
  }
  k.ptl.unlock(k, pte);
  k.charge(k.costs.fileFaultRest);
  return VM_FAULT_MINOR;
}
