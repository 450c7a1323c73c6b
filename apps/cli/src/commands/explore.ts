/**
 * `mmlab explore --scenario NAME --seeds N ...`.
 * @module
 */

import { getMachine, listMachines } from '@mmlab/core';
import { MAX_EXPLORE_SEEDS, exploreScenario, resolveScenario, unknownNameMessage } from '@mmlab/workloads';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { resolveFeatureList, withModules } from '../features.js';
import { formatExploreReport } from '../format/explore-report.js';
import { toJson } from '../format/json.js';
import type { Io } from '../io.js';
import { emitReport, reportTarget } from '../outputs.js';
import { defineCommand, withOutputOptions, multiple, operands, single, type CliContext } from '../program.js';
import { EXPLORE_ARGS, EXPLORE_HELP, EXPLORE_USAGE } from '../usage.js';
import { parseCpus, parseSeed, parseStrategy } from './options.js';

/** The options of `mmlab explore` as given (values unparsed). */
export interface ExploreOptions {
  readonly scenario?: string;
  readonly features?: readonly string[];
  readonly seeds?: string;
  readonly seed?: string;
  readonly strategy?: string;
  readonly cpus?: string;
  readonly machine?: string;
  readonly preempt?: boolean;
  readonly json?: boolean;
  readonly timings?: boolean;
  readonly out?: string;
  readonly force?: boolean;
}

/**
 * Adds `mmlab explore` to the program.
 * @param program - the root program
 * @param ctx - the invocation's streams and exit code
 */
export function registerExplore(program: Command, ctx: CliContext): void {
  const value = (flag: string, placeholder: string): ((v: string, p: unknown) => string) =>
    single(flag, placeholder, EXPLORE_USAGE);
  const command = defineCommand(program, {
    name: 'explore',
    args: EXPLORE_ARGS,
    summary: 'search seeded interleavings of a race scenario for a violation',
    description: EXPLORE_HELP,
  })
    .option('--scenario <NAME>', 'race scenario (mmlab list scenarios)', value('--scenario', 'NAME'))
    .option('--seeds <N>', 'how many seeds to run', value('--seeds', 'N'))
    .option('--seed <FIRST>', 'first seed (default 1)', value('--seed', 'FIRST'))
    .option('--features <SPEC,SPEC,...>', 'features by name or ./module.mjs, with :key=value (repeatable)', multiple('--features', 'SPEC,SPEC,...', EXPLORE_USAGE))
    .option('--strategy <random|pct>', 'interleaving strategy (default random)', value('--strategy', 'random|pct'))
    .option('--cpus <N>', 'CPU count (default 2)', value('--cpus', 'N'))
    .option('--machine <NAME>', 'machine profile (mmlab list machines)', value('--machine', 'NAME'))
    .option('--preempt', 'CONFIG_PREEMPT on')
    .option('--no-preempt', 'CONFIG_PREEMPT off (the default)')
    .option('--json', 'print one JSON object')
    .option('--timings', 'add host time to the report');
  withOutputOptions(command, EXPLORE_USAGE)
    .action(async (_options: unknown, cmd: Command) => {
      operands(cmd, 0, EXPLORE_USAGE);
      ctx.exitCode = await exploreCommand(cmd.opts<ExploreOptions>(), ctx.io);
    });
}

/**
 * Runs `mmlab explore`: N seeded explore-mode interleavings of a race
 * scenario with the checker on.
 * @param options - the options given
 * @param io - output streams and working directory (feature module paths start from it)
 * @returns 1 when a seed fails (a violation, a deadlock, an exception in
 *   the model), 0 when none does
 * @throws {@link UsageError} or `SpecError` on bad usage (an unknown
 *   scenario lists the known ones; a feature module that cannot be loaded
 *   or exports no valid feature); `KernelConfigError` for a feature set or
 *   CPU count the core refuses; `FeatureModuleError` when a feature
 *   module's `install` throws
 */
export async function exploreCommand(options: ExploreOptions, io: Io): Promise<number> {
  const name = options.scenario;
  if (name === undefined) throw new UsageError('missing --scenario NAME', EXPLORE_USAGE);
  const scenario = resolveScenario(name);
  const seedsText = options.seeds;
  if (seedsText === undefined) throw new UsageError('missing --seeds N', EXPLORE_USAGE);
  const seeds = parseSeeds(seedsText);
  const firstSeed = parseSeed(options.seed, EXPLORE_USAGE) ?? 1;
  if (firstSeed + seeds - 1 > 0xffffffff) {
    throw new UsageError(`seeds ${firstSeed}..${firstSeed + seeds - 1} go past 4294967295`, EXPLORE_USAGE);
  }
  const strategy = parseStrategy(options.strategy, EXPLORE_USAGE);
  const cpus = parseCpus(options.cpus, EXPLORE_USAGE);
  const machine = options.machine;
  if (machine !== undefined && getMachine(machine) === undefined) {
    throw new UsageError(unknownNameMessage('machine', machine, listMachines()), EXPLORE_USAGE);
  }
  const target = reportTarget(options.out, options.force === true, io.cwd, EXPLORE_USAGE);
  const featureSpecs = options.features ?? [];
  const { requests: features, modules } = await resolveFeatureList(featureSpecs, io.cwd, EXPLORE_USAGE);
  const json = options.json === true;
  const report = exploreScenario({
    scenario,
    features,
    seeds,
    firstSeed,
    ...(strategy === undefined ? {} : { strategy }),
    ...(cpus === undefined ? {} : { cpus }),
    ...(machine === undefined ? {} : { machine }),
    preempt: options.preempt ?? false,
    timings: !json || options.timings === true,
  });
  const shown = withModules(report, modules);
  emitReport(target, json ? toJson(shown) : formatExploreReport(shown, featureSpecs.join(',')), io);
  return report.failure === null ? 0 : 1;
}

function parseSeeds(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > MAX_EXPLORE_SEEDS) {
    throw new UsageError(`bad --seeds '${text}' (expected an integer from 1 to ${MAX_EXPLORE_SEEDS})`, EXPLORE_USAGE);
  }
  return n;
}
