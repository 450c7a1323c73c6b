/**
 * mremap: `sys_mremap`, `move_vma`, `copy_vma`, `move_page_tables`.
 * @see mm/mremap.c, mm/mmap.c copy_vma
 * @module
 */
import { EFAULT, EINVAL, ENOMEM } from '../errno.js';
import { PAGE_SIZE, PMD_SIZE, TASK_SIZE, alignDown, pageAlign, pteIndex } from '../pgtable/entry.js';
import type { KGen } from '../sched/run.js';
import type { Kernel } from '../kernel/kernel.js';
import { doMunmap, getUnmappedArea } from './mmap.js';
import { lookupPteTable, pteAllocMap } from './pgalloc.js';
import { ptlLockSlow } from '../sched/lock.js';
import { makePagesPresent } from './gup.js';
import { vmaSlotsMremap } from '../seams/slots.js';
import {
  MAP_SHARED,
  MREMAP_FIXED,
  MREMAP_MAYMOVE,
  type MmStruct,
  type Vma,
  VM_DONTEXPAND,
  VM_LOCKED,
  VM_MAYSHARE,
  VM_PFNMAP,
} from './types.js';
import { findVma, findVmaPrev, vmaAdjust, vmaLink, vmaMerge, vmaNext } from './vma.js';

/** What {@link copyVma} returns. */
export interface CopyVmaResult {
  /** The VMA at the destination. */
  newVma: Vma;
  /** The source VMA (possibly merged into the new one). */
  vma: Vma;
}

/** `LATENCY_LIMIT`: PTEs moved between reschedule points. */
const LATENCY_LIMIT = 64 * PAGE_SIZE;

/**
 * `copy_vma()`: a VMA for the destination of a move, merged with a
 * neighbour when possible. An anonymous VMA without an anon_vma takes the
 * new address as its pgoff. Returns the new VMA and the (possibly merged)
 * source.
 * @see mm/mmap.c copy_vma
 */
export function* copyVma(k: Kernel, vma: Vma, addr: number, len: number, pgoff: number): KGen<CopyVmaResult> {
  const mm = vma.mm;
  if (vma.vmFile === null && vma.anonVma === null) pgoff = addr / PAGE_SIZE;
  const vmaStart = vma.vmStart;
  const { prev } = findVmaPrev(mm, addr);
  const moved = vmaSlotsMremap(k, vma);
  const merged = yield* vmaMerge(k, mm, prev, addr, addr + len, vma.vmFlags, vma.anonVma, vma.vmFile, pgoff, moved);
  if (merged !== null) {
    // the source may have been merged into the new VMA
    if (vmaStart >= merged.vmStart && vmaStart < merged.vmEnd) vma = merged;
    return { newVma: merged, vma };
  }
  const nv = vma.clone();
  nv.vmStart = addr;
  nv.vmEnd = addr + len;
  nv.vmPgoff = pgoff;
  nv.ext = moved;
  yield* vmaLink(k, mm, nv);
  k.charge(k.costs.vmaOp);
  return { newVma: nv, vma };
}

/**
 * `move_ptes()`: move the PTEs of [oldAddr, oldEnd) to newAddr, each with
 * `ptep_clear_flush` (2.6.24 flushed every moved PTE; the `ptepClearFlush`
 * seam).
 */
function* movePtes(k: Kernel, vma: Vma, oldPte: number, oldAddr: number, oldEnd: number, newPte: number, newAddr: number): KGen<number> {
  // the old table's lock, then the new one's nested (if it is another table)
  if (!k.ptl.tryLock(k, oldPte)) yield* ptlLockSlow(k, k.ptl, oldPte);
  if (newPte !== oldPte && !k.ptl.tryLock(k, newPte)) yield* ptlLockSlow(k, k.ptl, newPte);
  const oa = k.tables.arr(oldPte);
  let ob = k.tables.base(oldPte) + pteIndex(oldAddr) * 2;
  const na = k.tables.arr(newPte);
  let nb = k.tables.base(newPte) + pteIndex(newAddr) * 2;
  let moved = 0;
  for (; oldAddr < oldEnd; oldAddr += PAGE_SIZE, ob += 2, nb += 2) {
    const f = oa[ob]!;
    const v = oa[ob + 1]!;
    if (f === 0 && v === 0) continue;
    yield* k.seams.ptepClearFlush(k, vma, oldAddr, oldPte);
    na[nb] = f;
    na[nb + 1] = v;
    moved++;
  }
  if (newPte !== oldPte) k.ptl.unlock(k, newPte);
  k.ptl.unlock(k, oldPte);
  k.charge(moved * k.costs.movePte);
  return moved;
}

