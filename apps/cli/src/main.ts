#!/usr/bin/env node
/**
 * The `mmlab` command. {@link main} takes the arguments and an {@link Io}
 * and returns the exit code, so tests run it in-process; run as a program,
 * it uses the real process's arguments and streams.
 * @module
 */

import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { captureCommand } from './commands/capture.js';
import { exploreCommand } from './commands/explore.js';
import { listCommand } from './commands/list.js';
import { replayCommand } from './commands/replay.js';
import { runCommand } from './commands/run.js';
import { UsageError } from './errors.js';
import { reportError } from './errors-report.js';
import { processIo, type Io } from './io.js';
import { CAPTURE_USAGE, EXPLORE_USAGE, HELP, LIST_USAGE, MAIN_USAGE, REPLAY_USAGE, RUN_USAGE } from './usage.js';

export type { Io } from './io.js';

const USAGES: Readonly<Record<string, string>> = {
  run: RUN_USAGE,
  explore: EXPLORE_USAGE,
  replay: REPLAY_USAGE,
  capture: CAPTURE_USAGE,
  list: LIST_USAGE,
};

/**
 * Runs the `mmlab` command.
 * @param argv - the arguments after the program name (`['run', '--workload', 'anon-touch']`)
 * @param io - output streams and working directory (default: the process's)
 * @returns the exit code: 0 success, 1 failure, 2 bad usage
 */
export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  const [verb, ...args] = argv;
  const usage = (verb === undefined ? undefined : USAGES[verb]) ?? MAIN_USAGE;
  try {
    if (verb === 'help' || verb === '--help' || verb === '-h' || args.includes('--help')) {
      io.stdout(HELP);
      return 0;
    }
    switch (verb) {
      case 'run':
        return await runCommand(args, io);
      case 'explore':
        return await exploreCommand(args, io);
      case 'replay':
        return await replayCommand(args, io);
      case 'capture':
        return captureCommand(args, io);
      case 'list':
        return listCommand(args, io);
      case undefined:
        throw new UsageError('missing command', MAIN_USAGE);
      default:
        throw new UsageError(`unknown command '${verb}'`, MAIN_USAGE);
    }
  } catch (err) {
    return reportError(err, usage, io);
  }
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

if (isEntryPoint()) {
  process.exitCode = await main(process.argv.slice(2));
}
