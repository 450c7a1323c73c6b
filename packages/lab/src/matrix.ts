/**
 * The combination matrix: every subset of the chosen features (2^n), with
 * option variants on request (an options grid), × workloads × seeds, run on
 * a worker-thread pool, each cell appended to a results file as it
 * finishes. Re-running skips the cells already in the file (resume after
 * Ctrl-C or a crash); `shard` takes every n-th cell so a batch scheduler can
 * split the matrix over machines, and `mergeResults` joins the shards.
 * @module
 */

import { setMaxListeners } from 'node:events';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Feature } from '@mmlab/core';
import Tinypool from 'tinypool';
import { runCell, type CellTask } from './cell.js';
import { FeatureSetError, formatFeatureSet, makeFeatureSet, type OptionValue } from './notation.js';
import { FEATURES } from './registry.js';
import {
  appendResult,
  cellKey,
  checkSameSettings,
  describeCell,
  readResults,
  type Cell,
  type ResultLine,
} from './results.js';
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
      throw new FeatureSetError(`options grid: unknown feature '${name}' (known: ${registry.map((f) => f.name).join(', ')})`, item);
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

/**
 * Every cell of a plan, in a fixed order: by workload, then subset (binary
 * counting over the features, the first feature the lowest bit), then
 * variant, then seed.
 * @param plan - the plan
 */
export function planCells(plan: MatrixPlan): Cell[] {
  const n = plan.features.length;
  const sets: string[] = [];
  for (let mask = 0; mask < 1 << n; mask++) {
    const chosen = plan.features.filter((_, i) => (mask & (1 << i)) !== 0);
    let combos: { feature: Feature; options: Readonly<Record<string, OptionValue>> }[][] = [[]];
    for (const feature of chosen) {
      const variants = plan.grid?.get(feature.name) ?? [{}];
      combos = combos.flatMap((c) => variants.map((options) => [...c, { feature, options }]));
    }
    for (const c of combos) sets.push(formatFeatureSet(makeFeatureSet(c, plan.features)));
  }
  const seeds = seedsOf(plan.reps ?? 1, plan.firstSeed ?? 1);
  return plan.workloads.flatMap((workload) => [...new Set(sets)].flatMap((features) => seeds.map((seed) => ({ workload, features, seed }))));
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

/** How a matrix run goes. */
export interface MatrixRunOptions {
  /** The plan. */
  readonly plan: MatrixPlan;
  /** The results file (appended; created when missing). */
  readonly out: string;
  /** Worker threads (default 1: in the calling thread). */
  readonly jobs?: number;
  /** Run only this shard. */
  readonly shard?: Shard;
  /** Where relative workload module paths start. */
  readonly cwd?: string;
  /** Called after each cell with the cells done (including those skipped) and the total. */
  readonly onProgress?: (done: number, total: number) => void;
  /** Aborting stops scheduling cells; cells finished are kept. */
  readonly signal?: AbortSignal;
}

/** What {@link runMatrix} did. */
export interface MatrixRunSummary {
  /** Cells in the plan (this shard's). */
  readonly total: number;
  /** Cells already in the file, skipped. */
  readonly skipped: number;
  /** Cells run and appended now. */
  readonly ran: number;
  /** True when the run was aborted before every cell was done. */
  readonly interrupted: boolean;
  /** Cells (run now or before) with invariant violations. */
  readonly violations: readonly { readonly cell: Cell; readonly violations: readonly string[] }[];
}

/** A cell that failed (the workload threw): the matrix stops, earlier cells kept. */
export class CellError extends Error {
  /** The cell. */
  readonly cell: Cell;

  /**
   * @param cell - the failing cell
   * @param cause - what it threw
   */
  constructor(cell: Cell, cause: unknown) {
    super(`cell ${describeCell(cell)} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'CellError';
    this.cell = cell;
  }
}

/**
 * The built worker entry and the flags its threads start with. Tests run
 * the lab from its TypeScript sources, where no worker can load `.ts`: the
 * pool then uses the build in `dist` (`npm run build` first), with plain
 * flags so that its imports resolve to the builds too.
 */
function workerEntry(): { file: string; execArgv: string[] } {
  if (fileURLToPath(import.meta.url).endsWith('.ts')) {
    return { file: fileURLToPath(new URL('../dist/cell-worker.js', import.meta.url)), execArgv: [] };
  }
  // workers inherit the process's flags, except one that only a main script takes
  const execArgv = process.execArgv.filter((a) => !a.startsWith('--input-type'));
  return { file: fileURLToPath(new URL('./cell-worker.js', import.meta.url)), execArgv };
}

/**
 * Runs the plan's cells that the results file lacks, appending each as it
 * finishes.
 * @param options - the plan, the file, jobs, shard, progress and abort
 * @throws {@link ResultsError} when the existing file has a bad line or
 *   other settings; {@link CellError} when a cell throws (finished cells are
 *   kept)
 */
export async function runMatrix(options: MatrixRunOptions): Promise<MatrixRunSummary> {
  const settings = options.plan.settings ?? {};
  const existing = readResults(options.out);
  checkSameSettings(existing, settings);
  const done = new Map<string, ResultLine>(existing.map((r) => [cellKey(r.line), r.line]));
  const cells = shardCells(planCells(options.plan), options.shard);
  const todo = cells.filter((c) => !done.has(cellKey(c)));
  const total = cells.length;
  let finished = total - todo.length;
  options.onProgress?.(finished, total);
  const results: ResultLine[] = cells.flatMap((c) => {
    const line = done.get(cellKey(c));
    return line === undefined ? [] : [line];
  });
  const task = (cell: Cell): CellTask => ({ cell, settings, ...(options.cwd === undefined ? {} : { cwd: options.cwd }) });
  const record = (line: ResultLine): void => {
    appendResult(options.out, line);
    results.push(line);
    options.onProgress?.(++finished, total);
  };
  const jobs = Math.max(1, options.jobs ?? 1);
  const aborted = (): boolean => options.signal?.aborted === true;
  if (jobs === 1 || todo.length <= 1) {
    for (const cell of todo) {
      if (aborted()) break;
      let line: ResultLine;
      try {
        line = await runCell(task(cell));
      } catch (err) {
        throw new CellError(cell, err);
      }
      record(line);
    }
  } else {
    const { file, execArgv } = workerEntry();
    if (!existsSync(file)) throw new Error(`the matrix's worker ${file} is missing: run 'npm run build' first`);
    const pool = new Tinypool({
      filename: file,
      minThreads: 1,
      maxThreads: Math.min(jobs, todo.length),
      idleTimeout: 1000,
      execArgv,
    });
    const stop = new AbortController();
    setMaxListeners(0, stop.signal); // one listener per queued cell
    const onAbort = (): void => {
      stop.abort();
    };
    options.signal?.addEventListener('abort', onAbort);
    let failure: CellError | undefined;
    try {
      await Promise.all(
        todo.map(async (cell) => {
          let line: ResultLine;
          try {
            line = (await pool.run(task(cell), { signal: stop.signal })) as ResultLine;
          } catch (err) {
            if (stop.signal.aborted) return;
            failure ??= new CellError(cell, err);
            stop.abort();
            return;
          }
          record(line);
        })
      );
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      await pool.destroy();
    }
    if (failure !== undefined) throw failure;
  }
  const violations = results
    .filter((l) => l.violations.length > 0)
    .map((l) => ({ cell: { workload: l.workload, features: l.features, seed: l.seed }, violations: l.violations }));
  return { total, skipped: total - todo.length, ran: results.length - (total - todo.length), interrupted: results.length < total, violations };
}
