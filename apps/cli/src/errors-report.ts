/**
 * Turns any error into one line on standard error and an exit code; never
 * a stack trace. With `--json`, a JSON object naming the error is printed
 * on standard output too, so a script always gets JSON.
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

/** What kind of error ended a command. */
export type ErrorKind = 'usage' | 'workload' | 'feature-module' | 'internal';

/** An error as `--json` prints it: `{ "error": { kind, message, exitCode } }`. */
export interface ErrorJson {
  /** The error. */
  readonly error: {
    /** `usage` (bad input, exit 2), `workload` or `feature-module` (the run failed, exit 1), `internal` (exit 1). */
    readonly kind: ErrorKind;
    /** The one-line message printed on standard error (without `mmlab: `). */
    readonly message: string;
    /** The exit code. */
    readonly exitCode: number;
  };
}

/**
 * Classifies what was thrown.
 * @param err - what was thrown
 * @returns its kind, one-line message and exit code
 */
export function classifyError(err: unknown): ErrorJson['error'] {
  const message = (err instanceof Error ? err.message : String(err)).split('\n', 1)[0] ?? '';
  if (err instanceof UsageError || err instanceof SpecError || err instanceof KernelConfigError) {
    return { kind: 'usage', message, exitCode: EXIT_USAGE };
  }
  if (err instanceof WorkloadError) return { kind: 'workload', message, exitCode: EXIT_FAILURE };
  if (err instanceof FeatureModuleError) return { kind: 'feature-module', message, exitCode: EXIT_FAILURE };
  return { kind: 'internal', message: `internal error: ${message}`, exitCode: EXIT_FAILURE };
}

/**
 * Prints `err` as `mmlab: message` (plus the usage line for usage errors)
 * and returns the exit code it maps to. An unexpected error's stack (or
 * the stack of what a feature module threw) is printed only when the
 * `MMLAB_DEBUG` environment variable is set.
 * @param err - what was thrown
 * @param usage - the usage line of the command that was running
 * @param io - output streams
 * @param json - also print the error as one JSON object ({@link ErrorJson}) on standard output
 */
export function reportError(err: unknown, usage: string, io: Io, json = false): number {
  const e = classifyError(err);
  if (json) io.stdout(`${JSON.stringify({ error: e } satisfies ErrorJson)}\n`);
  const debug = process.env.MMLAB_DEBUG !== undefined;
  switch (e.kind) {
    case 'usage':
      io.stderr(`mmlab: ${e.message}\n${err instanceof UsageError ? err.usage : usage}\n`);
      break;
    case 'workload':
      io.stderr(`mmlab: ${e.message}\n`);
      break;
    case 'feature-module':
    case 'internal': {
      const shown = e.kind === 'feature-module' ? (err as FeatureModuleError).cause : err;
      const stack = shown instanceof Error && debug ? `${shown.stack ?? ''}\n` : '';
      const hint = shown instanceof Error && !debug ? ' (MMLAB_DEBUG=1 shows the stack)' : '';
      io.stderr(`mmlab: ${e.message}${hint}\n${stack}`);
      break;
    }
  }
  return e.exitCode;
}
