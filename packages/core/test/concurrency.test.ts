/**
 * Several CPUs: determinism of the three modes, lockstat figures with a
 * known contention count, the timed mode's parallel speed-up, TLB
 * shootdown by IPI (and a target with interrupts off), sleeping in atomic
 * context, RCU grace periods, PREEMPT latency in the zap loop, and the
 * Trace Event Format export.
 */
import { describe, expect, it } from 'vitest';
import {
  allocPage,
  type BuildOptions,
  buildKernel,
  FREE_PTE_NR,
  type Kernel,
  type KGen,
  MADV_NORMAL,
  MAP_FIXED,
  putPage,
  SpinLock,
  type Task,
  USER_STEP,
  zapBlockSize,
} from '../src/index.js';
import { callRcu, rcuReadLock, rcuReadUnlock, synchronizeRcu } from '../src/sched/rcu.js';
import type { Mode } from '../src/sched/scheduler.js';
import type { TraceEvent, TraceFile } from '../src/observe/trace.js';
import { ANON, expectClean, mapAt, MiB, P, R, RW } from './helpers.js';

/**
 * Bring every CPU's clock to the latest one: the threads that follow start
 * at the same simulated instant. (In the timed mode the synchronous calls
 * before `runThreads` advance only their own CPU's clock.)
 */
function alignClocks(k: Kernel): number {
  const t = Math.max(...k.cpus.map((c) => c.clock));
  for (const c of k.cpus) c.clock = t;
  return t;
}

/** A process and `n - 1` CLONE_VM threads of it (on CPUs 0..n-1). */
function threadGroup(k: Kernel, n: number): Task[] {
  const a = k.spawn();
  const ts = [a];
  for (let i = 1; i < n; i++) ts.push(k.clone(a));
  return ts;
}

/**
 * `threads` threads of one process write the pages of a shared anonymous
 * region of `pages` pages at R, interleaved: thread i takes pages i,
 * i + threads, i + 2·threads, …
 */
function threadsFault(opts: BuildOptions, threads = 4, pages = 64): Kernel {
  const k = buildKernel({ cpus: threads, memBytes: 64 * MiB, check: true, traceEvents: 100_000, ...opts });
  const ts = threadGroup(k, threads);
  mapAt(k, ts[0]!, R, pages * P);
  k.runThreads(
    ts.map((t, i) => ({
      task: t,
      program: (function* (): KGen<void> {
        const s = k.sys(t);
        for (let p = i; p < pages; p += threads) {
          const sig = yield* s.touch(R + p * P, P, true);
          if (sig !== 0) throw new Error(`thread ${i}: signal ${sig} at page ${p}`);
        }
      })(),
    })),
  );
  return k;
}

function sliceOn(trace: TraceFile, tid: number, name: string): TraceEvent[] {
  return trace.traceEvents.filter((e) => e.tid === tid && e.name === name);
}

describe('determinism', () => {
  for (const mode of ['sequential', 'timed', 'explore'] as const satisfies readonly Mode[]) {
    it(`${mode}: the same seed gives the same metrics and the same trace`, () => {
      const k1 = threadsFault({ mode, seed: 5 });
      const k2 = threadsFault({ mode, seed: 5 });
      expectClean(k1);
      expect(JSON.stringify(k2.metrics())).toBe(JSON.stringify(k1.metrics()));
      const t1 = k1.traceFile();
      expect(t1).not.toBeNull();
      expect(t1!.metadata.truncated).toBe(false);
      expect(t1!.traceEvents.length).toBeGreaterThan(64);
      expect(JSON.stringify(k2.traceFile())).toBe(JSON.stringify(t1));
      expect(k1.metrics().vmstat.mmlab_anon_fault).toBe(64);
      if (mode === 'sequential') {
        expect(k1.lastScheduler).toBeNull();
      } else {
        expect(k2.lastScheduler!.interleaving()).toBe(k1.lastScheduler!.interleaving());
      }
    });
  }

  it('explore: other seeds choose other interleavings', () => {
    const base = threadsFault({ mode: 'explore', seed: 1 }).lastScheduler!.interleaving();
    const others = [2, 3, 4].map((seed) => threadsFault({ mode: 'explore', seed }).lastScheduler!.interleaving());
    expect(others.some((s) => s !== base)).toBe(true);
  });
});

