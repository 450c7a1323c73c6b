/**
 * The plan of a combination matrix: every subset of the chosen features
 * (2^n), with option variants on request (an options grid), × workloads ×
 * seeds, in a fixed order; shards of it for batch schedulers.
 * @module
 */

import type { Feature } from '@mmlab/core';
import { unknownNameMessage } from '@mmlab/workloads';
import { FeatureSetError, formatFeatureSet, makeFeatureSet, type OptionValue } from './notation.js';
import { FEATURES } from './registry.js';
import type { Cell } from './results.js';
import { seedsOf, type RunSettings } from './run.js';

/** Option variants per feature: feature name → the option assignments to try. */
export type OptionsGrid = ReadonlyMap<string, readonly Readonly<Record<string, OptionValue>>[]>;

/** What a matrix covers. */
export interface MatrixPlan {
  /** The features combined (every subset is a cell), registry order. */
  readonly features: readonly Feature[];
  /** Option variants of some features (default: each feature with its defaults only). */
  readonly grid?: OptionsGrid;
  /** Workload specifications. */
  readonly workloads: readonly string[];
  /** Seeds per combination (default 1). */
  readonly reps?: number;
  /** The first seed (default 1). */
  readonly firstSeed?: number;
  /** Run settings shared by every cell. */
  readonly settings?: RunSettings;
}

/** A shard: the `index`-th (1-based) of `count` slices of the cells. */
export interface Shard {
  /** 1 … count. */
  readonly index: number;
  /** Number of shards. */
  readonly count: number;
}

/**
 * Parses `i/n` (1 ≤ i ≤ n).
 * @param text - the shard as written
 * @throws RangeError naming the problem
 */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (m === null) throw new RangeError(`bad shard '${text}' (expected i/n, for example 2/8)`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || index < 1 || index > count) {
    throw new RangeError(`shard '${text}' out of range (expected 1 ≤ i ≤ n)`);
  }
  return { index, count };
}

/**
 * Parses an options grid: `feature:key=v1|v2:key2=w1|w2,feature2:...`; each
 * feature's variants are every combination of the listed values (options
 * not listed keep their defaults). Values are checked against the option
 * schema.
 * @param text - the grid as written
 * @param registry - the features it may name
 * @throws {@link FeatureSetError} naming the item
 */
export function parseOptionsGrid(text: string, registry: readonly Feature[] = FEATURES): OptionsGrid {
  const grid = new Map<string, Record<string, OptionValue>[]>();
  for (const item of text.split(',').map((s) => s.trim())) {
    if (item === '') throw new FeatureSetError(`empty item in options grid '${text}'`, item);
    const [name = '', ...pairs] = item.split(':');
    const feature = registry.find((f) => f.name === name);
    if (feature === undefined) {
      throw new FeatureSetError(`options grid: ${unknownNameMessage('feature', name, registry.map((f) => f.name))}`, item);
    }
    if (grid.has(name)) throw new FeatureSetError(`options grid: feature '${name}' given twice`, item);
    if (pairs.length === 0) throw new FeatureSetError(`options grid: '${item}' lists no option (key=v1|v2)`, item);
    let variants: Record<string, OptionValue>[] = [{}];
    for (const pair of pairs) {
      const eq = pair.indexOf('=');
      if (eq < 1) throw new FeatureSetError(`options grid: expected key=v1|v2, got '${pair}' (in '${item}')`, item);
      const key = pair.slice(0, eq);
      const values = pair.slice(eq + 1).split('|');
      if (new Set(values).size !== values.length) throw new FeatureSetError(`options grid: '${key}' lists a value twice (in '${item}')`, item);
      variants = variants.flatMap((v) => values.map((value) => ({ ...v, [key]: value })));
    }
    // validate each variant through the notation (names, types, bounds); keep the typed values
    grid.set(
      name,
      variants.map((v) => {
        const set = makeFeatureSet([{ feature, options: v }], [feature]);
        return Object.fromEntries(Object.keys(v).map((k) => [k, set.items[0]!.options[k]!]));
      })
    );
  }
  return grid;
}

/** A combination the features' own rules refuse (a missing requirement, a conflict). */
export interface RefusedSet {
  /** The combination, its features joined by `,`. */
  readonly features: string;
  /** Why, in the core's words. */
  readonly reason: string;
}

/** The cells of a plan and the combinations left out. */
export interface PlannedCells {
  /** Every cell, in plan order. */
  readonly cells: Cell[];
  /** Combinations refused by `requires` or `conflicts`: no cell. */
  readonly refused: RefusedSet[];
}

/**
 * Every cell of a plan, in a fixed order: by workload, then subset (binary
 * counting over the features, the first feature the lowest bit), then
 * variant, then seed. A subset that breaks a feature's `requires` or
 * `conflicts` has no cell and is listed as refused.
 * @param plan - the plan
 */
export function planMatrix(plan: MatrixPlan): PlannedCells {
  const n = plan.features.length;
  const sets: string[] = [];
  const refused: RefusedSet[] = [];
  for (let mask = 0; mask < 1 << n; mask++) {
    const chosen = plan.features.filter((_, i) => (mask & (1 << i)) !== 0);
    let combos: { feature: Feature; options: Readonly<Record<string, OptionValue>> }[][] = [[]];
    for (const feature of chosen) {
      const variants = plan.grid?.get(feature.name) ?? [{}];
      combos = combos.flatMap((c) => variants.map((options) => [...c, { feature, options }]));
    }
    try {
      for (const c of combos) sets.push(formatFeatureSet(makeFeatureSet(c, plan.features)));
    } catch (err) {
      if (!(err instanceof FeatureSetError)) throw err;
      refused.push({ features: chosen.map((f) => f.name).join(','), reason: err.message });
    }
  }
  const seeds = seedsOf(plan.reps ?? 1, plan.firstSeed ?? 1);
  const cells = plan.workloads.flatMap((workload) =>
    [...new Set(sets)].flatMap((features) => seeds.map((seed) => ({ workload, features, seed })))
  );
  return { cells, refused };
}

/**
 * Every cell of a plan, in plan order (see {@link planMatrix}).
 * @param plan - the plan
 */
export function planCells(plan: MatrixPlan): Cell[] {
  return planMatrix(plan).cells;
}

/**
 * The cells of one shard: every `count`-th cell from the `index`-th.
 * @param cells - all cells, in plan order
 * @param shard - which slice
 */
export function shardCells(cells: readonly Cell[], shard: Shard | undefined): Cell[] {
  if (shard === undefined) return [...cells];
  return cells.filter((_, i) => i % shard.count === shard.index - 1);
}

