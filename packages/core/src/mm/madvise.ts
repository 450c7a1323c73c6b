/**
 * madvise(MADV_DONTNEED): `zap_page_range` over each VMA of the range; the
 * page tables stay.
 * @see mm/madvise.c madvise_dontneed, mm/memory.c zap_page_range
 * @module
 */
import { EINVAL, ENOMEM } from '../errno.js';
import { PAGE_SIZE, pageAlign } from '../pgtable/entry.js';
import type { KGen } from '../sched/run.js';
import type { Kernel } from '../kernel/kernel.js';
import { updateHiwaterRss } from './mmap.js';
import { MADV_DONTNEED, MADV_NORMAL, type MmStruct, type Vma, VM_HUGETLB, VM_LOCKED, VM_PFNMAP } from './types.js';
import { findVma, vmaNext } from './vma.js';
import { unmapVmas, type ZapDetails } from './zap.js';

/**
 * `zap_page_range()`: unmap the pages of [address, address+size) in one
 * VMA with a gather; page tables are not freed.
 * @see mm/memory.c zap_page_range
 */
export function* zapPageRange(k: Kernel, vma: Vma, address: number, size: number, details: ZapDetails | null = null): KGen<void> {
  const mm = vma.mm;
  let tlb = k.seams.tlbGather.begin(k, mm, false);
  updateHiwaterRss(mm);
  tlb = yield* unmapVmas(k, tlb, [vma], address, address + size, details);
  yield* k.seams.tlbGather.finish(k, tlb);
}

/**
 * `sys_madvise()` for `MADV_DONTNEED` and `MADV_NORMAL`. Returns 0 or a
 * negative errno (ENOMEM when part of the range is unmapped, as the kernel
 * reports after advising the mapped parts). `onZap` hears of each range
 * zapped.
 * @see mm/madvise.c sys_madvise
 */
export function* sysMadvise(k: Kernel, mm: MmStruct, start: number, len: number, advice: number, onZap?: (start: number, end: number) => void): KGen<number> {
  if (advice !== MADV_DONTNEED && advice !== MADV_NORMAL) return -EINVAL;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(len) || start < 0 || len < 0) return -EINVAL;
  if (start % PAGE_SIZE !== 0) return -EINVAL;
  len = pageAlign(len);
  const end = start + len;
  if (end < start) return -EINVAL;
  if (end === start) return 0;
  let unmappedError = 0;
  let vma = findVma(mm, start);
  for (;;) {
    if (vma === null) return -ENOMEM;
    if (start < vma.vmStart) {
      unmappedError = -ENOMEM;
      start = vma.vmStart;
      if (start >= end) return unmappedError;
    }
    const tmp = Math.min(vma.vmEnd, end);
    if (advice === MADV_DONTNEED) {
      if ((vma.vmFlags & (VM_LOCKED | VM_HUGETLB | VM_PFNMAP)) !== 0) return -EINVAL;
      yield* zapPageRange(k, vma, start, tmp - start);
      onZap?.(start, tmp);
    }
    start = tmp;
    if (start >= end) return unmappedError;
    vma = vmaNext(mm, vma);
  }
}