describe('lock accounting (timed mode, 2 CPUs)', () => {
  /** Two tasks each mmap 4 pages at the same instant; returns the kernel and the times seen. */
  function twoMmaps(sameMm: boolean): { k: Kernel; T: number; start: number[]; end: number[]; busy0: number[] } {
    const k = buildKernel({ mode: 'timed', cpus: 2, memBytes: 32 * MiB, check: true, traceEvents: 1000 });
    const a = k.spawn();
    const b = sameMm ? k.clone(a) : k.spawn();
    expect([a.cpu, b.cpu]).toEqual([0, 1]);
    const T = alignClocks(k);
    const busy0 = k.cpus.map((c) => c.busyNs);
    const start: number[] = [];
    const end: number[] = [];
    k.runThreads(
      [a, b].map((task, i) => ({
        task,
        program: (function* (): KGen<void> {
          start[i] = k.cpu.clock;
          const r = yield* k.sys(task).mmap(R + i * 2 ** 30, 4 * P, RW, ANON | MAP_FIXED);
          expect(r).toBe(R + i * 2 ** 30);
          end[i] = k.cpu.clock;
        })(),
      })),
    );
    expectClean(k);
    return { k, T, start, end, busy0 };
  }

  it('two threads taking mmap_sem for write at the same instant: exactly one contention', () => {
    const { k, T, start, end, busy0 } = twoMmaps(true);
    const c = k.costs;
    // x86-64 profile: 2 sockets, so CPUs 0 and 1 are on different sockets
    expect(k.cpus[0]!.socket).not.toBe(k.cpus[1]!.socket);
    const m = k.metrics();
    const sem = m.locks.mmap_sem!;
    expect(sem.acquisitions).toBe(2);
    expect(sem.contentions).toBe(1);
    // both mmaps do the same work under the lock
    expect(sem.hold_ns % 2).toBe(0);
    const h = sem.hold_ns / 2;
    expect(h).toBeGreaterThan(0);
    // the second reached down_write when the first took it: it waits the first's whole hold
    expect(sem.wait_ns).toBe(h);
    // both start after switch_mm (a CR3 load: context switch + full TLB flush)
    expect(start).toEqual([T + c.contextSwitch + c.tlbFlushAll, T + c.contextSwitch + c.tlbFlushAll]);
    // CPU 0 (ties go to the lower CPU) takes it uncontended
    expect(end[0]).toBe(start[0]! + c.syscall + h);
    // CPU 1 waits until CPU 0 released it, pulls the lock word across sockets, holds it as long
    expect(end[1]).toBe(end[0]! + c.cacheLineRemote + h);
    expect(m.sim.ns).toBe(end[1]);
    // a sleeping waiter leaves its CPU idle: the wait is not busy time
    expect(k.cpus[0]!.busyNs - busy0[0]!).toBe(end[0]! - T);
    expect(k.cpus[1]!.busyNs - busy0[1]!).toBe(end[1]! - T - sem.wait_ns);
    // mmap populates nothing: no page-table lock taken
    expect(m.locks.ptl?.acquisitions ?? 0).toBe(0);
    expect(m.locks.page_table_lock?.acquisitions ?? 0).toBe(0);
    expect(k.lastScheduler!.interleaving()).toBe('c0 c1');
    // the syscall slices: CPU 1's includes its wait
    const trace = k.traceFile()!;
    const s0 = sliceOn(trace, 0, 'mmap');
    const s1 = sliceOn(trace, 1, 'mmap');
    expect(s0.map((e) => e.dur)).toEqual([h / 1000]);
    expect(s1.map((e) => e.dur)).toEqual([(sem.wait_ns + c.cacheLineRemote + h) / 1000]);
  });

  it('two processes (two mmap_sems) at the same instant: no contention, same finish time', () => {
    const { k, end } = twoMmaps(false);
    const sem = k.metrics().locks.mmap_sem!;
    expect(sem.acquisitions).toBe(2);
    expect(sem.contentions).toBe(0);
    expect(sem.wait_ns).toBe(0);
    expect(end[1]).toBe(end[0]);
  });

  it('two readers of one mmap_sem at the same instant: no contention', () => {
    const k = buildKernel({ mode: 'timed', cpus: 2, memBytes: 32 * MiB, check: true });
    const [a, b] = threadGroup(k, 2) as [Task, Task];
    mapAt(k, a, R, 4 * P);
    const before = k.metrics().locks.mmap_sem!;
    alignClocks(k);
    k.runThreads(
      [a, b].map((task) => ({
        task,
        program: (function* (): KGen<void> {
          expect(yield* k.sys(task).madvise(R, 4 * P, MADV_NORMAL)).toBe(0);
        })(),
      })),
    );
    const sem = k.metrics().locks.mmap_sem!;
    expect(sem.acquisitions - before.acquisitions).toBe(2);
    expect(sem.contentions - before.contentions).toBe(0);
    expect(sem.wait_ns - before.wait_ns).toBe(0);
    expectClean(k);
  });
});

