/**
 * `mmlab capture PID DIR` and `mmlab capture --pids P1,P2,… | --match NAME | --all DIR`.
 * @module
 */

import { resolve } from 'node:path';
import type { Command } from 'commander';
import { groupFiles, listPids, readProcess, singleFiles, targetState, writeCaptureFolder, describeError, type ProcessTexts } from '../capture.js';
import { UsageError } from '../errors.js';
import type { Io } from '../io.js';
import { defineCommand, operands, single, type CliContext } from '../program.js';
import { CAPTURE_ARGS, CAPTURE_HELP, CAPTURE_USAGE } from '../usage.js';

/** The options of `mmlab capture`. */
export interface CaptureOptions {
  readonly pids?: string;
  readonly match?: string;
  readonly all?: boolean;
  readonly keepNames?: boolean;
  readonly gzip?: boolean;
  readonly force?: boolean;
}

/**
 * Adds `mmlab capture` to the program.
 * @param program - the root program
 * @param ctx - the invocation's streams and exit code
 */
export function registerCapture(program: Command, ctx: CliContext): void {
  defineCommand(program, {
    name: 'capture',
    args: CAPTURE_ARGS,
    summary: "copy live processes' smaps, status and present pages for replay",
    description: CAPTURE_HELP,
  })
    .argument('[PID]', 'the process (one-process form)')
    .argument('[DIR]', 'the capture folder (created if needed)')
    .option('--pids <P1,P2,...>', 'capture these processes as a group', single('--pids', 'P1,P2,...', CAPTURE_USAGE))
    .option('--match <NAME>', 'capture every process of this name as a group', single('--match', 'NAME', CAPTURE_USAGE))
    .option('--all', 'capture every process one can read as a group')
    .option('--keep-names', 'keep the paths of mapped files and the command lines (default: anonymised)')
    .option('--gzip', 'write smaps and present gzip-compressed')
    .option('--force', 'replace the capture already in DIR')
    .action((_pid: unknown, _dir: unknown, options: CaptureOptions, cmd: Command) => {
      ctx.exitCode = captureCommand(operands(cmd, 2, CAPTURE_USAGE), options, ctx.io);
    });
}

/**
 * Runs `mmlab capture`.
 * @param args - the operands (PID and DIR, or DIR with a group option)
 * @param options - the options given
 * @param io - output streams and working directory
 * @returns 0 on success; 1 when a process given by pid could not be read,
 *   or no process could
 * @throws {@link UsageError} on missing or malformed arguments, or a folder
 *   that is a file, holds other files, or holds a capture without `--force`
 */
export function captureCommand(args: readonly string[], options: CaptureOptions, io: Io): number {
  const forms = [options.pids !== undefined, options.match !== undefined, options.all === true].filter(Boolean).length;
  if (forms > 1) throw new UsageError('give one of --pids, --match and --all', CAPTURE_USAGE);
  if (forms === 0) {
    const [pidText, dir] = args;
    if (pidText === undefined || dir === undefined) throw new UsageError('expected PID and DIR (or --pids, --match or --all and DIR)', CAPTURE_USAGE);
    const pid = parsePid(pidText);
    const target = checkTarget(dir, io.cwd, options.force === true);
    let p: ProcessTexts;
    try {
      p = readProcess(pid);
    } catch (err) {
      io.stderr(`mmlab: capture of pid ${pidText} failed: ${describeError(err)}\n`);
      return 1;
    }
    if (!write(target, dir, singleFiles(p, options.gzip === true), options.force === true, io)) return 1;
    io.stdout(`captured pid ${pidText}: ${p.summary.vmas} VMAs, ${p.summary.pages} present pages in ${p.summary.runs} runs -> ${dir}\n`);
    return 0;
  }
  const [dir, extra] = args;
  if (dir === undefined) throw new UsageError('missing capture folder DIR', CAPTURE_USAGE);
  if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}' (the group options take one operand, DIR)`, CAPTURE_USAGE);
  const explicit = options.pids !== undefined;
  const pids = explicit ? parsePids(options.pids ?? '') : listPids(options.match);
  const target = checkTarget(dir, io.cwd, options.force === true);
  if (pids.length === 0) {
    io.stderr(`mmlab: no process is named '${options.match ?? ''}'; nothing captured\n`);
    return 1;
  }
  const read: ProcessTexts[] = [];
  const failed: string[] = [];
  for (const pid of pids) {
    try {
      read.push(readProcess(pid));
    } catch (err) {
      const why = describeError(err);
      // --all meets kernel threads by the hundred: they have nothing to capture
      if (!explicit && why.startsWith('no address space')) continue;
      failed.push(pid.toString());
      io.stderr(`mmlab: pid ${pid}: not captured: ${why}\n`);
    }
  }
  if (read.length === 0 || (explicit && failed.length > 0)) {
    io.stderr(`mmlab: nothing captured${explicit && read.length > 0 ? ` (--pids captures every listed process or none; ${failed.length} could not be read)` : ''}\n`);
    return 1;
  }
  const files = groupFiles(read, { keepNames: options.keepNames === true, gzip: options.gzip === true });
  if (!write(target, dir, files, options.force === true, io)) return 1;
  for (const p of read) {
    io.stdout(`captured pid ${p.pid} (${p.name}): ${p.summary.vmas} VMAs, ${p.summary.pages} present pages in ${p.summary.runs} runs\n`);
  }
  const names = options.keepNames === true ? 'names kept' : 'paths anonymised, command lines dropped';
  io.stdout(`${read.length} ${read.length === 1 ? 'process' : 'processes'} -> ${dir} (${names}${failed.length > 0 ? `; ${failed.length} not captured` : ''})\n`);
  return 0;
}

/** Writes the folder whole; false (after a line on stderr) when it cannot be written. */
function write(target: string, dir: string, files: ReadonlyMap<string, string | Buffer>, force: boolean, io: Io): boolean {
  try {
    writeCaptureFolder(target, files, force);
    return true;
  } catch (err) {
    io.stderr(`mmlab: cannot write capture folder '${dir}': ${(err as Error).message}; nothing written\n`);
    return false;
  }
}

function parsePid(text: string): number {
  if (!/^[1-9]\d*$/.test(text)) throw new UsageError(`bad PID '${text}'`, CAPTURE_USAGE);
  return Number(text);
}

function parsePids(text: string): number[] {
  const pids = text.split(',').map((t) => parsePid(t.trim()));
  const dup = pids.find((p, i) => pids.indexOf(p) !== i);
  if (dup !== undefined) throw new UsageError(`--pids lists ${dup} twice`, CAPTURE_USAGE);
  return pids;
}

/**
 * Checks the capture folder before /proc is read: not a file, nothing but
 * an earlier capture in it, and that only with `force`.
 * @returns its absolute path
 */
function checkTarget(dir: string, cwd: string, force: boolean): string {
  const target = resolve(cwd, dir);
  const state = targetState(target);
  if (state === 'file') throw new UsageError(`cannot write capture folder '${dir}': it is a file`, CAPTURE_USAGE);
  if (typeof state === 'object' && 'other' in state) {
    throw new UsageError(
      `capture folder '${dir}' holds files that are not a capture (${state.other.slice(0, 3).join(', ')}); give a new or empty folder`,
      CAPTURE_USAGE
    );
  }
  if (typeof state === 'object' && !force) {
    throw new UsageError(`capture folder '${dir}' already holds a capture (${state.capture.join(', ')}); --force replaces it`, CAPTURE_USAGE);
  }
  return target;
}
