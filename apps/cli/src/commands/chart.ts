/**
 * `mmlab chart FILE.jsonl --metric NAME [--by features|interactions]`: one
 * metric of a matrix's results as SVG.
 * @module
 */

import { interactionChartSpec, matrixEffects, renderSvg, setsChartSpec } from '@mmlab/lab';
import { readResults } from '@mmlab/lab/node';
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import type { Io } from '../io.js';
import { CHART_ARGS, CHART_HELP, CHART_USAGE } from '../lab-usage.js';
import { emitReport, reportTarget } from '../outputs.js';
import { defineCommand, operands, single, withOutputOptions, type CliContext } from '../program.js';
import { labInputError } from './lab-options.js';

/** The options of `mmlab chart` as given. */
export interface ChartOptions {
  readonly metric?: string;
  readonly by?: string;
  readonly out?: string;
  readonly force?: boolean;
}

/**
 * Adds `mmlab chart` to the program.
 * @param program - the root program
 * @param ctx - the invocation's streams and exit code
 */
export function registerChart(program: Command, ctx: CliContext): void {
  const cmd = defineCommand(program, { name: 'chart', args: CHART_ARGS, summary: "draw a metric of a matrix's results as SVG", description: CHART_HELP })
    .argument('[FILE]', 'the results file')
    .option('--metric <NAME>', 'the metric (a name from the results, such as sim.ns)', single('--metric', 'NAME', CHART_USAGE))
    .option('--by <features|interactions>', 'bars per feature set, or the heat map of effects', single('--by', 'features|interactions', CHART_USAGE));
  withOutputOptions(cmd, CHART_USAGE).action(async (_f: unknown, o: ChartOptions, c: Command) => {
    ctx.exitCode = await chartCommand(operands(c, 1, CHART_USAGE), o, ctx.io);
  });
}

/**
 * Runs `mmlab chart`.
 * @param args - the operands (the results file)
 * @param o - the options given
 * @param io - output streams and working directory
 * @returns 0
 * @throws {@link UsageError} for a missing or bad file, an unknown metric or `--by`
 */
export async function chartCommand(args: readonly string[], o: ChartOptions, io: Io): Promise<number> {
  const [file] = args;
  if (file === undefined) throw new UsageError('missing the results file', CHART_USAGE);
  if (o.metric === undefined) throw new UsageError('missing --metric NAME', CHART_USAGE);
  const by = o.by ?? 'features';
  if (by !== 'features' && by !== 'interactions') throw new UsageError(`bad --by '${by}' (expected features or interactions)`, CHART_USAGE);
  const target = reportTarget(o.out, o.force === true, io.cwd, CHART_USAGE);
  const path = resolve(io.cwd, file);
  if (!existsSync(path)) throw new UsageError(`no results file '${file}'`, CHART_USAGE);
  let lines;
  try {
    lines = readResults(path, file).map((r) => r.line);
  } catch (err) {
    throw labInputError(err, CHART_USAGE);
  }
  if (lines.length === 0) throw new UsageError(`'${file}' holds no results`, CHART_USAGE);
  const metric = o.metric;
  if (!lines.some((l) => metric in l.metrics)) {
    const near = [...new Set(lines.flatMap((l) => Object.keys(l.metrics)))].filter((m) => m.includes(metric.split('.').pop() ?? metric));
    throw new UsageError(
      `no metric '${metric}' in '${file}'${near.length > 0 ? ` (did you mean ${near.slice(0, 5).join(', ')}?)` : ''}`,
      CHART_USAGE
    );
  }
  const spec = by === 'features' ? setsChartSpec(lines, metric) : interactionChartSpec(matrixEffects(lines), metric);
  emitReport(target, await renderSvg(spec), io);
  return 0;
}
