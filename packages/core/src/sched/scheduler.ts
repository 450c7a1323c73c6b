/**
 * The scheduler of the timed and explore modes.
 *
 * Each thread (a task's program, a generator of kernel paths) runs on its
 * task's CPU. A step resumes one thread until its next scheduling point;
 * between steps other CPUs run, and pending IPIs are taken by their
 * targets (only with interrupts enabled). A thread waiting for a lock, for
 * IPI acknowledgements or for a grace period is blocked until that
 * clears.
 *
 * - `timed`: discrete events — the CPU with the earliest clock acts next
 *   (ties to the lower CPU; an IPI before a step), so time, contention and
 *   waits come out of the costs; deterministic.
 * - `explore`: a seeded choice at every point among everything that could
 *   happen next — uniformly at random, or PCT-style (random thread
 *   priorities, lowered at a few random change points). The choices are
 *   recorded so a failing seed's interleaving can be printed and replayed.
 * @module
 */
import type { Cpu } from '../machine/cpu.js';
import type { Kernel } from '../kernel/kernel.js';
import { takeFlushIpi } from '../mm/tlbflush.js';
import { DeadlockError, type KGen, type SchedPoint } from './run.js';
import type { Task } from './task.js';

/** The timed mode's timeslice: a thread that ran this long is preempted at its next preemptible point (4 ms, 2.6.24's CFS minimum granularity at 8 CPUs). */
export const TIMESLICE_NS = 4_000_000;

/** Execution modes. */
export type Mode = 'sequential' | 'timed' | 'explore';

/** How explore mode chooses. */
export type ExploreStrategy = 'random' | 'pct';

/** A thread: one task's program. */
export interface Thread {
  /** The task. */
  readonly task: Task;
  /** Its program. */
  readonly gen: KGen<unknown>;
  /** Finished. */
  done: boolean;
  /** The point it waits at, when blocked. */
  waiting: SchedPoint | null;
  /** Simulated time it became blocked (for the waiter's clock). */
  blockedAt: number;
  /** PCT priority. */
  priority: number;
  /** Index, for reports. */
  readonly index: number;
  /** Its per-CPU kernel context while switched out (kernel nesting, reclaim, stretch start). */
  saved?: SavedContext | undefined;
  /** The kind of its last scheduling point. */
  lastPoint?: SchedPoint['kind'];
}

/** What a context switch saves of a thread's kernel state on its CPU. */
export interface SavedContext {
  /** Kernel entry nesting. */
  kernelDepth: number;
  /** In direct reclaim. */
  inReclaim: boolean;
  /** Start of its non-preemptible stretch, or -1. */
  npStart: number;
}

/** One choice of the scheduler, for the interleaving report. */
export interface Choice {
  /** CPU acting. */
  cpu: number;
  /** `s`: a thread step; `i`: an IPI taken. */
  action: 's' | 'i';
}

/** A small seeded generator (mulberry32). */
export class Prng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  /** A float in [0, 1). */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

/** Options of an explore run. */
export interface ExploreOptions {
  /** Seed of the choices. */
  seed: number;
  /** Strategy. */
  strategy: ExploreStrategy;
  /** PCT depth (change points + 1). */
  depth: number;
  /** Bound on steps before giving up (a livelock). */
  maxSteps: number;
  /** PCT: the step range change points are drawn from (about the run's length). */
  horizon: number;
}

/** The scheduler. */
export class Scheduler {
  private readonly k: Kernel;
  /** Recorded choices (explore mode). */
  readonly choices: Choice[] = [];
  private readonly rng: Prng;
  private readonly explore: ExploreOptions | null;
  private steps = 0;
  private changePoints: number[] = [];
  /** Full checks run at quiescent points. */
  quiescentChecks = 0;
  private readonly sliceStart = new Map<number, number>();

  constructor(k: Kernel, explore: ExploreOptions | null) {
    this.k = k;
    this.explore = explore;
    this.rng = new Prng(explore?.seed ?? k.seed);
  }

  /** Is the point a thread waits at still blocking it? */
  private blocked(t: Thread, cpu: Cpu): boolean {
    const w = t.waiting;
    if (w === null) return false;
    switch (w.kind) {
      case 'lock':
        return w.lock.busy;
      case 'ipi':
        return cpu.ipiAcksPending > 0;
      case 'rcu':
        return this.k.rcu.completed < w.seq;
      default:
        return false;
    }
  }

