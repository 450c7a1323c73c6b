/**
 * The report of one workload run: what was run, on what kernel, and the
 * figures the kernel recorded. JSON-able, with a stable key order; host
 * timings only under `host`, so two runs of one seed compare equal.
 * @module
 */

import type { Metrics, Placement, Violation } from '@mmlab/core';

/** The kernel configuration a run used. */
export interface RunConfig {
  /** Machine profile name. */
  readonly machine: string;
  /** CPUs (the profile's, or `--cpus`). */
  readonly cpus: number;
  /** Execution mode. */
  readonly mode: 'sequential' | 'timed' | 'explore';
  /** Explore mode: how interleavings were chosen (present in explore mode only). */
  readonly strategy?: 'random' | 'pct';
  /** mmap placement. */
  readonly placement: Placement;
  /** CONFIG_PREEMPT. */
  readonly preempt: boolean;
  /** Whether the invariant checker and data oracle ran. */
  readonly check: boolean;
  /** Simulated RAM, bytes. */
  readonly memBytes: number;
  /** Swap space, bytes. */
  readonly swapBytes: number;
  /** Huge pages in the pool (`nr_hugepages`, 2 MiB each; 0 when none). */
  readonly hugePages: number;
}

/** Free and reserved huge pages at one point of a run. */
export interface HugePagePoint {
  /** `HugePages_Free`. */
  readonly free: number;
  /** `HugePages_Rsvd`. */
  readonly rsvd: number;
}

/**
 * The huge page pool over a run (`metrics.meminfo` has the end-of-run
 * values; this adds the pool as the workload's snapshot saw it).
 */
export interface HugePageFigures {
  /** `HugePages_Total`. */
  readonly total: number;
  /** At the workload's snapshot point. */
  readonly snapshot: HugePagePoint;
  /** At the end of the run, every process gone. */
  readonly end: HugePagePoint;
}

/**
 * How the workload ended, when there is more to say than "it completed":
 * a simulated fault that stopped it early (the OOM killer's SIGKILL, ENOMEM
 * from a system call) and figures the workload counted itself.
 */
export interface RunResult {
  /** The signal that stopped the workload (`'SIGKILL'`). */
  readonly signal?: string;
  /** The errno that stopped the workload (`'ENOMEM'`). */
  readonly errno?: string;
  /** True when memory and swap were exhausted (OOM kill, or ENOMEM). */
  readonly oom?: boolean;
  /** The step that was stopped (`'write at +40m'`). */
  readonly step?: string;
  /** Figures the workload counted (`gup_calls`, …), in the order counted. */
  readonly figures?: Readonly<Record<string, number>>;
  /**
   * Pids of the tasks a workload that completed left running, breaking the
   * contract that it makes every task it starts exit before it returns; the
   * runner made them exit (before the leak check). Absent when none was left.
   */
  readonly leftRunning?: readonly number[];
}

/** A feature as the report records it. */
export interface ReportedFeature {
  /** Feature name. */
  readonly name: string;
  /** Options given (after defaults, where the feature declares them). */
  readonly options: Readonly<Record<string, boolean | number | string>>;
}

/** The kernel's metrics with what the workload measured itself. */
export interface WorkloadMetrics extends Metrics {
  /** Figures the workload set with `ctx.metric` (`throughput`, sums over guest kernels, …); absent when it set none. */
  readonly workload?: Readonly<Record<string, number>>;
}

/** The report of one run. */
export interface RunReport {
  /** The workload, its canonical specification and parameter values. */
  readonly workload: ReportedWorkload;
  /** The features the kernel was built with. */
  readonly features: readonly ReportedFeature[];
  /** The run's seed. */
  readonly seed: number;
  /** The kernel configuration. */
  readonly config: RunConfig;
  /**
   * How the workload ended (present when a simulated fault stopped it early
   * or when it counted figures of its own).
   */
  readonly result?: RunResult;
  /**
   * The kernel's figures (gauges sampled at the workload's snapshot point),
   * and under `workload` the figures the workload measured itself
   * (`ctx.metric`: `throughput`, …), present when it set any.
   */
  readonly metrics: WorkloadMetrics;
  /** The huge page pool at the snapshot and at the end (present when the pool is not empty). */
  readonly hugePages?: HugePageFigures;
  /** Invariant checks (present when the run used the checker). */
  readonly invariants?: InvariantFigures;
  /** Host-side timings; never compare these between runs. */
  readonly host?: HostTimings;
}

/** The workload of a run, as reported. */
export interface ReportedWorkload {
  /** Workload name. */
  readonly name: string;
  /** Canonical specification (`name:key=value`). */
  readonly spec: string;
  /** Parameter values after defaults. */
  readonly params: Readonly<Record<string, number | string>>;
}

/** What the invariant checker did during a run. */
export interface InvariantFigures {
  /** Checks run. */
  readonly checks: number;
  /** Violations found (empty when clean). */
  readonly violations: readonly Violation[];
}

/** Host-side timings. */
export interface HostTimings {
  /** Wall-clock milliseconds of the run on the host. */
  readonly ms: number;
}
