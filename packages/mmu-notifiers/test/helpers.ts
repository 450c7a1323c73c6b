/**
 * Shared set-up of the package's tests: a kernel with the feature (or
 * without it), a process with anonymous memory, and a driver attached to it.
 */
import { buildKernel, type BuildOptions, type Kernel, type KGen, MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE, type Task } from '@mmlab/core';
import { mmuNotifiers, ShadowMmu } from '../src/index.js';

export const MiB = 2 ** 20;

/** Feature options as the tests give them. */
export interface Opts {
  variant?: 'v6' | 'range';
  release?: 'after-unmap' | 'before-unmap';
  sleepable?: boolean;
}

/** A checked kernel with the feature (options `o`), or without it (`o` null). */
export function kernel(o: Opts | null, extra: Partial<BuildOptions> = {}): Kernel {
  return buildKernel({
    cpus: 2,
    memBytes: 64 * MiB,
    check: true,
    ...extra,
    features: o === null ? [] : [{ feature: mmuNotifiers, options: { ...o } }],
  });
}

/** A process with `bytes` of anonymous private memory, written once. */
export function process(k: Kernel, bytes: number): { task: Task; addr: number } {
  const task = k.spawn();
  const addr = k.mmap(task, 0, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  if (addr < 0) throw new Error(`mmap: ${addr}`);
  if (k.touch(task, addr, bytes, true) !== 0) throw new Error('touch');
  return { task, addr };
}

/** Run a driver program as an operation of `task`. */
export function run<T>(k: Kernel, task: Task, program: KGen<T>): T {
  return ShadowMmu.run(k, task, program);
}
