/**
 * Main and pairwise interaction effects of a 2^n matrix, per workload and
 * metric, on the cells with every feature at its default options.
 *
 * With y(S) the value of the set S of features (the same seed throughout):
 * - the main effect of f is the mean, over every S without f, of
 *   y(S ∪ {f}) − y(S): what switching f on does, averaged over the rest;
 * - the interaction of f and g is the mean, over every S without f and g,
 *   of y(S ∪ {f, g}) − y(S ∪ {f}) − y(S ∪ {g}) + y(S): what f and g
 *   together do beyond f alone and g alone (0 when their effects add up).
 *   This is twice the interaction effect of the classical 2^k analysis
 *   (Box, Hunter & Hunter), which halves it.
 * Each is computed per seed and summarised over the seeds with a t
 * interval (`estimate`), exact when no seed differs.
 * @module
 */

import type { Feature } from '@mmlab/core';
import { formatFeatureSet, parseFeatureSet, type FeatureSet } from './notation.js';
import { FEATURES } from './registry.js';
import type { ResultLine } from './results.js';
import { DEFAULT_CONFIDENCE, estimate, type Estimate } from './stats.js';

/** One effect of one metric on one workload. */
export interface Effect {
  /** The workload specification. */
  readonly workload: string;
  /** The metric. */
  readonly metric: string;
  /** `main` (one feature) or `interaction` (two). */
  readonly kind: 'main' | 'interaction';
  /** The feature, or the two features. */
  readonly features: readonly string[];
  /** The effect with its interval over the seeds. */
  readonly effect: Estimate;
  /** The metric's mean with no feature (baseline), for relative sizes. */
  readonly base: number;
}

/** The effects of one workload, or why there are none. */
export interface WorkloadEffects {
  /** The workload specification. */
  readonly workload: string;
  /** The factors: the features of the design, in registry order. */
  readonly factors: readonly string[];
  /** The seeds every combination was run with. */
  readonly seeds: readonly number[];
  /** Every effect of every metric reported by all the cells. */
  readonly effects: readonly Effect[];
  /** Why some or all effects are missing (an incomplete design), or null. */
  readonly note: string | null;
}

/** One effect of {@link factorialEffects}. */
export interface FactorialEffect {
  /** `main` (one factor) or `interaction` (two). */
  readonly kind: 'main' | 'interaction';
  /** The factor, or the two factors. */
  readonly features: readonly string[];
  /** The effect with its interval over the seeds. */
  readonly effect: Estimate;
}

/**
 * The factorial effects for a function giving y(S) per seed.
 * @param factors - the factor names
 * @param y - the values (one per seed) of the combination whose factors on are `on`
 * @param confidence - interval level
 */
export function factorialEffects(
  factors: readonly string[],
  y: (on: ReadonlySet<string>) => readonly number[],
  confidence = DEFAULT_CONFIDENCE
): FactorialEffect[] {
  const n = factors.length;
  const subsetsWithout = (excluded: readonly string[]): Set<string>[] => {
    const rest = factors.filter((f) => !excluded.includes(f));
    return Array.from({ length: 1 << rest.length }, (_, mask) => new Set(rest.filter((_, i) => (mask & (1 << i)) !== 0)));
  };
  const contrast = (terms: readonly { sign: number; add: readonly string[] }[], excluded: readonly string[]): number[] => {
    const subsets = subsetsWithout(excluded);
    let perSeed: number[] | undefined;
    for (const s of subsets) {
      for (const { sign, add } of terms) {
        const v = y(new Set([...s, ...add]));
        perSeed ??= v.map(() => 0);
        v.forEach((x, i) => (perSeed![i] = perSeed![i]! + (sign * x) / subsets.length));
      }
    }
    return perSeed ?? [];
  };
  const out: FactorialEffect[] = [];
  for (const f of factors) {
    const d = contrast([{ sign: 1, add: [f] }, { sign: -1, add: [] }], [f]);
    out.push({ kind: 'main', features: [f], effect: estimate(d, confidence) });
  }
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const f = factors[i]!;
      const g = factors[j]!;
      const d = contrast(
        [
          { sign: 1, add: [f, g] },
          { sign: -1, add: [f] },
          { sign: -1, add: [g] },
          { sign: 1, add: [] },
        ],
        [f, g]
      );
      out.push({ kind: 'interaction', features: [f, g], effect: estimate(d, confidence) });
    }
  }
  return out;
}

