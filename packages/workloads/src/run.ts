/**
 * Runs a workload on a freshly built kernel and reports what it did.
 * @module
 */

import * as core from '@mmlab/core';
import { PAGE_SIZE, buildKernel, errnoName, type Feature, type FeatureRequest, type Placement } from '@mmlab/core';
import { signalName } from './checks.js';
import { WorkloadStopped } from './errors.js';
import type { ReportedFeature, RunReport, RunResult } from './report.js';
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
  /** Simulated RAM in bytes (default: the machine profile's). */
  readonly memBytes?: number;
  /** Swap space in bytes (default: twice the RAM, as the core does). */
  readonly swapBytes?: number;
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
 *
 * A workload stopped by a simulated fault ({@link WorkloadStopped}: the OOM
 * killer's SIGKILL, ENOMEM) is a result, not a failure: the report's
 * `result` records the signal or errno and the step, the snapshot is taken
 * then if the workload had not taken it, and every process still alive
 * exits before the leak check.
 * @param options - what to run and on which kernel
 * @throws {@link SpecError} for a bad workload specification,
 *   `KernelConfigError` for a bad machine, memory or swap size or feature
 *   set, and {@link WorkloadError} when the workload fails on the model
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
    ...(options.memBytes === undefined ? {} : { memBytes: options.memBytes }),
    ...(options.swapBytes === undefined ? {} : { swapBytes: options.swapBytes }),
  });
  const memBytes = kernel.mem.nrFrames * PAGE_SIZE;
  const swapBytes = options.swapBytes ?? 2 * memBytes;
  let snapshots = 0;
  const figures = new Map<string, number>();
  const ctx: WorkloadContext = {
    kernel,
    rng: createRng(seed),
    core,
    snapshot() {
      snapshots++;
      kernel.snapshot();
    },
    count(name, by = 1) {
      figures.set(name, (figures.get(name) ?? 0) + by);
    },
    stop(step, cause) {
      const what = cause.signal === undefined ? errnoName(cause.errno ?? 0) : signalName(cause.signal);
      throw new WorkloadStopped(`${workload.name}: ${step} stopped by ${what}`, step, cause);
    },
  };
  let stopped: WorkloadStopped | undefined;
  try {
    await workload.run(ctx);
  } catch (err) {
    if (!(err instanceof WorkloadStopped)) throw err;
    stopped = err;
  }
  if (snapshots === 0) kernel.snapshot();
  if (stopped !== undefined) {
    for (const t of kernel.tasks) if (t.mm !== null) kernel.exit(t);
  }
  kernel.finish();
  const result = runResult(stopped, figures);
  const report: RunReport = {
    workload: { name: workload.name, spec: workload.spec, params: workload.params },
    features: kernel.features.map((f): ReportedFeature => ({ name: f.feature.name, options: { ...f.options } })),
    seed,
    config: { machine, placement: kernel.placement, preempt, check, memBytes, swapBytes },
    ...(result === undefined ? {} : { result }),
    metrics: kernel.metrics(),
    ...(check
      ? { invariants: { checks: kernel.invariants.checks, violations: [...kernel.invariants.violations] } }
      : {}),
    ...(options.timings === true ? { host: { ms: Math.round(performance.now() - started) } } : {}),
  };
  return report;
}

/** The report's `result`, or `undefined` when the workload simply completed. */
function runResult(stopped: WorkloadStopped | undefined, figures: ReadonlyMap<string, number>): RunResult | undefined {
  if (stopped === undefined && figures.size === 0) return undefined;
  return {
    ...(stopped?.signal === undefined ? {} : { signal: signalName(stopped.signal) }),
    ...(stopped?.errno === undefined ? {} : { errno: errnoName(stopped.errno) }),
    ...(stopped === undefined ? {} : { oom: isOom(stopped), step: stopped.step }),
    ...(figures.size === 0 ? {} : { figures: Object.fromEntries(figures) }),
  };
}

/** SIGKILL is only ever the OOM killer's in the model; ENOMEM from a fault-in is OOM too. */
function isOom(stopped: WorkloadStopped): boolean {
  return stopped.signal === core.SIGKILL || stopped.errno === core.ENOMEM;
}
