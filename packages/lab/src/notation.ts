/**
 * The feature-set notation shared by the command line, the web app and
 * results files: `shared-pagetables,mmu-notifiers:variant=range:release=before-unmap`,
 * `baseline` for no feature and `all` for every registered feature with its
 * defaults. A set is parsed once, validated against each feature's option
 * schema (the core's `resolveFeatures`: option names, types, bounds, enum
 * values, requirements and conflicts) and printed back canonically: the
 * registered features in registry order, then feature modules in the order
 * given, each with only the options that differ from their defaults, in the
 * order the feature declares them. Parsing the canonical text gives the same
 * set back.
 * @module
 */

import { KernelConfigError, resolveFeatures, type Feature, type FeatureRequest } from '@mmlab/core';
import { isModuleSpec, unknownNameMessage } from '@mmlab/workloads';
import { FEATURES } from './registry.js';

/** A feature set the notation or its options refuse; the message names the token. */
export class FeatureSetError extends Error {
  /** The item (or the whole text) the problem is in. */
  readonly token: string;

  /**
   * @param message - one line naming the problem and the token
   * @param token - the offending item
   */
  constructor(message: string, token: string) {
    super(message);
    this.name = 'FeatureSetError';
    this.token = token;
  }
}

/** A feature option value, typed by the feature's schema. */
export type OptionValue = boolean | number | string;

/** One feature of a set, its options complete (defaults filled in). */
export interface FeatureChoice {
  /** The feature. */
  readonly feature: Feature;
  /** Every option of the feature, typed. */
  readonly options: Readonly<Record<string, OptionValue>>;
  /** The module path as written, for a feature loaded from a user module. */
  readonly module?: string;
}

/** A validated feature set in canonical order. */
export interface FeatureSet {
  /** The features, registered ones in registry order, then modules in the order given. */
  readonly items: readonly FeatureChoice[];
}

/** One item of a feature set as written: a name (or module path) and its `key=value` pairs. */
export interface FeatureItemText {
  /** The item as written. */
  readonly text: string;
  /** The feature name, or the module path. */
  readonly name: string;
  /** The `key=value` pairs, values as written. */
  readonly args: readonly (readonly [string, string])[];
  /** True when the item names a user feature module. */
  readonly module: boolean;
}

/** Where {@link parseFeatureSet} looks features up. */
export interface FeatureLookup {
  /** Registered features (default {@link FEATURES}). */
  readonly registry?: readonly Feature[];
  /** Features of user modules already loaded, by the path as written. */
  readonly modules?: ReadonlyMap<string, Feature>;
}

/** The empty set's name. */
export const BASELINE = 'baseline';
/** The name of the set of every registered feature. */
export const ALL = 'all';

const KEY_RE = /^[A-Za-z][A-Za-z0-9_-]*$/;
const NAME_RE = /^[a-z][a-z0-9-]*$/;

/**
 * Splits a feature set into its items without looking anything up.
 * `baseline` and `all` give no items and `'baseline'` or `'all'`.
 * @param text - the set as written
 * @throws {@link FeatureSetError} for an empty set or item, a malformed or
 *   repeated option, an invalid name, or `baseline`/`all` next to other items
 */
export function splitFeatureSet(text: string): readonly FeatureItemText[] | typeof BASELINE | typeof ALL {
  const trimmed = text.trim();
  if (trimmed === '') throw new FeatureSetError(`empty feature set (use '${BASELINE}' for none)`, text);
  const parts = trimmed.split(',').map((s) => s.trim());
  if (parts.length === 1 && (parts[0] === BASELINE || parts[0] === ALL)) return parts[0];
  const items: FeatureItemText[] = [];
  for (const part of parts) {
    const where = `in feature set '${trimmed}'`;
    if (part === '') throw new FeatureSetError(`empty item ${where}`, part);
    const [name = '', ...pairs] = part.split(':');
    if (name === BASELINE || name === ALL) {
      throw new FeatureSetError(`'${name}' stands alone, not with other items ${where}`, part);
    }
    const module = isModuleSpec(part);
    if (!module && !NAME_RE.test(name)) {
      throw new FeatureSetError(`bad feature name '${name}' ${where} (lower-case words joined by '-')`, part);
    }
    const args: [string, string][] = [];
    for (const pair of pairs) {
      const eq = pair.indexOf('=');
      const key = eq < 0 ? pair : pair.slice(0, eq);
      const value = eq < 0 ? '' : pair.slice(eq + 1);
      if (eq < 0) throw new FeatureSetError(`feature '${name}': expected key=value, got '${pair}' ${where}`, part);
      if (!KEY_RE.test(key)) throw new FeatureSetError(`feature '${name}': bad option name '${key}' ${where}`, part);
      if (value === '') throw new FeatureSetError(`feature '${name}': empty value for '${key}' ${where}`, part);
      if (args.some(([k]) => k === key)) throw new FeatureSetError(`feature '${name}': '${key}' given twice ${where}`, part);
      args.push([key, value]);
    }
    items.push({ text: part, name, args, module });
  }
  return items;
}

/**
 * The module paths a feature set names, for a caller that must load them
 * before {@link parseFeatureSet}.
 * @param text - the set as written
 */
