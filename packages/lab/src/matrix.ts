/**
 * Running the combination matrix (Node only): the plan's cells on a
 * worker-thread pool, each cell appended to a results file as it finishes. Re-running skips the cells already in the file (resume after
 * Ctrl-C or a crash); `shard` takes every n-th cell so a batch scheduler can
 * split the matrix over machines, and `mergeResults` joins the shards.
 * @module
 */

import { setMaxListeners } from 'node:events';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Tinypool from 'tinypool';
import type { AbRunner } from './ab.js';
import { runCell, type CellTask } from './cell.js';
import { formatFeatureSet } from './notation.js';
import { planMatrix, shardCells, type MatrixPlan, type RefusedSet, type Shard } from './plan.js';
import { appendResult, readResults } from './results-file.js';
import { cellKey, checkSameSettings, describeCell, type Cell, type ResultLine } from './results.js';

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

/** A cell and the violations the checker found in it. */
export interface CellViolation {
  /** The cell. */
  readonly cell: Cell;
  /** Its violations. */
  readonly violations: readonly string[];
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
  readonly violations: readonly CellViolation[];
  /** Combinations the features' `requires` or `conflicts` refuse (no cells). */
  readonly refused: readonly RefusedSet[];
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

/** A pool of worker threads that run cells. */
export interface CellPool {
  /**
   * Runs one cell on a worker.
   * @param task - the cell and its settings
   * @param signal - aborting it drops the task (rejects)
   */
  run(task: CellTask, signal?: AbortSignal): Promise<ResultLine>;
  /** Stops every worker; tasks still running or queued reject. */
  destroy(): Promise<void>;
}

/**
 * Starts a pool of worker threads (`tinypool`) that run cells, each
 * building its own kernel.
 * @param jobs - worker threads
 */
export function createCellPool(jobs: number): CellPool {
  const { file, execArgv } = workerEntry();
  const pool = new Tinypool({ filename: file, minThreads: 1, maxThreads: Math.max(1, jobs), idleTimeout: 1000, execArgv });
  return {
    run: async (task, signal) => (await pool.run(task, signal === undefined ? {} : { signal })) as ResultLine,
    destroy: () => pool.destroy(),
  };
}

/**
 * A runner for `runAb` that runs each run as a cell on a pool (registered
 * features only: the workers look the set up by its canonical text).
 * @param pool - from {@link createCellPool}
 * @param cwd - where relative workload module paths start
 */
export function poolRunner(pool: CellPool, cwd?: string): AbRunner {
  return async (workload, set, seed, settings) => {
    const line = await pool.run({ cell: { workload, features: formatFeatureSet(set), seed }, settings, ...(cwd === undefined ? {} : { cwd }) });
    return { metrics: line.metrics, violations: line.violations };
  };
}

/**
 * Runs the plan's cells that the results file lacks, appending each as it
 * finishes.
 * @param options - the plan, the file, jobs, shard, progress and abort
 * @throws `ResultsError` (`@mmlab/lab`) when the existing file has a bad line or
 *   other settings; {@link CellError} when a cell throws (finished cells are
 *   kept)
 */
export async function runMatrix(options: MatrixRunOptions): Promise<MatrixRunSummary> {
  const settings = options.plan.settings ?? {};
  const existing = readResults(options.out);
  checkSameSettings(existing, settings);
  const done = new Map<string, ResultLine>(existing.map((r) => [cellKey(r.line), r.line]));
  const planned = planMatrix(options.plan);
  const cells = shardCells(planned.cells, options.shard);
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
    if (!existsSync(workerEntry().file)) throw new Error(`the matrix's worker ${workerEntry().file} is missing: run 'npm run build' first`);
    const pool = createCellPool(Math.min(jobs, todo.length));
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
            line = await pool.run(task(cell), stop.signal);
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
  return { total, skipped: total - todo.length, ran: results.length - (total - todo.length), interrupted: results.length < total, violations, refused: planned.refused };
}
