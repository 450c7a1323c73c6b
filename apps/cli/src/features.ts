/**
 * The features the command line knows, by name, and the resolution of
 * `--features name:key=value,./my-feature.mjs:key=value,...` into feature
 * requests: an item that names a module (it starts with `.` or `/`, or its
 * name part ends in `.js` or `.mjs`, as for workloads) is imported relative
 * to the working directory (see `feature-module.ts` for what the module
 * exports); any other item is looked up in the registry of the proposal
 * packages.
 * @module
 */

import { KernelConfigError, resolveFeatures, type Feature, type FeatureRequest } from '@mmlab/core';
import { FEATURES, findFeature } from '@mmlab/lab';
import { resolve } from 'node:path';
import {
  SpecError,
  WorkloadError,
  WorkloadStopped,
  isModuleSpec,
  parseSpec,
  unknownNameMessage,
  withLocation,
  type ReportedFeature,
} from '@mmlab/workloads';
import { FeatureModuleError, UsageError } from './errors.js';
import type { ShownFeature } from './format/feature-list.js';
import { loadFeatureModule } from './feature-module.js';
import { RUN_USAGE } from './usage.js';

/** Every feature `--features` can name: the lab's registry. */
export { FEATURES, listFeatures } from '@mmlab/lab';

/** The features of one command line, ready for the kernel. */
export interface FeatureSet {
  /** The requests, in the order given, options as written (strings). */
  readonly requests: readonly FeatureRequest[];
  /** Feature name → module path as given, for the features loaded from modules. */
  readonly modules: ReadonlyMap<string, string>;
}

/**
 * Resolves the values of every `--features` option: splits each
 * comma-separated list, imports the feature modules and looks the other
 * names up in the registry, then has the core check the whole set (option
 * names and values, requirements, conflicts) before anything runs.
 * @param lists - the `--features` values (`name:key=value,./f.mjs,...`)
 * @param cwd - the directory module paths start from
 * @param usage - the usage line errors carry (default `mmlab run`'s)
 * @throws {@link UsageError} for a malformed spec, an unknown feature, a
 *   module that cannot be loaded or exports no valid feature, or a feature
 *   given twice; `KernelConfigError` (from the core) for a bad option, a
 *   missing requirement or a conflict
 */
export async function resolveFeatureList(
  lists: readonly string[],
  cwd: string,
  usage: string = RUN_USAGE
): Promise<FeatureSet> {
  const requests: { feature: Feature; options: Record<string, string> }[] = [];
  const modules = new Map<string, string>();
  const items = lists.flatMap((list) => list.split(',').map((s) => s.trim()));
  for (const text of items.filter((s) => s !== '')) {
    let spec;
    try {
      spec = parseSpec(text, 'feature');
    } catch (err) {
      throw new UsageError((err as Error).message, usage);
    }
    const fromModule = isModuleSpec(text);
    const feature = fromModule ? await loadFeatureModule(spec.name, cwd, usage) : registered(spec.name, usage);
    if (requests.some((r) => r.feature.name === feature.name)) {
      const first = modules.get(feature.name);
      const where =
        first === undefined && !fromModule
          ? ''
          : ` (${source(first)} and ${source(fromModule ? spec.name : undefined)})`;
      throw new UsageError(`feature '${feature.name}' given twice${where}`, usage);
    }
    if (fromModule) modules.set(feature.name, spec.name);
    requests.push({ feature, options: Object.fromEntries(spec.args) });
  }
  resolveFeatures(requests, FEATURES);
  return { requests, modules };
}

/** Where a feature of the set came from, for the duplicate message. */
function source(module: string | undefined): string {
  return module === undefined ? 'by name' : `from ${module}`;
}

function registered(name: string, usage: string): Feature {
  const feature = findFeature(name);
  if (feature === undefined) {
    throw new UsageError(unknownNameMessage('feature', name, FEATURES.map((f) => f.name)), usage);
  }
  return feature;
}

/**
 * Adds to each feature of a report the module it was loaded from, if any
 * (`{ name, options, module }`), keeping the report's key order.
 * @param report - a run or exploration report
 * @param modules - feature name → module path, from {@link resolveFeatureList}
 */
export function withModules<R extends { readonly features: readonly ReportedFeature[] }>(
  report: R,
  modules: ReadonlyMap<string, string>
): R & { readonly features: readonly ShownFeature[] } {
  if (modules.size === 0) return report;
  return {
    ...report,
    features: report.features.map((f): ShownFeature => {
      const module = modules.get(f.name);
      return module === undefined ? f : { ...f, module };
    }),
  };
}

/**
 * Names the feature modules in an unexpected error thrown while a kernel
 * with feature modules ran: their seam code runs inside the model, so what
 * would otherwise be reported as an internal error of mmlab becomes a
 * {@link FeatureModuleError} (exit 1) naming them. Errors of known kinds,
 * and any error when no module was loaded, are returned unchanged.
 * @param err - what the run threw
 * @param modules - feature name → module path, from {@link resolveFeatureList}
 * @param cwd - the directory module paths start from
 */
export function blameModules(err: unknown, modules: ReadonlyMap<string, string>, cwd: string): unknown {
  const known =
    err instanceof UsageError ||
    err instanceof FeatureModuleError ||
    err instanceof SpecError ||
    err instanceof KernelConfigError ||
    err instanceof WorkloadError ||
    err instanceof WorkloadStopped;
  if (modules.size === 0 || known) return err;
  const text = (err instanceof Error ? err.message : String(err)).split('\n', 1)[0] ?? '';
  const list = [...new Set(modules.values())];
  // name the line of the module the error was thrown from, if it was
  const located = list.map((m) => withLocation(text, err, resolve(cwd, m), m)).find((t) => t !== text) ?? text;
  return new FeatureModuleError(`in a kernel with feature modules ${list.join(', ')}: ${located}`, err);
}
