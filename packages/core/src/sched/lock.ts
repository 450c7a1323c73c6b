/**
 * Kernel locks as the kernel of 2008 had them: spinlocks (which disable
 * preemption and make a waiter spin), reader-writer semaphores such as
 * mmap_sem and mutexes (which may sleep), and split PTE locks (one
 * spinlock per PTE table page, as with `NR_CPUS >= SPLIT_PTLOCK_CPUS`).
 *
 * Each lock class keeps lockstat-style figures: acquisitions,
 * contentions, time waited and time held (simulated ns). Taking a lock
 * word last touched by another CPU costs a cache-line transfer, more across
 * sockets: an uncontended but shared rwsem costs what it did on a 2-socket
 * box. A path takes a lock as
 * `if (!lock.tryLock(k)) yield* spinLockSlow(k, lock);` — the fast path
 * makes no generator, the slow path yields until the lock is free.
 * @see kernel/spinlock.c, lib/rwsem.c, kernel/mutex.c, include/linux/mm.h pte_lockptr
 * @module
 */
import type { Kernel } from '../kernel/kernel.js';
import type { KGen, LockPoint, LockRef } from './run.js';

/** Lockstat figures of one lock class. */
export interface LockStat {
  /** Times the lock was taken. */
  acquisitions: number;
  /** Times a taker found it held and had to wait. */
  contentions: number;
  /** Simulated time spent waiting, ns. */
  wait_ns: number;
  /** Simulated time it was held, ns. */
  hold_ns: number;
}

/** Figures per lock class name (`mmap_sem`, `page_table_lock`, …). */
export class LockStats {
  private readonly classes = new Map<string, LockStat>();

  /** The figures of class `name`, created on first use. */
  of(name: string): LockStat {
    let s = this.classes.get(name);
    if (s === undefined) {
      s = { acquisitions: 0, contentions: 0, wait_ns: 0, hold_ns: 0 };
      this.classes.set(name, s);
    }
    return s;
  }

  /** All classes, sorted by name, times rounded to ns. */
  toJSON(): Record<string, LockStat> {
    const out: Record<string, LockStat> = {};
    for (const name of [...this.classes.keys()].sort()) {
      const s = this.classes.get(name)!;
      out[name] = { acquisitions: s.acquisitions, contentions: s.contentions, wait_ns: Math.round(s.wait_ns), hold_ns: Math.round(s.hold_ns) };
    }
    return out;
  }
}

/**
 * Timed mode runs each step of a CPU at once, so a lock another CPU
 * released "later" in simulated time can look free: the taker then waits
 * until that release time, which is where contention comes from. Returns
 * the wait (0 when none).
 */
function waitUntilFree(k: Kernel, stat: LockStat, className: string, heldFrom: number, freeAt: number, spins: boolean): number {
  if (k.mode !== 'timed') return 0;
  const cpu = k.cpu;
  // only a hold that covers the taker's present makes it wait
  if (cpu.clock < heldFrom || cpu.clock >= freeAt) return 0;
  const t0 = cpu.clock;
  const wait = freeAt - t0;
  stat.contentions++;
  stat.wait_ns += wait;
  if (!spins) {
    // sleeping: the end of a non-preemptible stretch and a quiescent state
    k.npBreak();
    k.rcu.quiescent(cpu.id);
  }
  cpu.clock = freeAt;
  if (spins) cpu.busyNs += wait;
  else if (cpu.npStart >= 0) cpu.npStart = cpu.clock;
  k.trace?.slice(cpu.id, 'lock', `wait ${className}`, t0, freeAt);
  return wait;
}

/**
 * A lock released by someone who does not hold it: a model bug. Out of
 * line, so the release paths stay small enough to be inlined.
 */
function notHeld(op: string, what: string, how: string): never {
  throw new Error(`${op} of ${what} not held ${how}`);
}

/** Charge the cache-line transfer of a lock word last written by `lastCpu`. */
function lineTransfer(k: Kernel, lastCpu: number): void {
  if (lastCpu < 0 || lastCpu === k.cpu.id) return;
  const other = k.cpus[lastCpu]!;
  k.charge(other.socket === k.cpu.socket ? k.costs.cacheLineSocket : k.costs.cacheLineRemote);
}