  /** Run threads until every one has finished. */
  run(threads: Thread[]): void {
    const k = this.k;
    const byCpu = new Map<number, Thread[]>();
    for (const t of threads) {
      const list = byCpu.get(t.task.cpu) ?? [];
      list.push(t);
      byCpu.set(t.task.cpu, list);
    }
    if (this.explore !== null && this.explore.strategy === 'pct') {
      for (const t of threads) t.priority = this.explore.depth + this.rng.next();
      const horizon = Math.max(4, this.explore.horizon);
      this.changePoints = Array.from({ length: this.explore.depth - 1 }, () => this.rng.int(horizon));
    }
    const current = new Map<number, Thread>();
    for (;;) {
      // what could happen next
      const acts: { cpu: Cpu; thread: Thread | null; time: number }[] = [];
      let alive = 0;
      for (const cpu of k.cpus) {
        if (cpu.pendingIpis.length > 0 && cpu.irqsOff === 0) {
          acts.push({ cpu, thread: null, time: Math.max(cpu.clock, cpu.pendingIpis[0]!.sentAt) });
        }
        const list = byCpu.get(cpu.id);
        if (list === undefined) continue;
        // the thread this CPU runs, or (when it finished) the next one it would
        // switch to: `current` keeps the one that ran last, so that step()
        // sees the switch and restores the new thread's kernel state
        let cur = current.get(cpu.id);
        if (cur === undefined || cur.done) {
          cur = list.find((t) => !t.done);
          if (cur === undefined) continue;
        }
        alive += list.filter((t) => !t.done).length;
        const curBlocked = this.blocked(cur, cpu);
        if (!curBlocked) acts.push({ cpu, thread: cur, time: cpu.clock });
        // another thread of this CPU may run: when the current one sleeps, or
        // (explore mode) when it may be preempted — no spinlock, preemption or
        // interrupts off, and PREEMPT or a voluntary point
        const w = cur.waiting;
        const sleeps = curBlocked && w !== null && (w.kind === 'rcu' || (w.kind === 'lock' && !w.lock.spins));
        // (a lockless reader's 'race' point is no voluntary one)
        const voluntary = cur.lastPoint !== 'user' && cur.lastPoint !== 'race';
        const mayPreempt = !curBlocked && cpu.preemptCount === 0 && cpu.irqsOff === 0 && (k.config.preempt || cpu.kernelDepth === 0 || voluntary);
        // timed mode: the scheduler tick preempts a thread that ran a whole timeslice
        const sliceUsed = this.explore === null && mayPreempt && cpu.clock - (this.sliceStart.get(cpu.id) ?? 0) >= TIMESLICE_NS;
        if (sleeps || (mayPreempt && this.explore !== null) || sliceUsed) {
          const from = list.indexOf(cur);
          for (let i = 1; i < list.length; i++) {
            const other = list[(from + i) % list.length]!;
            if (other.done || this.blocked(other, cpu)) continue;
            if (sliceUsed) acts.pop();
            acts.push({ cpu, thread: other, time: cpu.clock });
            if (this.explore === null) break;
          }
        }
      }
      if (alive === 0 && acts.every((a) => a.thread === null)) {
        // drain IPIs still queued, then stop
        if (acts.length === 0) return;
      }
      if (acts.length === 0) {
        const stuck = threads.filter((t) => !t.done).map((t) => `thread ${t.index} (pid ${t.task.pid}, cpu ${t.task.cpu}) waits at ${describe(t.waiting)}`);
        throw new DeadlockError(`deadlock: every thread is blocked: ${stuck.join('; ')}`);
      }
      const act = this.choose(acts);
      this.steps++;
      if (this.explore !== null && this.steps > this.explore.maxSteps) {
        throw new DeadlockError(`no progress after ${this.explore.maxSteps} steps (livelock?)`);
      }
      if (act.thread === null) {
        this.takeIpi(act.cpu);
        this.choices.push({ cpu: act.cpu.id, action: 'i' });
        continue;
      }
      this.choices.push({ cpu: act.cpu.id, action: 's' });
      this.step(act.cpu, act.thread, current);
      this.afterStep(act.cpu, threads);
    }
  }

  private choose(acts: { cpu: Cpu; thread: Thread | null; time: number }[]): { cpu: Cpu; thread: Thread | null; time: number } {
    if (this.explore === null) {
      let best = acts[0]!;
      for (const a of acts) {
        if (a.time < best.time || (a.time === best.time && a.cpu.id === best.cpu.id && a.thread === null)) best = a;
      }
      return best;
    }
    if (this.explore.strategy === 'random' || acts.every((a) => a.thread === null)) return acts[this.rng.int(acts.length)]!;
    // PCT: IPIs are taken with probability 1/2 when pending; else the highest-priority thread
    const ipis = acts.filter((a) => a.thread === null);
    if (ipis.length > 0 && this.rng.next() < 0.5) return ipis[this.rng.int(ipis.length)]!;
    const threads = acts.filter((a) => a.thread !== null);
    let best = threads[0]!;
    for (const a of threads) if (a.thread!.priority > best.thread!.priority) best = a;
    if (this.changePoints.includes(this.steps)) best.thread!.priority = this.rng.next();
    return best;
  }