/**
 * `move_page_tables()`: move [oldAddr, oldAddr+len) PMD by PMD, allocating
 * destination tables as needed; bracketed by the `rangeBegin`/`rangeEnd`
 * events on the old range. Returns the length moved.
 * @see mm/mremap.c move_page_tables
 */
export function* movePageTables(k: Kernel, vma: Vma, oldAddr: number, newAddr: number, len: number): KGen<number> {
  const mm = vma.mm;
  const oldEnd = oldAddr + len;
  const oldStart = oldAddr;
  yield* k.seams.rangeBegin(k, mm, oldStart, oldEnd, 'mremap');
  let moved = 0;
  let extent: number;
  for (; oldAddr < oldEnd; oldAddr += extent, newAddr += extent) {
    yield* k.condResched();
    let next = alignDown(oldAddr + PMD_SIZE, PMD_SIZE);
    if (next - 1 > oldEnd) next = oldEnd;
    extent = next - oldAddr;
    const oldPte = lookupPteTable(k, mm, oldAddr);
    if (oldPte === 0) continue;
    const newPte = yield* pteAllocMap(k, mm, newAddr);
    if (newPte === 0) break;
    const nnext = alignDown(newAddr + PMD_SIZE, PMD_SIZE);
    if (extent > nnext - newAddr) extent = nnext - newAddr;
    if (extent > LATENCY_LIMIT) extent = LATENCY_LIMIT;
    moved += yield* movePtes(k, vma, oldPte, oldAddr, oldAddr + extent, newPte, newAddr);
  }
  yield* k.seams.rangeEnd(k, mm, oldStart, oldEnd, 'mremap');
  k.vm.mmlab_mremap_pte += moved;
  return len + oldAddr - oldEnd;
}

/**
 * `move_vma()`: copy the VMA to `newAddr`, move its page tables, then
 * unmap the old range. Returns the new address or a negative errno.
 * @see mm/mremap.c move_vma
 */
export function* moveVma(k: Kernel, vma: Vma, oldAddr: number, oldLen: number, newLen: number, newAddr: number): KGen<number> {
  const mm = vma.mm;
  if (mm.mapCount >= k.maxMapCount - 3) return -ENOMEM;
  const newPgoff = vma.vmPgoff + (oldAddr - vma.vmStart) / PAGE_SIZE;
  yield* k.seams.vmaChange(k, vma, oldAddr, oldAddr + oldLen, 'move');
  const c = yield* copyVma(k, vma, newAddr, newLen, newPgoff);
  vma = c.vma;
  // a special VMA moves its tables its own way (do_mremap refused the others)
  const special = k.seams.specialVmaOps(vma);
  const movedLen = special?.movePageTables !== undefined ? yield* special.movePageTables(k, vma, oldAddr, newAddr, oldLen) : yield* movePageTables(k, vma, oldAddr, newAddr, oldLen);
  if (movedLen < oldLen) {
    // out of memory part way: move back what was moved, unmap the new range
    if (special?.movePageTables !== undefined) yield* special.movePageTables(k, c.newVma, newAddr, oldAddr, movedLen);
    else yield* movePageTables(k, c.newVma, newAddr, oldAddr, movedLen);
    yield* doMunmap(k, mm, newAddr, newLen);
    return -ENOMEM;
  }
  const locked = (vma.vmFlags & VM_LOCKED) !== 0;
  // the new range counts before do_munmap takes the old one off
  mm.totalVm += newLen / PAGE_SIZE;
  if (locked) mm.lockedVm += newLen / PAGE_SIZE;
  yield* doMunmap(k, mm, oldAddr, oldLen);
  if (locked && newLen > oldLen) yield* makePagesPresent(k, mm, newAddr + oldLen, newAddr + newLen);
  return newAddr;
}

