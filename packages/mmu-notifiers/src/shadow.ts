/**
 * A secondary MMU's translations of one region of one process, in typed
 * arrays (one entry per page: the frame, a young bit, a writable bit), and
 * what every driver of this package shares: filling an entry on a
 * secondary fault through `get_user_pages` with the sequence/retry
 * protocol, accesses through the entries (the data oracle sees them), and
 * the notifier methods that drop entries.
 *
 * Without the `mmu-notifiers` feature a driver has 2.6.24's only choice:
 * every entry keeps the `get_user_pages` pin for as long as the driver
 * lives, so reclaim can never free the page. With it, KVM-like and
 * XPMEM-like entries still hold their pin (visible to the core's refcount
 * check) but drop it when a callout invalidates them; GRU-like entries hold
 * none.
 * @see virt/kvm/kvm_main.c (2.6.26) kvm_mmu_notifier_invalidate_page, mmu_notifier_retry
 * @module
 */
import {
  EFAULT,
  type Kernel,
  type KGen,
  type MmStruct,
  PAGE_SIZE,
  PG_dirty,
  putUserPage,
  type Task,
  USER_STEP,
} from '@mmlab/core';
import { type MmuNotifier, type Notifiers, notifiersOf, type SecondaryMmu } from './notifier.js';

/** Entry flag: accessed since `age_page` last asked. */
export const SPTE_YOUNG = 1;
/** Entry flag: writes allowed. */
export const SPTE_WRITE = 2;

/** How a driver is set up. */
export interface ShadowOptions {
  /**
   * Test-only mutation: skip the sequence/count check of the secondary
   * fault, so an invalidate that runs between `get_user_pages` and the
   * installation of the entry leaves a stale entry behind (the race the
   * protocol exists for).
   */
  readonly unsafeNoRetry?: boolean;
}

/** Why entries are dropped, for the driver's accounting. */
export type DropCause = 'page' | 'range' | 'release' | 'detach';

/**
 * The translations of a secondary MMU over `[base, base + pages * 4 KiB)`
 * of `mm`, and the notifier it registers. Subclasses say what a dropped
 * entry costs and whether entries keep their pin.
 */
export abstract class ShadowMmu implements SecondaryMmu {
  /** Name in reports (`kvm`, `gru`, `xpmem`). */
  abstract readonly name: string;
  /** The process whose memory the secondary MMU maps. */
  readonly mm: MmStruct;
  /** First address of the region. */
  readonly base: number;
  /** Pages in the region. */
  readonly pages: number;
  /** Frame of each entry (0: none). */
  readonly pfn: Int32Array;
  /** {@link SPTE_YOUNG} and {@link SPTE_WRITE} of each entry. */
  readonly flags: Uint8Array;
  /** `mmu_notifier_seq`: bumped by every invalidate after it dropped entries. */
  seq = 0;
  /** `mmu_notifier_count`: ranges begun and not ended. */
  count = 0;
  /** The mm was released: no more secondary faults. */
  released = false;
  /** The notifier state of the kernel, or null without the feature (entries pin). */
  protected readonly notifiers: Notifiers | null;
  private readonly retry: boolean;
  private notifier: MmuNotifier | null = null;
  private entries = 0;

  constructor(k: Kernel, mm: MmStruct, base: number, bytes: number, options: ShadowOptions = {}) {
    if (base % PAGE_SIZE !== 0 || bytes <= 0 || bytes % PAGE_SIZE !== 0) {
      throw new RangeError(`secondary MMU region [0x${base.toString(16)}, +${bytes}) is not whole pages`);
    }
    this.mm = mm;
    this.base = base;
    this.pages = bytes / PAGE_SIZE;
    this.pfn = new Int32Array(this.pages);
    this.flags = new Uint8Array(this.pages);
    this.notifiers = notifiersOf(k);
    this.retry = options.unsafeNoRetry !== true;
  }

  /** Entries that keep their `get_user_pages` pin while they map the page. */
  protected abstract get holdsPins(): boolean;
  /** The registered notifier's methods sleep. */
  protected get sleeps(): boolean {
    return false;
  }
  /** Account one invalidation that dropped `dropped` entries (`cause` says which method). */
  protected abstract invalidated(k: Kernel, cause: DropCause, dropped: number): void;

  /** Translations held now. */
  get mapped(): number {
    return this.entries;
  }

