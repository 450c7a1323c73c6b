/**
 * `mmlab capture PID DIR`.
 * @module
 */

import { resolve } from 'node:path';
import { captureProcess } from '../capture.js';
import { parseArgs } from '../argv.js';
import { UsageError } from '../errors.js';
import type { Io } from '../io.js';
import { CAPTURE_USAGE } from '../usage.js';

/**
 * Runs `mmlab capture`.
 * @param args - arguments after `capture`
 * @param io - output streams and working directory
 * @returns 0 on success, 1 when the process cannot be read
 * @throws {@link UsageError} on missing or malformed arguments
 */
export function captureCommand(args: readonly string[], io: Io): number {
  const parsed = parseArgs(args, {}, CAPTURE_USAGE);
  const [pidText, dir, ...rest] = parsed.positionals;
  if (pidText === undefined || dir === undefined) throw new UsageError('expected PID and DIR', CAPTURE_USAGE);
  if (rest.length > 0) throw new UsageError(`unexpected argument '${rest[0] ?? ''}'`, CAPTURE_USAGE);
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
