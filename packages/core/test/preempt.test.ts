import { describe, expect, it } from 'vitest';
import { buildKernel, MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE, type KGen, type Task } from '../src/index.js';

const P = 4096;

function twoTasksOneCpu(seed: number, preempt: boolean): { switches: number; violations: number; interleaved: boolean } {
  const k = buildKernel({ check: true, memBytes: 32 << 20, mode: 'explore', cpus: 1, seed, config: { preempt } });
  const a = k.spawn();
  const b = k.spawn();
  const pa = k.mmap(a, 0, 8 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  const pb = k.mmap(b, 0, 8 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  const order: number[] = [];
  const prog = (t: Task, addr: number, id: number): KGen<void> =>
    (function* () {
      for (let i = 0; i < 8; i++) {
        yield* k.sys(t).touch(addr + i * P, P, true);
        order.push(id);
      }
      yield* k.sys(t).munmap(addr, 8 * P);
    })();
  const cs0 = k.vm.mmlab_context_switch;
  k.runThreads([
    { task: a, program: prog(a, pa, 0) },
    { task: b, program: prog(b, pb, 1) },
  ]);
  const switches = k.vm.mmlab_context_switch - cs0;
  k.exit(a);
  k.exit(b);
  k.finish();
  // interleaved: b ran before a finished (or the other way round)
  const interleaved = order.slice(0, 8).some((x) => x !== order[0]);
  return { switches, violations: k.invariants.violations.length, interleaved };
}

describe('preemption between tasks of one CPU (explore mode)', () => {
  it.each([false, true])('PREEMPT %s: tasks pinned to one CPU are switched at preemption points, with a context switch each time, and stay clean', (preempt) => {
    let interleavings = 0;
    let switches = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const r = twoTasksOneCpu(seed, preempt);
      expect(r.violations).toBe(0);
      if (r.interleaved) interleavings++;
      switches += r.switches;
    }
    expect(interleavings).toBeGreaterThan(0);
    expect(switches).toBeGreaterThan(40);
  });
});

describe('hot struct page cache lines', () => {
  it('faulting page-cache pages last touched on the other socket costs cross-socket line transfers, on the same socket cheaper ones', () => {
    const run = (cpuOfSecond: number): number => {
      const k = buildKernel({ memBytes: 64 << 20, cpus: 8 });
      const f = k.shmemCreate('hot', 64 * P);
      const a = k.spawn(); // cpu 0
      const others: Task[] = [];
      for (let i = 1; i < 8; i++) others.push(k.spawn());
      const b = others[cpuOfSecond - 1]!;
      const aa = k.mmap(a, 0, 64 * P, PROT_READ, MAP_SHARED, f, 0);
      const bb = k.mmap(b, 0, 64 * P, PROT_READ, MAP_SHARED, f, 0);
      expect(k.touch(a, aa, 64 * P, false)).toBe(0);
      const before = k.cpus[b.cpu]!.busyNs;
      expect(k.touch(b, bb, 64 * P, false)).toBe(0);
      return k.cpus[b.cpu]!.busyNs - before;
    };
    const sameSocket = run(1);
    const otherSocket = run(4);
    const k = buildKernel({ memBytes: 64 << 20 });
    // 64 faults, each moving the page's count/mapcount line once
    expect(otherSocket - sameSocket).toBe(64 * (k.costs.cacheLineRemote - k.costs.cacheLineSocket));
  });
});

describe('the timed mode scheduler tick', () => {
  it('two tasks on one CPU share it in timeslices: both finish around the same simulated time', () => {
    const k = buildKernel({ memBytes: 128 << 20, mode: 'timed', cpus: 1 });
    const a = k.spawn();
    const b = k.spawn();
    const size = 32 << 20; // 8192 anonymous faults each: about 12 ms of simulated time
    const pa = k.mmap(a, 0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    const pb = k.mmap(b, 0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    const done: number[] = [];
    const prog = (t: Task, addr: number): KGen<void> =>
      (function* () {
        yield* k.sys(t).touch(addr, size, true);
        done.push(k.cpu.clock);
      })();
    const cs0 = k.vm.mmlab_context_switch;
    k.runThreads([
      { task: a, program: prog(a, pa) },
      { task: b, program: prog(b, pb) },
    ]);
    // each ran ~4 ms slices in turn, so neither finished long before the other
    expect(k.vm.mmlab_context_switch - cs0).toBeGreaterThan(2);
    const [first, second] = done as [number, number];
    expect(second - first).toBeLessThan(first / 2);
  });
});
