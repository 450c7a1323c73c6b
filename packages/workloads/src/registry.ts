/**
 * The built-in workloads, by name.
 * @module
 */

import { anonTouch, dio, forkExit, gru, hugetlbShm, kbuild, kvmGuest, oltpDio, oltpSga, shmProcs, swapPressure, threadsFault, xipGuests } from './builtin/index.js';
import type { Workload } from './workload.js';

const BUILTIN: readonly Workload[] = [shmProcs, anonTouch, forkExit, swapPressure, dio, hugetlbShm, threadsFault, kbuild, oltpSga, oltpDio, xipGuests, kvmGuest, gru];

/** Every built-in workload, in the order `mmlab list workloads` shows them. */
export function listWorkloads(): readonly Workload[] {
  return BUILTIN;
}

/**
 * The built-in workload called `name`.
 * @param name - a workload name such as `shm-procs`
 * @returns the workload, or `undefined` when there is none by that name
 */
export function getWorkload(name: string): Workload | undefined {
  return BUILTIN.find((w) => w.name === name);
}
