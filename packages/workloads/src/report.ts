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
  /** mmap placement. */
  readonly placement: Placement;
  /** CONFIG_PREEMPT. */
  readonly preempt: boolean;
  /** Whether the invariant checker and data oracle ran. */
  readonly check: boolean;
}

/** A feature as the report records it. */
export interface ReportedFeature {
  /** Feature name. */
  readonly name: string;
  /** Options given (after defaults, where the feature declares them). */
  readonly options: Readonly<Record<string, boolean | number | string>>;
}

/** The report of one run. */
export interface RunReport {
  /** The workload, its canonical specification and parameter values. */
  readonly workload: {
    readonly name: string;
    readonly spec: string;
    readonly params: Readonly<Record<string, number | string>>;
  };
  /** The features the kernel was built with. */
  readonly features: readonly ReportedFeature[];
  /** The run's seed. */
  readonly seed: number;
  /** The kernel configuration. */
  readonly config: RunConfig;
  /** The kernel's figures (gauges sampled at the workload's snapshot point). */
  readonly metrics: Metrics;
  /** Invariant checks (present when the run used the checker). */
  readonly invariants?: {
    readonly checks: number;
    readonly violations: readonly Violation[];
  };
  /** Host-side timings; never compare these between runs. */
  readonly host?: { readonly ms: number };
}
