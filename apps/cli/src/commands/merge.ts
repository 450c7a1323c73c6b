/**
 * `mmlab merge --out FILE FILE...`: joins the results files of a matrix's shards.
 * @module
 */

import { mergeResults } from '@mmlab/lab/node';
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import type { Io } from '../io.js';
import { MERGE_ARGS, MERGE_HELP, MERGE_USAGE } from '../lab-usage.js';
import { checkOutputPath } from '../outputs.js';
import { defineCommand, single, type CliContext } from '../program.js';
import { labInputError } from './lab-options.js';

/**
 * Adds `mmlab merge` to the program.
 * @param program - the root program
 * @param ctx - the invocation's streams and exit code
 */
export function registerMerge(program: Command, ctx: CliContext): void {
  defineCommand(program, { name: 'merge', args: MERGE_ARGS, summary: "join the results files of a matrix's shards", description: MERGE_HELP })
    .argument('[FILE...]', 'the shards’ results files')
    .option('--out <FILE.jsonl>', 'the merged file (new)', single('--out', 'FILE.jsonl', MERGE_USAGE))
    .action((_files: unknown, o: { out?: string }, c: Command) => {
      ctx.exitCode = mergeCommand(c.args, o.out, ctx.io);
    });
}

/**
 * Runs `mmlab merge`.
 * @param inputs - the files to merge
 * @param out - the merged file
 * @param io - output streams and working directory
 * @returns 0
 * @throws {@link UsageError} for a missing or bad input, disagreeing cells or settings, or an existing output
 */
export function mergeCommand(inputs: readonly string[], out: string | undefined, io: Io): number {
  if (out === undefined) throw new UsageError('missing --out FILE.jsonl (the merged file)', MERGE_USAGE);
  if (inputs.length === 0) throw new UsageError('no results files to merge', MERGE_USAGE);
  const path = checkOutputPath(out, io.cwd, { what: 'merged results', force: true, usage: MERGE_USAGE });
  let cells;
  try {
    cells = mergeResults(
      inputs.map((f) => resolve(io.cwd, f)),
      path
    );
  } catch (err) {
    throw labInputError(err, MERGE_USAGE);
  }
  io.stderr(`mmlab: merged ${cells} cells from ${inputs.length} file(s) into ${out}\n`);
  return 0;
}
