/**
 * What a workload is: a named, documented, parameterised sequence of
 * operations on a {@link Kernel}, with one snapshot point before teardown.
 * @module
 */

import type * as core from '@mmlab/core';
import type { Kernel, MachineProfile } from '@mmlab/core';
import type { ParamSpecs, ParamValues } from './params.js';
import type { Rng } from './rng.js';

/** What a running workload is given. */
export interface WorkloadContext {
  /** The kernel the workload drives (built by {@link runWorkload}). */
  readonly kernel: Kernel;
  /** A random source seeded from the run's seed. */
  readonly rng: Rng;
  /**
   * The `@mmlab/core` module itself, so a user workload written as a plain
   * `.mjs` file anywhere on disk can reach constants such as `PROT_READ` and
   * `MAP_SHARED` without resolving the package.
   */
  readonly core: typeof core;
  /**
   * Records the gauges (page-table pages, per-process VmPTE and RSS, …) at
   * the workload's snapshot point: call it once, after the set-up and before
   * the teardown.
   */
  snapshot(): void;
  /**
   * Adds `by` (default 1) to a figure of the workload's own, reported under
   * `result.figures` (`ctx.count('gup_calls')`).
   */
  count(name: string, by?: number): void;
  /**
   * Sets a figure the workload measured on the model (transactions per
   * simulated second, a sum over guest kernels), reported under
   * `metrics.workload.<name>`; the last value set wins.
   */
  metric(name: string, value: number): void;
  /**
   * Ends the workload early because of a simulated fault that is a result
   * of the run (the OOM killer's SIGKILL, ENOMEM): the runner records it in
   * the report's `result`, takes the snapshot if none was taken, and makes
   * every process still alive exit. Never returns.
   * @param step - what was stopped (`'write at +40m'`)
   * @param cause - the signal delivered or the errno returned
   */
  stop(step: string, cause: StopCause): never;
}

/**
 * What stopped a workload early: the signal delivered or the errno
 * returned, and whether it means memory (and swap) ran out. `oom` defaults
 * to true for SIGKILL and ENOMEM; a workload sets it false for an ENOMEM
 * that is not memory exhaustion (the huge page pool refusing a
 * reservation).
 */
export interface StopCause {
  /** The signal delivered (`SIGKILL`). */
  readonly signal?: number;
  /** The errno returned (`ENOMEM`, either sign). */
  readonly errno?: number;
  /** Whether memory ran out (default: true for SIGKILL and ENOMEM). */
  readonly oom?: boolean;
}

/**
 * What a workload needs of the kernel it runs on, merged into the build
 * options by `runWorkload` unless the user set them.
 */
export interface KernelRequirement {
  /**
   * Huge pages in the pool (`nr_hugepages`). Used unless the user gave a
   * pool size (`--hugepages`); the user's value wins even when too small.
   */
  readonly hugePages?: number;
  /**
   * Simulated RAM, bytes, large enough to hold the pool above (the core
   * allows a pool of at most half of memory). Used only together with the
   * requirement's own pool or XIP image, and never when the user gave `--mem`.
   */
  readonly memBytes?: number;
  /**
   * Size of the execute-in-place image in bytes (`xipBytes`). With it,
   * the requirement's `memBytes` is used too (unless the user gave
   * `--mem`).
   */
  readonly xipBytes?: number;
  /** CPUs the workload runs on, used unless the user gave `--cpus`. */
  readonly cpus?: number;
}

/** What a {@link Workload.requires} hook is told about the machine. */
export interface RequirementContext {
  /** The machine profile the kernel will be built from (before `--mem`). */
  readonly machine: MachineProfile;
}

/**
 * A workload: documentation, parameter declarations and the code that runs
 * it. Built-in workloads are defined with {@link defineWorkload}; a user
 * module may export the same shape.
 */
export interface Workload<K extends string = string> {
  /** Name used in specifications (`shm-procs`). */
  readonly name: string;
  /** One or two sentences saying what it does and where its snapshot is. */
  readonly summary: string;
  /** Parameter declarations, by key. */
  readonly params: ParamSpecs<K>;
  /**
   * Runs the workload. It calls `ctx.snapshot()` once before tearing down,
   * and leaves no process alive when it returns.
   */
  run(ctx: WorkloadContext, params: ParamValues<K>): void | Promise<void>;
  /**
   * What the workload needs of the kernel for these parameter values (a
   * huge page pool, and the memory to hold it). Optional.
   */
  requires?(params: ParamValues<K>, context: RequirementContext): KernelRequirement;
}

/**
 * Declares a workload with typed parameter keys (identity at run time).
 * @param workload - the workload
 */
export function defineWorkload<K extends string>(workload: Workload<K>): Workload<K> {
  return workload;
}

/**
 * A workload bound to its parameter values, ready to run: what a
 * specification such as `shm-procs:procs=4:size=64m` resolves to.
 */
export interface ResolvedWorkload {
  /** The workload's name (or the module path of a user workload). */
  readonly name: string;
  /** Canonical specification: name and every parameter, in declaration order. */
  readonly spec: string;
  /** Parameter values (numbers; strings only for untyped user workloads). */
  readonly params: Readonly<Record<string, number | string>>;
  /** Runs the workload with those values. */
  readonly run: (ctx: WorkloadContext) => void | Promise<void>;
  /** What the workload needs of the kernel with those values, if anything. */
  readonly requires?: (context: RequirementContext) => KernelRequirement;
}
