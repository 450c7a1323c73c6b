/**
 * `mmlab replay DIR [--json] [--check]`.
 * @module
 */

import { resolve } from 'node:path';
import { readCapture, replayCapture } from '@mmlab/workloads';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { toJson } from '../format/json.js';
import { formatReplayReport } from '../format/replay-report.js';
import type { Io } from '../io.js';
import { defineCommand, withOutputOptions, operands, type CliContext } from '../program.js';
import { emitReport, reportTarget } from '../outputs.js';
import { REPLAY_ARGS, REPLAY_HELP, REPLAY_USAGE } from '../usage.js';

/** The options of `mmlab replay`. */
export interface ReplayOptions {
  readonly json?: boolean;
  readonly check?: boolean;
  readonly out?: string;
  readonly force?: boolean;
}

/**
 * Adds `mmlab replay` to the program.
 * @param program - the root program
 * @param ctx - the invocation's streams and exit code
 */
export function registerReplay(program: Command, ctx: CliContext): void {
  const command = defineCommand(program, {
    name: 'replay',
    args: REPLAY_ARGS,
    summary: 'replay a captured address space; compare page-table bytes with VmPTE',
    description: REPLAY_HELP,
  })
    .argument('[DIR]', 'capture folder (mmlab capture)')
    .option('--json', 'print one JSON object')
    .option('--check', 'run the invariant checker too');
  withOutputOptions(command, REPLAY_USAGE)
    .action(async (_dir: unknown, _options: unknown, cmd: Command) => {
      ctx.exitCode = await replayCommand(operands(cmd, 1, REPLAY_USAGE), cmd.opts<ReplayOptions>(), ctx.io);
    });
}

/**
 * Runs `mmlab replay`: rebuilds the captured address space and compares
 * page-table bytes with the kernel's VmPTE.
 * @param args - the operands (the capture folder)
 * @param options - the options given
 * @param io - output streams and working directory
 * @returns 0 when the model's figure equals the kernel's (and, with
 *   `--check`, no invariant was violated), 1 otherwise
 * @throws {@link UsageError} on a missing folder argument or unknown option
 */
export async function replayCommand(args: readonly string[], options: ReplayOptions, io: Io): Promise<number> {
  const [dir] = args;
  if (dir === undefined) throw new UsageError('missing capture folder DIR', REPLAY_USAGE);
  const check = options.check === true;
  const target = reportTarget(options.out, options.force === true, io.cwd, REPLAY_USAGE);
  const capture = await readCapture(resolve(io.cwd, dir));
  const report = replayCapture(capture, { check });
  emitReport(target, options.json === true ? toJson(report) : formatReplayReport(report, dir), io);
  const violations = report.invariants?.violations.length ?? 0;
  return report.match && violations === 0 ? 0 : 1;
}
