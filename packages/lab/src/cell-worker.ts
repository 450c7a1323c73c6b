/**
 * The worker-thread entry of the matrix's pool (`tinypool`): runs one cell
 * per task.
 * @module
 */

import { runCell, type CellTask } from './cell.js';
import type { ResultLine } from './results.js';

/**
 * Runs one cell (the pool's task function).
 * @param task - the cell and its settings
 */
export default function work(task: CellTask): Promise<ResultLine> {
  return runCell(task);
}
