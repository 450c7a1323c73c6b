/**
 * Classic (non-preemptible) RCU: a grace period ends when every CPU has
 * passed a quiescent state — a context switch, user mode, or idle — after
 * it began. `rcu_read_lock` disables preemption; `call_rcu` queues a
 * callback for the end of the next grace period; `synchronize_rcu` sleeps
 * until one has ended.
 * @see kernel/rcuclassic.c, include/linux/rcupdate.h
 * @module
 */
import type { Kernel } from '../kernel/kernel.js';
import type { KGen, RcuPoint } from './run.js';

/** The RCU state of the machine. */
export class Rcu {
  /** The last grace period started. */
  gpSeq = 0;
  /** The last grace period completed. */
  completed = 0;
  /** CPUs that still owe a quiescent state to the current grace period. */
  private readonly needQs: Uint8Array;
  private owed = 0;
  private readonly callbacks: { seq: number; fn: () => void }[] = [];
  /** Grace periods completed. */
  gracePeriods = 0;

  constructor(nrCpus: number) {
    this.needQs = new Uint8Array(nrCpus);
  }

  /** True while a grace period is in progress. */
  get inProgress(): boolean {
    return this.gpSeq > this.completed;
  }

  /** Start a grace period unless one is running; returns the one a new request must wait for. */
  request(): number {
    if (this.inProgress) return this.gpSeq + 1;
    this.gpSeq++;
    this.needQs.fill(1);
    this.owed = this.needQs.length;
    return this.gpSeq;
  }

  /** CPU `cpu` passed a quiescent state. */
  quiescent(cpu: number): void {
    if (!this.inProgress || this.needQs[cpu] === 0) return;
    this.needQs[cpu] = 0;
    if (--this.owed > 0) return;
    this.completed = this.gpSeq;
    this.gracePeriods++;
    const due = this.callbacks.filter((c) => c.seq <= this.completed);
    for (const c of due) this.callbacks.splice(this.callbacks.indexOf(c), 1);
    // callbacks queued during this grace period need the next one
    if (this.callbacks.length > 0) this.request();
    for (const c of due) c.fn();
  }

  /** `call_rcu()`: run `fn` after a grace period. */
  call(fn: () => void): void {
    const seq = this.request();
    this.callbacks.push({ seq, fn });
  }

  /** Callbacks waiting. */
  get pending(): number {
    return this.callbacks.length;
  }
}

/** `rcu_read_lock()`: classic RCU disables preemption. */
export function rcuReadLock(k: Kernel): void {
  k.preemptDisable();
}

/** `rcu_read_unlock()`. */
export function rcuReadUnlock(k: Kernel): void {
  k.preemptEnable();
}

/** `call_rcu()`. */
export function callRcu(k: Kernel, fn: () => void): void {
  k.rcu.call(fn);
}

/**
 * `synchronize_rcu()`: may sleep; returns once a grace period that began
 * after the call has ended. The caller's CPU is quiescent while it sleeps.
 */
export function* synchronizeRcu(k: Kernel): KGen<void> {
  k.mightSleep('synchronize_rcu');
  const seq = k.rcu.request();
  k.rcu.quiescent(k.cpu.id);
  if (!k.interleaving) {
    k.rcuQuiesceAll();
    return;
  }
  const point: RcuPoint = { kind: 'rcu', seq };
  while (k.rcu.completed < seq) yield point;
}