describe('timed mode', () => {
  it('threads faulting a shared region take mmap_sem, page_table_lock and ptl, and finish sooner than one after another', () => {
    const timed = threadsFault({ mode: 'timed' });
    const seq = threadsFault({ mode: 'sequential' });
    expectClean(timed);
    expectClean(seq);
    const m = timed.metrics();
    const ms = seq.metrics();
    // one fault per page, each under mmap_sem (read) and the PTE table's split lock; one mmap
    expect(m.vmstat.mmlab_anon_fault).toBe(64);
    expect(m.locks.mmap_sem!.acquisitions).toBe(64 + 1);
    expect(m.locks.ptl!.acquisitions).toBe(64);
    // PUD, PMD and PTE tables installed under page_table_lock (more when threads race to allocate)
    expect(m.locks.page_table_lock!.acquisitions).toBeGreaterThanOrEqual(3);
    expect(ms.locks.page_table_lock!.acquisitions).toBe(3);
    expect(ms.locks.ptl!.acquisitions).toBe(64);
    for (const s of Object.values(m.locks)) {
      expect(s.contentions).toBeLessThanOrEqual(s.acquisitions);
      expect(s.wait_ns).toBeGreaterThanOrEqual(0);
      expect(s.hold_ns).toBeGreaterThanOrEqual(0);
    }
    // four CPUs at once: less simulated time than the same work serialised
    expect(m.sim.ns).toBeLessThan(ms.sim.ns);
    expect(m.sim.cpus.map((c) => c.cpu)).toEqual([0, 1, 2, 3]);
    for (const c of m.sim.cpus) {
      expect(c.busy_ns).toBeGreaterThan(0);
      expect(c.busy_ns).toBeLessThanOrEqual(m.sim.ns);
    }
    const busy = m.sim.cpus.reduce((s, c) => s + c.busy_ns, 0);
    expect(busy).toBeGreaterThan(m.sim.ns);
    // sequential: one thing at a time, so elapsed time is the sum of the CPUs' busy time
    expect(ms.sim.ns).toBe(ms.sim.cpus.reduce((s, c) => s + c.busy_ns, 0));
  });
});

