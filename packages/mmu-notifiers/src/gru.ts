/**
 * A GRU-like secondary MMU: the TLB of an SGI GRU context, filled on a TLB
 * miss from the primary PTE (`get_user_pages` faults it in; the entry
 * keeps no reference when notifiers keep it coherent). Its invalidate
 * instruction flushes a range (a virtual address and a length) and is slow
 * whatever the range: each callout costs one instruction, so #v6's per-pte
 * calls cost one instruction per page where a range callout costs one.
 * While the context is loaded the driver cannot know what the hardware TLB
 * holds, so every callout issues an instruction; `release` unloads the
 * context with one, after which nothing more is flushed.
 * @see drivers/misc/sgi-gru/grutlbpurge.c (2.6.27) gru_invalidate_range_start, gru_invalidate_page, gru_flush_tlb_range
 * @module
 */
import type { Kernel } from '@mmlab/core';
import { type DropCause, ShadowMmu } from './shadow.js';

/** A GRU context over `bytes` of a process's memory from `base`. */
export class GruContext extends ShadowMmu {
  /** `gru`. */
  readonly name = 'gru';


  /** TLB entries hold no reference (without notifiers the driver must pin instead). */
  protected get holdsPins(): boolean {
    return false;
  }

  /** One TLB invalidate instruction per callout while the context is loaded, whatever it drops. */
  protected invalidated(k: Kernel, cause: DropCause, dropped: number): void {
    const n = this.notifiers;
    if (n === null || cause === 'detach') return;
    n.drivers.gru_tlb_invalidates++;
    n.drivers.gru_tlb_invalidated_pages += dropped;
    k.chargeCost(n.costs.gruTlbFlush);
  }

  protected filled(): void {
    if (this.notifiers !== null) this.notifiers.drivers.gru_tlb_faults++;
  }

  protected retried(): void {
    // a retried TLB miss is counted once, when it fills
  }
}
