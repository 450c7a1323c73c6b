/**
 * `mmlab capture PID DIR`.
 * @module
 */

import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CAPTURE_FILES } from '@mmlab/workloads';
import { captureProcess } from '../capture.js';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { checkOutputPath } from '../outputs.js';
import type { Io } from '../io.js';
import { defineCommand, operands, type CliContext } from '../program.js';
import { CAPTURE_ARGS, CAPTURE_HELP, CAPTURE_USAGE } from '../usage.js';

/**
 * Adds `mmlab capture` to the program.
 * @param program - the root program
 * @param ctx - the invocation's streams and exit code
 */
export function registerCapture(program: Command, ctx: CliContext): void {
  defineCommand(program, {
    name: 'capture',
    args: CAPTURE_ARGS,
    summary: "copy a live process's smaps, status and present pages for replay",
    description: CAPTURE_HELP,
  })
    .argument('[PID]', 'the process')
    .argument('[DIR]', 'the capture folder (created if needed)')
    .option('--force', 'replace the capture already in DIR')
    .action((_pid: unknown, _dir: unknown, options: { force?: boolean }, cmd: Command) => {
      ctx.exitCode = captureCommand(operands(cmd, 2, CAPTURE_USAGE), options.force === true, ctx.io);
    });
}

/**
 * Runs `mmlab capture`.
 * @param args - the operands (PID and DIR)
 * @param force - replace a capture already in DIR
 * @param io - output streams and working directory
 * @returns 0 on success, 1 when the process cannot be read
 * @throws {@link UsageError} on missing or malformed arguments
 */
export function captureCommand(args: readonly string[], force: boolean, io: Io): number {
  const [pidText, dir] = args;
  if (pidText === undefined || dir === undefined) throw new UsageError('expected PID and DIR', CAPTURE_USAGE);
  if (!/^[1-9]\d*$/.test(pidText)) throw new UsageError(`bad PID '${pidText}'`, CAPTURE_USAGE);
  const target = resolve(io.cwd, dir);
  const created = prepareFolder(dir, target, force);
  try {
    const s = captureProcess(Number(pidText), target);
    io.stdout(`captured pid ${pidText}: ${s.vmas} VMAs, ${s.pages} present pages in ${s.runs} runs -> ${dir}\n`);
    return 0;
  } catch (err) {
    // nothing half-way: a folder this capture created goes with it
    if (created !== undefined) rmSync(created, { recursive: true, force: true });
    io.stderr(`mmlab: capture of pid ${pidText} failed: ${describeError(err)}\n`);
    return 1;
  }
}

/**
 * Checks the capture folder before /proc is read: not a file, no capture
 * in it unless `force`, writable; creates it if needed.
 * @returns the first folder created, if any (removed again if the capture fails)
 */
function prepareFolder(dir: string, target: string, force: boolean): string | undefined {
  const stat = statSync(target, { throwIfNoEntry: false });
  if (stat !== undefined && !stat.isDirectory()) {
    throw new UsageError(`cannot write capture folder '${dir}': it is a file`, CAPTURE_USAGE);
  }
  const held = [CAPTURE_FILES.smaps, CAPTURE_FILES.status, CAPTURE_FILES.present].filter((name) => existsSync(join(target, name)));
  if (held.length > 0 && !force) {
    throw new UsageError(
      `capture folder '${dir}' already holds a capture (${held.join(', ')}); --force replaces it`,
      CAPTURE_USAGE
    );
  }
  let created: string | undefined;
  try {
    created = mkdirSync(target, { recursive: true });
  } catch (err) {
    throw new UsageError(`cannot create capture folder '${dir}': ${(err as Error).message}`, CAPTURE_USAGE);
  }
  try {
    checkOutputPath(join(target, CAPTURE_FILES.smaps), target, { what: 'capture folder file', force: true, usage: CAPTURE_USAGE });
  } catch (err) {
    if (created !== undefined) rmSync(created, { recursive: true, force: true });
    throw err;
  }
  return created;
}

function describeError(err: unknown): string {
  if (err instanceof Error && 'code' in err) {
    const code = String((err as NodeJS.ErrnoException).code);
    if (code === 'ENOENT') return 'no such process';
    if (code === 'EACCES' || code === 'EPERM') return 'permission denied (pagemap needs root or the same user)';
    return `${code}: ${err.message}`;
  }
  return err instanceof Error ? err.message : String(err);
}
