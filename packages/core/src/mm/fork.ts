/**
 * fork's address-space copy: `dup_mm` / `dup_mmap`.
 * @see kernel/fork.c dup_mm, dup_mmap
 * @module
 */
import type { KGen } from '../sched/run.js';
import type { Kernel } from '../kernel/kernel.js';
import { mmSlotsFork, vmaSlotsFork } from '../seams/slots.js';
import { flushTlbMm, ipiWait } from './tlbflush.js';
import { type MmStruct, VM_DONTCOPY, VM_LOCKED } from './types.js';
import { anonVmaLink, vmaLinkFile } from './vma.js';

/**
 * `dup_mmap()`: copy every VMA not marked VM_DONTCOPY into the new mm
 * (VM_LOCKED dropped), link it into the anon_vma and the file's `i_mmap`,
 * and copy its page tables through the `copyPageRange` seam; finally
 * flush the parent's TLB, since COW write-protected its PTEs. The mm's
 * and each VMA's extension slots follow their fork rules. Returns 0 or a
 * negative errno.
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
    ret = yield* k.seams.copyPageRange(k, mm, oldmm, mpnt);
    if (ret !== 0) break;
  }
  if (flushTlbMm(k, oldmm)) yield* ipiWait(k);
  return ret;
}
