/**
 * Kernel locks, sequential mode.
 *
 * A spinlock (`spinlock_t`) and a reader-writer semaphore (`struct
 * rw_semaphore`, mmap_sem) with lockstat-style figures. In sequential mode
 * one kernel path runs at a time, so a lock is never contended; taking a
 * lock that is already held is a self-deadlock and throws, which catches
 * lock-ordering bugs in the model. Paths take locks as
 * `while (!lock.tryLock()) yield lock;` so an interleaving scheduler can
 * run them unchanged.
 * @module
 */

/** Lockstat figures of one lock class. */
export interface LockStat {
  /** Times the lock was taken. */
  acquisitions: number;
  /** Times a taker found it held. */
  contentions: number;
}

/** Figures per lock class name (`mmap_sem`, `page_table_lock`, …). */
export class LockStats {
  private readonly classes = new Map<string, LockStat>();

  /** The figures of class `name`, created on first use. */
  of(name: string): LockStat {
    let s = this.classes.get(name);
    if (s === undefined) {
      s = { acquisitions: 0, contentions: 0 };
      this.classes.set(name, s);
    }
    return s;
  }

  /** All classes, sorted by name. */
  toJSON(): Record<string, LockStat> {
    const out: Record<string, LockStat> = {};
    for (const name of [...this.classes.keys()].sort()) out[name] = { ...this.classes.get(name)! };
    return out;
  }
}

/** `spinlock_t`. */
export class SpinLock {
  private held = false;
  private readonly stat: LockStat;
  /** Lock class name. */
  readonly className: string;

  constructor(stats: LockStats, className: string) {
    this.className = className;
    this.stat = stats.of(className);
  }

  /** `spin_trylock()`. */
  tryLock(): boolean {
    if (this.held) {
      this.stat.contentions++;
      return false;
    }
    this.held = true;
    this.stat.acquisitions++;
    return true;
  }

  /** `spin_unlock()`. */
  unlock(): void {
    if (!this.held) throw new Error(`unlock of ${this.className} that is not held`);
    this.held = false;
  }

  /** `spin_is_locked()`. */
  get isLocked(): boolean {
    return this.held;
  }
}

/** `struct rw_semaphore`. */
export class RwSem {
  private readers = 0;
  private writer = false;
  private readonly stat: LockStat;
  /** Lock class name. */
  readonly className: string;

  constructor(stats: LockStats, className: string) {
    this.className = className;
    this.stat = stats.of(className);
  }

  /** `down_read_trylock()`. */
  tryRead(): boolean {
    if (this.writer) {
      this.stat.contentions++;
      return false;
    }
    this.readers++;
    this.stat.acquisitions++;
    return true;
  }

  /** `up_read()`. */
  upRead(): void {
    if (this.readers === 0) throw new Error(`up_read of ${this.className} not held for read`);
    this.readers--;
  }

  /** `down_write_trylock()`. */
  tryWrite(): boolean {
    if (this.writer || this.readers > 0) {
      this.stat.contentions++;
      return false;
    }
    this.writer = true;
    this.stat.acquisitions++;
    return true;
  }

  /** `up_write()`. */
  upWrite(): void {
    if (!this.writer) throw new Error(`up_write of ${this.className} not held for write`);
    this.writer = false;
  }

  /** True while anyone holds it. */
  get isLocked(): boolean {
    return this.writer || this.readers > 0;
  }
}
