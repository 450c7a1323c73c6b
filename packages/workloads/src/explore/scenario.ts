/**
 * What a race scenario is: a named set-up on a kernel and the thread
 * programs that then run at once, for `exploreScenario` to interleave
 * under many seeds with the invariant checker on.
 * @module
 */

import type { Kernel, ThreadProgram } from '@mmlab/core';

/** Kernel sizes a scenario needs, merged into the build options. */
export interface ScenarioKernel {
  /** Simulated RAM, bytes (a small RAM makes reclaim run). */
  readonly memBytes?: number;
  /** Swap space, bytes. */
  readonly swapBytes?: number;
  /** Huge pages set aside at boot (they shrink the RAM left to allocate). */
  readonly hugePages?: number;
}

/**
 * A named race: `setup` builds the starting state with the kernel's
 * synchronous API (processes, threads, mappings, written pages) and returns
 * the programs of the threads that race. The explorer runs them with
 * `Kernel.runThreads`, makes every process still alive exit, and checks for
 * leaks. A program reports an outcome the scenario rules out (an errno
 * where none is possible, a signal other than the one the race may deliver)
 * with `Kernel.reportViolation('scenario', message)`.
 */
export interface Scenario {
  /** Name used on the command line (`munmap-vs-access`). */
  readonly name: string;
  /** One or two sentences: the set-up, the threads, and what may legitimately happen. */
  readonly summary: string;
  /** Kernel sizes the scenario needs (default: the machine's). */
  readonly kernel?: ScenarioKernel;
  /**
   * Builds the set-up on `k` (synchronous API) and returns the racing
   * threads' programs.
   */
  setup(k: Kernel): readonly ThreadProgram[];
}

/**
 * Declares a scenario (identity at run time).
 * @param scenario - the scenario
 */
export function defineScenario(scenario: Scenario): Scenario {
  return scenario;
}
