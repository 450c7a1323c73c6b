/**
 * Running one matrix cell, in the main thread or in a pool worker.
 * @module
 */

import { parseFeatureSet } from './notation.js';
import { resultLine, type Cell, type ResultLine } from './results.js';
import { runOnce, type RunSettings } from './run.js';

/** What a worker receives: the cell and its settings (plain data). */
export interface CellTask {
  /** The cell. */
  readonly cell: Cell;
  /** The run settings. */
  readonly settings: RunSettings;
  /** Where relative workload module paths start. */
  readonly cwd?: string;
}

/**
 * Runs one cell of the registered features and returns its results line.
 * @param task - the cell and its settings
 */
export async function runCell(task: CellTask): Promise<ResultLine> {
  const set = parseFeatureSet(task.cell.features);
  const r = await runOnce(task.cell.workload, set, task.cell.seed, task.settings, task.cwd);
  return resultLine(task.cell, task.settings, r.violations, r.metrics);
}
