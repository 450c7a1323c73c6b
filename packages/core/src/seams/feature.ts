/**
 * The Feature contract: a proposal is a value (`defineFeature`) with a
 * name, the thread it comes from, typed options with defaults and
 * validation, `requires` and `conflicts`, and an `install` that overrides
 * seams. `resolveFeatures` validates a requested set (unknown name, bad
 * option, missing requirement, conflict) with errors that name the
 * problem, as fastify checks plugin dependencies.
 * @module
 */
import type { MachineConfig } from '../kernel/config.js';
import type { Kernel } from '../kernel/kernel.js';

/** Error for a kernel configuration the model refuses (bad feature set, machine, size). */
export class KernelConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KernelConfigError';
  }
}

/** A feature option's specification. */
export type OptionSpec = BooleanOption | IntOption | EnumOption;

/** A true/false option. */
export interface BooleanOption {
  /** Discriminant. */
  readonly type: 'boolean';
  /** Default value. */
  readonly default: boolean;
  /** What it does. */
  readonly doc: string;
}

/** An integer option with optional bounds. */
export interface IntOption {
  /** Discriminant. */
  readonly type: 'int';
  /** Default value. */
  readonly default: number;
  /** Smallest allowed value. */
  readonly min?: number;
  /** Largest allowed value. */
  readonly max?: number;
  /** What it does. */
  readonly doc: string;
}

/** An option taking one of several words. */
export interface EnumOption {
  /** Discriminant. */
  readonly type: 'enum';
  /** Default value. */
  readonly default: string;
  /** Allowed values. */
  readonly values: readonly string[];
  /** What it does. */
  readonly doc: string;
}

/** The option values of a spec map. */
export type OptionValues<O extends Record<string, OptionSpec>> = {
  [K in keyof O]: O[K] extends BooleanOption ? boolean : O[K] extends IntOption ? number : string;
};

/** The mailing-list thread a feature models. */
export interface ThreadRef {
  /** Subject line. */
  readonly subject: string;
  /** Author of the series. */
  readonly author: string;
  /** Year-month. */
  readonly date: string;
}

/** What `defineFeature` takes. */
export interface FeatureDefinition<O extends Record<string, OptionSpec>> {
  /** Unique name (`shared-pagetables`). */
  readonly name: string;
  /** One line. */
  readonly summary: string;
  /** The thread. */
  readonly thread: ThreadRef;
  /** Options with defaults. */
  readonly options: O;
  /** Features that must be in the same set. */
  readonly requires?: readonly string[];
  /** Features that must not be in the same set. */
  readonly conflicts?: readonly string[];
  /**
   * Before the kernel is made: change the machine it is built for (memory
   * sizes, an XIP image without a memmap, costs). Runs for every feature,
   * in the set's order, before any `install`.
   */
  configure?(machine: MachineConfig, options: OptionValues<O>): void;
  /**
   * Install into a kernel being built: wrap or replace seams
   * (`kernel.seamTable.wrap` / `.replace`), declare counters, gauges,
   * checks, slots, file types and costs.
   */
  install(kernel: Kernel, options: OptionValues<O>): void;
}

/** A feature value. */
export interface Feature<O extends Record<string, OptionSpec> = Record<string, OptionSpec>> extends FeatureDefinition<O> {
  /** Brand: made by `defineFeature`. */
  readonly kind: 'mmlab-feature';
}

/**
 * Define a feature. The definition is validated and frozen.
 *
 * @example
 * A feature that counts the kernel's TLB flushes by wrapping the
 * `flushTlb` seam (the feature of `docs/writing-a-feature.md`, cut down):
 * ```ts
 * import assert from 'node:assert/strict';
 * import { buildKernel, defineFeature, MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '@mmlab/core';
 *
 * const countFlushes = defineFeature({
 *   name: 'count-flushes',
 *   summary: 'counts TLB flushes',
 *   thread: { subject: 'an example', author: 'mmlab', date: '2008-01' },
 *   options: {},
 *   install(kernel) {
 *     const c = kernel.defineCounters('count-flushes', { flushes: 'TLB flushes through the flushTlb seam' });
 *     kernel.seamTable.wrap('count-flushes', 'flushTlb', (prev) => (k, kind, mm, start, end, reason) => {
 *       c.flushes++;
 *       return prev(k, kind, mm, start, end, reason);
 *     });
 *   },
 * });
 * const k = buildKernel({ memBytes: 64 * 2 ** 20, features: [countFlushes] });
 * const task = k.spawn();
 * const addr = k.mmap(task, 0, 2 ** 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
 * k.touch(task, addr, 2 ** 20, true);
 * k.munmap(task, addr, 2 ** 20);
 * assert.ok((k.metrics().feature?.['count-flushes']?.flushes ?? 0) > 0);
 * ```
 */
