/**
 * The notifier list of an mm and the callouts through it: registration
 * (RCU-protected in #v6, under `mmap_sem` in the sleepable variant) and the
 * walk that calls every registered notifier's method.
 *
 * The methods are plain functions: they run where the VM calls them, often
 * under the PTE lock or `i_mmap_lock`. A notifier that must sleep (XPMEM's
 * message to another partition) says so with {@link MmuNotifier.sleeps};
 * the walk then runs `might_sleep()` for it, which reports the kernel's
 * "BUG: sleeping function called from invalid context" wherever the call
 * site is atomic (a spinlock held, or the RCU read side of #v6), and, where
 * the call site may sleep, yields the sleep point.
 * @see include/linux/mmu_notifier.h (#v6) mmu_notifier, mmu_notifier_register, mmu_notifier_release
 * @module
 */
import {
  downWrite,
  type FeatureCost,
  type Kernel,
  type KGen,
  MIGHT_SLEEP,
  type MmSlot,
  type MmStruct,
  rcuReadLock,
  rcuReadUnlock,
  synchronizeRcu,
} from '@mmlab/core';

/** `variant`: #v6's per-page callouts, or Christoph Lameter's range begin/end. */
export type Variant = 'v6' | 'range';
/** `release`: where `exit_mmap` calls `release`. */
export type ReleasePlacement = 'after-unmap' | 'before-unmap';

/** The feature's options, as `install` received them. */
export interface NotifierOptions {
  /** #v6 or the range variant. */
  readonly variant: Variant;
  /** Release after `unmap_vmas` (#v6) or before it (Christoph Lameter). */
  readonly release: ReleasePlacement;
  /** Registration under `mmap_sem` and callouts outside the RCU read side. */
  readonly sleepable: boolean;
}

/**
 * `struct mmu_notifier_ops` of #v6 plus the range variant's begin/end. A
 * method left out is not called. Every method runs synchronously where the
 * VM calls it; `mm` is the address space whose primary PTEs changed.
 */
export interface MmuNotifierOps {
  /** `release`: the mm is being torn down; drop everything mapped through it. */
  release?(k: Kernel, mm: MmStruct): void;
  /** `invalidate_page`: the PTE for `addr` was cleared (or write-protected) and flushed, PTE lock held. */
  invalidatePage?(k: Kernel, mm: MmStruct, addr: number): void;
  /** `invalidate_pages` (#v6): the PTEs of [start, end) changed and were flushed. */
  invalidatePages?(k: Kernel, mm: MmStruct, start: number, end: number): void;
  /** `invalidate_range_begin` (range variant): [start, end) is about to change; no new mappings until the end. */
  invalidateRangeBegin?(k: Kernel, mm: MmStruct, start: number, end: number): void;
  /** `invalidate_range_end` (range variant): [start, end) has changed. */
  invalidateRangeEnd?(k: Kernel, mm: MmStruct, start: number, end: number): void;
  /** `age_page`: test and clear the secondary MMU's young bit for `addr`. */
  agePage?(k: Kernel, mm: MmStruct, addr: number): boolean;
}

/** `struct mmu_notifier`: one secondary MMU's registration on one mm. */
export interface MmuNotifier {
  /** Name in reports and BUG messages (`kvm`, `gru`, `xpmem`). */
  readonly name: string;
  /** Its methods. */
  readonly ops: MmuNotifierOps;
  /** Its methods sleep (a message to another partition): legal only where the call site may sleep. */
  readonly sleeps: boolean;
  /** Simulated cost of one sleeping method call (the message round trip), charged when it sleeps. */
  readonly sleepCost?: FeatureCost;
}

/** The counters of the callouts. */
export interface CalloutCounters {
  /** `invalidate_page` calls (per notifier). */
  invalidate_page: number;
  /** `invalidate_pages` calls (#v6's ranges). */
  invalidate_pages: number;
  /** `invalidate_range_begin` calls. */
  range_begin: number;
  /** `invalidate_range_end` calls. */
  range_end: number;
  /** `age_page` calls. */
  age_page: number;
  /** `age_page` calls that found the secondary MMU's young bit set. */
  age_young: number;
  /** `release` calls. */
  release: number;
  /** Notifiers registered. */
  registered: number;
  /** Notifiers unregistered (by their driver or by release). */
  unregistered: number;
  /** Sleeping methods called from a context that could not sleep (each a BUG report). */
  atomic_sleeps: number;
}

