/**
 * `mmlab explore --scenario NAME --seeds N ...`.
 * @module
 */

import { getMachine, listMachines } from '@mmlab/core';
import { MAX_EXPLORE_SEEDS, exploreScenario, resolveScenario } from '@mmlab/workloads';
import { optionValue, parseArgs, type OptionSpec } from '../argv.js';
import { UsageError } from '../errors.js';
import { resolveFeatureList, withModules } from '../features.js';
import { formatExploreReport } from '../format/explore-report.js';
import { toJson } from '../format/json.js';
import type { Io } from '../io.js';
import { EXPLORE_USAGE } from '../usage.js';
import { parseCpus, parseSeed, parseStrategy } from './options.js';

const OPTIONS: Readonly<Record<string, OptionSpec>> = {
  scenario: { kind: 'value', placeholder: 'NAME' },
  features: { kind: 'value', multiple: true, placeholder: 'SPEC,SPEC,...' },
  seeds: { kind: 'value', placeholder: 'N' },
  seed: { kind: 'value', placeholder: 'FIRST' },
  strategy: { kind: 'value', placeholder: 'random|pct' },
  cpus: { kind: 'value', placeholder: 'N' },
  machine: { kind: 'value', placeholder: 'NAME' },
  preempt: { kind: 'flag', negatable: true },
  json: { kind: 'flag' },
  timings: { kind: 'flag' },
};

/**
 * Runs `mmlab explore`: N seeded explore-mode interleavings of a race
 * scenario with the checker on.
 * @param args - arguments after `explore`
 * @param io - output streams and working directory (feature module paths start from it)
 * @returns 1 when a seed fails (a violation, a deadlock, an exception in
 *   the model), 0 when none does
 * @throws {@link UsageError} or `SpecError` on bad usage (an unknown
 *   scenario lists the known ones; a feature module that cannot be loaded
 *   or exports no valid feature); `KernelConfigError` for a feature set or
 *   CPU count the core refuses; `FeatureModuleError` when a feature
 *   module's `install` throws
 */
export async function exploreCommand(args: readonly string[], io: Io): Promise<number> {
  const parsed = parseArgs(args, OPTIONS, EXPLORE_USAGE);
  if (parsed.positionals.length > 0) {
    throw new UsageError(`unexpected argument '${parsed.positionals[0] ?? ''}'`, EXPLORE_USAGE);
  }
  const name = optionValue(parsed, 'scenario');
  if (name === undefined) throw new UsageError('missing --scenario NAME', EXPLORE_USAGE);
  const scenario = resolveScenario(name);
  const seedsText = optionValue(parsed, 'seeds');
  if (seedsText === undefined) throw new UsageError('missing --seeds N', EXPLORE_USAGE);
  const seeds = parseSeeds(seedsText);
  const firstSeed = parseSeed(optionValue(parsed, 'seed'), EXPLORE_USAGE) ?? 1;
  if (firstSeed + seeds - 1 > 0xffffffff) {
    throw new UsageError(`seeds ${firstSeed}..${firstSeed + seeds - 1} go past 4294967295`, EXPLORE_USAGE);
  }
  const strategy = parseStrategy(optionValue(parsed, 'strategy'), EXPLORE_USAGE);
  const cpus = parseCpus(optionValue(parsed, 'cpus'), EXPLORE_USAGE);
  const machine = optionValue(parsed, 'machine');
  if (machine !== undefined && getMachine(machine) === undefined) {
    throw new UsageError(`unknown machine '${machine}' (known: ${listMachines().join(', ')})`, EXPLORE_USAGE);
  }
  const featureSpecs = parsed.values.get('features') ?? [];
  const { requests: features, modules } = await resolveFeatureList(featureSpecs, io.cwd, EXPLORE_USAGE);
  const json = parsed.flags.get('json') === true;
  const report = exploreScenario({
    scenario,
    features,
    seeds,
    firstSeed,
    ...(strategy === undefined ? {} : { strategy }),
    ...(cpus === undefined ? {} : { cpus }),
    ...(machine === undefined ? {} : { machine }),
    preempt: parsed.flags.get('preempt') ?? false,
    timings: !json || parsed.flags.get('timings') === true,
  });
  const shown = withModules(report, modules);
  io.stdout(json ? toJson(shown) : formatExploreReport(shown, featureSpecs.join(',')));
  return report.failure === null ? 0 : 1;
}

function parseSeeds(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > MAX_EXPLORE_SEEDS) {
    throw new UsageError(`bad --seeds '${text}' (expected an integer from 1 to ${MAX_EXPLORE_SEEDS})`, EXPLORE_USAGE);
  }
  return n;
}