  /** Whether the driver keeps coherent through notifiers (false: it pins). */
  get coherent(): boolean {
    return this.notifier !== null;
  }

  /** The coherence check's walk (see {@link SecondaryMmu}). */
  forEachMapping(visit: (mm: MmStruct, addr: number, pfn: number, writable: boolean) => void): void {
    for (let i = 0; i < this.pages; i++) {
      const pfn = this.pfn[i]!;
      if (pfn !== 0) visit(this.mm, this.base + i * PAGE_SIZE, pfn, (this.flags[i]! & SPTE_WRITE) !== 0);
    }
  }

  /**
   * Create the secondary context: register the notifier on the mm when the
   * kernel has the feature (`mmu_notifier_register`), and become visible to
   * the coherence check.
   */
  *attach(k: Kernel): KGen<void> {
    const n = this.notifiers;
    if (n === null) return;
    const mn: MmuNotifier = {
      name: this.name,
      sleeps: this.sleeps,
      ...(this.sleeps ? { sleepCost: n.costs.xpmemMessage } : {}),
      ops: {
        release: (kk) => {
          this.onRelease(kk);
        },
        invalidatePage: (kk, _mm, addr) => {
          this.onRange(kk, 'page', addr, addr + PAGE_SIZE);
        },
        invalidatePages: (kk, _mm, start, end) => {
          this.onRange(kk, 'range', start, end);
        },
        invalidateRangeBegin: (kk, _mm, start, end) => {
          this.count++;
          this.onRange(kk, 'range', start, end);
        },
        invalidateRangeEnd: () => {
          this.seq++;
          this.count--;
        },
        agePage: (_kk, _mm, addr) => this.age(addr),
      },
    };
    this.notifier = mn;
    n.secondaries.add(this);
    yield* n.register(k, mn, this.mm);
  }

  /** Tear the secondary context down: drop every entry (and pin), unregister. */
  *detach(k: Kernel): KGen<void> {
    const dropped = this.dropRange(k, 0, this.pages);
    if (dropped > 0) this.invalidated(k, 'detach', dropped);
    const n = this.notifiers;
    if (n !== null && this.notifier !== null) {
      n.secondaries.delete(this);
      if (!this.released) yield* n.unregister(k, this.notifier, this.mm);
    }
    this.released = true;
  }

  /**
   * Close the driver's file after its process exited (`fput` in
   * `exit_files`, which `do_exit` runs after `exit_mm`): put the pins that
   * kept pages alive without notifiers. With notifiers, `release` already
   * dropped everything. Not a kernel path: nothing here may sleep.
   */
  close(k: Kernel): void {
    if (this.coherent && !this.released) throw new Error(`${this.name}: close while registered; detach first`);
    this.dropRange(k, 0, this.pages);
    this.notifiers?.secondaries.delete(this);
    this.released = true;
  }

  private onRelease(k: Kernel): void {
    this.released = true;
    const dropped = this.dropRange(k, 0, this.pages);
    this.invalidated(k, 'release', dropped);
  }

  private onRange(k: Kernel, cause: DropCause, start: number, end: number): void {
    const lo = Math.max(0, Math.floor((start - this.base) / PAGE_SIZE));
    const hi = Math.min(this.pages, Math.ceil((end - this.base) / PAGE_SIZE));
    const dropped = lo < hi ? this.dropRange(k, lo, hi) : 0;
    this.seq++;
    this.invalidated(k, cause, dropped);
  }

  private age(addr: number): boolean {
    const i = (addr - this.base) / PAGE_SIZE;
    if (i < 0 || i >= this.pages || this.pfn[i] === 0) return false;
    const young = (this.flags[i]! & SPTE_YOUNG) !== 0;
    this.flags[i]! &= ~SPTE_YOUNG;
    return young;
  }

  /** Drop entries [lo, hi), putting their pins; returns how many were present. */
  protected dropRange(k: Kernel, lo: number, hi: number): number {
    let dropped = 0;
    for (let i = lo; i < hi; i++) {
      const pfn = this.pfn[i]!;
      if (pfn === 0) continue;
      this.dropEntry(k, i, pfn);
      dropped++;
    }
    return dropped;
  }

  private dropEntry(k: Kernel, i: number, pfn: number): void {
    // kvm_release_pfn_dirty: a secondary write dirtied the page
    if ((this.flags[i]! & SPTE_WRITE) !== 0) k.pages.flags[pfn]! |= PG_dirty;
    this.pfn[i] = 0;
    this.flags[i] = 0;
    this.entries--;
    if (this.pinning) putUserPage(k, pfn);
  }

