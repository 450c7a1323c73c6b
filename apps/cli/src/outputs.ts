/**
 * Files the command writes (`--trace FILE`, `--out FILE`, the files of a
 * capture folder): every path is checked before the run starts, so a run
 * is never lost to a path it cannot write, and every file is written
 * atomically (a temporary file in the same folder, then a rename or a
 * link), so a reader never sees half a file. An existing file is replaced
 * only when the user asked for it (`--force`).
 * @module
 */

import { closeSync, existsSync, linkSync, openSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from './errors.js';
import type { Io } from './io.js';

/** How an output path is checked. */
export interface OutputCheck {
  /** What the file is, for messages (`trace`, `report`). */
  readonly what: string;
  /** Whether an existing file may be replaced (`--force`). */
  readonly force: boolean;
  /** The command's usage line, for errors. */
  readonly usage: string;
}

/** A temporary name beside `path`, unique to this process and moment. */
function tempBeside(path: string): string {
  const stamp = `${process.pid}.${Date.now().toString(36)}.${Math.random().toString(36).slice(2, 8)}`;
  return join(dirname(path), `.${basename(path)}.${stamp}.tmp`);
}

/** The reason an error of the file system gives, in a few words. */
function reason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'read-only file system';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'ENOENT':
      return 'no file can be created there';
    default:
      return code ?? (err instanceof Error ? err.message : String(err));
  }
}

/**
 * Resolves an output path against `cwd` and checks, before anything runs,
 * that it can be written: its folder exists and is writable (a probe file
 * is created there and removed), the path is not a folder, and it does not
 * exist unless `force`.
 * @param file - the path as given
 * @param cwd - the working directory
 * @param check - what the file is, whether it may be replaced, the usage line
 * @returns the absolute path
 * @throws {@link UsageError} (exit code 2) naming the path and the reason
 */
export function checkOutputPath(file: string, cwd: string, check: OutputCheck): string {
  const fail = (why: string): UsageError => new UsageError(`cannot write ${check.what} '${file}': ${why}`, check.usage);
  if (file === '') throw fail('empty path');
  const path = resolve(cwd, file);
  const dir = dirname(path);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw fail(`no folder '${dir}'`);
  const stat = statSync(path, { throwIfNoEntry: false });
  if (stat?.isDirectory() === true) throw fail('it is a folder');
  if (stat !== undefined && !check.force) throw fail('the file exists (--force replaces it)');
  const probe = tempBeside(path);
  try {
    closeSync(openSync(probe, 'wx'));
  } catch (err) {
    throw fail(`${reason(err)} (folder '${dir}')`);
  }
  rmSync(probe, { force: true });
  return path;
}

/**
 * Writes `text` to `path` atomically: into a temporary file beside it,
 * then renamed over it (`replace`) or linked to it, which fails rather
 * than replace a file that appeared meanwhile. The temporary file is
 * removed whatever happens.
 * @param path - the destination
 * @param text - the contents
 * @param replace - whether an existing file may be replaced
 * @throws when the file cannot be written, or exists and `replace` is false
 */
export function writeFileAtomic(path: string, text: string, replace: boolean): void {
  const tmp = tempBeside(path);
  try {
    writeFileSync(tmp, text, { flag: 'wx' });
    if (replace) renameSync(tmp, path);
    else linkNew(tmp, path);
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** Links `tmp` to `path`, failing if `path` exists; where links are not supported, checks and renames. */
function linkNew(tmp: string, path: string): void {
  try {
    linkSync(tmp, path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw err;
    if (existsSync(path)) throw new Error(`'${path}' appeared while it was being written; not replaced`);
    renameSync(tmp, path);
  }
}

/** Where a command's report goes: a file (`--out FILE`), or standard output. */
export interface ReportTarget {
  /** The checked absolute path (from {@link checkOutputPath}), or undefined for standard output. */
  readonly path: string | undefined;
  /** Whether an existing file may be replaced. */
  readonly force: boolean;
}

/**
 * Checks `--out FILE` (when given) before the command runs.
 * @param out - the `--out` value, or undefined
 * @param force - `--force`
 * @param cwd - the working directory
 * @param usage - the command's usage line, for errors
 */
export function reportTarget(out: string | undefined, force: boolean, cwd: string, usage: string): ReportTarget {
  return {
    path: out === undefined ? undefined : checkOutputPath(out, cwd, { what: 'report', force, usage }),
    force,
  };
}

/**
 * Prints a report on standard output, or writes it atomically to the
 * `--out` file.
 * @param target - from {@link reportTarget}
 * @param text - the report
 * @param io - standard output
 */
export function emitReport(target: ReportTarget, text: string, io: Io): void {
  if (target.path === undefined) io.stdout(text);
  else writeFileAtomic(target.path, text, target.force);
}