describe('TLB shootdown by IPI (timed mode)', () => {
  /**
   * a (CPU 0) and b (CPU 1) share an mm; b has read the 4 pages (they are
   * in CPU 1's TLB). Then a does some user work and munmaps them while b
   * runs 5 stretches of 2 µs, with interrupts off when `irqOff`.
   */
  function shootdown(irqOff: boolean): { k: Kernel; T: number; on: number; munmapEnd: number; flushNs: number; remote: number; received: number } {
    const k = buildKernel({ mode: 'timed', cpus: 2, memBytes: 32 * MiB, check: true, traceEvents: 10_000 });
    const [a, b] = threadGroup(k, 2) as [Task, Task];
    mapAt(k, a, R, 4 * P);
    expect(k.touch(a, R, 4 * P, true)).toBe(0);
    expect(k.touch(b, R, 4 * P, false)).toBe(0);
    const T = alignClocks(k);
    const v0 = k.metrics();
    const t = { on: 0, munmapEnd: 0 };
    k.runThreads([
      {
        task: a,
        program: (function* (): KGen<void> {
          k.charge(1000);
          yield USER_STEP;
          expect(yield* k.sys(a).munmap(R, 4 * P)).toBe(0);
          t.munmapEnd = k.cpu.clock;
        })(),
      },
      {
        task: b,
        program: (function* (): KGen<void> {
          if (irqOff) k.localIrqDisable();
          for (let i = 0; i < 5; i++) {
            k.charge(2000);
            yield USER_STEP;
          }
          t.on = k.cpu.clock;
          if (irqOff) k.localIrqEnable();
        })(),
      },
    ]);
    expectClean(k);
    const m = k.metrics();
    return {
      k,
      T,
      ...t,
      flushNs: m.sim.tlb_flush_ns - v0.sim.tlb_flush_ns,
      remote: m.vmstat.nr_tlb_remote_flush! - v0.vmstat.nr_tlb_remote_flush!,
      received: m.vmstat.nr_tlb_remote_flush_received! - v0.vmstat.nr_tlb_remote_flush_received!,
    };
  }

  function ipiTaken(k: Kernel): TraceEvent {
    const ev = k.traceFile()!.traceEvents.filter((e) => e.name === 'invalidate interrupt');
    expect(ev.at(-1)!.tid).toBe(1);
    expect(ev.at(-1)!.args).toEqual({ from: 0 });
    return ev.at(-1)!;
  }

  it('munmap on CPU 0 of memory CPU 1 accessed: one shootdown, one IPI received, flush time counted', () => {
    const r = shootdown(false);
    expect(r.remote).toBe(1);
    expect(r.received).toBe(1);
    expect(r.flushNs).toBeGreaterThan(0);
    expect(r.k.metrics().sim.tlb_flush_ns).toBeGreaterThan(0);
    const sent = r.k.traceFile()!.traceEvents.filter((e) => e.name === 'flush_tlb_others(all)');
    expect(sent.at(-1)!.tid).toBe(0);
    expect(sent.at(-1)!.args).toEqual({ targets: 1 });
    // CPU 1's stale entries are gone
    expect(r.k.cpus[1]!.tlb.lookup(r.k.tasks[0]!.mm!.id, R / P)).toBeLessThan(0);
    // the sender's munmap ends after the target took the IPI
    expect(r.munmapEnd).toBeGreaterThanOrEqual(ipiTaken(r.k).ts * 1000);
  });

  it('a target with interrupts off acks only when it re-enables them: the sender waits', () => {
    const on = shootdown(false);
    const off = shootdown(true);
    expect(off.T).toBe(on.T);
    expect(off.remote).toBe(1);
    expect(off.received).toBe(1);
    const taken = ipiTaken(off.k).ts * 1000;
    // taken right after local_irq_enable, not when sent
    expect(taken).toBe(off.on + off.k.costs.ipiHandler);
    const sent = off.k.traceFile()!.traceEvents.filter((e) => e.name === 'flush_tlb_others(all)').at(-1)!.ts * 1000;
    expect(sent).toBeLessThan(off.on);
    // the sender's IPI wait ended after the target re-enabled interrupts
    expect(off.munmapEnd).toBeGreaterThan(taken);
    expect(off.munmapEnd).toBeGreaterThan(on.munmapEnd);
    // the munmap's extra time is all TLB-flush time (the IPI wait)
    expect(off.flushNs - on.flushNs).toBe(off.munmapEnd - on.munmapEnd);
    // the sender spun: its longest non-preemptible stretch covers the wait
    expect(off.k.metrics().sim.cpus[0]!.max_nonpreempt_ns).toBeGreaterThanOrEqual(taken - sent);
  });
});

