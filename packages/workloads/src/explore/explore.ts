/**
 * Runs a race scenario under many seeded explore-mode interleavings with
 * the invariant checker on, and reports the first seed that fails.
 * @module
 */

import { DeadlockError, buildKernel, type Feature, type FeatureRequest, type Kernel, type Violation } from '@mmlab/core';
import { SpecError } from '../errors.js';
import type { HostTimings, ReportedFeature } from '../report.js';
import type { ExploreStrategyName } from '../run.js';
import { resolveScenario } from './registry.js';
import type { Scenario } from './scenario.js';

/** What {@link exploreScenario} runs. */
export interface ExploreRunOptions {
  /** The scenario, or a built-in scenario's name. */
  readonly scenario: string | Scenario;
  /** Features to build each kernel with (default none). */
  readonly features?: readonly FeatureRequest[];
  /** Features that `{ name }` requests are looked up in. */
  readonly registry?: readonly Feature[];
  /** How many seeds to run (default 100). */
  readonly seeds?: number;
  /** The first seed (default 1); seeds run `firstSeed`, `firstSeed + 1`, …. */
  readonly firstSeed?: number;
  /** How interleavings are chosen (default `random`). */
  readonly strategy?: ExploreStrategyName;
  /** PCT depth (default 3; `pct` only). */
  readonly pctDepth?: number;
  /** CPUs (default 2: the scenarios' two threads on two CPUs). */
  readonly cpus?: number;
  /** Machine profile name (default `x86-64`). */
  readonly machine?: string;
  /** CONFIG_PREEMPT (default false). */
  readonly preempt?: boolean;
  /**
   * Simulated RAM, bytes (default {@link DEFAULT_EXPLORE_MEM}: the
   * checker runs at every quiescent point and costs in proportion to the
   * RAM). A scenario's own `kernel.memBytes` wins.
   */
  readonly memBytes?: number;
  /** Record host time under `host` (default false). */
  readonly timings?: boolean;
}

/** Default number of seeds. */
export const DEFAULT_EXPLORE_SEEDS = 100;
/** Default CPU count of an exploration. */
export const DEFAULT_EXPLORE_CPUS = 2;
/** Default RAM of an exploration: 16 MiB, the core's smallest. */
export const DEFAULT_EXPLORE_MEM = 16 * 2 ** 20;
/** Most seeds one exploration runs. */
export const MAX_EXPLORE_SEEDS = 1_000_000;

/** The configuration an exploration used. */
export interface ExploreConfig {
  /** Machine profile name. */
  readonly machine: string;
  /** CPUs. */
  readonly cpus: number;
  /** How interleavings were chosen. */
  readonly strategy: ExploreStrategyName;
  /** PCT depth (present with `pct`). */
  readonly pctDepth?: number;
  /** CONFIG_PREEMPT. */
  readonly preempt: boolean;
  /** Simulated RAM, bytes. */
  readonly memBytes: number;
  /** The first seed. */
  readonly firstSeed: number;
  /** Seeds asked for. */
  readonly seeds: number;
}

/** The first seed that failed. */
export interface ExploreFailure {
  /** The seed (re-running it reproduces the failure exactly). */
  readonly seed: number;
  /**
   * What was found: the checker's violations, `deadlock` when every thread
   * was blocked (or no progress was made), `exception` when the model threw.
   */
  readonly violations: readonly Violation[];
  /** The racing threads' interleaving: `c0` a step on CPU 0, `i1` an IPI taken on CPU 1, …. */
  readonly interleaving: string;
  /** Scheduler choices in the interleaving. */
  readonly steps: number;
}

/** What an exploration found. JSON-able; host time only under `host`. */
export interface ExploreReport {
  /** The scenario's name. */
  readonly scenario: string;
  /** The features the kernels were built with. */
  readonly features: readonly ReportedFeature[];
  /** The configuration. */
  readonly config: ExploreConfig;
  /** Seeds run (up to and including the failing one). */
  readonly seedsRun: number;
  /** Invariant checks run, over every seed. */
  readonly checks: number;
  /** Scheduler choices made in the racing part, over every seed. */
  readonly steps: number;
  /** The first failing seed, or null when none failed. */
  readonly failure: ExploreFailure | null;
  /** Host-side timings; never compare these between runs. */
  readonly host?: HostTimings;
}

/** The outcome of one seed. */
interface SeedOutcome {
  readonly checks: number;
  readonly steps: number;
  readonly violations: Violation[];
  readonly interleaving: string;
}

