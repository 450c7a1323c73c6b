/**
 * Feature sets on the command line: the lab parses and validates them; the
 * user feature modules they name are loaded here first (Node only).
 * @module
 */

import type { Feature } from '@mmlab/core';
import { featureModulePaths, parseFeatureSet, type FeatureSet } from '@mmlab/lab';
import { loadFeatureModule } from './feature-module.js';
import { labInputError } from './commands/lab-options.js';

/**
 * Loads the modules a feature set names and parses the set.
 * @param text - the set (`a,b:key=value`, `baseline`, `all`, `./mine.mjs:x=1`)
 * @param cwd - where module paths start
 * @param usage - the command's usage line, for errors
 * @throws `UsageError` for a malformed set, an unknown feature or option,
 *   a bad value or a module that cannot be loaded
 */
export async function loadFeatureSet(text: string, cwd: string, usage: string): Promise<FeatureSet> {
  try {
    const modules = new Map<string, Feature>();
    for (const path of featureModulePaths(text)) modules.set(path, await loadFeatureModule(path, cwd, usage));
    return parseFeatureSet(text, { modules });
  } catch (err) {
    throw labInputError(err, usage);
  }
}