describe('sleeping in atomic context', () => {
  const WORDS = /^BUG: sleeping function called from invalid context: /;

  function atomic(k: Kernel): { check: string; message: string }[] {
    return k.invariants.violations.filter((v) => v.check === 'atomic');
  }

  for (const mode of ['sequential', 'timed'] as const) {
    it(`${mode}: an allocation under a spinlock is reported in the kernel's words`, () => {
      const k = buildKernel({ mode, cpus: 2, memBytes: 32 * MiB, check: true });
      const t = k.spawn();
      const lock = new SpinLock(k.locks, 'test_lock');
      k.runThreads([
        {
          task: t,
          program: (function* (): KGen<void> {
            expect(lock.tryLock(k)).toBe(true);
            const pfn = yield* allocPage(k);
            expect(pfn).toBeGreaterThan(0);
            putPage(k, pfn);
            lock.unlock(k);
          })(),
        },
      ]);
      const v = atomic(k);
      expect(v.length).toBeGreaterThanOrEqual(1);
      expect(v[0]!.message).toMatch(WORDS);
      expect(v[0]!.message).toContain('alloc_page on cpu 0 (preempt_count 1, irqs on)');
      expect(k.metrics().locks.test_lock).toMatchObject({ acquisitions: 1, contentions: 0 });
    });
  }

  it('might_sleep with interrupts off, and down_read(mmap_sem) under a spinlock', () => {
    const k = buildKernel({ mode: 'timed', cpus: 2, memBytes: 32 * MiB, check: true });
    const t = k.spawn();
    mapAt(k, t, R, P);
    const lock = new SpinLock(k.locks, 'test_lock');
    k.runThreads([
      {
        task: t,
        program: (function* (): KGen<void> {
          k.localIrqDisable();
          k.mightSleep('test_irqs_off');
          k.localIrqEnable();
          expect(lock.tryLock(k)).toBe(true);
          yield* k.sys(t).madvise(R, P, MADV_NORMAL);
          lock.unlock(k);
        })(),
      },
    ]);
    const v = atomic(k).map((x) => x.message);
    expect(v).toHaveLength(2);
    expect(v[0]).toMatch(WORDS);
    expect(v[0]).toContain('test_irqs_off on cpu 0 (preempt_count 1, irqs off)');
    expect(v[1]).toMatch(WORDS);
    expect(v[1]).toContain('down_read(mmap_sem) on cpu 0 (preempt_count 1, irqs on)');
  });

  it('the same paths outside atomic context report nothing', () => {
    const k = buildKernel({ mode: 'timed', cpus: 2, memBytes: 32 * MiB, check: true });
    const t = k.spawn();
    mapAt(k, t, R, P);
    k.runThreads([
      {
        task: t,
        program: (function* (): KGen<void> {
          k.mightSleep('test');
          putPage(k, yield* allocPage(k));
          yield* k.sys(t).madvise(R, P, MADV_NORMAL);
        })(),
      },
    ]);
    expectClean(k);
  });
});

