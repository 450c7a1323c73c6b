/**
 * Runs a workload on a freshly built kernel and reports what it did.
 * @module
 */

import * as core from '@mmlab/core';
import {
  KernelConfigError,
  PAGE_SIZE,
  buildKernel,
  errnoName,
  getMachine,
  type BuildOptions,
  type Feature,
  type FeatureRequest,
  type Kernel,
  type MachineProfile,
  type Placement,
} from '@mmlab/core';
import { signalName } from './checks.js';
import { isMachineFile, loadMachineProfile } from './machine-file.js';
import { WorkloadStopped } from './errors.js';
import type { HugePageFigures, ReportedFeature, RunReport, RunResult } from './report.js';
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
  /**
   * Machine profile: a built-in profile's name (default `x86-64`), a
   * machine profile file (a path starting with `.` or `/` or ending in
   * `.json`, relative to `cwd`; see `loadMachineProfile`) or a profile.
   */
  readonly machine?: string | MachineProfile;
  /** mmap placement (default: the machine profile's). */
  readonly placement?: Placement;
  /** Simulated RAM in bytes (default: the machine profile's). */
  readonly memBytes?: number;
  /** Swap space in bytes (default: twice the RAM, as the core does). */
  readonly swapBytes?: number;
  /**
   * Huge pages in the pool (`nr_hugepages`, 2 MiB each). Default: what the
   * workload requires (`Workload.requires`), else none. A value given
   * here wins over the workload's, even when too small for it (the
   * workload then sees ENOMEM from mmap).
   */
  readonly hugePages?: number;
  /** Record host time under `host` (default false). */
  readonly timings?: boolean;
  /** Directory that relative workload module paths start from. */
  readonly cwd?: string;
  /**
   * Execution mode (default `sequential`): `timed` runs concurrent threads
   * as discrete events on their CPUs, `explore` as a seeded interleaving
   * (the run's seed).
   */
  readonly mode?: RunMode;
  /** CPUs (default: the machine profile's). */
  readonly cpus?: number;
  /** Explore mode: how interleavings are chosen (default `random`). */
  readonly strategy?: ExploreStrategyName;
  /**
   * Record a trace (Trace Event Format) of at most this many events; 0 or
   * absent: none. {@link runWorkloadTraced} returns it.
   */
  readonly traceEvents?: number;
}

/** Execution modes of a run (the core's `mode`). */
export type RunMode = 'sequential' | 'timed' | 'explore';

/** The execution modes, in the order the command line lists them. */
export const RUN_MODES: readonly RunMode[] = ['sequential', 'timed', 'explore'];

/** How explore mode chooses interleavings (the core's `strategy`). */
export type ExploreStrategyName = 'random' | 'pct';

/** The trace file a kernel writes (`Kernel.traceFile()`: `{ traceEvents, displayTimeUnit, metadata }`). */
export type KernelTrace = NonNullable<ReturnType<Kernel['traceFile']>>;

/** Default cap on trace events when a trace is asked for. */
export const DEFAULT_TRACE_EVENTS = 200_000;

/** A run's report and, when one was asked for, its trace. */
export interface TracedRun {
  /** The report, as {@link runWorkload} returns it. */
  readonly report: RunReport;
  /** The trace (`traceEvents` > 0), or null. */
  readonly trace: KernelTrace | null;
}

/** Default machine profile. */
export const DEFAULT_MACHINE = 'x86-64';

/**
 * Builds a kernel, runs the workload, checks for leaks once every process
 * has exited (`Kernel.finish`), and returns the report. When the
 * workload never calls `ctx.snapshot()`, the snapshot is taken after it
 * returns.
 *
 * A workload that declares a kernel requirement (`Workload.requires`)
 * gets its huge page pool, and the memory to hold it, unless the options
 * set the pool (`hugePages`) or, for the memory, `memBytes`.
 *
 * A workload stopped by a simulated fault ({@link WorkloadStopped}: the OOM
 * killer's SIGKILL, ENOMEM) is a result, not a failure: the report's
 * `result` records the signal or errno and the step, the snapshot is taken
 * then if the workload had not taken it, and every process still alive
 * exits before the leak check. A workload that completes with processes
 * still running breaks its contract: the runner makes them exit too, and
 * the report's `result.leftRunning` lists their pids.
 * @param options - what to run and on which kernel
 * @throws {@link SpecError} for a bad workload specification,
 *   `KernelConfigError` for a bad machine, memory or swap size or feature
 *   set, and {@link WorkloadError} when the workload fails on the model
 *
 * @example
 * The same seeded workload on the baseline twice gives the same report;
 * 1 MiB of anonymous memory written costs 256 faults.
 * ```ts
 * import assert from 'node:assert/strict';
 * import { runWorkload } from '@mmlab/workloads';
 *
 * const a = await runWorkload({ workload: 'anon-touch:size=1m', check: true });
 * const b = await runWorkload({ workload: 'anon-touch:size=1m', check: true });
 * assert.equal(a.metrics.vmstat.mmlab_anon_fault, 256);
 * assert.deepEqual(a.invariants?.violations, []);
 * assert.deepEqual(a, b);
 * ```
 */