/** The counters of the secondary-MMU drivers of this package. */
export interface DriverCounters {
  /** KVM-like: secondary faults (an spte filled through get_user_pages). */
  kvm_spte_faults: number;
  /** KVM-like: secondary faults retried because an invalidate raced with them. */
  kvm_spte_retries: number;
  /** KVM-like: sptes dropped by callouts. */
  kvm_sptes_dropped: number;
  /** GRU-like: TLB misses filled from the primary PTE. */
  gru_tlb_faults: number;
  /** GRU-like: TLB invalidate instructions issued. */
  gru_tlb_invalidates: number;
  /** GRU-like: TLB entries the invalidate instructions dropped. */
  gru_tlb_invalidated_pages: number;
  /** XPMEM-like: invalidate messages sent to the remote partition. */
  xpmem_messages: number;
  /** XPMEM-like: remote attachments dropped. */
  xpmem_detached: number;
}

/** The drivers' named costs. */
export interface DriverCosts {
  /** One spte dropped (KVM's `rmap_remove` and shadow TLB flush share). */
  readonly kvmSpteDrop: FeatureCost;
  /** One GRU TLB invalidate instruction (any range: slow, one per call). */
  readonly gruTlbFlush: FeatureCost;
  /** One XPMEM message round trip to another partition (the sleep). */
  readonly xpmemMessage: FeatureCost;
}

/** Which method a callout calls (for BUG messages, in the kernel's names). */
export type Callout = 'release' | 'invalidate_page' | 'invalidate_pages' | 'invalidate_range_begin' | 'invalidate_range_end' | 'age_page';

/** An open range of the range variant on one mm (nested begins call out only once). */
interface OpenRange {
  depth: number;
}

/**
 * The notifier state of one kernel: its options, the per-mm lists (an mm
 * slot, dropped at fork: a child starts with no notifiers), the open ranges
 * and the secondary MMUs the coherence check walks.
 */
export class Notifiers {
  /** The options. */
  readonly options: NotifierOptions;
  /** The counters. */
  readonly counters: CalloutCounters;
  private readonly lists: MmSlot<readonly MmuNotifier[]>;
  private readonly open = new WeakMap<MmStruct, OpenRange>();
  /** Secondary MMUs alive, in creation order (the coherence check walks them). */
  readonly secondaries = new Set<SecondaryMmu>();
  /** The drivers' counters. */
  readonly drivers: DriverCounters;
  /** The drivers' named costs. */
  readonly costs: DriverCosts;

  constructor(
    options: NotifierOptions,
    counters: CalloutCounters,
    lists: MmSlot<readonly MmuNotifier[]>,
    drivers: DriverCounters,
    costs: DriverCosts,
  ) {
    this.options = options;
    this.counters = counters;
    this.lists = lists;
    this.drivers = drivers;
    this.costs = costs;
  }

  /** The notifiers registered on `mm` (an RCU-published array: never changed in place). */
  list(mm: MmStruct): readonly MmuNotifier[] {
    return this.lists.get(mm) ?? NONE;
  }

  /**
   * `mmu_notifier_register()`: #v6 publishes the new list for RCU readers
   * (`hlist_add_head_rcu` under the list's spinlock); the sleepable variant
   * takes `mmap_sem` for writing, which every callout site holds at least
   * for reading (Robin Holt's argument).
   */
  *register(k: Kernel, mn: MmuNotifier, mm: MmStruct): KGen<void> {
    if (this.options.sleepable) yield* downWrite(k, mm.mmapSem);
    this.lists.set(mm, [mn, ...this.list(mm)]);
    this.counters.registered++;
    if (this.options.sleepable) mm.mmapSem.upWrite(k);
  }

  /**
   * `mmu_notifier_unregister()`: unpublish, then (#v6) wait for a grace
   * period so that no callout still runs the notifier's methods.
   */
  *unregister(k: Kernel, mn: MmuNotifier, mm: MmStruct): KGen<void> {
    const list = this.list(mm);
    if (!list.includes(mn)) return;
    if (this.options.sleepable) yield* downWrite(k, mm.mmapSem);
    this.lists.set(mm, list.filter((n) => n !== mn));
    this.counters.unregistered++;
    if (this.options.sleepable) mm.mmapSem.upWrite(k);
    else yield* synchronizeRcu(k);
  }