describe('RCU', () => {
  it('call_rcu callbacks run once every CPU has passed a quiescent state', () => {
    const k = buildKernel({ cpus: 3, memBytes: 16 * MiB });
    const ran: string[] = [];
    callRcu(k, () => ran.push('first'));
    expect(k.rcu.inProgress).toBe(true);
    k.rcu.quiescent(0);
    k.rcu.quiescent(0);
    k.rcu.quiescent(2);
    expect(ran).toEqual([]);
    // queued during the grace period: needs the next one
    callRcu(k, () => ran.push('second'));
    k.rcu.quiescent(1);
    expect(ran).toEqual(['first']);
    expect(k.rcu.gracePeriods).toBe(1);
    expect(k.rcu.pending).toBe(1);
    k.rcu.quiescent(0);
    k.rcu.quiescent(1);
    expect(ran).toEqual(['first']);
    k.rcu.quiescent(2);
    expect(ran).toEqual(['first', 'second']);
    expect(k.rcu.gracePeriods).toBe(2);
    expect(k.rcu.pending).toBe(0);
    expect(k.rcu.inProgress).toBe(false);
  });

  /** a (CPU 0) holds rcu_read_lock across 4 points; b (CPU 1) runs `other` meanwhile. */
  function readerAndOther(seed: number, other: (k: Kernel, inReader: () => boolean) => KGen<void>): Kernel {
    const k = buildKernel({ mode: 'explore', cpus: 2, memBytes: 16 * MiB, seed });
    const a = k.spawn();
    const b = k.spawn();
    let inReader = false;
    k.runThreads([
      {
        task: a,
        program: (function* (): KGen<void> {
          yield USER_STEP;
          rcuReadLock(k);
          inReader = true;
          for (let i = 0; i < 4; i++) yield USER_STEP;
          inReader = false;
          rcuReadUnlock(k);
          yield USER_STEP;
        })(),
      },
      { task: b, program: other(k, () => inReader) },
    ]);
    return k;
  }

  it('explore: a call_rcu callback never runs while a reader that predates it is inside', () => {
    let overlapping = 0;
    for (let seed = 1; seed <= 60; seed++) {
      const seen = { atCall: false, atCallback: false, ran: false };
      readerAndOther(seed, function* (k, inReader): KGen<void> {
        yield USER_STEP;
        callRcu(k, () => {
          seen.ran = true;
          seen.atCallback = inReader();
        });
        seen.atCall = inReader();
        for (let i = 0; i < 3; i++) yield USER_STEP;
      });
      expect(seen.ran, `seed ${seed}`).toBe(true);
      if (seen.atCall) {
        overlapping++;
        expect(seen.atCallback, `seed ${seed}`).toBe(false);
      }
    }
    // not vacuous: many seeds called it inside the read section
    expect(overlapping).toBeGreaterThan(5);
  });

  it('explore: synchronize_rcu returns after a grace period, never inside a reader that predates it', () => {
    let overlapping = 0;
    for (let seed = 1; seed <= 60; seed++) {
      const seen = { atStart: false, atReturn: true, gp: -1, returned: false };
      const k = readerAndOther(seed, function* (kk, inReader): KGen<void> {
        yield USER_STEP;
        seen.atStart = inReader();
        const gp0 = kk.rcu.gracePeriods;
        yield* synchronizeRcu(kk);
        seen.gp = kk.rcu.gracePeriods - gp0;
        seen.atReturn = inReader();
        seen.returned = true;
      });
      expect(seen.returned, `seed ${seed}`).toBe(true);
      expect(seen.gp, `seed ${seed}`).toBeGreaterThanOrEqual(1);
      expect(k.rcu.completed).toBe(k.rcu.gpSeq);
      if (seen.atStart) {
        overlapping++;
        expect(seen.atReturn, `seed ${seed}`).toBe(false);
      }
      expect(k.invariants.violations).toEqual([]);
    }
    expect(overlapping).toBeGreaterThan(5);
  });

  it('rcu_read_lock is atomic context: might_sleep and synchronize_rcu inside it are reported', () => {
    const k = buildKernel({ cpus: 2, memBytes: 16 * MiB });
    const t = k.spawn();
    k.runThreads([
      {
        task: t,
        program: (function* (): KGen<void> {
          rcuReadLock(k);
          k.mightSleep('test_in_rcu_reader');
          yield* synchronizeRcu(k);
          rcuReadUnlock(k);
          k.mightSleep('test_after_rcu_reader');
        })(),
      },
    ]);
    const v = k.invariants.violations.filter((x) => x.check === 'atomic').map((x) => x.message);
    expect(v).toEqual([
      'BUG: sleeping function called from invalid context: test_in_rcu_reader on cpu 0 (preempt_count 1, irqs on)',
      'BUG: sleeping function called from invalid context: synchronize_rcu on cpu 0 (preempt_count 1, irqs on)',
    ]);
  });
});