export async function runWorkload(options: RunOptions): Promise<RunReport> {
  return (await runWorkloadTraced(options)).report;
}

/**
 * Like {@link runWorkload}, and returns the kernel's trace too when
 * `traceEvents` asks for one.
 * @param options - what to run and on which kernel
 */
export async function runWorkloadTraced(options: RunOptions): Promise<TracedRun> {
  const started = performance.now();
  const workload =
    typeof options.workload === 'string' ? await resolveWorkload(options.workload, options.cwd) : options.workload;
  const seed = options.seed ?? 1;
  const machineOption = options.machine ?? DEFAULT_MACHINE;
  const machine = typeof machineOption === 'string' && isMachineFile(machineOption) ? loadMachineProfile(machineOption, options.cwd) : machineOption;
  const preempt = options.preempt ?? false;
  const check = options.check ?? false;
  const features = options.features ?? [];
  const mode = options.mode ?? 'sequential';
  const strategy = options.strategy ?? 'random';
  const sizes = kernelSizes(workload, machine, options);
  const kernel = buildFor(workload, sizes, {
    config: { preempt },
    machine,
    features: [...features],
    registry: [...(options.registry ?? [])],
    seed,
    check,
    mode,
    ...(mode === 'explore' ? { strategy } : {}),
    ...(options.cpus === undefined ? {} : { cpus: options.cpus }),
    ...(options.traceEvents === undefined ? {} : { traceEvents: options.traceEvents }),
    ...(options.placement === undefined ? {} : { placement: options.placement }),
    ...(sizes.memBytes === undefined ? {} : { memBytes: sizes.memBytes }),
    ...(options.swapBytes === undefined ? {} : { swapBytes: options.swapBytes }),
    ...(sizes.hugePages === undefined ? {} : { hugePages: sizes.hugePages }),
    ...(sizes.xipBytes === undefined ? {} : { xipBytes: sizes.xipBytes }),
    ...(sizes.cpus === undefined ? {} : { cpus: sizes.cpus }),
  });
  const memBytes = kernel.mem.nrFrames * PAGE_SIZE;
  const swapBytes = options.swapBytes ?? 2 * memBytes;
  const pool = kernel.hugePool;
  let snapshots = 0;
  let hugeAtSnapshot = { free: pool.nrFree, rsvd: pool.resv };
  const takeSnapshot = (): void => {
    kernel.snapshot();
    hugeAtSnapshot = { free: pool.nrFree, rsvd: pool.resv };
  };
  const figures = new Map<string, number>();
  const measured = new Map<string, number>();
  const ctx: WorkloadContext = {
    kernel,
    rng: createRng(seed),
    core,
    snapshot() {
      snapshots++;
      takeSnapshot();
    },
    count(name, by = 1) {
      figures.set(name, (figures.get(name) ?? 0) + by);
    },
    metric(name, value) {
      measured.set(name, value);
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
  if (snapshots === 0) takeSnapshot();
  // A stopped workload's processes are made to exit; a completed one must
  // have made them exit itself: those it left running are reported.
  const alive = kernel.tasks.filter((t) => t.mm !== null);
  for (const t of alive) kernel.exit(t);
  kernel.finish();
  const result = runResult(stopped, figures, stopped === undefined ? alive.map((t) => t.pid) : []);
  const report: RunReport = {
    workload: { name: workload.name, spec: workload.spec, params: workload.params },
    features: kernel.features.map((f): ReportedFeature => ({ name: f.feature.name, options: { ...f.options } })),
    seed,
    config: {
      machine: typeof machine === 'string' ? machine : machine.name,
      cpus: kernel.cpus.length,
      mode,
      ...(mode === 'explore' ? { strategy } : {}),
      placement: kernel.placement,
      preempt,
      check,
      memBytes,
      swapBytes,
      hugePages: pool.nrHugePages,
    },
    ...(result === undefined ? {} : { result }),
    metrics: measured.size === 0 ? kernel.metrics() : { ...kernel.metrics(), workload: Object.fromEntries(measured) },
    ...(pool.nrHugePages === 0 ? {} : { hugePages: hugePageFigures(kernel, hugeAtSnapshot) }),
    ...(check
      ? { invariants: { checks: kernel.invariants.checks, violations: [...kernel.invariants.violations] } }
      : {}),
    ...(options.timings === true ? { host: { ms: Math.round(performance.now() - started) } } : {}),
  };
  return { report, trace: kernel.traceFile() };
}

/** The report's `result`, or `undefined` when the workload simply completed. */
function runResult(
  stopped: WorkloadStopped | undefined,
  figures: ReadonlyMap<string, number>,
  leftRunning: readonly number[]
): RunResult | undefined {
  if (stopped === undefined && figures.size === 0 && leftRunning.length === 0) return undefined;
  return {
    ...(stopped?.signal === undefined ? {} : { signal: signalName(stopped.signal) }),
    ...(stopped?.errno === undefined ? {} : { errno: errnoName(stopped.errno) }),
    ...(stopped === undefined ? {} : { oom: isOom(stopped), step: stopped.step }),
    ...(figures.size === 0 ? {} : { figures: Object.fromEntries(figures) }),
    ...(leftRunning.length === 0 ? {} : { leftRunning: [...leftRunning] }),
  };
}

/**
 * SIGKILL is only ever the OOM killer's in the model; ENOMEM from a fault-in
 * is OOM too, unless the workload said otherwise.
 */
function isOom(stopped: WorkloadStopped): boolean {
  return stopped.oom ?? (stopped.signal === core.SIGKILL || stopped.errno === core.ENOMEM);
}

/** The pool and memory sizes a run is built with. */
interface KernelSizes {
  /** Huge pages in the pool, when not the core's default (none). */
  readonly hugePages: number | undefined;
  /** Simulated RAM, when not the machine's. */
  readonly memBytes: number | undefined;
  /** True when the pool is the one the workload required. */
  readonly fromWorkload: boolean;
  /** The XIP image the workload required, if any. */
  readonly xipBytes?: number | undefined;
  /** The CPUs the workload required, when the user gave none. */
  readonly cpus?: number | undefined;
}

/**
 * Merges the workload's kernel requirement with the options: the options'
 * pool wins; the requirement's memory comes with its pool, and never
 * overrides `memBytes`. An unknown machine leaves the requirement out
 * (the core then refuses the machine).
 */
function kernelSizes(workload: ResolvedWorkload, machine: string | MachineProfile, options: RunOptions): KernelSizes {
  const profile = typeof machine === 'string' ? getMachine(machine) : machine;
  const req = profile === undefined ? undefined : workload.requires?.({ machine: profile });
  const extra = { xipBytes: req?.xipBytes, cpus: options.cpus === undefined ? req?.cpus : undefined };
  if (options.hugePages !== undefined || req?.hugePages === undefined) {
    const memBytes = options.memBytes ?? (req?.xipBytes === undefined ? undefined : req.memBytes);
    return { hugePages: options.hugePages, memBytes, fromWorkload: false, ...extra };
  }
  return { hugePages: req.hugePages, memBytes: options.memBytes ?? req.memBytes, fromWorkload: true, ...extra };
}

/**
 * Builds the kernel. When the core refuses the pool the workload required
 * (a `memBytes` too small to hold it), says so: the message names the
 * workload and the way out.
 */
function buildFor(workload: ResolvedWorkload, sizes: KernelSizes, opts: BuildOptions): Kernel {
  try {
    return buildKernel(opts);
  } catch (err) {
    if (!(err instanceof KernelConfigError) || !sizes.fromWorkload) throw err;
    try {
      buildKernel({ ...opts, hugePages: 0 });
    } catch {
      throw err;
    }
    throw new KernelConfigError(
      `${workload.spec} needs a pool of ${sizes.hugePages ?? 0} huge pages, which this memory cannot hold ` +
        `(${err.message}); give more --mem or a smaller --hugepages`
    );
  }
}

/** The huge page pool at the snapshot and at the end of the run. */
function hugePageFigures(kernel: Kernel, atSnapshot: { free: number; rsvd: number }): HugePageFigures {
  const pool = kernel.hugePool;
  return { total: pool.nrHugePages, snapshot: atSnapshot, end: { free: pool.nrFree, rsvd: pool.resv } };
}