  /**
   * Call `fn` for every notifier of `mm` (`mmu_notifier(function, mm, …)`):
   * inside `rcu_read_lock()` unless sleepable; a sleeping notifier goes
   * through `might_sleep()` and, where the context allows, sleeps.
   */
  *call(k: Kernel, mm: MmStruct, what: Callout, fn: (mn: MmuNotifier) => void): KGen<void> {
    const list = this.list(mm);
    if (list.length === 0) return;
    for (const mn of list) {
      const atomic = this.enter(k);
      fn(mn);
      const sleep = this.slept(k, mn, what);
      this.leave(k);
      if (sleep && !atomic) yield MIGHT_SLEEP;
    }
  }

  /** {@link call} from a call site that cannot yield (under the PTE lock): a sleeping notifier is reported, never switched away. */
  callAtomic(k: Kernel, mm: MmStruct, what: Callout, fn: (mn: MmuNotifier) => void): void {
    const list = this.list(mm);
    if (list.length === 0) return;
    for (const mn of list) {
      this.enter(k);
      fn(mn);
      this.slept(k, mn, what);
      this.leave(k);
    }
  }

  /** Enter the walk: RCU read side unless sleepable. Returns whether the CPU is atomic now. */
  private enter(k: Kernel): boolean {
    if (!this.options.sleepable) rcuReadLock(k);
    const cpu = k.cpu;
    return cpu.preemptCount > 0 || cpu.irqsOff > 0;
  }

  private leave(k: Kernel): void {
    if (!this.options.sleepable) rcuReadUnlock(k);
  }

  /** A sleeping notifier's method: `might_sleep()` (the BUG report in atomic context) and its cost. */
  private slept(k: Kernel, mn: MmuNotifier, what: Callout): boolean {
    if (!mn.sleeps) return false;
    const cpu = k.cpu;
    if (cpu.preemptCount > 0 || cpu.irqsOff > 0) this.counters.atomic_sleeps++;
    k.mightSleep(`${mn.name} ${what}`);
    if (mn.sleepCost !== undefined) k.chargeCost(mn.sleepCost);
    return true;
  }

  /** Range variant: open a range on `mm`; true for the outermost begin (the one that calls out). */
  beginRange(mm: MmStruct): boolean {
    const o = this.open.get(mm);
    if (o !== undefined) {
      o.depth++;
      return false;
    }
    this.open.set(mm, { depth: 1 });
    return true;
  }

  /** Range variant: close a range on `mm`; true for the outermost end. */
  endRange(mm: MmStruct): boolean {
    const o = this.open.get(mm);
    if (o === undefined) throw new Error(`mmu-notifiers: invalidate_range_end on mm ${mm.id} without a begin`);
    if (--o.depth > 0) return false;
    this.open.delete(mm);
    return true;
  }

  /** Whether a range is open on `mm` (its begin already invalidated what changes inside it). */
  rangeOpen(mm: MmStruct): boolean {
    return this.open.has(mm);
  }

  /**
   * `mmu_notifier_release()`: call every notifier's `release` and unhook it
   * (nobody can register any more; later callouts of the teardown find an
   * empty list).
   */
  *release(k: Kernel, mm: MmStruct): KGen<void> {
    const list = this.list(mm);
    if (list.length === 0) return;
    yield* this.call(k, mm, 'release', (mn) => {
      this.counters.release++;
      mn.ops.release?.(k, mm);
    });
    this.lists.set(mm, undefined);
    this.counters.unregistered += list.length;
  }
}

const NONE: readonly MmuNotifier[] = Object.freeze([]);

/**
 * What the coherence check asks of a secondary MMU: every translation it
 * holds, as (mm, address, frame, writable).
 */
export interface SecondaryMmu {
  /** Name in violation messages. */
  readonly name: string;
  /** Call `visit` for every translation held now. */
  forEachMapping(visit: (mm: MmStruct, addr: number, pfn: number, writable: boolean) => void): void;
}

const states = new WeakMap<Kernel, Notifiers>();

/** Attach the notifier state to a kernel (the feature's `install`). */
export function attachNotifiers(k: Kernel, n: Notifiers): void {
  states.set(k, n);
}

/**
 * The notifier state of a kernel built with the `mmu-notifiers` feature,
 * or null: a driver then falls back to 2.6.24's only choice, pinning with
 * `get_user_pages`.
 */
export function notifiersOf(k: Kernel): Notifiers | null {
  return states.get(k) ?? null;
}
