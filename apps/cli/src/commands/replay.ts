/**
 * `mmlab replay DIR [--json] [--check]`.
 * @module
 */

import { resolve } from 'node:path';
import { readCapture, replayCapture } from '@mmlab/workloads';
import { parseArgs } from '../argv.js';
import { UsageError } from '../errors.js';
import { toJson } from '../format/json.js';
import { formatReplayReport } from '../format/replay-report.js';
import type { Io } from '../io.js';
import { REPLAY_USAGE } from '../usage.js';

/**
 * Runs `mmlab replay`: rebuilds the captured address space and compares
 * page-table bytes with the kernel's VmPTE.
 * @param args - arguments after `replay`
 * @param io - output streams and working directory
 * @returns 0 when the model's figure equals the kernel's (and, with
 *   `--check`, no invariant was violated), 1 otherwise
 * @throws {@link UsageError} on a missing folder argument or unknown option
 */
export async function replayCommand(args: readonly string[], io: Io): Promise<number> {
  const parsed = parseArgs(args, { json: { kind: 'flag' }, check: { kind: 'flag' } }, REPLAY_USAGE);
  const [dir, ...rest] = parsed.positionals;
  if (dir === undefined) throw new UsageError('missing capture folder DIR', REPLAY_USAGE);
  if (rest.length > 0) throw new UsageError(`unexpected argument '${rest[0] ?? ''}'`, REPLAY_USAGE);
  const check = parsed.flags.get('check') === true;
  const capture = await readCapture(resolve(io.cwd, dir));
  const report = replayCapture(capture, { check });
  io.stdout(parsed.flags.get('json') === true ? toJson(report) : formatReplayReport(report, dir));
  const violations = report.invariants?.violations.length ?? 0;
  return report.match && violations === 0 ? 0 : 1;
}
