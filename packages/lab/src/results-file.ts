/**
 * Results files on disk (Node only). A line is appended with one `write` of
 * the whole line on a file opened for appending; a write that fails or
 * comes up short is cut back, so a crash or Ctrl-C leaves whole lines only.
 * @module
 */

import { closeSync, existsSync, fstatSync, ftruncateSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { ResultsError, mergeLines, parseResults, type ReadLine, type ResultLine } from './results.js';

/**
 * Appends one line to a results file with a single write; a failed or
 * short write is cut back to the previous end, so no partial line remains.
 * @param path - the results file (created when missing)
 * @param line - the line
 */
export function appendResult(path: string, line: ResultLine): void {
  const data = Buffer.from(`${JSON.stringify(line)}\n`);
  const fd = openSync(path, 'a');
  try {
    const before = fstatSync(fd).size;
    let written = 0;
    try {
      written = writeSync(fd, data);
    } finally {
      if (written !== data.length) ftruncateSync(fd, before);
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads a results file, checking every line (see `parseResults`).
 * @param path - the file
 * @param shown - the name used in messages (default `path`)
 * @returns the lines; none when the file does not exist
 * @throws `ResultsError` (`@mmlab/lab`) naming the file and line of a bad line
 */
export function readResults(path: string, shown = path): ReadLine[] {
  if (!existsSync(path)) return [];
  return parseResults(readFileSync(path, 'utf8'), shown);
}

/**
 * Merges results files (the shards of one matrix) into one new file, in
 * cell order (workload, features, seed). A cell in two inputs must be the
 * same line; the settings must agree.
 * @param inputs - the files to merge
 * @param out - the file to write; refused when it exists
 * @returns the number of cells written
 * @throws `ResultsError` (`@mmlab/lab`) for a bad line, disagreeing settings or
 *   cells, or an existing output
 */
export function mergeResults(inputs: readonly string[], out: string): number {
  if (existsSync(out)) throw new ResultsError(`${out} exists; merge writes a new file and never overwrites results`);
  const all: ReadLine[] = [];
  for (const input of inputs) {
    if (!existsSync(input)) throw new ResultsError(`${input}: no such results file`);
    all.push(...readResults(input));
  }
  const lines: ResultLine[] = mergeLines(all);
  const tmp = `${out}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'wx');
  try {
    writeSync(fd, lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, out);
  return lines.length;
}