/** `spinlock_t`. */
export class SpinLock implements LockRef {
  /** Lock class name. */
  readonly className: string;
  /** A waiter spins. */
  readonly spins = true;
  /** Holding CPU, or -1. */
  owner = -1;
  private lastCpu = -1;
  private acquiredAt = 0;
  private heldFrom = 0;
  private freeAt = 0;
  /** The class figures. */
  readonly stat: LockStat;
  /** The scheduling point a waiter yields. */
  readonly point: LockPoint;

  constructor(stats: LockStats, className: string) {
    this.className = className;
    this.stat = stats.of(className);
    this.point = { kind: 'lock', lock: this };
  }

  /** Held. */
  get busy(): boolean {
    return this.owner >= 0;
  }

  /** `spin_trylock()`: take it if free (disabling preemption). */
  tryLock(k: Kernel): boolean {
    if (this.owner >= 0) return false;
    waitUntilFree(k, this.stat, this.className, this.heldFrom, this.freeAt, true);
    this.owner = k.cpu.id;
    this.stat.acquisitions++;
    lineTransfer(k, this.lastCpu);
    this.lastCpu = k.cpu.id;
    this.acquiredAt = k.cpu.clock;
    k.preemptDisable();
    return true;
  }

  /** `spin_unlock()`. */
  unlock(k: Kernel): void {
    if (this.owner !== k.cpu.id) throw new Error(`spin_unlock of ${this.className} not held by cpu ${k.cpu.id}`);
    this.stat.hold_ns += k.cpu.clock - this.acquiredAt;
    this.owner = -1;
    this.heldFrom = this.acquiredAt;
    this.freeAt = k.cpu.clock;
    k.preemptEnable();
  }

  /** `spin_is_locked()`. */
  get isLocked(): boolean {
    return this.owner >= 0;
  }
}

/** The slow path of `spin_lock()`: count the contention, wait until free. */
export function* spinLockSlow(k: Kernel, lock: SpinLock): KGen<void> {
  const t0 = k.cpu.clock;
  lock.stat.contentions++;
  k.traceLockWait(lock.className, true);
  do {
    yield lock.point;
  } while (!lock.tryLock(k));
  lock.stat.wait_ns += k.cpu.clock - t0;
  k.traceLockWait(lock.className, false, t0);
}

/** `spin_lock()` from a kernel path: the fast path, or wait. */
export function* spinLock(k: Kernel, lock: SpinLock): KGen<void> {
  if (!lock.tryLock(k)) yield* spinLockSlow(k, lock);
}

/** `struct rw_semaphore`: readers share it, a writer excludes everyone; waiters sleep. */
export class RwSem {
  /** Lock class name. */
  readonly className: string;
  /** Waiters sleep. */
  readonly spins = false;
  /** Readers holding it. */
  readers = 0;
  /** Writing CPU, or -1. */
  writer = -1;
  /**
   * Writers waiting for it. The rwsem of 2.6.24 queues its waiters in
   * order: a reader that comes while a writer waits queues behind it, so a
   * stream of readers cannot starve a writer.
   */
  writersWaiting = 0;
  private lastCpu = -1;
  private readonly readAt: Float64Array;
  private writeAt = 0;
  /** The last writer's hold. */
  private writerFrom = 0;
  private writerFreeAt = 0;
  /** The span of the last readers' holds. */
  private readersFrom = 0;
  private readersFreeAt = 0;
  /** The class figures. */
  readonly stat: LockStat;
  /** What a reader waits on: a writer holding it or waiting for it. */
  readonly readPoint: LockPoint;
  /** What a writer waits on: anyone holding it. */
  readonly writePoint: LockPoint;

  constructor(stats: LockStats, className: string, nrCpus: number) {
    this.className = className;
    this.stat = stats.of(className);
    this.readAt = new Float64Array(nrCpus);
    const writerHolds = (): boolean => this.writer >= 0 || this.writersWaiting > 0;
    const anyoneHolds = (): boolean => this.writer >= 0 || this.readers > 0;
    this.readPoint = {
      kind: 'lock',
      lock: {
        className,
        spins: false,
        get busy() {
          return writerHolds();
        },
      },
    };
    this.writePoint = {
      kind: 'lock',
      lock: {
        className,
        spins: false,
        get busy() {
          return anyoneHolds();
        },
      },
    };
  }

