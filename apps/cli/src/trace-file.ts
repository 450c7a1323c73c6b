/**
 * Writing `--trace FILE`: the kernel's Trace Event Format file, written
 * atomically (a temporary file in the same folder, then a rename), so a
 * reader never sees half a trace and an existing file is replaced whole.
 * @module
 */

import { existsSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from './errors.js';

/**
 * Resolves a trace path against `cwd` and checks, before the run, that
 * its folder exists and the path is not a folder.
 * @param file - the path as given
 * @param cwd - the working directory
 * @param usage - the command's usage line, for errors
 * @returns the absolute path
 * @throws {@link UsageError} when the file cannot be written there
 */
export function checkTraceTarget(file: string, cwd: string, usage: string): string {
  const path = resolve(cwd, file);
  const dir = dirname(path);
  if (file === '' || !existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new UsageError(`cannot write trace '${file}': no folder '${dir}'`, usage);
  }
  if (existsSync(path) && statSync(path).isDirectory()) {
    throw new UsageError(`cannot write trace '${file}': it is a folder`, usage);
  }
  return path;
}

/**
 * Writes `value` as compact JSON (and a final newline) to `path`
 * atomically: into a temporary file beside it, then renamed over it. The
 * temporary file is removed if anything fails.
 * @param path - the destination
 * @param value - a JSON-able value
 */
export function writeJsonAtomic(path: string, value: unknown): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now().toString(36)}.tmp`);
  try {
    writeFileSync(tmp, `${JSON.stringify(value)}\n`);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
