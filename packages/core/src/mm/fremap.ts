/**
 * Nonlinear file mappings: `remap_file_pages()`.
 *
 * The VMA becomes VM_NONLINEAR (moving from the file's `i_mmap` to
 * `i_mmap_nonlinear`), and each page of the range gets a file PTE
 * (`pgoff_to_pte`) naming the file offset it shows; faults resolve those
 * through `do_nonlinear_fault`. Reclaim and truncation must treat such
 * VMAs specially, which is why the in-place gather RFC and the shared page
 * tables patch both excluded them.
 * @see mm/fremap.c sys_remap_file_pages, populate_range, install_file_pte, zap_pte
 * @module
 */
import { EINVAL, ENOMEM } from '../errno.js';
import { _PAGE_DIRTY, _PAGE_FILE, _PAGE_SWP, PAGE_SIZE, pteIndex, ptePresent } from '../pgtable/entry.js';
import { PG_dirty } from '../mem/page.js';
import type { Kernel } from '../kernel/kernel.js';
import { makePagesPresent } from './gup.js';
import { linearPageIndex, pageRemoveRmap, pageAnon, putPage } from './page-ref.js';
import { pteAllocMap } from './pgalloc.js';
import { addRss } from './pt-share.js';
import { freeSwapAndCache } from './swapfile.js';
import { ptlLockSlow } from '../sched/lock.js';
import type { KGen } from '../sched/run.js';
import { type MmStruct, type Vma, VM_CAN_NONLINEAR, VM_NONLINEAR, VM_SHARED } from './types.js';
import { findVma, unlinkFileVma, vmaLinkFile } from './vma.js';
import { updateHiwaterRss } from './mmap.js';

/** `MAP_NONBLOCK`: do not fault the pages in afterwards. */
export const MAP_NONBLOCK = 0x10000;

/**
 * `zap_pte()`: clear whatever the PTE at `addr` holds before a file PTE is
 * installed there.
 */
function* zapPte(k: Kernel, vma: Vma, addr: number, pte: number, a: Uint32Array, b: number): KGen<void> {
  const f = a[b]!;
  if (f === 0 && a[b + 1] === 0) return;
  const mm = vma.mm;
  if (ptePresent(f)) {
    const pfn = k.seams.vmNormalPage(k, vma, addr, f, a[b + 1]!);
    yield* k.seams.ptepClearFlush(k, vma, addr, pte);
    if (pfn !== 0) {
      if ((f & _PAGE_DIRTY) !== 0) k.pages.flags[pfn]! |= PG_dirty;
      updateHiwaterRss(mm);
      if (pageAnon(k, pfn)) addRss(k, mm, pte, -1, 0);
      else addRss(k, mm, pte, 0, -1);
      pageRemoveRmap(k, pfn);
      putPage(k, pfn);
    }
  } else {
    if ((f & _PAGE_SWP) !== 0) freeSwapAndCache(k, a[b + 1]!);
    a[b] = 0;
    a[b + 1] = 0;
  }
}

/**
 * `populate_range()` → `install_file_pte()`: point each page of
 * [addr, addr+size) at file offset `pgoff` onwards with a file PTE.
 * @see mm/fremap.c populate_range, install_file_pte
 */
export function* populateRange(k: Kernel, vma: Vma, addr: number, size: number, pgoff: number): KGen<number> {
  const mm = vma.mm;
  for (let i = 0; i < size / PAGE_SIZE; i++) {
    const a0 = addr + i * PAGE_SIZE;
    const pte = yield* pteAllocMap(k, mm, a0);
    if (pte === 0) return -ENOMEM;
    const a = k.tables.arr(pte);
    const b = k.tables.base(pte) + pteIndex(a0) * 2;
    // install_file_pte: get_locked_pte
    if (!k.ptl.tryLock(k, pte)) yield* ptlLockSlow(k, k.ptl, pte);
    yield* zapPte(k, vma, a0, pte, a, b);
    a[b] = _PAGE_FILE;
    a[b + 1] = pgoff + i;
    k.ptl.unlock(k, pte);
  }
  return 0;
}

/**
 * `sys_remap_file_pages()`: show file pages from `pgoff` at
 * [start, start+size) of a shared file VMA. Returns 0 or a negative errno.
 * @see mm/fremap.c sys_remap_file_pages
 */
export function* sysRemapFilePages(k: Kernel, mm: MmStruct, start: number, size: number, prot: number, pgoff: number, flags: number): KGen<number> {
  if (prot !== 0) return -EINVAL;
  if (![start, size, pgoff].every((v) => Number.isSafeInteger(v) && v >= 0)) return -EINVAL;
  start = Math.floor(start / PAGE_SIZE) * PAGE_SIZE;
  size = Math.floor(size / PAGE_SIZE) * PAGE_SIZE;
  const end = start + size;
  if (end <= start) return -EINVAL;
  if (pgoff + size / PAGE_SIZE >= 2 ** 32) return -EINVAL;
  const vma = findVma(mm, start);
  if (
    vma === null ||
    (vma.vmFlags & VM_SHARED) === 0 ||
    (vma.vmFlags & VM_CAN_NONLINEAR) === 0 ||
    vma.vmFile === null ||
    start < vma.vmStart ||
    end > vma.vmEnd
  ) {
    return -EINVAL;
  }
  if ((vma.vmFlags & VM_NONLINEAR) === 0) {
    // no nonlinear mapping needed when the offsets are the linear ones
    if (pgoff === linearPageIndex(vma, start)) return 0;
    yield* k.seams.vmaChange(k, vma, start, end, 'remap_file_pages');
    yield* unlinkFileVma(k, vma);
    vma.vmFlags |= VM_NONLINEAR;
    yield* vmaLinkFile(k, vma);
  }
  const err = yield* populateRange(k, vma, start, size, pgoff);
  if (err !== 0) return err;
  if ((flags & MAP_NONBLOCK) === 0) yield* makePagesPresent(k, mm, start, end);
  return 0;
}
