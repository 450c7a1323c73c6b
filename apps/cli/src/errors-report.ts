/**
 * Turns any error into one line on standard error and an exit code; never
 * a stack trace.
 * @module
 */

import { KernelConfigError } from '@mmlab/core';
import { SpecError, WorkloadError } from '@mmlab/workloads';
import { FeatureModuleError, UsageError } from './errors.js';
import type { Io } from './io.js';

/** Exit code of a run that failed (violation, mismatch, workload or feature module error). */
export const EXIT_FAILURE = 1;
/** Exit code of bad usage (unknown command, option, workload, feature). */
export const EXIT_USAGE = 2;

/**
 * Prints `err` as `mmlab: message` (plus the usage line for usage errors)
 * and returns the exit code it maps to. An unexpected error's stack (or
 * the stack of what a feature module threw) is printed only when the
 * `MMLAB_DEBUG` environment variable is set.
 * @param err - what was thrown
 * @param usage - the usage line of the command that was running
 * @param io - output streams
 */
export function reportError(err: unknown, usage: string, io: Io): number {
  const line = (err instanceof Error ? err.message : String(err)).split('\n', 1)[0] ?? '';
  if (err instanceof UsageError) {
    io.stderr(`mmlab: ${line}\n${err.usage}\n`);
    return EXIT_USAGE;
  }
  if (err instanceof SpecError || err instanceof KernelConfigError) {
    io.stderr(`mmlab: ${line}\n${usage}\n`);
    return EXIT_USAGE;
  }
  if (err instanceof WorkloadError) {
    io.stderr(`mmlab: ${line}\n`);
    return EXIT_FAILURE;
  }
  if (err instanceof FeatureModuleError) {
    const cause: unknown = err.cause;
    const debug = process.env.MMLAB_DEBUG !== undefined;
    const stack = cause instanceof Error && debug ? `${cause.stack ?? ''}\n` : '';
    const hint = cause instanceof Error && !debug ? ' (MMLAB_DEBUG=1 shows the stack)' : '';
    io.stderr(`mmlab: ${line}${hint}\n${stack}`);
    return EXIT_FAILURE;
  }
  const stack = err instanceof Error && process.env.MMLAB_DEBUG !== undefined ? `${err.stack ?? ''}\n` : '';
  io.stderr(`mmlab: internal error: ${line}${stack === '' ? ' (MMLAB_DEBUG=1 shows the stack)' : ''}\n${stack}`);
  return EXIT_FAILURE;
}