/**
 * `sys_mremap()` / `do_mremap()`. Returns the (new) address or a negative
 * errno.
 * @see mm/mremap.c do_mremap
 */
export function* sysMremap(k: Kernel, mm: MmStruct, addr: number, oldLen: number, newLen: number, flags: number, newAddr: number): KGen<number> {
  if ((flags & ~(MREMAP_FIXED | MREMAP_MAYMOVE)) !== 0) return -EINVAL;
  for (const v of [addr, oldLen, newLen, newAddr]) if (!Number.isSafeInteger(v) || v < 0) return -EINVAL;
  if (addr % PAGE_SIZE !== 0) return -EINVAL;
  oldLen = pageAlign(oldLen);
  newLen = pageAlign(newLen);
  if (newLen === 0) return -EINVAL;
  if ((flags & MREMAP_FIXED) !== 0) {
    if (newAddr % PAGE_SIZE !== 0) return -EINVAL;
    if ((flags & MREMAP_MAYMOVE) === 0) return -EINVAL;
    if (newLen > TASK_SIZE || newAddr > TASK_SIZE - newLen) return -EINVAL;
    if (newAddr <= addr && newAddr + newLen > addr) return -EINVAL;
    if (addr <= newAddr && addr + oldLen > newAddr) return -EINVAL;
    const r = yield* doMunmap(k, mm, newAddr, newLen);
    if (r !== 0) return r;
  }
  // Always allow a shrinking remap
  if (oldLen >= newLen) {
    const r = yield* doMunmap(k, mm, addr + newLen, oldLen - newLen);
    if (r !== 0 && oldLen !== newLen) return r;
    if ((flags & MREMAP_FIXED) === 0 || newAddr === addr) return addr;
    oldLen = newLen;
  }
  const vma = findVma(mm, addr);
  if (vma === null || vma.vmStart > addr) return -EFAULT;
  // is_vm_hugetlb_page: a special VMA moves only if its operations can
  const special = k.seams.specialVmaOps(vma);
  if (special !== null && special.movePageTables === undefined) return -EINVAL;
  if (oldLen > vma.vmEnd - addr) return -EFAULT;
  if ((vma.vmFlags & (VM_DONTEXPAND | VM_PFNMAP)) !== 0 && newLen > oldLen) return -EFAULT;
  // old_len exactly to the end of the area, and not relocating: try to expand in place
  if (
    oldLen === vma.vmEnd - addr &&
    !((flags & MREMAP_FIXED) !== 0 && addr !== newAddr) &&
    (oldLen !== newLen || (flags & MREMAP_MAYMOVE) === 0)
  ) {
    const next = vmaNext(mm, vma);
    const maxAddr = next !== null ? next.vmStart : TASK_SIZE;
    if (maxAddr - addr >= newLen) {
      const pages = (newLen - oldLen) / PAGE_SIZE;
      yield* vmaAdjust(k, vma, vma.vmStart, addr + newLen, vma.vmPgoff);
      mm.totalVm += pages;
      if ((vma.vmFlags & VM_LOCKED) !== 0) {
        mm.lockedVm += pages;
        yield* makePagesPresent(k, mm, addr + oldLen, addr + newLen);
      }
      return addr;
    }
  }
  if ((flags & MREMAP_MAYMOVE) === 0) return -ENOMEM;
  if ((flags & MREMAP_FIXED) === 0) {
    const mapFlags = (vma.vmFlags & VM_MAYSHARE) !== 0 ? MAP_SHARED : 0;
    newAddr = getUnmappedArea(k, mm, 0, newLen, mapFlags);
    if (newAddr < 0) return newAddr;
  }
  return yield* moveVma(k, vma, addr, oldLen, newLen, newAddr);
}