  /** `down_read_trylock()`. */
  tryRead(k: Kernel): boolean {
    if (this.writer >= 0 || this.writersWaiting > 0) return false;
    if (k.mode === 'timed') waitUntilFree(k, this.stat, this.className, this.writerFrom, this.writerFreeAt, false);
    this.readers++;
    this.stat.acquisitions++;
    // the count word is written by every reader: it bounces between CPUs
    lineTransfer(k, this.lastCpu);
    this.lastCpu = k.cpu.id;
    this.readAt[k.cpu.id] = k.cpu.clock;
    return true;
  }

  /** `up_read()`. */
  upRead(k: Kernel): void {
    if (this.readers === 0) notHeld('up_read', this.className, 'for read');
    this.readers--;
    lineTransfer(k, this.lastCpu);
    this.lastCpu = k.cpu.id;
    this.stat.hold_ns += k.cpu.clock - this.readAt[k.cpu.id]!;
    if (k.cpu.clock > this.readersFreeAt) {
      if (this.readersFreeAt < this.readAt[k.cpu.id]!) this.readersFrom = this.readAt[k.cpu.id]!;
      this.readersFreeAt = k.cpu.clock;
    }
  }

  /** `down_write_trylock()`. */
  tryWrite(k: Kernel): boolean {
    if (this.writer >= 0 || this.readers > 0) return false;
    if (this.writerFreeAt >= this.readersFreeAt) waitUntilFree(k, this.stat, this.className, this.writerFrom, this.writerFreeAt, false);
    else waitUntilFree(k, this.stat, this.className, this.readersFrom, this.readersFreeAt, false);
    this.writer = k.cpu.id;
    this.stat.acquisitions++;
    lineTransfer(k, this.lastCpu);
    this.lastCpu = k.cpu.id;
    this.writeAt = k.cpu.clock;
    return true;
  }

  /** `up_write()`. */
  upWrite(k: Kernel): void {
    if (this.writer !== k.cpu.id) throw new Error(`up_write of ${this.className} not held for write by cpu ${k.cpu.id}`);
    this.writer = -1;
    this.stat.hold_ns += k.cpu.clock - this.writeAt;
    this.writerFrom = this.writeAt;
    this.writerFreeAt = k.cpu.clock;
  }

  /** True while anyone holds it. */
  get isLocked(): boolean {
    return this.writer >= 0 || this.readers > 0;
  }
}

/** `down_read()`: may sleep. Use as `if (!downReadFast(k, sem)) yield* downRead(k, sem);` on hot paths. */
export function* downRead(k: Kernel, sem: RwSem): KGen<void> {
  if (downReadFast(k, sem)) return;
  const t0 = k.cpu.clock;
  sem.stat.contentions++;
  k.traceLockWait(sem.className, true);
  do {
    yield sem.readPoint;
  } while (!sem.tryRead(k));
  sem.stat.wait_ns += k.cpu.clock - t0;
  k.traceLockWait(sem.className, false, t0);
}

/** The fast path of `down_read()`: the might-sleep check and an uncontended take. */
export function downReadFast(k: Kernel, sem: RwSem): boolean {
  const cpu = k.cpu;
  if (cpu.preemptCount > 0 || cpu.irqsOff > 0) k.mightSleep(`down_read(${sem.className})`);
  return sem.tryRead(k);
}

/** `down_write()`: may sleep. */
export function* downWrite(k: Kernel, sem: RwSem): KGen<void> {
  k.mightSleep(`down_write(${sem.className})`);
  if (sem.tryWrite(k)) return;
  const t0 = k.cpu.clock;
  sem.stat.contentions++;
  k.traceLockWait(sem.className, true);
  sem.writersWaiting++;
  try {
    do {
      yield sem.writePoint;
    } while (!sem.tryWrite(k));
  } finally {
    sem.writersWaiting--;
  }
  sem.stat.wait_ns += k.cpu.clock - t0;
  k.traceLockWait(sem.className, false, t0);
}

/** `struct mutex`: one holder; waiters sleep. */
export class Mutex extends RwSem {}

/** `mutex_lock()`: may sleep. */
export function* mutexLock(k: Kernel, m: Mutex): KGen<void> {
  yield* downWrite(k, m);
}

