/**
 * `mmlab matrix`: every combination of the features × workloads × seeds on
 * a worker pool, appended to a results file (resumable, shardable), then
 * the report of the whole file.
 * @module
 */

import type { Feature } from '@mmlab/core';
import {
  FEATURES,
  FeatureSetError,
  findFeature,
  formatMatrixCsv,
  formatMatrixMarkdown,
  formatMatrixText,
  matrixEffects,
  matrixReport,
  parseOptionsGrid,
  parseShard,
  type MatrixPlan,
  type OptionsGrid,
  type Shard,
} from '@mmlab/lab';
import { CellError, readResults, runMatrix } from '@mmlab/lab/node';
import { WorkloadError, resolveWorkload, unknownNameMessage } from '@mmlab/workloads';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { toJson } from '../format/json.js';
import type { Io } from '../io.js';
import { MATRIX_ARGS, MATRIX_HELP, MATRIX_USAGE } from '../lab-usage.js';
import { checkOutputPath } from '../outputs.js';
import { defineCommand, operands, single, type CliContext } from '../program.js';
import { startProgress } from '../progress.js';
import { parseSeed } from './options.js';
import { labInputError, parseCount, parseSettings, withSettingsOptions, type SettingsOptions } from './lab-options.js';

/** The options of `mmlab matrix` as given. */
export interface MatrixCommandOptions extends SettingsOptions {
  readonly workloads?: string;
  readonly features?: string;
  readonly optionsGrid?: string;
  readonly reps?: string;
  readonly seed?: string;
  readonly jobs?: string;
  readonly shard?: string;
  readonly out?: string;
  readonly json?: boolean;
  readonly csv?: boolean;
  readonly markdown?: boolean;
}

/**
 * Adds `mmlab matrix` to the program.
 * @param program - the root program
 * @param ctx - the invocation's streams and exit code
 */
export function registerMatrix(program: Command, ctx: CliContext): void {
  const value = (flag: string, placeholder: string): ((v: string, p: unknown) => string) => single(flag, placeholder, MATRIX_USAGE);
  const cmd = defineCommand(program, {
    name: 'matrix',
    args: MATRIX_ARGS,
    summary: 'run every feature combination × workloads × seeds (resumable, shardable) and report effects',
    description: MATRIX_HELP,
  })
    .option('--workloads <SPEC,SPEC,...>', 'the workloads', value('--workloads', 'SPEC,SPEC,...'))
    .option('--features <all|NAME,...>', 'the features combined (default all registered)', value('--features', 'all|NAME,...'))
    .option('--options-grid <GRID>', 'option variants: feature:key=v1|v2,...', value('--options-grid', 'GRID'))
    .option('--reps <N>', 'seeds per combination (default 1)', value('--reps', 'N'))
    .option('--seed <FIRST>', 'the first seed (default 1)', value('--seed', 'FIRST'))
    .option('--jobs <J>', 'worker threads (default 1)', value('--jobs', 'J'))
    .option('--shard <I/N>', 'run only every N-th cell from the I-th', value('--shard', 'I/N'))
    .option('--out <FILE.jsonl>', 'the results file (appended; cells in it are skipped)', value('--out', 'FILE.jsonl'))
    .option('--json', 'print the report as JSON')
    .option('--csv', 'print every effect as CSV')
    .option('--markdown', 'print the report as Markdown');
  withSettingsOptions(cmd, MATRIX_USAGE).action(async (_o: unknown, c: Command) => {
    operands(c, 0, MATRIX_USAGE);
    ctx.exitCode = await matrixCommand(c.opts<MatrixCommandOptions>(), ctx.io);
  });
}

/**
 * Runs `mmlab matrix`.
 * @param o - the options given
 * @param io - output streams and working directory
 * @param signal - aborts the run (Ctrl-C is wired to it by default)
 * @returns 0; 1 for a violation, a failed cell or an interrupted run
 * @throws {@link UsageError} on bad input (before any cell runs)
 */
