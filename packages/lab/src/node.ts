/**
 * `@mmlab/lab/node`: the parts of the lab that need Node: results files on
 * disk (append whole lines, read, merge) and running a matrix on a
 * worker-thread pool.
 * @packageDocumentation
 */
export { appendResult, mergeResults, readResults } from './results-file.js';
export {
  CellError,
  createCellPool,
  poolRunner,
  runMatrix,
  type CellPool,
  type CellViolation,
  type MatrixRunOptions,
  type MatrixRunSummary,
} from './matrix.js';
