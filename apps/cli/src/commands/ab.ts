/**
 * `mmlab ab`: two feature sets on one workload, paired seeds, every metric
 * with its confidence interval; `mmlab ab --each`: every registered
 * proposal against the baseline on the workload that shows it.
 * @module
 */

import { createCellPool, poolRunner } from '@mmlab/lab/node';
import {
  AbInterrupted,
  SHOWCASE,
  abChartSpec,
  formatAbCsv,
  formatAbMarkdown,
  formatAbText,
  parseFeatureSet,
  renderSvg,
  runAb,
  type AbResult,
  type AbRunner,
  type FeatureSet,
  type RunSettings,
} from '@mmlab/lab';
import { groupReplayWorkload, readCaptureGroup, replayMemBytes, resolveWorkload, type ResolvedWorkload } from '@mmlab/workloads';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { toJson } from '../format/json.js';
import type { Io } from '../io.js';
import { loadFeatureSet } from '../lab-sets.js';
import { AB_ARGS, AB_HELP, AB_USAGE } from '../lab-usage.js';
import { checkOutputPath, emitReport, reportTarget, writeFileAtomic } from '../outputs.js';
import { defineCommand, operands, single, withOutputOptions, type CliContext } from '../program.js';
import { startProgress } from '../progress.js';
import { parseSeed } from './options.js';
import { parseCount, parseSettings, withSettingsOptions, type SettingsOptions } from './lab-options.js';

/** The options of `mmlab ab` as given. */
export interface AbCommandOptions extends SettingsOptions {
  readonly workload?: string;
  readonly replay?: string;
  readonly a?: string;
  readonly b?: string;
  readonly each?: boolean;
  readonly reps?: string;
  readonly jobs?: string;
  readonly seed?: string;
  readonly all?: boolean;
  readonly json?: boolean;
  readonly csv?: boolean;
  readonly markdown?: boolean;
  readonly chart?: string;
  readonly out?: string;
  readonly force?: boolean;
}

/** Most repetitions `--reps` takes. */
const MAX_REPS = 10_000;

/**
 * Adds `mmlab ab` to the program.
 * @param program - the root program
 * @param ctx - the invocation's streams and exit code
 */
export function registerAb(program: Command, ctx: CliContext): void {
  const value = (flag: string, placeholder: string): ((v: string, p: unknown) => string) => single(flag, placeholder, AB_USAGE);
  const cmd = defineCommand(program, {
    name: 'ab',
    args: AB_ARGS,
    summary: 'compare two feature sets on one workload (paired seeds, confidence intervals)',
    description: AB_HELP,
  })
    .option('--workload <SPEC>', 'the workload (built-in or ./module.mjs, with :key=value)', value('--workload', 'SPEC'))
    .option('--replay <DIR>', 'the workload is the replay of a capture folder (mmlab capture)', value('--replay', 'DIR'))
    .option('--a <SET>', 'feature set A (default baseline)', value('--a', 'SET'))
    .option('--b <SET>', 'feature set B', value('--b', 'SET'))
    .option('--each', 'every registered proposal against the baseline on the workload that shows it')
    .option('--reps <N>', 'seeds (paired runs) per set (default 5; 3 with --each)', value('--reps', 'N'))
    .option('--seed <FIRST>', 'the first seed (default 1)', value('--seed', 'FIRST'))
    .option('--jobs <J>', 'worker threads (default 1; 2 with --each)', value('--jobs', 'J'))
    .option('--all', 'list every metric, also those identical in A and B')
    .option('--json', 'print the comparison as JSON')
    .option('--csv', 'print every metric as CSV')
    .option('--markdown', 'print a Markdown table')
    .option('--chart <FILE.svg>', 'draw the changes with their intervals as SVG', value('--chart', 'FILE.svg'));
  withOutputOptions(withSettingsOptions(cmd, AB_USAGE), AB_USAGE).action(async (_o: unknown, c: Command) => {
    operands(c, 0, AB_USAGE);
    ctx.exitCode = await abCommand(c.opts<AbCommandOptions>(), ctx.io);
  });
}

/**
 * Runs `mmlab ab`.
 * @param o - the options given
 * @param io - output streams and working directory
 * @returns 0, or 1 when `--check` found a violation or the comparison was interrupted
 * @throws {@link UsageError} on bad input
 */