/**
 * Runs `seeds` explore-mode kernels (seeds `firstSeed`, `firstSeed + 1`,
 * …), each with the checker on: the scenario's set-up, its threads at once
 * (`runThreads`, the full checker at every quiescent point and the
 * every-instant checks at every step), every process still alive exiting,
 * and the leak check. Stops at the first seed with a violation (a deadlock,
 * or an exception thrown by the model, counts as one). The same options
 * give the same report, host time apart.
 * @param options - the scenario and how to explore it
 * @throws {@link SpecError} for an unknown scenario or a bad count or seed;
 *   `KernelConfigError` for a bad machine, CPU count or feature set
 */
export function exploreScenario(options: ExploreRunOptions): ExploreReport {
  const started = performance.now();
  const scenario = typeof options.scenario === 'string' ? resolveScenario(options.scenario) : options.scenario;
  const seeds = options.seeds ?? DEFAULT_EXPLORE_SEEDS;
  const firstSeed = options.firstSeed ?? 1;
  if (!Number.isSafeInteger(seeds) || seeds < 1 || seeds > MAX_EXPLORE_SEEDS) {
    throw new SpecError(`seeds must be an integer from 1 to ${MAX_EXPLORE_SEEDS}, got ${seeds}`);
  }
  if (!Number.isSafeInteger(firstSeed) || firstSeed < 0 || firstSeed + seeds - 1 > 0xffffffff) {
    throw new SpecError(`seeds ${firstSeed}..${firstSeed + seeds - 1} leave the range 0..4294967295`);
  }
  const strategy = options.strategy ?? 'random';
  const machine = options.machine ?? 'x86-64';
  const cpus = options.cpus ?? DEFAULT_EXPLORE_CPUS;
  const preempt = options.preempt ?? false;
  const memBytes = scenario.kernel?.memBytes ?? options.memBytes ?? DEFAULT_EXPLORE_MEM;
  const build = (seed: number): Kernel =>
    buildKernel({
      mode: 'explore',
      seed,
      strategy,
      ...(options.pctDepth === undefined ? {} : { pctDepth: options.pctDepth }),
      machine,
      cpus,
      config: { preempt },
      check: true,
      features: [...(options.features ?? [])],
      registry: [...(options.registry ?? [])],
      ...(scenario.kernel ?? {}),
      memBytes,
    });

  let checks = 0;
  let steps = 0;
  let seedsRun = 0;
  let failure: ExploreFailure | null = null;
  let features: ReportedFeature[] = [];
  for (let seed = firstSeed; seed < firstSeed + seeds; seed++) {
    const k = build(seed);
    if (seedsRun === 0) features = k.features.map((f) => ({ name: f.feature.name, options: { ...f.options } }));
    const outcome = runSeed(k, scenario);
    seedsRun++;
    checks += outcome.checks;
    steps += outcome.steps;
    if (outcome.violations.length > 0) {
      failure = { seed, violations: outcome.violations, interleaving: outcome.interleaving, steps: outcome.steps };
      break;
    }
  }
  return {
    scenario: scenario.name,
    features,
    config: {
      machine,
      cpus,
      strategy,
      ...(strategy === 'pct' ? { pctDepth: options.pctDepth ?? 3 } : {}),
      preempt,
      memBytes,
      firstSeed,
      seeds,
    },
    seedsRun,
    checks,
    steps,
    failure,
    ...(options.timings === true ? { host: { ms: Math.round(performance.now() - started) } } : {}),
  };
}

/**
 * One seed: set-up, the race, teardown and leak check. A deadlock or an
 * exception in the race or the teardown is recorded as a violation (the
 * teardown is skipped after one in the race: its paths may hold locks).
 */
function runSeed(k: Kernel, scenario: Scenario): SeedOutcome {
  const programs = scenario.setup(k);
  const found: Violation[] = [];
  let interleaving = '';
  let steps = 0;
  const record = (): void => {
    const sched = k.lastScheduler;
    interleaving = sched?.interleaving() ?? '';
    steps = sched?.choices.length ?? 0;
  };
  let raced = false;
  try {
    k.runThreads(programs);
    raced = true;
  } catch (err) {
    found.push(thrown(err, 'threads'));
  }
  record();
  if (raced) {
    try {
      for (const t of k.tasks) if (t.mm !== null) k.exit(t);
      k.finish();
    } catch (err) {
      found.push(thrown(err, 'teardown'));
    }
  }
  return { checks: k.invariants.checks, steps, violations: [...k.invariants.violations, ...found], interleaving };
}

/** A deadlock or an exception as a violation. */
function thrown(err: unknown, op: string): Violation {
  const message = (err instanceof Error ? err.message : String(err)).split('\n', 1)[0] ?? '';
  return { check: err instanceof DeadlockError ? 'deadlock' : 'exception', message, op };
}
