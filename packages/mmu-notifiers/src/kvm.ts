/**
 * A KVM-like secondary MMU: the shadow page table of one guest, one spte
 * per guest frame, filled on a secondary fault from the primary PTE through
 * `get_user_pages` and holding that reference while it maps the page.
 * Without notifiers (2.6.24) the reference is never dropped while the guest
 * runs, so its memory cannot be swapped; with them an invalidate drops the
 * spte and its reference, and `age_page` reports the spte's young bit.
 * @see arch/x86/kvm/mmu.c (2.6.25) nonpaging_map, rmap_remove, kvm_age_hva; virt/kvm/kvm_main.c gfn_to_page
 * @module
 */
import type { Kernel } from '@mmlab/core';
import { type DropCause, ShadowMmu } from './shadow.js';

/** A guest: `guestBytes` of the process's memory from `hva` are guest frames 0, 1, … */
export class KvmGuest extends ShadowMmu {
  /** `kvm`. */
  readonly name = 'kvm';


  /** An spte keeps its `get_user_pages` reference while it maps the page. */
  protected get holdsPins(): boolean {
    return true;
  }

  /** Each spte dropped costs a fixed amount of work (Andrea Arcangeli's "close to optimal" for KVM). */
  protected invalidated(k: Kernel, _cause: DropCause, dropped: number): void {
    const n = this.notifiers;
    if (n === null || dropped === 0) return;
    n.drivers.kvm_sptes_dropped += dropped;
    for (let i = 0; i < dropped; i++) k.chargeCost(n.costs.kvmSpteDrop);
  }

  protected filled(): void {
    if (this.notifiers !== null) this.notifiers.drivers.kvm_spte_faults++;
  }

  protected retried(): void {
    if (this.notifiers !== null) this.notifiers.drivers.kvm_spte_retries++;
  }
}