describe('PREEMPT latency in the zap loop', () => {
  function munmap64(preempt: boolean): { maxNp: number; flushes: number; cpus: number[] } {
    const k = buildKernel({ cpus: 2, memBytes: 128 * MiB, config: { preempt } });
    const t = k.spawn();
    const len = 64 * MiB;
    mapAt(k, t, R, len);
    expect(k.touch(t, R, len, true)).toBe(0);
    const before = k.metrics().vmstat.mmlab_gather_flush!;
    expect(k.munmap(t, R, len)).toBe(0);
    const m = k.metrics();
    return { maxNp: m.sim.max_nonpreempt_ns, flushes: m.vmstat.mmlab_gather_flush! - before, cpus: m.sim.cpus.map((c) => c.max_nonpreempt_ns) };
  }

  it('munmap of 64 MiB: ZAP_BLOCK_SIZE 8 pages with PREEMPT, 1024 without: shorter stretches, more gather flushes', () => {
    const off = munmap64(false);
    const on = munmap64(true);
    expect(on.maxNp).toBeGreaterThan(0);
    expect(on.maxNp).toBeLessThan(off.maxNp);
    expect(off.maxNp).toBe(Math.max(...off.cpus));
    expect(on.maxNp).toBe(Math.max(...on.cpus));
    // each block ends with tlb_finish_mmu; a full vector (FREE_PTE_NR) flushes early;
    // free_pgtables' gather is the last flush
    const pages = (64 * MiB) / P;
    const flushes = (preempt: boolean): number => {
      const block = zapBlockSize(preempt) / P;
      return (pages / block) * Math.ceil(block / FREE_PTE_NR) + 1;
    };
    expect(off.flushes).toBe(flushes(false));
    expect(on.flushes).toBe(flushes(true));
    expect([off.flushes, on.flushes]).toEqual([16 * 3 + 1, 2048 + 1]);
  });
});