export async function matrixCommand(o: MatrixCommandOptions, io: Io, signal?: AbortSignal): Promise<number> {
  const formats = [o.json, o.csv, o.markdown].filter((f) => f === true).length;
  if (formats > 1) throw new UsageError('give at most one of --json, --csv, --markdown', MATRIX_USAGE);
  if (o.workloads === undefined) throw new UsageError('missing --workloads SPEC,SPEC,...', MATRIX_USAGE);
  if (o.out === undefined) throw new UsageError('missing --out FILE.jsonl (the results file)', MATRIX_USAGE);
  const workloads = o.workloads.split(',').map((s) => s.trim());
  if (workloads.some((w) => w === '')) throw new UsageError(`empty workload in --workloads '${o.workloads}'`, MATRIX_USAGE);
  if (new Set(workloads).size !== workloads.length) throw new UsageError(`a workload given twice in --workloads '${o.workloads}'`, MATRIX_USAGE);
  for (const w of workloads) await resolveWorkload(w, io.cwd); // unknown workload or bad parameter: exit 2 before anything runs
  const features = parseFeatureList(o.features);
  const grid = parseGrid(o.optionsGrid, features);
  const reps = parseCount('--reps', o.reps, 1, 10_000, MATRIX_USAGE) ?? 1;
  const jobs = parseCount('--jobs', o.jobs, 1, 256, MATRIX_USAGE) ?? 1;
  const firstSeed = parseSeed(o.seed, MATRIX_USAGE) ?? 1;
  let shard: Shard | undefined;
  if (o.shard !== undefined) {
    try {
      shard = parseShard(o.shard);
    } catch (err) {
      throw new UsageError((err as Error).message, MATRIX_USAGE);
    }
  }
  const settings = parseSettings(o, MATRIX_USAGE);
  const out = checkOutputPath(o.out, io.cwd, { what: 'results file', force: true, usage: MATRIX_USAGE });
  const plan: MatrixPlan = { features, ...(grid === undefined ? {} : { grid }), workloads, reps, firstSeed, settings };
  const stop = new AbortController();
  const onSigint = (): void => {
    stop.abort();
  };
  signal?.addEventListener('abort', onSigint);
  process.once('SIGINT', onSigint);
  const progress = startProgress('cells');
  let summary;
  try {
    summary = await runMatrix({
      plan,
      out,
      jobs,
      ...(shard === undefined ? {} : { shard }),
      cwd: io.cwd,
      signal: stop.signal,
      onProgress: (done, total) => {
        progress.update(done, total);
      },
    });
  } catch (err) {
    if (err instanceof CellError) throw new WorkloadError(`${err.message}; the cells finished before it are kept in ${o.out}`);
    throw labInputError(err, MATRIX_USAGE);
  } finally {
    progress.stop();
    process.removeListener('SIGINT', onSigint);
    signal?.removeEventListener('abort', onSigint);
  }
  if (summary.interrupted) {
    io.stderr(
      `mmlab: interrupted: ${summary.skipped + summary.ran} of ${summary.total} cells are in ${o.out}; run the same command again to resume\n`
    );
    return 1;
  }
  for (const r of summary.refused) io.stderr(`mmlab: combination ${r.features} not run: ${r.reason}\n`);
  io.stderr(`mmlab: ${summary.ran} cell(s) run, ${summary.skipped} already in ${o.out}\n`);
  const lines = readResults(out, o.out).map((r) => r.line);
  const report = matrixReport(lines, matrixEffects(lines));
  io.stdout(o.json === true ? toJson(report) : o.csv === true ? formatMatrixCsv(report) : o.markdown === true ? formatMatrixMarkdown(report) : formatMatrixText(report));
  return summary.violations.length > 0 ? 1 : 0;
}

/** `--features all|NAME,...`: registered names, no options (option variants go in --options-grid). */
function parseFeatureList(text: string | undefined): Feature[] {
  if (text === undefined || text.trim() === 'all') return [...FEATURES];
  const names = text.split(',').map((s) => s.trim());
  const out: Feature[] = [];
  for (const name of names) {
    if (name.includes(':')) {
      throw new UsageError(`--features takes names only ('${name}'); give option variants with --options-grid`, MATRIX_USAGE);
    }
    const f = findFeature(name);
    if (f === undefined) {
      throw new UsageError(unknownNameMessage('feature', name, FEATURES.map((x) => x.name)), MATRIX_USAGE);
    }
    if (out.includes(f)) throw new UsageError(`feature '${name}' given twice in --features`, MATRIX_USAGE);
    out.push(f);
  }
  return FEATURES.filter((f) => out.includes(f));
}

function parseGrid(text: string | undefined, features: readonly Feature[]): OptionsGrid | undefined {
  if (text === undefined) return undefined;
  try {
    return parseOptionsGrid(text, features);
  } catch (err) {
    if (err instanceof FeatureSetError) throw new UsageError(err.message, MATRIX_USAGE);
    throw err;
  }
}