export function featureModulePaths(text: string): string[] {
  const items = splitFeatureSet(text);
  return typeof items === 'string' ? [] : items.filter((i) => i.module).map((i) => i.name);
}

/**
 * Parses and validates a feature set.
 * @param text - the set as written (`a,b:key=value`, `baseline`, `all`)
 * @param lookup - the registry and the loaded feature modules
 * @throws {@link FeatureSetError} naming the token: malformed text, unknown
 *   feature, module not loaded, feature given twice, unknown option, bad
 *   value, missing requirement, conflict
 */
export function parseFeatureSet(text: string, lookup: FeatureLookup = {}): FeatureSet {
  const registry = lookup.registry ?? FEATURES;
  const items = splitFeatureSet(text);
  if (items === BASELINE) return { items: [] };
  if (items === ALL) return checkSet(registry.map((feature) => resolveOne(feature, [], feature.name)), text);
  const chosen: FeatureChoice[] = [];
  for (const item of items) {
    const feature = item.module ? lookup.modules?.get(item.name) : registry.find((f) => f.name === item.name);
    if (feature === undefined) {
      if (item.module) throw new FeatureSetError(`feature module '${item.name}' is not loaded`, item.text);
      throw new FeatureSetError(unknownNameMessage('feature', item.name, registry.map((f) => f.name)), item.text);
    }
    const twice = chosen.find((c) => c.feature.name === feature.name);
    if (twice !== undefined) throw new FeatureSetError(`feature '${feature.name}' given twice in '${text.trim()}'`, item.text);
    const choice = resolveOne(feature, item.args, item.text);
    chosen.push(item.module ? { ...choice, module: item.name } : choice);
  }
  return checkSet(canonicalOrder(chosen, registry), text);
}

/** Validates one feature's options with the core, naming the item. */
function resolveOne(feature: Feature, args: readonly (readonly [string, string])[], token: string): FeatureChoice {
  try {
    // the options alone: requirements and conflicts are the whole set's (checkSet)
    const alone = { ...feature, requires: [], conflicts: [] };
    const [resolved] = resolveFeatures([{ feature: alone, options: Object.fromEntries(args) }]);
    return { feature, options: { ...resolved!.options } };
  } catch (err) {
    if (err instanceof KernelConfigError) throw new FeatureSetError(`${err.message} (in '${token}')`, token);
    throw err;
  }
}

/** Checks requirements and conflicts of the whole set. */
function checkSet(items: readonly FeatureChoice[], text: string): FeatureSet {
  try {
    resolveFeatures(items.map((c) => ({ feature: c.feature, options: c.options })));
  } catch (err) {
    if (err instanceof KernelConfigError) throw new FeatureSetError(`${err.message} (in '${text.trim()}')`, text);
    throw err;
  }
  return { items };
}

/** Registered features in registry order, then the others in the order given. */
function canonicalOrder(items: readonly FeatureChoice[], registry: readonly Feature[]): FeatureChoice[] {
  const rank = (c: FeatureChoice): number => {
    const i = c.module === undefined ? registry.indexOf(c.feature) : -1;
    return i < 0 ? registry.length : i;
  };
  return items
    .map((c, i) => ({ c, i }))
    .sort((x, y) => rank(x.c) - rank(y.c) || x.i - y.i)
    .map(({ c }) => c);
}

/**
 * The canonical text of a set: `baseline` when empty; else each feature (or
 * module path) with the options that differ from their defaults, in the
 * feature's declaration order.
 * @param set - a set from {@link parseFeatureSet} or {@link makeFeatureSet}
 */
export function formatFeatureSet(set: FeatureSet): string {
  if (set.items.length === 0) return BASELINE;
  return set.items.map(formatChoice).join(',');
}

/**
 * One feature of a set in canonical notation (`name:key=value`).
 * @param choice - the feature and its options
 */
export function formatChoice(choice: FeatureChoice): string {
  const parts = [choice.module ?? choice.feature.name];
  for (const [key, spec] of Object.entries(choice.feature.options)) {
    const value = choice.options[key];
    if (value !== undefined && value !== spec.default) parts.push(`${key}=${String(value)}`);
  }
  return parts.join(':');
}

/**
 * Builds a validated set from features and options (defaults filled in),
 * in canonical order.
 * @param choices - the features, each with the options to set
 * @param registry - the registry giving the canonical order (default {@link FEATURES})
 * @throws {@link FeatureSetError} as {@link parseFeatureSet}
 */
export function makeFeatureSet(
  choices: readonly { readonly feature: Feature; readonly options?: Readonly<Record<string, OptionValue>>; readonly module?: string }[],
  registry: readonly Feature[] = FEATURES
): FeatureSet {
  const items = choices.map((c) => {
    const args = Object.entries(c.options ?? {}).map(([k, v]) => [k, String(v)] as const);
    const choice = resolveOne(c.feature, args, c.module ?? c.feature.name);
    return c.module === undefined ? choice : { ...choice, module: c.module };
  });
  return checkSet(canonicalOrder(items, registry), items.map(formatChoice).join(','));
}

/**
 * The set as feature requests for `runWorkload` / `buildKernel`.
 * @param set - a validated set
 */
export function featureRequests(set: FeatureSet): FeatureRequest[] {
  return set.items.map((c) => ({ feature: c.feature, options: c.options }));
}