/** `mutex_unlock()`. */
export function mutexUnlock(k: Kernel, m: Mutex): void {
  m.upWrite(k);
}

/**
 * Split PTE locks: the spinlock in each PTE table's `struct page`
 * (`pte_lockptr`), one owner word per frame.
 */
export class PtlTable {
  private readonly owner: Int32Array;
  private readonly lastCpu: Int32Array;
  private readonly since: Float64Array;
  /**
   * Timed mode only (allocated at the first unlock there): per table, the
   * end of its last hold, whose start is still in {@link since}; -1 when
   * none is recorded. Typed arrays, so an unlock allocates nothing.
   */
  private holdEnd: Float64Array | null = null;
  /** The `ptl` class figures. */
  readonly stat: LockStat;
  /** PTE locks held now, on every CPU. */
  held = 0;
  /** The CPU that took a PTE lock last (-1: none yet). */
  taker = -1;
  /**
   * How many times a PTE lock was taken by another CPU than the one
   * before ({@link taker} changed). While it stays the same, every lock
   * was taken by {@link taker} only: host bookkeeping that lets a caller
   * know a table's lock word is still on that CPU without reading it.
   */
  takerChanges = 0;

  constructor(stats: LockStats, nrFrames: number) {
    this.owner = new Int32Array(nrFrames).fill(-1);
    this.lastCpu = new Int32Array(nrFrames).fill(-1);
    this.since = new Float64Array(nrFrames);
    this.stat = stats.of('ptl');
  }

  /** `spin_trylock(pte_lockptr(mm, pmd))` for table `pfn`. */
  tryLock(k: Kernel, pfn: number): boolean {
    if (this.owner[pfn] !== -1) return false;
    if (k.mode === 'timed') this.waitTimed(k, pfn);
    const id = k.cpu.id;
    this.owner[pfn] = id;
    this.held++;
    if (id !== this.taker) this.newTaker(id);
    this.stat.acquisitions++;
    lineTransfer(k, this.lastCpu[pfn]!);
    this.lastCpu[pfn] = k.cpu.id;
    this.since[pfn] = k.cpu.clock;
    k.preemptDisable();
    return true;
  }

  /** Note that CPU `id` takes PTE locks now (see {@link takerChanges}). */
  private newTaker(id: number): void {
    this.taker = id;
    this.takerChanges++;
  }

  /** {@link tryLock} in the timed mode: wait for the end of the table's last hold, if it covers the taker's present. */
  private waitTimed(k: Kernel, pfn: number): void {
    const end = this.holdEnd?.[pfn] ?? -1;
    if (end >= 0) waitUntilFree(k, this.stat, 'ptl', this.since[pfn]!, end, true);
  }

  /** `pte_unmap_unlock()`. */
  unlock(k: Kernel, pfn: number): void {
    if (this.owner[pfn] !== k.cpu.id) notHeld('pte unlock', `table ${pfn}`, `by cpu ${k.cpu.id}`);
    this.owner[pfn] = -1;
    this.held--;
    this.stat.hold_ns += k.cpu.clock - this.since[pfn]!;
    if (k.mode === 'timed') (this.holdEnd ??= new Float64Array(this.since.length).fill(-1))[pfn] = k.cpu.clock;
    k.preemptEnable();
  }

  /**
   * `n` more take-and-release pairs of table `pfn`'s lock by the running
   * CPU right after its own release, in sequential mode, the last taken at
   * `lastAt`: nobody else runs, so each take succeeds at once and moves no
   * cache line. Counts the acquisitions; the caller adds each hold to
   * `stat.hold_ns` and keeps `preempt_count` as the pairs would.
   */
  retaken(k: Kernel, pfn: number, n: number, lastAt: number): void {
    if (k.interleaving || this.owner[pfn] !== -1 || this.lastCpu[pfn] !== k.cpu.id) throw new Error(`pte lock of table ${pfn} retaken out of sequence`);
    if (k.cpu.id !== this.taker) this.newTaker(k.cpu.id);
    this.stat.acquisitions += n;
    this.since[pfn] = lastAt;
  }

