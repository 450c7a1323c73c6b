/**
 * One run of the lab: a workload on a kernel built from a feature set, with
 * one seed, reduced to its flat metrics.
 * @module
 */

import type { Placement } from '@mmlab/core';
import { runWorkload, type ExploreStrategyName, type ResolvedWorkload, type RunMode } from '@mmlab/workloads';
import { flattenMetrics, type Metrics } from './metrics.js';
import { featureRequests, type FeatureSet } from './notation.js';

/** The kernel and mode every run of an experiment shares (all optional: the defaults of `runWorkload`). */
export interface RunSettings {
  /** Machine profile name (default `x86-64`). */
  readonly machine?: string;
  /** Execution mode (default `sequential`). */
  readonly mode?: RunMode;
  /** CPUs (default: the machine's). */
  readonly cpus?: number;
  /** Explore mode strategy. */
  readonly strategy?: ExploreStrategyName;
  /** CONFIG_PREEMPT. */
  readonly preempt?: boolean;
  /** mmap placement. */
  readonly placement?: Placement;
  /** Simulated RAM in bytes. */
  readonly memBytes?: number;
  /** Swap in bytes. */
  readonly swapBytes?: number;
  /** Huge page pool. */
  readonly hugePages?: number;
  /** Run the invariant checker and the data oracle (default false). */
  readonly check?: boolean;
}

/** What one run gives. */
export interface RunOutcome {
  /** The flat metrics. */
  readonly metrics: Metrics;
  /** Invariant violations, as the checker words them (empty without `check`). */
  readonly violations: readonly string[];
}

/**
 * Runs a workload once.
 * @param workload - a workload specification or a resolved workload
 * @param set - the feature set
 * @param seed - the seed of the kernel and the workload
 * @param settings - machine, mode and checking
 * @param cwd - where relative workload module paths start
 */
export async function runOnce(
  workload: string | ResolvedWorkload,
  set: FeatureSet,
  seed: number,
  settings: RunSettings = {},
  cwd?: string
): Promise<RunOutcome> {
  const report = await runWorkload({
    workload,
    features: featureRequests(set),
    seed,
    ...settings,
    ...(cwd === undefined ? {} : { cwd }),
  });
  return {
    metrics: flattenMetrics(report),
    violations: (report.invariants?.violations ?? []).map((v) => `${v.check}: ${v.message}${v.op === undefined ? '' : ` (after ${v.op})`}`),
  };
}

/**
 * The seeds of `reps` repetitions starting at `first`: `first`, `first + 1`, ….
 * @param reps - how many
 * @param first - the first seed (default 1)
 */
export function seedsOf(reps: number, first = 1): number[] {
  return Array.from({ length: reps }, (_, i) => first + i);
}
