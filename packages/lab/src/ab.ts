/**
 * A/B: two feature sets on one workload, run on the same seeds (paired),
 * every metric reported with A, B, the difference B − A and its confidence
 * interval (paired Student's t), flagged when within the noise; a metric
 * that no seed changes is exact.
 * @module
 */

import type { ResolvedWorkload } from '@mmlab/workloads';
import type { Metrics } from './metrics.js';
import { formatFeatureSet, type FeatureSet } from './notation.js';
import { runOnce, seedsOf, type RunOutcome, type RunSettings } from './run.js';
import { DEFAULT_CONFIDENCE, METHOD, pairedDifference, summarize, type Estimate, type Summary } from './stats.js';

/** What to compare. */
export interface AbOptions {
  /** Set A (usually the baseline). */
  readonly a: FeatureSet;
  /** Set B. */
  readonly b: FeatureSet;
  /** The workload specification (or resolved workload). */
  readonly workload: string | ResolvedWorkload;
  /** Repetitions, one seed each (default 5). */
  readonly reps?: number;
  /** The first seed (default 1). */
  readonly firstSeed?: number;
  /** Confidence level of the intervals (default 0.95). */
  readonly confidence?: number;
  /** Kernel, mode and checking shared by both sides. */
  readonly settings?: RunSettings;
  /** Where relative module paths start. */
  readonly cwd?: string;
  /** Called after each run with the runs done and the runs in all. */
  readonly onProgress?: (done: number, total: number) => void;
  /** Checked before each run: true stops the comparison (`AbInterrupted`). */
  readonly stopped?: () => boolean;
  /**
   * Runs one run elsewhere (a worker pool: `poolRunner` of
   * `@mmlab/lab/node`); the runs are then started all at once. Default:
   * one after the other in this thread.
   */
  readonly runner?: AbRunner;
}

/** Runs one run of a comparison: a workload specification, a set, a seed and the settings. */
export type AbRunner = (workload: string, set: FeatureSet, seed: number, settings: RunSettings) => Promise<RunOutcome>;

/** One metric of an A/B comparison. */
export interface AbRow {
  /** The metric's dotted name. */
  readonly metric: string;
  /** A's values over the seeds; `null` when A's runs do not report the metric. */
  readonly a: Summary | null;
  /** B's values over the seeds; `null` when B's runs do not report the metric. */
  readonly b: Summary | null;
  /** B − A with its interval; `null` when one side lacks the metric. */
  readonly diff: Estimate | null;
}

/** Invariant violations of each side's runs, `seed N: check: message`. */
export interface AbViolations {
  /** A's. */
  readonly a: readonly string[];
  /** B's. */
  readonly b: readonly string[];
}

/** The result of {@link runAb}. */
export interface AbResult {
  /** Canonical text of set A. */
  readonly a: string;
  /** Canonical text of set B. */
  readonly b: string;
  /** The workload specification. */
  readonly workload: string;
  /** The seeds, in order. */
  readonly seeds: readonly number[];
  /** Confidence level of the intervals. */
  readonly confidence: number;
  /** How the intervals were computed. */
  readonly method: string;
  /** Invariant violations of A's and B's runs (with `check`). */
  readonly violations: AbViolations;
  /** Every metric, in the order the runs report them. */
  readonly rows: readonly AbRow[];
}

/** Thrown by {@link runAb} when `stopped()` turned true. */
export class AbInterrupted extends Error {
  constructor() {
    super('A/B comparison interrupted');
    this.name = 'AbInterrupted';
  }
}

/**
 * Runs A and B on the same seeds and compares every metric.
 * @param options - the sets, the workload, repetitions and settings
 */
export async function runAb(options: AbOptions): Promise<AbResult> {
  const seeds = seedsOf(options.reps ?? 5, options.firstSeed ?? 1);
  const confidence = options.confidence ?? DEFAULT_CONFIDENCE;
  const runsA: Metrics[] = [];
  const runsB: Metrics[] = [];
  const violations = { a: [] as string[], b: [] as string[] };
  let done = 0;
  const runner = options.runner;
  const one = async (side: 'a' | 'b', seed: number): Promise<RunOutcome> => {
    if (options.stopped?.() === true) throw new AbInterrupted();
    const r =
      runner === undefined || typeof options.workload !== 'string'
        ? await runOnce(options.workload, options[side], seed, options.settings, options.cwd)
        : await runner(options.workload, options[side], seed, options.settings ?? {});
    options.onProgress?.(++done, seeds.length * 2);
    return r;
  };
  const runs: { side: 'a' | 'b'; seed: number; r: RunOutcome }[] = [];
  if (runner === undefined) {
    for (const seed of seeds) for (const side of ['a', 'b'] as const) runs.push({ side, seed, r: await one(side, seed) });
  } else {
    const all = seeds.flatMap((seed) => (['a', 'b'] as const).map((side) => ({ side, seed })));
    const outcomes = await Promise.all(all.map(({ side, seed }) => one(side, seed)));
    all.forEach(({ side, seed }, i) => runs.push({ side, seed, r: outcomes[i]! }));
  }
  for (const { side, seed, r } of runs) {
    (side === 'a' ? runsA : runsB).push(r.metrics);
    violations[side].push(...r.violations.map((v) => `seed ${seed}: ${v}`));
  }
  return {
    a: formatFeatureSet(options.a),
    b: formatFeatureSet(options.b),
    workload: typeof options.workload === 'string' ? options.workload : options.workload.spec,
    seeds,
    confidence,
    method: METHOD,
    violations,
    rows: compareRuns(runsA, runsB, confidence),
  };
}

/**
 * Compares paired runs metric by metric (the runs at index i share a seed).
 * @param runsA - A's metrics per seed
 * @param runsB - B's metrics per seed
 * @param confidence - the intervals' level
 */
export function compareRuns(runsA: readonly Metrics[], runsB: readonly Metrics[], confidence = DEFAULT_CONFIDENCE): AbRow[] {
  const names = [...new Set([...runsA.flatMap(Object.keys), ...runsB.flatMap(Object.keys)])];
  return names.map((metric): AbRow => {
    const a = values(runsA, metric);
    const b = values(runsB, metric);
    return {
      metric,
      a: a === null ? null : summarize(a),
      b: b === null ? null : summarize(b),
      diff: a === null || b === null ? null : pairedDifference(a, b, confidence),
    };
  });
}

/** A metric's value in every run, or null when some run lacks it. */
function values(runs: readonly Metrics[], metric: string): number[] | null {
  const out: number[] = [];
  for (const r of runs) {
    const v = r[metric];
    if (v === undefined) return null;
    out.push(v);
  }
  return out;
}