describe('trace export (Trace Event Format)', () => {
  function validate(trace: TraceFile, cpus: number): void {
    expect(Array.isArray(trace.traceEvents)).toBe(true);
    // plain JSON
    expect(JSON.parse(JSON.stringify(trace))).toEqual(trace);
    for (const e of trace.traceEvents) {
      expect(typeof e.name).toBe('string');
      expect(e.name.length).toBeGreaterThan(0);
      expect(['X', 'i', 'M']).toContain(e.ph);
      expect(typeof e.ts).toBe('number');
      expect(Number.isFinite(e.ts)).toBe(true);
      expect(e.ts).toBeGreaterThanOrEqual(0);
      expect(e.pid).toBe(1);
      expect(Number.isInteger(e.tid)).toBe(true);
      expect(e.tid).toBeGreaterThanOrEqual(0);
      expect(e.tid).toBeLessThan(cpus);
      if (e.ph === 'X') {
        expect(typeof e.dur).toBe('number');
        expect(e.dur).toBeGreaterThanOrEqual(0);
      }
      if (e.ph === 'i') expect(e.s).toBe('t');
    }
    const names = trace.traceEvents.filter((e) => e.ph === 'M' && e.name === 'thread_name');
    expect(names.map((e) => e.tid)).toEqual(Array.from({ length: cpus }, (_, i) => i));
    expect(names.map((e) => e.args?.name)).toEqual(Array.from({ length: cpus }, (_, i) => `CPU ${i}`));
    expect(trace.traceEvents.filter((e) => e.ph === 'M' && e.name === 'process_name')).toHaveLength(1);
  }

  it('a timed run with faults, syscalls, IPIs and flushes validates', () => {
    const k = threadsFault({ mode: 'timed' });
    const [a] = k.tasks as [Task];
    expect(k.munmap(a, R, 64 * P)).toBe(0);
    const trace = k.traceFile()!;
    validate(trace, 4);
    expect(trace.displayTimeUnit).toBe('ns');
    expect(trace.metadata).toMatchObject({ producer: 'mmlab', truncated: false, maxEvents: 100_000 });
    expect(trace.metadata.events).toBe(trace.traceEvents.filter((e) => e.ph !== 'M').length);
    const cats = new Set(trace.traceEvents.map((e) => e.cat));
    for (const cat of ['syscall', 'fault', 'ipi', 'tlb']) expect(cats.has(cat), cat).toBe(true);
    // every CPU has its own track of faults; the munmap's IPIs reach the three other CPUs
    for (let c = 0; c < 4; c++) expect(trace.traceEvents.some((e) => e.tid === c && e.cat === 'fault' && e.ph === 'X')).toBe(true);
    expect(trace.traceEvents.filter((e) => e.name === 'invalidate interrupt').map((e) => e.tid)).toEqual([1, 2, 3]);
  });

  it('a lock wait is a slice on the waiter\'s track', () => {
    // a (CPU 0) munmaps while c (CPU 2) has interrupts off: a holds mmap_sem
    // for write while it waits for c's ack; b (CPU 1) faults meanwhile and
    // sleeps on mmap_sem until a is done
    const k = buildKernel({ mode: 'timed', cpus: 3, memBytes: 32 * MiB, check: true, traceEvents: 10_000 });
    const [a, b, c] = threadGroup(k, 3) as [Task, Task, Task];
    const Y = R + 2 ** 30;
    mapAt(k, a, R, 4 * P);
    mapAt(k, a, Y, 4 * P);
    expect(k.touch(a, R, 4 * P, true)).toBe(0);
    expect(k.touch(c, R, 4 * P, false)).toBe(0);
    alignClocks(k);
    const t = { faultAt: 0, faultEnd: 0, munmapEnd: 0 };
    k.runThreads([
      {
        task: a,
        program: (function* (): KGen<void> {
          k.charge(1000);
          yield USER_STEP;
          expect(yield* k.sys(a).munmap(R, 4 * P)).toBe(0);
          t.munmapEnd = k.cpu.clock;
        })(),
      },
      {
        task: b,
        program: (function* (): KGen<void> {
          k.charge(3000);
          yield USER_STEP;
          t.faultAt = k.cpu.clock;
          expect(yield* k.sys(b).touch(Y, P, true)).toBe(0);
          t.faultEnd = k.cpu.clock;
        })(),
      },
      {
        task: c,
        program: (function* (): KGen<void> {
          k.localIrqDisable();
          for (let i = 0; i < 5; i++) {
            k.charge(2000);
            yield USER_STEP;
          }
          k.localIrqEnable();
        })(),
      },
    ]);
    expectClean(k);
    const trace = k.traceFile()!;
    validate(trace, 3);
    const waits = trace.traceEvents.filter((e) => e.cat === 'lock');
    expect(waits.map((e) => [e.name, e.tid, e.ph])).toEqual([['wait mmap_sem', 1, 'X']]);
    const w = waits[0]!;
    expect(w.dur).toBeGreaterThan(0);
    // the wait began after b's fault entry and ended no earlier than a's up_write
    expect(w.ts * 1000).toBeGreaterThanOrEqual(t.faultAt);
    expect((w.ts + w.dur!) * 1000).toBeLessThanOrEqual(t.faultEnd);
    // b ran its fault only once a had returned from munmap
    expect(t.faultEnd).toBeGreaterThan(t.munmapEnd);
    const sem = k.metrics().locks.mmap_sem!;
    expect(sem.contentions).toBeGreaterThanOrEqual(1);
    expect(sem.wait_ns).toBeGreaterThanOrEqual(w.dur! * 1000);
  });

  it('the cap: 50 events, then a note that the trace was cut', () => {
    const k = threadsFault({ mode: 'timed', traceEvents: 50 });
    const trace = k.traceFile()!;
    validate(trace, 4);
    expect(trace.metadata).toMatchObject({ truncated: true, events: 50, maxEvents: 50 });
    const body = trace.traceEvents.filter((e) => e.ph !== 'M');
    expect(body).toHaveLength(51);
    const last = trace.traceEvents.at(-1)!;
    expect(last).toMatchObject({ name: 'trace cut at 50 events', ph: 'i', cat: 'mmlab' });
    expect(last.ts).toBe(body.at(-2)!.ts);
  });

  it('no trace unless asked for', () => {
    expect(buildKernel({ memBytes: 16 * MiB }).traceFile()).toBeNull();
  });
});
