/**
 * `mmlab capture PID DIR`.
 * @module
 */

import { resolve } from 'node:path';
import { captureProcess } from '../capture.js';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
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
    .action((_pid: unknown, _dir: unknown, _options: unknown, cmd: Command) => {
      ctx.exitCode = captureCommand(operands(cmd, 2, CAPTURE_USAGE), ctx.io);
    });
}

/**
 * Runs `mmlab capture`.
 * @param args - the operands (PID and DIR)
 * @param io - output streams and working directory
 * @returns 0 on success, 1 when the process cannot be read
 * @throws {@link UsageError} on missing or malformed arguments
 */
export function captureCommand(args: readonly string[], io: Io): number {
  const [pidText, dir] = args;
  if (pidText === undefined || dir === undefined) throw new UsageError('expected PID and DIR', CAPTURE_USAGE);
  if (!/^[1-9]\d*$/.test(pidText)) throw new UsageError(`bad PID '${pidText}'`, CAPTURE_USAGE);
  const target = resolve(io.cwd, dir);
  try {
    const s = captureProcess(Number(pidText), target);
    io.stdout(`captured pid ${pidText}: ${s.vmas} VMAs, ${s.pages} present pages in ${s.runs} runs -> ${dir}\n`);
    return 0;
  } catch (err) {
    io.stderr(`mmlab: capture of pid ${pidText} failed: ${describeError(err)}\n`);
    return 1;
  }
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
