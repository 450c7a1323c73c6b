/**
 * `mmlab replay DIR [--features SET] [--json] [--check] [--mem SIZE]`.
 * @module
 */

import { resolve } from 'node:path';
import { featureRequests, formatFeatureSet } from '@mmlab/lab';
import { readCaptureGroup, replayGroup, type GroupReplayReport } from '@mmlab/workloads';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { toJson } from '../format/json.js';
import { formatReplayReport } from '../format/replay-report.js';
import type { Io } from '../io.js';
import { loadFeatureSet } from '../lab-sets.js';
import { defineCommand, withOutputOptions, operands, single, type CliContext } from '../program.js';
import { emitReport, reportTarget } from '../outputs.js';
import { REPLAY_ARGS, REPLAY_HELP, REPLAY_USAGE } from '../usage.js';
import { parseSettings } from './lab-options.js';

/** The options of `mmlab replay`. */
export interface ReplayOptions {
  readonly features?: string;
  readonly json?: boolean;
  readonly check?: boolean;
  readonly mem?: string;
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
    summary: 'replay captured processes in one kernel; compare page tables with VmPTE, with any feature set',
    description: REPLAY_HELP,
  })
    .argument('[DIR]', 'capture folder (mmlab capture)')
    .option('--features <SET>', 'feature set of the model (default baseline)', single('--features', 'SET', REPLAY_USAGE))
    .option('--mem <SIZE>', "simulated RAM (default: the machine's, or what the capture needs)", single('--mem', 'SIZE', REPLAY_USAGE))
    .option('--json', 'print one JSON object')
    .option('--check', 'run the invariant checker too');
  withOutputOptions(command, REPLAY_USAGE)
    .action(async (_dir: unknown, _options: unknown, cmd: Command) => {
      ctx.exitCode = await replayCommand(operands(cmd, 1, REPLAY_USAGE), cmd.opts<ReplayOptions>(), ctx.io);
    });
}

/**
 * Runs `mmlab replay`: rebuilds the captured processes in one kernel and
 * compares page tables with the kernel's VmPTE.
 * @param args - the operands (the capture folder)
 * @param options - the options given
 * @param io - output streams and working directory
 * @returns 0 when the baseline model's figures equal the kernel's (with a
 *   feature set: always, the differences being the point) and, with
 *   `--check`, no invariant was violated; 1 otherwise
 * @throws {@link UsageError} on a missing folder argument, bad option or
 *   feature set; `SpecError` for a malformed capture (naming file and line)
 */
export async function replayCommand(args: readonly string[], options: ReplayOptions, io: Io): Promise<number> {
  const [dir] = args;
  if (dir === undefined) throw new UsageError('missing capture folder DIR', REPLAY_USAGE);
  const check = options.check === true;
  const target = reportTarget(options.out, options.force === true, io.cwd, REPLAY_USAGE);
  const { memBytes } = parseSettings({ ...(options.mem === undefined ? {} : { mem: options.mem }) }, REPLAY_USAGE);
  const set = options.features === undefined ? undefined : await loadFeatureSet(options.features, io.cwd, REPLAY_USAGE);
  const group = await readCaptureGroup(resolve(io.cwd, dir));
  const report = await replayGroup(group, {
    check,
    spec: `replay:${dir}`,
    ...(set === undefined ? {} : { features: featureRequests(set), featureText: formatFeatureSet(set) }),
    ...(memBytes === undefined ? {} : { memBytes }),
  });
  emitReport(target, options.json === true ? toJson(replayJson(report)) : formatReplayReport(report, dir), io);
  const violations = report.invariants?.violations.length ?? 0;
  const baseline = report.features === 'baseline';
  return (report.match || !baseline) && violations === 0 ? 0 : 1;
}

/**
 * The JSON form of a replay: the report with the run's metrics under
 * `metrics` (the run's settings and workload left out: they say nothing
 * the report does not).
 */
function replayJson(report: GroupReplayReport): unknown {
  const { run, ...rest } = report;
  return { ...rest, metrics: run.metrics };
}
