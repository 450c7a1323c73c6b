/**
 * Address-space teardown: `exit_mmap` and `mmdrop`'s `pgd_free`.
 * @see mm/mmap.c exit_mmap, kernel/fork.c mmput, __mmdrop
 * @module
 */
import { LEVEL_PGD } from '../pgtable/entry.js';
import type { KGen } from '../sched/run.js';
import type { Kernel } from '../kernel/kernel.js';
import { freePgtables } from './free-pgtables.js';
import { updateHiwaterRss } from './mmap.js';
import { putPage } from './page-ref.js';
import type { MmStruct } from './types.js';
import { unmapVmas } from './zap.js';

/**
 * `exit_mmap()`: a full-mm gather, unmap every VMA, free all page tables
 * below the PGD, finish the gather (flush, free), and drop the VMAs. The
 * kernel then checks `nr_ptes` is zero. The `exitMmapBegin` event comes
 * before the gather is taken, `exitMmapUnmapped` right after `unmap_vmas`
 * (where #v6 calls `mmu_notifier_release`).
 * @see mm/mmap.c exit_mmap
 */
export function* exitMmap(k: Kernel, mm: MmStruct): KGen<void> {
  yield* k.seams.exitMmapBegin(k, mm);
  let tlb = k.seams.tlbGather.begin(k, mm, true);
  updateHiwaterRss(mm);
  const vmas = mm.vmas.slice();
  tlb = yield* unmapVmas(k, tlb, vmas, 0, Number.MAX_SAFE_INTEGER);
  yield* k.seams.exitMmapUnmapped(k, mm);
  yield* freePgtables(k, tlb, vmas, 0, 0);
  yield* k.seams.tlbGather.finish(k, tlb);
  mm.vmas.length = 0;
  mm.mmapCache = null;
  mm.totalVm = 0;
  mm.lockedVm = 0;
  if (mm.nrPtes !== 0) throw new Error(`exit_mmap: mm ${mm.id} still has ${mm.nrPtes} PTE tables`);
  mm.dead = true;
}

/**
 * `pgd_free()` at `__mmdrop`: release the PGD page.
 * @see include/asm-x86/pgalloc_64.h pgd_free; kernel/fork.c __mmdrop
 */
export function pgdFree(k: Kernel, mm: MmStruct): void {
  k.accountTable(mm, LEVEL_PGD, -1);
  putPage(k, mm.pgd);
  mm.pgd = 0;
}
