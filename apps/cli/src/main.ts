#!/usr/bin/env node
/**
 * The `mmlab` command. {@link main} takes the arguments and an {@link Io}
 * and returns the exit code, so tests run it in-process; run as a program,
 * it uses the real process's arguments and streams.
 * @module
 */

import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import type { Command } from 'commander';
import { registerAb } from './commands/ab.js';
import { registerCalibrate } from './commands/calibrate.js';
import { registerCapture } from './commands/capture.js';
import { registerChart } from './commands/chart.js';
import { registerExplore } from './commands/explore.js';
import { registerList } from './commands/list.js';
import { registerMatrix } from './commands/matrix.js';
import { registerMerge } from './commands/merge.js';
import { registerReplay } from './commands/replay.js';
import { registerRun } from './commands/run.js';
import { registerWeb } from './commands/web.js';
import { UsageError } from './errors.js';
import { reportError } from './errors-report.js';
import { processIo, type Io } from './io.js';
import { createRoot, isHelpOrVersion, mainUsage, type CliContext } from './program.js';
import { usageLine } from './usage.js';

export type { Io } from './io.js';

/**
 * Builds the `mmlab` program of one invocation: the root and every
 * subcommand (each in its own file of `commands/`).
 * @param ctx - the invocation's streams and exit code
 */
export function buildProgram(ctx: CliContext): Command {
  const program = createRoot(ctx);
  registerRun(program, ctx);
  registerExplore(program, ctx);
  registerReplay(program, ctx);
  registerCapture(program, ctx);
  registerList(program, ctx);
  registerAb(program, ctx);
  registerMatrix(program, ctx);
  registerMerge(program, ctx);
  registerChart(program, ctx);
  registerWeb(program, ctx);
  registerCalibrate(program, ctx);
  return program;
}

/**
 * Runs the `mmlab` command.
 * @param argv - the arguments after the program name (`['run', '--workload', 'anon-touch']`)
 * @param io - output streams and working directory (default: the process's)
 * @returns the exit code: 0 success, 1 failure, 2 bad usage
 */
export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  const ctx: CliContext = { io, exitCode: 0 };
  const program = buildProgram(ctx);
  try {
    if (argv.length === 0) throw new UsageError('missing command', mainUsage(program));
    await program.parseAsync(argv, { from: 'user' });
    return ctx.exitCode;
  } catch (err) {
    if (isHelpOrVersion(err)) return 0;
    const running = program.commands.find((c) => c.name() === argv[0]);
    return reportError(err, running === undefined ? mainUsage(program) : usageOf(running), io, wantsJson(argv));
  }
}

/** Whether the command line asks for JSON (`--json` before any `--`): errors are then printed as JSON too. */
function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json');
}

/** The usage line of a subcommand, for errors that carry none of their own. */
function usageOf(cmd: Command): string {
  return usageLine(cmd.name(), cmd.usage());
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

/**
 * The host JIT's inlining budget (V8's bytecode bytes inlined into one
 * optimized function) for the program run: the model's fault path is a
 * chain of small kernel functions (`do_page_fault` → `handle_mm_fault` →
 * `__do_fault` → the file's `->fault` …) that V8's default budget (920)
 * cuts short. Host speed only: a run's simulated results are the same.
 */
const INLINING_BUDGET = 2000;

if (isEntryPoint()) {
  // before any model code is optimized; in-process callers of main keep their host's setting
  setFlagsFromString(`--max-inlined-bytecode-size-cumulative=${INLINING_BUDGET}`);
  process.exitCode = await main(process.argv.slice(2));
}