  /**
   * {@link tryLock} then {@link unlock} of table `pfn` with nothing
   * charged in between: a walk that took the lock only to find that the
   * PTE does not map its page (`page_check_address`). The same figures
   * and charges as the pair, for the host cost of one call. Returns false,
   * doing nothing, when the lock is held (the caller waits as for
   * {@link tryLock}).
   */
  lockUnlock(k: Kernel, pfn: number): boolean {
    if (this.owner[pfn] !== -1) return false;
    const cpu = k.cpu;
    if (k.mode === 'timed' || cpu.preemptCount === 0) {
      // the pair moves more than the counts: take it step by step
      this.tryLock(k, pfn);
      this.unlock(k, pfn);
      return true;
    }
    if (cpu.id !== this.taker) this.newTaker(cpu.id);
    this.stat.acquisitions++;
    lineTransfer(k, this.lastCpu[pfn]!);
    this.lastCpu[pfn] = cpu.id;
    // held for no time: hold_ns gains 0, preempt_count is back where it
    // was, and `since` is read only by an unlock (after a tryLock or
    // retaken sets it again) or in the timed mode
    return true;
  }

  /**
   * {@link lockUnlock} of tables `pfns[0]`, `pfns[1]`, … `pfns[n - 1]`
   * in that order, until one is held: a run of `page_check_address()`
   * probes that each find a present PTE not mapping their page. The same
   * figures and charges, in the same order, as the calls one by one (each
   * cache-line charge its own addition; the count of acquisitions, a
   * whole number, added once). Returns how many were taken and dropped:
   * `n`, or the index of the first table found held (the caller waits for
   * it as for {@link tryLock}).
   */
  lockUnlockEach(k: Kernel, pfns: Int32Array, n: number): number {
    const cpu = k.cpu;
    if (k.mode === 'timed' || cpu.preemptCount === 0) {
      for (let j = 0; j < n; j++) if (!this.lockUnlock(k, pfns[j]!)) return j;
      return n;
    }
    const owner = this.owner;
    const lastCpu = this.lastCpu;
    const id = cpu.id;
    if (n > 0 && owner[pfns[0]!] === -1 && id !== this.taker) this.newTaker(id);
    let j = 0;
    for (; j < n; j++) {
      const pfn = pfns[j]!;
      if (owner[pfn] !== -1) break;
      const last = lastCpu[pfn]!;
      if (last !== id) {
        lineTransfer(k, last);
        lastCpu[pfn] = id;
      }
    }
    this.stat.acquisitions += j;
    return j;
  }

  /**
   * `n` more {@link lockUnlock} pairs by the running CPU of tables whose
   * lock it knows to be free and to have taken last, with nothing taken
   * by another CPU since ({@link takerChanges} unchanged, no lock
   * {@link held}): each pair only counts an acquisition (no cache line
   * moves, held for no time, `preempt_count` back where it was). The
   * caller knows the tables from its own earlier takes (host
   * bookkeeping); the figures are those of the pairs.
   */
  lockUnlockKnown(k: Kernel, n: number): void {
    const cpu = k.cpu;
    if (cpu.id !== this.taker || this.held !== 0 || k.mode === 'timed' || cpu.preemptCount === 0) throw new Error('pte locks retaken out of sequence');
    this.stat.acquisitions += n;
  }

  /** Held by some CPU. */
  isLocked(pfn: number): boolean {
    return this.owner[pfn] !== -1;
  }

  /** The lock of a table being freed must not be held. */
  assertFree(pfn: number): void {
    if (this.owner[pfn] !== -1) throw new Error(`page table ${pfn} freed with its PTE lock held`);
    if (this.holdEnd !== null) this.holdEnd[pfn] = -1;
  }
}

/** The slow path of a PTE lock. */
export function* ptlLockSlow(k: Kernel, ptl: PtlTable, pfn: number): KGen<void> {
  const t0 = k.cpu.clock;
  ptl.stat.contentions++;
  k.traceLockWait('ptl', true);
  const point: LockPoint = {
    kind: 'lock',
    lock: {
      className: 'ptl',
      spins: true,
      get busy() {
        return ptl.isLocked(pfn);
      },
    },
  };
  do {
    yield point;
  } while (!ptl.tryLock(k, pfn));
  ptl.stat.wait_ns += k.cpu.clock - t0;
  k.traceLockWait('ptl', false, t0);
}