export function defineFeature<O extends Record<string, OptionSpec>>(def: FeatureDefinition<O>): Feature<O> {
  if (!/^[a-z][a-z0-9-]*$/.test(def.name)) throw new KernelConfigError(`feature name '${def.name}' must be lower-case words joined by '-'`);
  for (const [key, spec] of Object.entries(def.options)) {
    const err = checkOption(def.name, key, spec, spec.default);
    if (err !== null) throw new KernelConfigError(`feature '${def.name}': default of option '${key}' is invalid: ${err}`);
  }
  return Object.freeze({ ...def, kind: 'mmlab-feature' as const });
}

/** A requested feature: the value, or the value with options, or a name to look up. */
export type FeatureRequest = Feature | FeatureWithOptions | FeatureByName;

/** A feature value with options. */
export interface FeatureWithOptions {
  /** The feature. */
  readonly feature: Feature;
  /** Option values (strings are coerced, as from the command line). */
  readonly options?: Readonly<Record<string, unknown>>;
}

/** A feature named, to be looked up in the registry given to `buildKernel`. */
export interface FeatureByName {
  /** The feature's name. */
  readonly name: string;
  /** Option values (strings are coerced, as from the command line). */
  readonly options?: Readonly<Record<string, unknown>>;
}

/** A validated feature with its resolved options. */
export interface ResolvedFeature {
  /** The feature. */
  readonly feature: Feature;
  /** Options with defaults filled in. */
  readonly options: Readonly<Record<string, boolean | number | string>>;
}

function checkOption(feature: string, key: string, spec: OptionSpec, value: unknown): string | null {
  switch (spec.type) {
    case 'boolean':
      return typeof value === 'boolean' ? null : `expected true or false, got ${JSON.stringify(value)}`;
    case 'int':
      if (typeof value !== 'number' || !Number.isInteger(value)) return `expected an integer, got ${JSON.stringify(value)}`;
      if (spec.min !== undefined && value < spec.min) return `${value} is below the minimum ${spec.min}`;
      if (spec.max !== undefined && value > spec.max) return `${value} is above the maximum ${spec.max}`;
      return null;
    case 'enum':
      return typeof value === 'string' && spec.values.includes(value)
        ? null
        : `expected one of ${spec.values.join(', ')}, got ${JSON.stringify(value)} (feature '${feature}')`;
  }
}

/** Coerce a string option (from the command line) to the spec's type. */
function coerce(spec: OptionSpec, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  if (spec.type === 'boolean') return value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value;
  if (spec.type === 'int') return /^-?\d+$/.test(value) ? Number(value) : value;
  return value;
}

/**
 * Validate a feature set: resolve names against `registry`, fill in option
 * defaults, check option values, duplicates, requirements and conflicts.
 * Throws {@link KernelConfigError} naming the problem.
 */
export function resolveFeatures(requests: readonly FeatureRequest[], registry: readonly Feature[] = []): ResolvedFeature[] {
  const out: ResolvedFeature[] = [];
  for (const req of requests) {
    let feature: Feature;
    let given: Readonly<Record<string, unknown>> = {};
    if ('kind' in req) {
      feature = req;
    } else if ('feature' in req) {
      feature = req.feature;
      given = req.options ?? {};
    } else {
      const found = registry.find((f) => f.name === req.name);
      if (found === undefined) {
        const known = registry.map((f) => f.name).join(', ');
        throw new KernelConfigError(`unknown feature '${req.name}' (known: ${known === '' ? 'none' : known})`);
      }
      feature = found;
      given = req.options ?? {};
    }
    if (out.some((r) => r.feature.name === feature.name)) throw new KernelConfigError(`feature '${feature.name}' given twice`);
    const options: Record<string, boolean | number | string> = {};
    for (const key of Object.keys(given)) {
      if (!(key in feature.options)) {
        const known = Object.keys(feature.options).join(', ');
        throw new KernelConfigError(`feature '${feature.name}' has no option '${key}' (options: ${known === '' ? 'none' : known})`);
      }
    }
    for (const [key, spec] of Object.entries(feature.options)) {
      const v = key in given ? coerce(spec, given[key]) : spec.default;
      const err = checkOption(feature.name, key, spec, v);
      if (err !== null) throw new KernelConfigError(`feature '${feature.name}': bad value for option '${key}': ${err}`);
      options[key] = v as boolean | number | string;
    }
    out.push({ feature, options });
  }
  const names = new Set(out.map((r) => r.feature.name));
  for (const r of out) {
    for (const need of r.feature.requires ?? []) {
      if (!names.has(need)) throw new KernelConfigError(`feature '${r.feature.name}' requires '${need}', which is not in the set`);
    }
    for (const bad of r.feature.conflicts ?? []) {
      if (names.has(bad)) throw new KernelConfigError(`features '${r.feature.name}' and '${bad}' conflict`);
    }
  }
  return out;
}