export async function abCommand(o: AbCommandOptions, io: Io): Promise<number> {
  const formats = [o.json, o.csv, o.markdown].filter((f) => f === true).length;
  if (formats > 1) throw new UsageError('give at most one of --json, --csv, --markdown', AB_USAGE);
  const reps = parseCount('--reps', o.reps, 1, MAX_REPS, AB_USAGE);
  const jobs = parseCount('--jobs', o.jobs, 1, 256, AB_USAGE);
  const firstSeed = parseSeed(o.seed, AB_USAGE) ?? 1;
  const settings = parseSettings(o, AB_USAGE);
  const force = o.force === true;
  const target = reportTarget(o.out, force, io.cwd, AB_USAGE);
  const chartPath = o.chart === undefined ? undefined : checkOutputPath(o.chart, io.cwd, { what: 'chart', force, usage: AB_USAGE });
  if (o.each === true) {
    if (o.a !== undefined || o.b !== undefined || o.workload !== undefined || o.replay !== undefined) {
      throw new UsageError('--each chooses the sets and workloads itself: no --a, --b, --workload or --replay', AB_USAGE);
    }
    if (chartPath !== undefined) throw new UsageError('--chart draws one comparison: not with --each', AB_USAGE);
    return eachCommand(o, reps ?? 3, firstSeed, jobs ?? 2, io);
  }
  if (o.workload !== undefined && o.replay !== undefined) throw new UsageError('give --workload or --replay, not both', AB_USAGE);
  if (o.workload === undefined && o.replay === undefined) throw new UsageError('missing --workload SPEC (or --replay DIR)', AB_USAGE);
  if (o.b === undefined) throw new UsageError('missing --b SET (the feature set to compare with --a, default baseline)', AB_USAGE);
  const a = await loadFeatureSet(o.a ?? 'baseline', io.cwd, AB_USAGE);
  const b = await loadFeatureSet(o.b, io.cwd, AB_USAGE);
  if (o.replay !== undefined) return replayAb(o.replay, a, b, { reps, jobs, firstSeed, settings, target, chartPath, force }, o, io);
  const workload = await resolveWorkload(o.workload ?? '', io.cwd);
  if ((jobs ?? 1) > 1 && [...a.items, ...b.items].some((c) => c.module !== undefined)) {
    throw new UsageError('--jobs runs registered features only: feature modules run with --jobs 1', AB_USAGE);
  }
  const runs = runsOn(jobs ?? 1, io.cwd);
  const results = await runWithProgress(io, runs, [
    (onProgress, stopped) =>
      runAb({
        a,
        b,
        // workers resolve the workload again from its full specification
        workload: runs.runner === undefined ? workload : workload.spec,
        reps: reps ?? 5,
        firstSeed,
        settings,
        cwd: io.cwd,
        onProgress,
        stopped,
        ...(runs.runner === undefined ? {} : { runner: runs.runner }),
      }),
  ]);
  return report(results?.[0], chartPath, force, target, o, io);
}

/** Where and how a comparison is reported. */
interface AbOutput {
  readonly reps: number | undefined;
  readonly jobs: number | undefined;
  readonly firstSeed: number;
  readonly settings: RunSettings;
  readonly target: ReturnType<typeof reportTarget>;
  readonly chartPath: string | undefined;
  readonly force: boolean;
}

/**
 * `mmlab ab --replay DIR`: A and B on the replay of a capture group. A
 * replay draws nothing at random and runs in this thread; the seeds
 * (default 2) only show that every figure is exact.
 */
async function replayAb(dir: string, a: FeatureSet, b: FeatureSet, out: AbOutput, o: AbCommandOptions, io: Io): Promise<number> {
  if ((out.jobs ?? 1) > 1) throw new UsageError('--replay runs in this thread: no --jobs', AB_USAGE);
  const group = await readCaptureGroup(resolve(io.cwd, dir));
  const workload: ResolvedWorkload = groupReplayWorkload(group, `replay:${dir}`).workload;
  const memBytes = out.settings.memBytes ?? replayMemBytes(group, out.settings.machine);
  const settings: RunSettings = { ...out.settings, ...(memBytes === undefined ? {} : { memBytes }) };
  const runs = runsOn(1, io.cwd);
  const results = await runWithProgress(io, runs, [
    (onProgress, stopped) => runAb({ a, b, workload, reps: out.reps ?? REPLAY_REPS, firstSeed: out.firstSeed, settings, cwd: io.cwd, onProgress, stopped }),
  ]);
  return report(results?.[0], out.chartPath, out.force, out.target, o, io);
}

/**
 * Seeds of `ab --replay` by default: a replay is deterministic (the seed
 * reaches nothing it does), so two seeds are enough for every figure to
 * come out exact, which the table then shows.
 */
