/**
 * The features the command line knows, by name, and the parsing of
 * `--features name:key=value,name,...` into feature requests. The registry
 * is empty until the proposal packages are added.
 * @module
 */

import type { Feature, FeatureRequest } from '@mmlab/core';
import { parseSpec } from '@mmlab/workloads';
import { UsageError } from './errors.js';
import { RUN_USAGE } from './usage.js';

/** Every feature `--features` can name. */
export const FEATURES: readonly Feature[] = [];

/**
 * Name and one-line summary of every registered feature.
 */
export function listFeatures(): { name: string; summary: string }[] {
  return FEATURES.map((f) => ({ name: f.name, summary: f.summary }));
}

/**
 * Parses a comma-separated list of feature specifications. Option values
 * stay strings; the core coerces and checks them against the feature's
 * declared options.
 * @param list - `name:key=value,name,...`
 * @param usage - the usage line errors carry (default `mmlab run`'s)
 * @throws {@link UsageError} for an unknown feature or a malformed spec
 */
export function parseFeatureList(list: string, usage: string = RUN_USAGE): FeatureRequest[] {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((text) => {
      let spec;
      try {
        spec = parseSpec(text, 'feature');
      } catch (err) {
        throw new UsageError((err as Error).message, usage);
      }
      const feature = FEATURES.find((f) => f.name === spec.name);
      if (feature === undefined) {
        const known = FEATURES.map((f) => f.name).join(', ');
        throw new UsageError(`unknown feature '${spec.name}' (known: ${known === '' ? 'none' : known})`, usage);
      }
      return { feature, options: Object.fromEntries(spec.args) };
    });
}