/**
 * The effects of a matrix's results, per workload. The factors are the
 * features of the cells whose options are all defaults; cells with option
 * variants are left out of the effects. A workload whose design lacks a
 * combination or a seed gets a note instead of effects.
 * @param lines - results lines (one matrix)
 * @param registry - the features the cells name (default {@link FEATURES})
 * @param confidence - interval level
 */
export function matrixEffects(
  lines: readonly ResultLine[],
  registry: readonly Feature[] = FEATURES,
  confidence = DEFAULT_CONFIDENCE
): WorkloadEffects[] {
  const byWorkload = new Map<string, ResultLine[]>();
  for (const l of lines) byWorkload.set(l.workload, [...(byWorkload.get(l.workload) ?? []), l]);
  const out: WorkloadEffects[] = [];
  for (const [workload, cells] of byWorkload) {
    // cells at default options: their canonical text is the bare names
    const plain = cells.filter((c) => isPlain(parseFeatureSet(c.features, { registry })));
    const factors = registry.map((f) => f.name).filter((name) => plain.some((c) => names(c).includes(name)));
    const seeds = [...new Set(plain.map((c) => c.seed))].sort((a, b) => a - b);
    const table = new Map<string, Map<number, ResultLine>>();
    for (const c of plain) {
      const key = names(c).join(',');
      if (!table.has(key)) table.set(key, new Map());
      table.get(key)!.set(c.seed, c);
    }
    const combos = 1 << factors.length;
    const missing: string[] = [];
    for (let mask = 0; mask < combos; mask++) {
      const key = factors.filter((_, i) => (mask & (1 << i)) !== 0).join(',');
      const row = table.get(key);
      if (row === undefined || seeds.some((s) => !row.has(s))) missing.push(key === '' ? 'baseline' : key);
    }
    if (factors.length === 0 || missing.length > 0) {
      const note =
        factors.length === 0
          ? 'no feature combinations at default options'
          : `incomplete design: ${missing.length} of ${combos} combinations lack a seed (${missing.slice(0, 3).join('; ')}${missing.length > 3 ? '; …' : ''})`;
      out.push({ workload, factors, seeds, effects: [], note });
      continue;
    }
    const cellOf = (on: ReadonlySet<string>, seed: number): ResultLine =>
      table.get(factors.filter((f) => on.has(f)).join(','))!.get(seed)!;
    const all = [...table.values()].flatMap((m) => [...m.values()]);
    const metrics = Object.keys(all[0]!.metrics).filter((m) => all.every((c) => c.metrics[m] !== undefined));
    const effects: Effect[] = [];
    for (const metric of metrics) {
      const y = (on: ReadonlySet<string>): number[] => seeds.map((s) => cellOf(on, s).metrics[metric]!);
      const none = y(new Set());
      const base = none.reduce((a, b) => a + b, 0) / none.length;
      for (const e of factorialEffects(factors, y, confidence)) effects.push({ workload, metric, ...e, base });
    }
    out.push({ workload, factors, seeds, effects, note: null });
  }
  return out;
}

function isPlain(set: FeatureSet): boolean {
  return formatFeatureSet(set) === (set.items.length === 0 ? 'baseline' : set.items.map((c) => c.feature.name).join(','));
}

function names(line: ResultLine): string[] {
  return line.features === 'baseline' ? [] : line.features.split(',').map((s) => s.split(':', 1)[0]!);
}
