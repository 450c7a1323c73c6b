/**
 * Runs a workload on a freshly built kernel and reports what it did.
 * @module
 */

import * as core from '@mmlab/core';
import { buildKernel, type Feature, type FeatureRequest, type Placement } from '@mmlab/core';
import type { ReportedFeature, RunReport } from './report.js';
import { resolveWorkload } from './resolve.js';
import { createRng } from './rng.js';
import type { ResolvedWorkload, WorkloadContext } from './workload.js';

/** What to run and on which kernel. */
export interface RunOptions {
  /** A workload specification, or a workload already resolved. */
  readonly workload: string | ResolvedWorkload;
  /** Features to build the kernel with (default none). */
  readonly features?: readonly FeatureRequest[];
  /** Features that `{ name }` requests are looked up in. */
  readonly registry?: readonly Feature[];
  /** Seed of the kernel and of the workload's random source (default 1). */
  readonly seed?: number;
  /** CONFIG_PREEMPT (default false, as 2.6.24's common configs). */
  readonly preempt?: boolean;
  /** Run the invariant checker and data oracle at every operation boundary. */
  readonly check?: boolean;
  /** Machine profile name (default `x86-64`). */
  readonly machine?: string;
  /** mmap placement (default: the machine profile's). */
  readonly placement?: Placement;
  /** Record host time under `host` (default false). */
  readonly timings?: boolean;
  /** Directory that relative workload module paths start from. */
  readonly cwd?: string;
}

/** Default machine profile. */
export const DEFAULT_MACHINE = 'x86-64';

/**
 * Builds a kernel, runs the workload, checks for leaks once every process
 * has exited ({@link Kernel.finish}), and returns the report. When the
 * workload never calls `ctx.snapshot()`, the snapshot is taken after it
 * returns.
 * @param options - what to run and on which kernel
 * @throws {@link SpecError} for a bad workload specification,
 *   `KernelConfigError` for a bad machine or feature set, and
 *   {@link WorkloadError} when the workload fails on the model
 */
export async function runWorkload(options: RunOptions): Promise<RunReport> {
  const started = performance.now();
  const workload =
    typeof options.workload === 'string' ? await resolveWorkload(options.workload, options.cwd) : options.workload;
  const seed = options.seed ?? 1;
  const machine = options.machine ?? DEFAULT_MACHINE;
  const preempt = options.preempt ?? false;
  const check = options.check ?? false;
  const features = options.features ?? [];
  const kernel = buildKernel({
    config: { preempt },
    machine,
    features: [...features],
    registry: [...(options.registry ?? [])],
    seed,
    check,
    ...(options.placement === undefined ? {} : { placement: options.placement }),
  });
  let snapshots = 0;
  const ctx: WorkloadContext = {
    kernel,
    rng: createRng(seed),
    core,
    snapshot() {
      snapshots++;
      kernel.snapshot();
    },
  };
  await workload.run(ctx);
  if (snapshots === 0) kernel.snapshot();
  kernel.finish();
  const report: RunReport = {
    workload: { name: workload.name, spec: workload.spec, params: workload.params },
    features: kernel.features.map((f): ReportedFeature => ({ name: f.feature.name, options: { ...f.options } })),
    seed,
    config: { machine, placement: kernel.placement, preempt, check },
    metrics: kernel.metrics(),
    ...(check
      ? { invariants: { checks: kernel.invariants.checks, violations: [...kernel.invariants.violations] } }
      : {}),
    ...(options.timings === true ? { host: { ms: Math.round(performance.now() - started) } } : {}),
  };
  return report;
}
