/**
 * Driving kernel paths.
 *
 * Kernel paths that may block, sleep or be preempted are generator
 * functions that yield a {@link SchedPoint} where the kernel could switch
 * away (a contended lock, `cond_resched`). In sequential mode nothing else
 * runs, so a path that yields at a lock has deadlocked on itself.
 * @module
 */

/** Why a kernel path yielded. */
export type SchedPoint = ReschedPoint | LockPoint;

/** `cond_resched()`: the path may be switched away here. */
export interface ReschedPoint {
  /** Discriminant. */
  readonly kind: 'resched';
}

/** A lock the path must wait for. */
export interface LockPoint {
  /** Discriminant. */
  readonly kind: 'lock';
  /** The lock waited for. */
  readonly lock: LockRef;
}

/** What a scheduling point says about a lock. */
export interface LockRef {
  /** Lock class name. */
  readonly className: string;
}

/** A kernel path: yields scheduling points, returns `T`. */
export type KGen<T> = Generator<SchedPoint, T, void>;

/** The scheduling point of `cond_resched()`. */
export const RESCHED: SchedPoint = Object.freeze({ kind: 'resched' });

/** Error thrown when a sequential path waits on a lock nobody can release. */
export class DeadlockError extends Error {}

/**
 * Run a kernel path to completion in sequential mode. A `resched` point
 * continues at once (nothing else is runnable); a `lock` point is a
 * self-deadlock.
 */
export function runSync<T>(path: KGen<T>): T {
  for (;;) {
    const r = path.next();
    if (r.done === true) return r.value;
    if (r.value.kind === 'lock') {
      throw new DeadlockError(`deadlock: waiting for ${r.value.lock.className} held by the same sequential path`);
    }
  }
}
