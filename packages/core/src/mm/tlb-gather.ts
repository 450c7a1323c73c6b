/**
 * The 2.6.2x per-CPU `struct mmu_gather` (include/asm-generic/tlb.h).
 *
 * Pages unmapped by a zap, and page-table pages freed by `free_pgtables`
 * (`pte_free_tlb` is `tlb_remove_page` on x86), are collected in a vector
 * of `FREE_PTE_NR` = 506 entries; when it fills, and at `tlb_finish_mmu`,
 * the TLB is flushed and only then are the pages freed: unhook → flush →
 * free. With one CPU online the gather is in "fast mode" (`nr == ~0U`) and
 * frees each page at once, because no other CPU can hold a stale entry.
 * `tlb_gather_mmu` takes the per-CPU variable (`get_cpu_var`), so
 * preemption stays off until `tlb_finish_mmu`: the reason for
 * `ZAP_BLOCK_SIZE`.
 *
 * The gather is a seam ({@link TlbGatherOps}) that owns its policy:
 * `unmap_vmas` asks it how much work one block may do, the zap walk asks
 * it after each PTE table whether to reschedule without ending the batch,
 * and `finish` flushes through the gather's own `flush`. The gather
 * records the address range it covers, for range flushes.
 * @module
 */
import { PAGE_SIZE } from '../pgtable/entry.js';
import type { KGen } from '../sched/run.js';
import type { Kernel } from '../kernel/kernel.js';
import { freePageAndSwapCache, freePagesAndSwapCache, releasePagesQuick } from './swapfile.js';
import { ipiWait } from './tlbflush.js';
import type { MmStruct } from './types.js';

/** `FREE_PTE_NR`: pages gathered before a forced flush. */
export const FREE_PTE_NR = 506;

/** `struct mmu_gather`. */
export class MmuGather {
  /** `tlb->mm`. */
  mm: MmStruct | null = null;
  /** `tlb->fullmm`: the whole address space is going (exit). */
  fullmm = false;
  /** `tlb->need_flush`. */
  needFlush = false;
  /** Fast mode (`tlb->nr == ~0U`): one CPU online, free at once. */
  fast = false;
  /** `tlb->nr`: pages gathered. */
  nr = 0;
  /** `tlb->pages`. */
  readonly pages = new Int32Array(FREE_PTE_NR);
  /** True between `tlb_gather_mmu` and `tlb_finish_mmu` (the per-CPU variable is taken). */
  active = false;
  /** `tlb->start`: lowest address of a PTE cleared since the last flush (`Infinity`: none). */
  start = Infinity;
  /** `tlb->end`: end of the highest page cleared since the last flush (0: none). */
  end = 0;
}

/**
 * `ZAP_BLOCK_SIZE` in bytes for the kernel's PREEMPT setting (8 pages with PREEMPT, 1024 without).
 * @see mm/memory.c ZAP_BLOCK_SIZE
 */
export function zapBlockSize(preempt: boolean): number {
  return (preempt ? 8 : 1024) * PAGE_SIZE;
}

/**
 * The TLB-gather seam: how a zap batches TLB flushes and frees. `removePage`
 * and `removeTable` return true when the gather must be flushed now (the
 * caller, a kernel path, then runs `flush`).
 */
