/**
 * Helpers that turn the core's error returns into {@link WorkloadError}s, so
 * a workload reads as a straight sequence of system calls.
 * @module
 */

import { errnoName, isErr, type Task } from '@mmlab/core';
import { WorkloadError } from './errors.js';

/**
 * Returns `ret` when it is not an errno, otherwise throws.
 * @param workload - the workload's name, for the message
 * @param step - what was attempted (`'mmap 256m shared'`)
 * @param ret - the system call's return value
 */
export function expectOk(workload: string, step: string, ret: number): number {
  if (isErr(ret)) throw new WorkloadError(`${workload}: ${step} failed: ${errnoName(ret)}`);
  return ret;
}

/**
 * Checks that a user access completed without a signal.
 * @param workload - the workload's name, for the message
 * @param step - what was attempted
 * @param signal - `kernel.touch`'s result: 0, or the signal delivered
 */
export function expectNoSignal(workload: string, step: string, signal: number): void {
  if (signal !== 0) throw new WorkloadError(`${workload}: ${step} raised signal ${signal}`);
}

/**
 * Returns the child of a fork, or throws when fork returned an errno.
 * @param workload - the workload's name, for the message
 * @param ret - `kernel.fork`'s result
 */
export function expectTask(workload: string, ret: Task | number): Task {
  if (typeof ret === 'number') {
    throw new WorkloadError(`${workload}: fork failed: ${errnoName(ret)}`);
  }
  return ret;
}
