/**
 * Helpers that turn the core's error returns into {@link WorkloadError}s, so
 * a workload reads as a straight sequence of system calls.
 * @module
 */

import { ENOMEM, SIGBUS, SIGKILL, SIGSEGV, errnoName, isErr, type Task } from '@mmlab/core';
import { WorkloadError, WorkloadStopped } from './errors.js';

const SIGNAL_NAMES: Readonly<Record<number, string>> = {
  [SIGBUS]: 'SIGBUS',
  [SIGKILL]: 'SIGKILL',
  [SIGSEGV]: 'SIGSEGV',
};

/**
 * The symbolic name of a signal number (`9` → `'SIGKILL'`).
 * @param signal - a signal number as `kernel.touch` returns it
 */
export function signalName(signal: number): string {
  return SIGNAL_NAMES[signal] ?? `SIG${signal}`;
}

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
 * Checks that a user access completed without a signal. The OOM killer's
 * SIGKILL is a result of the run, not a failure: it throws
 * {@link WorkloadStopped}, which the runner records in the report.
 * @param workload - the workload's name, for the message
 * @param step - what was attempted
 * @param signal - `kernel.touch`'s result: 0, or the signal delivered
 * @throws {@link WorkloadStopped} on SIGKILL, {@link WorkloadError} on any
 *   other signal
 */
export function expectNoSignal(workload: string, step: string, signal: number): void {
  if (signal === 0) return;
  if (signal === SIGKILL) {
    throw new WorkloadStopped(`${workload}: ${step} killed by SIGKILL (out of memory)`, step, { signal });
  }
  throw new WorkloadError(`${workload}: ${step} raised signal ${signal} (${signalName(signal)})`);
}

/**
 * Like {@link expectOk} for a system call that faults user pages in
 * (`get_user_pages`, direct I/O): ENOMEM there means memory and swap are
 * exhausted, a result of the run, so it throws {@link WorkloadStopped}.
 * @param workload - the workload's name, for the message
 * @param step - what was attempted
 * @param ret - the system call's return value
 * @throws {@link WorkloadStopped} on ENOMEM, {@link WorkloadError} on any
 *   other errno
 */
export function expectOkOrOom(workload: string, step: string, ret: number): number {
  if (isErr(ret) && -ret === ENOMEM) {
    throw new WorkloadStopped(`${workload}: ${step} failed: ENOMEM (out of memory)`, step, { errno: ENOMEM });
  }
  return expectOk(workload, step, ret);
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
