/**
 * mlock and munlock: set or clear VM_LOCKED over a range (splitting and
 * merging VMAs) and fault the pages in. Reclaim leaves VM_LOCKED pages
 * alone (`try_to_unmap_one` fails on them).
 * @see mm/mlock.c sys_mlock, do_mlock, mlock_fixup
 * @module
 */
import { EINVAL, ENOMEM } from '../errno.js';
import { PAGE_SIZE } from '../pgtable/entry.js';
import type { Kernel } from '../kernel/kernel.js';
import type { KGen } from '../sched/run.js';
import { makePagesPresent } from './gup.js';
import { type MmStruct, type Vma, VM_IO, VM_LOCKED, VM_PFNMAP } from './types.js';
import { findVmaPrev, splitVma, vmaMerge, vmaNext } from './vma.js';

/**
 * `mlock_fixup()`: give [start, end) of `vma` the flags `newflags`,
 * merging or splitting; lock faults the pages in.
 */
function* mlockFixup(k: Kernel, vma: Vma, pprev: { prev: Vma | null }, start: number, end: number, newflags: number): KGen<number> {
  const mm = vma.mm;
  if (newflags === vma.vmFlags || (vma.vmFlags & (VM_IO | VM_PFNMAP)) !== 0) {
    pprev.prev = vma;
    return 0;
  }
  const pgoff = vma.vmPgoff + (start - vma.vmStart) / PAGE_SIZE;
  const merged = yield* vmaMerge(k, mm, pprev.prev, start, end, newflags, vma.anonVma, vma.vmFile, pgoff);
  if (merged !== null) {
    vma = merged;
  } else {
    if (start !== vma.vmStart) {
      const r = yield* splitVma(k, mm, vma, start, true);
      if (typeof r === 'number') return r;
    }
    if (end !== vma.vmEnd) {
      const r = yield* splitVma(k, mm, vma, end, false);
      if (typeof r === 'number') return r;
    }
  }
  pprev.prev = vma;
  vma.vmFlags = newflags;
  const pages = (end - start) / PAGE_SIZE;
  if ((newflags & VM_LOCKED) !== 0) {
    mm.lockedVm += pages;
    yield* makePagesPresent(k, mm, start, end);
  } else {
    mm.lockedVm -= pages;
  }
  return 0;
}

/**
 * `do_mlock()` as `sys_mlock` / `sys_munlock` call it: the range is
 * widened to whole pages first. Returns 0 or a negative errno.
 * @see mm/mlock.c do_mlock
 */
export function* doMlock(k: Kernel, mm: MmStruct, start: number, len: number, on: boolean): KGen<number> {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(len) || start < 0 || len < 0) return -EINVAL;
  len = Math.ceil((len + (start % PAGE_SIZE)) / PAGE_SIZE) * PAGE_SIZE;
  start = Math.floor(start / PAGE_SIZE) * PAGE_SIZE;
  const end = start + len;
  if (end === start) return 0;
  const found = findVmaPrev(mm, start);
  let vma = found.vma;
  const pprev = { prev: found.prev };
  if (vma === null || vma.vmStart > start) return -ENOMEM;
  if (start > vma.vmStart) pprev.prev = vma;
  for (let nstart = start; ; ) {
    const newflags = (vma.vmFlags & ~VM_LOCKED) | (on ? VM_LOCKED : 0);
    const tmp = Math.min(vma.vmEnd, end);
    const err = yield* mlockFixup(k, vma, pprev, nstart, tmp, newflags);
    if (err !== 0) return err;
    const prev = pprev.prev!;
    nstart = tmp;
    if (nstart < prev.vmEnd) nstart = prev.vmEnd;
    if (nstart >= end) return 0;
    const nv = vmaNext(mm, prev);
    if (nv === null || nv.vmStart !== nstart) return -ENOMEM;
    vma = nv;
  }
}