  /** Entries hold pins: always without notifiers, and where the driver says so with them. */
  private get pinning(): boolean {
    return this.notifier === null || this.holdsPins;
  }

  /**
   * A secondary fault on page `i`: `get_user_pages` on the primary (which
   * faults the page in and pins it), then install the entry. With the
   * protocol, the sequence read before and the count of open ranges are
   * checked at installation, as KVM's `mmu_notifier_retry` does under
   * `mmu_lock`; a raced fault drops its pin and starts again. Returns the
   * frame or a negative errno.
   */
  *fault(k: Kernel, i: number, write: boolean): KGen<number> {
    if (this.released || this.mm.dead) return -EFAULT;
    const hva = this.base + i * PAGE_SIZE;
    for (;;) {
      const seq = this.seq;
      k.kernelEnter();
      let r: number[] | number;
      try {
        r = yield* k.seams.getUserPages(k, this.mm, hva, 1, write, false);
        // the window: mmap_sem is dropped, mmu_lock not yet taken (preemptible)
        yield* k.condResched();
      } finally {
        k.kernelExit();
      }
      if (typeof r === 'number') return r;
      const pfn = r[0];
      if (pfn === undefined) return -EFAULT;
      if (write) k.oracle?.privatize(this.mm, hva, hva + PAGE_SIZE);
      // from here to the installation no scheduling point: mmu_lock is held
      if (this.retry && (this.count > 0 || this.seq !== seq)) {
        putUserPage(k, pfn);
        this.retried();
        continue;
      }
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- release may have run while get_user_pages slept
      if (this.released) {
        putUserPage(k, pfn);
        return -EFAULT;
      }
      const old = this.pfn[i]!;
      if (old !== 0) this.dropEntry(k, i, old);
      this.pfn[i] = pfn;
      this.flags[i] = SPTE_YOUNG | (write ? SPTE_WRITE : 0);
      this.entries++;
      if (!this.pinning) putUserPage(k, pfn);
      this.filled();
      return pfn;
    }
  }

  /** Count a secondary fault that filled an entry. */
  protected abstract filled(): void;
  /** Count a secondary fault retried by the protocol. */
  protected abstract retried(): void;

  /**
   * One access of the secondary MMU to page `i` (a guest access, a GRU
   * instruction's reference): through the entry when it allows it, after a
   * secondary fault otherwise. Sets the young bit; a write stores a fresh
   * data token (the oracle records it) and dirties the page, a read is
   * checked against the oracle. Returns 0 or a negative errno.
   */
  *access(k: Kernel, i: number, write: boolean): KGen<number> {
    if (i < 0 || i >= this.pages) throw new RangeError(`${this.name}: page ${i} outside the region of ${this.pages} pages`);
    let pfn = this.pfn[i]!;
    if (pfn === 0 || (write && (this.flags[i]! & SPTE_WRITE) === 0)) {
      pfn = yield* this.fault(k, i, write);
      if (pfn < 0) return pfn;
    }
    this.flags[i]! |= SPTE_YOUNG;
    const hva = this.base + i * PAGE_SIZE;
    if (write) {
      const t = k.nextToken(hva);
      k.setToken(pfn, t);
      k.pages.flags[pfn]! |= PG_dirty;
      k.oracle?.write(this.mm, hva, t);
    } else {
      k.oracle?.read(k, this.mm, hva, k.tokenOf(pfn));
    }
    return 0;
  }

  /**
   * Access pages [first, first + n) in order, as one program of `task` (a
   * vCPU thread, a process driving the GRU): for `Kernel.runThreads`.
   * Stops at the first error and returns it.
   */
  *accessRange(k: Kernel, first: number, n: number, write: boolean): KGen<number> {
    for (let i = first; i < first + n; i++) {
      const r = yield* this.access(k, i, write);
      if (r < 0) return r;
      if (k.interleaving) yield USER_STEP;
    }
    return 0;
  }

  /** Run `program` as an operation of `task` (through `Kernel.runThreads`); returns what it returned. */
  static run<T>(k: Kernel, task: Task, program: KGen<T>): T {
    const box: { v?: T } = {};
    k.runThreads([
      {
        task,
        program: (function* (): KGen<void> {
          box.v = yield* program;
        })(),
      },
    ]);
    return box.v as T;
  }
}