export interface TlbGatherOps {
  /** `tlb_gather_mmu()`. */
  begin(k: Kernel, mm: MmStruct, fullmm: boolean): MmuGather;
  /** `tlb_remove_tlb_entry()`: the PTE for `addr` was cleared, a flush is needed. */
  removeTlbEntry(k: Kernel, tlb: MmuGather, addr: number): void;
  /**
   * `tlb_remove_page()`: free `pfn` after the flush; true when the vector is
   * full. The PTE that mapped it is entry `pteIndex(addr)` of PTE table
   * `pte` (already cleared by the zap, PTE lock held).
   */
  removePage(k: Kernel, tlb: MmuGather, pfn: number, addr: number, pte: number): boolean;
  /** `pte_free_tlb()` / `pmd_free_tlb()` / `pud_free_tlb()`: free table page `pfn` after the flush; true when full. */
  removeTable(k: Kernel, tlb: MmuGather, pfn: number): boolean;
  /** `tlb_flush_mmu()`: flush the TLB, then free what was gathered. */
  flush(k: Kernel, tlb: MmuGather): KGen<void>;
  /** `tlb_finish_mmu()`: flush through `flush`, then release the gather. */
  finish(k: Kernel, tlb: MmuGather): KGen<void>;
  /**
   * The work one `unmap_vmas` block may do before the gather is finished
   * and rescheduling is allowed, in the zap budget's units (a present PTE
   * costs a page, an empty one a byte): `ZAP_BLOCK_SIZE`.
   */
  blockSize(k: Kernel, tlb: MmuGather): number;
  /**
   * Asked by the zap walk after each PTE table: true when the walk should
   * reschedule (`cond_resched`) now without ending the batch. The per-CPU
   * gather holds preemption off, so the baseline says no.
   */
  tableDone(k: Kernel, tlb: MmuGather): boolean;
}

/**
 * `tlb_gather_mmu()`: take this CPU's gather (preemption off).
 * @see include/asm-generic/tlb.h tlb_gather_mmu
 */
export function tlbGatherMmu(k: Kernel, mm: MmStruct, fullmm: boolean): MmuGather {
  const tlb = k.gathers[k.cpu.id]!;
  if (tlb.active) throw new Error(`mmu_gather of cpu ${k.cpu.id} taken twice`);
  k.preemptDisable();
  tlb.active = true;
  tlb.mm = mm;
  tlb.fullmm = fullmm;
  tlb.needFlush = false;
  tlb.nr = 0;
  tlb.start = Infinity;
  tlb.end = 0;
  tlb.fast = k.cpus.length === 1;
  return tlb;
}

/**
 * `tlb_flush()`: flush the TLB for what the gather covers through the
 * `flushTlb` seam (x86: the whole mm), wait for the IPIs, and start a new
 * range. The flush step of every gather (the baseline's, and a feature's
 * own gather that frees its pages another way).
 * @see include/asm-x86/tlb.h tlb_flush
 */
export function* tlbFlush(k: Kernel, tlb: MmuGather): KGen<void> {
  if (k.seams.flushTlb(k, 'mm', tlb.mm!, tlb.start === Infinity ? 0 : tlb.start, tlb.end, 'gather')) yield* ipiWait(k);
  tlbFlushDone(k, tlb);
}

/**
 * {@link tlbFlush} without a generator, for a path that cannot be made to
 * wait: sequential mode, where every target CPU takes its flush IPI at
 * once, so no ack is ever pending (if one were, this throws).
 * @see include/asm-x86/tlb.h tlb_flush
 */
export function tlbFlushNow(k: Kernel, tlb: MmuGather): void {
  if (k.seams.flushTlb(k, 'mm', tlb.mm!, tlb.start === Infinity ? 0 : tlb.start, tlb.end, 'gather') && k.cpu.ipiAcksPending > 0) {
    throw new Error(`tlb_flush on cpu ${k.cpu.id}: an IPI wait where the path cannot wait`);
  }
  tlbFlushDone(k, tlb);
}

/** {@link tlbFlush} after the IPIs were taken: a new range begins. */
function tlbFlushDone(k: Kernel, tlb: MmuGather): void {
  tlb.start = Infinity;
  tlb.end = 0;
  k.vm.mmlab_gather_flush++;
}

/**
 * `tlb_flush_mmu()`: flush the TLB (waiting for the IPIs), then free what
 * was gathered.
 * @see include/asm-generic/tlb.h tlb_flush_mmu
 */
export function* tlbFlushMmu(k: Kernel, tlb: MmuGather): KGen<void> {
  if (!tlb.needFlush) return;
  tlb.needFlush = false;
  yield* tlbFlush(k, tlb);
  tlbFreeGathered(k, tlb);
}

