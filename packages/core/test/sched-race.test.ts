/**
 * The 'race' scheduling point of a lockless reader: other CPUs may act
 * between two of its loads, while nothing on its own CPU may (it is no
 * voluntary preemption point, unlike `cond_resched`).
 */
import { describe, expect, it } from 'vitest';
import { buildKernel, type Kernel, type KGen, RACE, RESCHED, type SchedPoint, type Task } from '../src/index.js';
import { MiB } from './helpers.js';

/** A kernel path on the running CPU that yields `point` three times between four loads, recording each in `log`. */
function* reader(k: Kernel, log: string[], name: string, point: SchedPoint): KGen<void> {
  k.kernelEnter();
  for (let i = 0; i < 4; i++) {
    log.push(name);
    if (i < 3) yield point;
  }
  k.kernelExit();
}

/** Run reader `a` (yielding `point`) and a one-step path `b` on `b`'s task, over seeds 1..40; whether `b` ever ran between `a`'s loads. */
function interleaves(point: SchedPoint, sameCpu: boolean): boolean {
  for (let seed = 1; seed <= 40; seed++) {
    const k = buildKernel({ mode: 'explore', cpus: 2, memBytes: 32 * MiB, seed });
    const a = k.spawn();
    const b: Task = sameCpu ? (k.spawn(), k.spawn()) : k.spawn();
    expect(b.cpu === a.cpu).toBe(sameCpu);
    const log: string[] = [];
    k.runThreads([
      { task: a, program: reader(k, log, 'a', point) },
      { task: b, program: reader(k, log, 'b', point) },
    ]);
    if (log.join('').replace(/b+$/, '').replace(/^b+/, '').includes('b')) return true;
  }
  return false;
}

describe("the 'race' point", () => {
  it('lets another CPU act between two loads', () => {
    expect(interleaves(RACE, false)).toBe(true);
  });

  it('lets no other task of the same CPU run there without PREEMPT, where cond_resched would', () => {
    expect(interleaves(RACE, true)).toBe(false);
    expect(interleaves(RESCHED, true)).toBe(true);
  });
});
