/**
 * Driving kernel paths.
 *
 * Kernel paths that may block, sleep or be preempted are generator
 * functions that yield a {@link SchedPoint} where the kernel could switch
 * away: a contended lock, an IPI waiting for its acks, a `cond_resched`, a
 * point that may sleep (an allocation), a grace period, between two user
 * accesses, or between two loads of a lockless reader. Per-entry loops stay plain loops. In sequential mode nothing
 * else runs, so only a lock point means anything: a path waiting for a lock
 * it can never get has deadlocked on itself.
 * @module
 */

/** Why a kernel path yielded. */
export type SchedPoint = ReschedPoint | LockPoint | IpiPoint | SleepPoint | UserPoint | RcuPoint | RacePoint;

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
  /** True while the lock cannot be taken the way this waiter wants it. */
  readonly busy: boolean;
  /** A spinning waiter burns its CPU; a sleeping one leaves it to others. */
  readonly spins: boolean;
}

/** The sender of TLB-shootdown IPIs waits for every acknowledgement. */
export interface IpiPoint {
  /** Discriminant. */
  readonly kind: 'ipi';
}

/** A point where the path may sleep (`might_sleep()`: an allocation). */
export interface SleepPoint {
  /** Discriminant. */
  readonly kind: 'sleep';
}

/** Between two user accesses. */
export interface UserPoint {
  /** Discriminant. */
  readonly kind: 'user';
}

/**
 * A lockless reader between two loads (a page-table walk with interrupts
 * off and no lock, as `get_user_pages_fast` does): in the explore mode
 * other CPUs may act before its next load. Nothing changes on this CPU:
 * it is no quiescent state, no sleep and no voluntary preemption point.
 */
export interface RacePoint {
  /** Discriminant. */
  readonly kind: 'race';
}

/** `synchronize_rcu()` waits for a grace period. */
export interface RcuPoint {
  /** Discriminant. */
  readonly kind: 'rcu';
  /** The grace period sequence number that must complete. */
  readonly seq: number;
}

/** A kernel path: yields scheduling points, returns `T`. */
export type KGen<T> = Generator<SchedPoint, T, void>;

/**
 * A kernel path that may finish without reaching a scheduling point: its
 * result at once, or the generator that goes on from where it had to stop
 * (a contended lock, a sleeping allocation, I/O, the explore mode). A hot
 * path answers without making a generator when it can; the caller takes
 * the result as `typeof r === 'number' ? r : yield* r` for a number, or
 * with {@link awaitPath}. The number-returning fault paths, `->fault`
 * and the page-table allocation (`pgtableAlloc`, `pteAllocMapPath`) are
 * written this way.
 */
export type KPath<T> = T | KGen<T>;

/** Whether `r` is still a generator to run (not a result). */
export function isPending<T>(r: KPath<T>): r is KGen<T> {
  return typeof r === 'object' && r !== null && typeof (r as Partial<KGen<T>>).next === 'function';
}

/** Run `r` to its result when it is a generator (a {@link KPath} as a {@link KGen}). */
export function* awaitPath<T>(r: KPath<T>): KGen<T> {
  return isPending(r) ? yield* r : r;
}

/** The scheduling point of `cond_resched()`. */
export const RESCHED: SchedPoint = Object.freeze({ kind: 'resched' });
/** The scheduling point of an IPI wait. */
export const IPI_WAIT: SchedPoint = Object.freeze({ kind: 'ipi' });
/** The scheduling point of `might_sleep()`. */
export const MIGHT_SLEEP: SchedPoint = Object.freeze({ kind: 'sleep' });
/** The scheduling point of a lockless reader between two loads ({@link RacePoint}). */
export const RACE: SchedPoint = Object.freeze({ kind: 'race' });
/** The scheduling point between user accesses. */
export const USER_STEP: SchedPoint = Object.freeze({ kind: 'user' });

/** Error thrown when a sequential path waits on a lock nobody can release. */
export class DeadlockError extends Error {}

/**
 * Run a kernel path to completion in sequential mode: every point but a
 * lock continues at once (nothing else is runnable); a lock point is a
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