/** {@link tlbFlushMmu}'s free, after the flush: the gathered vector goes (not in fast mode, which freed each page at once). */
function tlbFreeGathered(k: Kernel, tlb: MmuGather): void {
  if (!tlb.fast) {
    // a static key: the baseline gather (checker off) frees its vector in runs, same result
    if (k.seams.tlbGather === baseTlbGather && k.touched === null) releasePagesQuick(k, tlb.pages, tlb.nr);
    else freePagesAndSwapCache(k, tlb.pages, tlb.nr);
    tlb.nr = 0;
  }
}

/**
 * {@link tlbFlushMmu} without a generator ({@link tlbFlushNow}'s
 * conditions).
 * @see include/asm-generic/tlb.h tlb_flush_mmu
 */
export function tlbFlushMmuNow(k: Kernel, tlb: MmuGather): void {
  if (!tlb.needFlush) return;
  tlb.needFlush = false;
  tlbFlushNow(k, tlb);
  tlbFreeGathered(k, tlb);
}

/**
 * `tlb_remove_page()`: returns true when the vector is full and the caller
 * must run `tlb_flush_mmu`.
 * @see include/asm-generic/tlb.h tlb_remove_page
 */
export function tlbRemovePage(k: Kernel, tlb: MmuGather, pfn: number): boolean {
  tlb.needFlush = true;
  if (tlb.fast) {
    freePageAndSwapCache(k, pfn);
    return false;
  }
  tlb.pages[tlb.nr++] = pfn;
  return tlb.nr >= FREE_PTE_NR;
}

/**
 * `tlb_remove_tlb_entry()`: a PTE was cleared; note its page in the range
 * to flush.
 * @see include/asm-generic/tlb.h tlb_remove_tlb_entry
 */
export function tlbRemoveTlbEntry(_k: Kernel, tlb: MmuGather, addr: number): void {
  tlb.needFlush = true;
  if (addr < tlb.start) tlb.start = addr;
  if (addr + PAGE_SIZE > tlb.end) tlb.end = addr + PAGE_SIZE;
}

/**
 * `tlb_finish_mmu()`: final flush (through the installed gather's `flush`)
 * and free, release the per-CPU gather (preemption back on).
 * @see include/asm-generic/tlb.h tlb_finish_mmu
 */
export function* tlbFinishMmu(k: Kernel, tlb: MmuGather): KGen<void> {
  yield* k.seams.tlbGather.flush(k, tlb);
  tlbGatherPut(k, tlb);
}

/**
 * {@link tlbFinishMmu} of the baseline gather without a generator
 * ({@link tlbFlushMmuNow}'s conditions).
 * @see include/asm-generic/tlb.h tlb_finish_mmu
 */
export function tlbFinishMmuNow(k: Kernel, tlb: MmuGather): void {
  tlbFlushMmuNow(k, tlb);
  tlbGatherPut(k, tlb);
}

/** The end of `tlb_finish_mmu()`: the per-CPU gather is released (`put_cpu_var`, preemption back on). */
function tlbGatherPut(k: Kernel, tlb: MmuGather): void {
  tlb.active = false;
  tlb.mm = null;
  k.preemptEnable();
}

/**
 * The baseline gather: the per-CPU page vector.
 * @see include/asm-generic/tlb.h tlb_gather_mmu, tlb_remove_page, tlb_flush_mmu, tlb_finish_mmu
 */
export const baseTlbGather: TlbGatherOps = {
  begin: tlbGatherMmu,
  removeTlbEntry: tlbRemoveTlbEntry,
  removePage: tlbRemovePage,
  removeTable: tlbRemovePage,
  flush: tlbFlushMmu,
  finish: tlbFinishMmu,
  blockSize: (k) => zapBlockSize(k.config.preempt),
  tableDone: () => false,
};
