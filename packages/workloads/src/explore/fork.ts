/**
 * `fork()` as a kernel path a thread program can run, for races against
 * fork (the core's `Sys` has no `fork`): `dup_mm` as the core's
 * synchronous `Kernel.fork` does it, plus the child task.
 * @module
 */

import { Task, downWrite, dupMmap, type KGen, type Kernel } from '@mmlab/core';

/**
 * `fork()` of `parent` from inside a thread program: a new mm (under the
 * parent's `mmap_sem` held for writing, `dup_mmap` copies the VMAs and page
 * tables and flushes the parent's TLB), then a child task registered with
 * the kernel (so a run's teardown makes it exit). Returns the child, or a
 * negative errno (the half-built mm torn down).
 * @param k - the kernel
 * @param parent - the forking task (alive)
 */
export function* forkPath(k: Kernel, parent: Task): KGen<Task | number> {
  const oldmm = parent.mm;
  if (oldmm === null) throw new Error(`task ${parent.pid} has exited`);
  k.charge(k.costs.syscall);
  const t0 = k.cpu.clock;
  k.kernelEnter();
  try {
    const mm = yield* k.mmAlloc();
    if (typeof mm === 'number') return mm;
    yield* downWrite(k, oldmm.mmapSem);
    let r: number;
    try {
      r = yield* dupMmap(k, mm, oldmm);
    } finally {
      oldmm.mmapSem.upWrite(k);
    }
    const child = new Task(nextPid(k), mm, parent.cpu);
    if (r !== 0) {
      yield* k.sys(child).exit();
      return r;
    }
    k.oracle?.fork(oldmm, mm);
    k.tasks.push(child);
    return child;
  } finally {
    k.kernelExit();
    k.traceSlice('syscall', 'fork', t0);
  }
}

/** A pid above every task's the kernel has made so far. */
function nextPid(k: Kernel): number {
  return k.tasks.reduce((max, t) => Math.max(max, t.pid), 0) + 1;
}