export const REPLAY_REPS = 2;

/** Prints (or writes) one comparison and its chart; the exit code. */
async function report(
  result: AbResult | undefined,
  chartPath: string | undefined,
  force: boolean,
  target: ReturnType<typeof reportTarget>,
  o: AbCommandOptions,
  io: Io
): Promise<number> {
  if (result === undefined) return 1;
  if (chartPath !== undefined) writeFileAtomic(chartPath, await renderSvg(abChartSpec(result)), force);
  const text = o.json === true ? toJson(result) : o.csv === true ? formatAbCsv(result) : o.markdown === true ? formatAbMarkdown(result, o) : formatAbText(result, o);
  emitReport(target, text, io);
  return result.violations.a.length + result.violations.b.length > 0 ? 1 : 0;
}

/** How the runs of one invocation are made: in this thread, or on a worker pool. */
interface Runs {
  /** The runner for `runAb` (undefined: in this thread). */
  readonly runner: AbRunner | undefined;
  /** Stops the workers. */
  close(): Promise<void>;
}

function runsOn(jobs: number, cwd: string): Runs {
  if (jobs <= 1) return { runner: undefined, close: () => Promise.resolve() };
  const pool = createCellPool(jobs);
  return { runner: poolRunner(pool, cwd), close: () => pool.destroy() };
}

/**
 * Runs comparisons with one progress bar, stopping cleanly on Ctrl-C.
 * @returns the results, or null when interrupted (a line on stderr says so)
 */
async function runWithProgress(
  io: Io,
  runs: Runs,
  comparisons: readonly ((onProgress: (done: number, total: number) => void, stopped: () => boolean) => Promise<AbResult>)[]
): Promise<AbResult[] | null> {
  const progress = startProgress('runs');
  const state = { interrupted: false };
  const onSigint = (): void => {
    state.interrupted = true;
    void runs.close();
  };
  process.once('SIGINT', onSigint);
  const counts = comparisons.map(() => ({ done: 0, total: 0 }));
  try {
    return await Promise.all(
      comparisons.map((run, i) =>
        run(
          (done, total) => {
            counts[i] = { done, total };
            progress.update(
              counts.reduce((n, c) => n + c.done, 0),
              counts.reduce((n, c) => n + c.total, 0)
            );
          },
          () => state.interrupted
        )
      )
    );
  } catch (err) {
    if (!state.interrupted && !(err instanceof AbInterrupted)) throw err;
    io.stderr('mmlab: interrupted (Ctrl-C); nothing reported\n');
    return null;
  } finally {
    progress.stop();
    process.removeListener('SIGINT', onSigint);
    await runs.close();
  }
}

/** `mmlab ab --each`: every registered proposal with a showcase, against the baseline, all at once on the pool. */
async function eachCommand(o: AbCommandOptions, reps: number, firstSeed: number, jobs: number, io: Io): Promise<number> {
  const given = parseSettings(o, AB_USAGE);
  const baseline = parseFeatureSet('baseline');
  const runs = runsOn(jobs, io.cwd);
  const results = await runWithProgress(
    io,
    runs,
    SHOWCASE.map((show) => (onProgress, stopped) => {
      const settings: RunSettings = { ...show.settings, ...withoutDefaults(o, given) };
      return runAb({
        a: baseline,
        b: parseFeatureSet(show.feature),
        workload: show.workload,
        reps,
        firstSeed,
        settings,
        onProgress,
        stopped,
        ...(runs.runner === undefined ? {} : { runner: runs.runner }),
      });
    }),
  );
  if (results === null) return 1;
  const target = reportTarget(o.out, o.force === true, io.cwd, AB_USAGE);
  const text =
    o.json === true
      ? toJson(results)
      : o.csv === true
        ? results.map((r, i) => (i === 0 ? formatAbCsv(r) : formatAbCsv(r).split('\n').slice(1).join('\n'))).join('')
        : results
            .map((r, i) => `${o.markdown === true ? '### ' : '== '}${SHOWCASE[i]?.why ?? ''}\n\n${o.markdown === true ? formatAbMarkdown(r, o) : formatAbText(r, o)}`)
            .join('\n');
  emitReport(target, text, io);
  return results.some((r) => r.violations.a.length + r.violations.b.length > 0) ? 1 : 0;
}

/** The settings the user gave explicitly (the machine only when named). */
function withoutDefaults(o: AbCommandOptions, s: RunSettings): RunSettings {
  return o.machine === undefined ? Object.fromEntries(Object.entries(s).filter(([k]) => k !== 'machine')) : s;
}