  /** The target takes its oldest pending IPI and acknowledges it. */
  private takeIpi(cpu: Cpu): void {
    const k = this.k;
    const ipi = cpu.pendingIpis.shift()!;
    cpu.clock = Math.max(cpu.clock, ipi.sentAt) + k.costs.ipiHandler;
    cpu.busyNs += k.costs.ipiHandler;
    takeFlushIpi(k, cpu, ipi);
    const sender = k.cpus[ipi.from]!;
    sender.ipiAcksPending--;
    // the sender spun until this ack
    if (sender.clock < cpu.clock) {
      sender.busyNs += cpu.clock - sender.clock;
      sender.clock = cpu.clock;
    }
    k.trace?.instant(cpu.id, 'ipi', 'invalidate interrupt', cpu.clock, { from: ipi.from });
  }

  private step(cpu: Cpu, thread: Thread, current: Map<number, Thread>): void {
    const k = this.k;
    k.cpu = cpu;
    const prev = current.get(cpu.id);
    if (prev !== thread) {
      // a context switch: save the outgoing thread's kernel state, restore ours
      if (prev !== undefined && !prev.done) {
        prev.saved = { kernelDepth: cpu.kernelDepth, inReclaim: cpu.inReclaim, npStart: cpu.npStart };
        k.npBreak();
      }
      const s = thread.saved ?? { kernelDepth: 0, inReclaim: false, npStart: -1 };
      cpu.kernelDepth = s.kernelDepth;
      cpu.inReclaim = s.inReclaim;
      cpu.npStart = s.npStart >= 0 ? cpu.clock : -1;
      thread.saved = undefined;
      if (prev !== undefined) {
        k.charge(k.costs.contextSwitch);
        k.vm.mmlab_context_switch++;
      }
      k.rcu.quiescent(cpu.id);
      current.set(cpu.id, thread);
      this.sliceStart.set(cpu.id, cpu.clock);
    }
    if (thread.task.mm !== null) k.switchMm(thread.task);
    if (thread.waiting !== null) {
      // woken: a waiter's clock catches up with the time it became runnable
      thread.waiting = null;
    }
    cpu.inKernel = cpu.kernelDepth > 0;
    const r = thread.gen.next();
    if (r.done === true) {
      thread.done = true;
      k.rcu.quiescent(cpu.id);
      return;
    }
    const point = r.value;
    thread.lastPoint = point.kind;
    if (point.kind === 'lock' || point.kind === 'ipi' || point.kind === 'rcu') {
      thread.waiting = point;
      thread.blockedAt = cpu.clock;
      if (point.kind === 'rcu' || (point.kind === 'lock' && !point.lock.spins)) {
        // sleeping: a context switch, a quiescent state, the end of a non-preemptible stretch
        k.npBreak();
        k.rcu.quiescent(cpu.id);
      }
    } else if (point.kind === 'resched' || point.kind === 'sleep') {
      k.rcu.quiescent(cpu.id);
    }
  }

  /** Wake threads whose wait cleared; checks at quiescent points. */
  private afterStep(ran: Cpu, threads: Thread[]): void {
    const k = this.k;
    for (const t of threads) {
      if (t.done || t.waiting === null) continue;
      const cpu = k.cpus[t.task.cpu]!;
      if (this.blocked(t, cpu)) continue;
      // it waited until now: the CPU spun (spinlock, IPI) or slept
      const w = t.waiting;
      const spun = w.kind === 'ipi' || (w.kind === 'lock' && w.lock.spins);
      if (cpu.clock < ran.clock) {
        if (spun) cpu.busyNs += ran.clock - cpu.clock;
        cpu.clock = ran.clock;
      }
      // woken now: its clock stays at this wake-up until it runs (a later step elsewhere does not move it)
      t.waiting = null;
    }
    for (const cpu of k.cpus) if (cpu.kernelDepth === 0 && cpu.preemptCount === 0) k.rcu.quiescent(cpu.id);
    if (this.explore !== null && k.cpus.every((c) => c.kernelDepth === 0) && k.oracle !== null) {
      this.quiescentChecks++;
      k.checkpoint('quiescent');
    }
  }

  /** The interleaving as text: `c0 c1 i2 …` (c: step, i: IPI taken). */
  interleaving(): string {
    return this.choices.map((c) => `${c.action === 's' ? 'c' : 'i'}${c.cpu}`).join(' ');
  }
}

function describe(p: SchedPoint | null): string {
  if (p === null) return 'nothing';
  if (p.kind === 'lock') return `lock ${p.lock.className}`;
  return p.kind;
}
