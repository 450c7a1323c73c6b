/**
 * fork's address-space copy: `dup_mm` / `dup_mmap`.
 * @see kernel/fork.c dup_mm, dup_mmap
 * @module
 */
import type { KGen } from '../sched/run.js';
import type { Kernel } from '../kernel/kernel.js';
import { mmSlotsFork, vmaSlotsFork } from '../seams/slots.js';
import { ipiWait } from './tlbflush.js';
import { isCowMapping, type MmStruct, VM_DONTCOPY, VM_LOCKED } from './types.js';
import { anonVmaLink, vmaLinkFile } from './vma.js';

/**
 * `dup_mmap()`: copy every VMA not marked VM_DONTCOPY into the new mm
 * (VM_LOCKED dropped), link it into the anon_vma and the file's `i_mmap`,
 * and copy its page tables through the `copyPageRange` seam; finally
 * flush the parent's TLB, since COW write-protected its PTEs. The copy of a
 * COW VMA, which write-protects the parent's PTEs, is bracketed by the
 * `rangeBegin`/`rangeEnd` events on the parent. The mm's and each VMA's
 * extension slots follow their fork rules. Returns 0 or a negative errno.
 * @see kernel/fork.c dup_mmap
 */
export function* dupMmap(k: Kernel, mm: MmStruct, oldmm: MmStruct): KGen<number> {
  mm.freeAreaCache = oldmm.mmapBase;
  mm.cachedHoleSize = Number.MAX_SAFE_INTEGER;
  mmSlotsFork(k, oldmm, mm);
  let ret = 0;
  for (const mpnt of oldmm.vmas) {
    if ((mpnt.vmFlags & VM_DONTCOPY) !== 0) continue;
    const tmp = mpnt.clone();
    tmp.mm = mm;
    tmp.vmFlags &= ~VM_LOCKED;
    vmaSlotsFork(k, mpnt, tmp);
    yield* anonVmaLink(k, tmp);
    yield* vmaLinkFile(k, tmp);
    mm.vmas.push(tmp);
    mm.totalVm += (tmp.vmEnd - tmp.vmStart) / 4096;
    k.charge(k.costs.vmaOp);
    const cow = isCowMapping(mpnt.vmFlags);
    if (cow) yield* k.seams.rangeBegin(k, oldmm, mpnt.vmStart, mpnt.vmEnd, 'fork');
    ret = yield* k.seams.copyPageRange(k, mm, oldmm, mpnt);
    if (cow) yield* k.seams.rangeEnd(k, oldmm, mpnt.vmStart, mpnt.vmEnd, 'fork');
    if (ret !== 0) break;
  }
  if (k.seams.flushTlb(k, 'mm', oldmm, 0, 0, 'fork')) yield* ipiWait(k);
  return ret;
}
