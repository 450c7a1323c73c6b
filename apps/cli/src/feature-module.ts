/**
 * User feature modules: a JavaScript file named in `--features` in place of
 * a registered feature (`./my-feature.mjs:key=value`), so that a proposal
 * can be prototyped from any folder, without a package and with nothing
 * installed.
 *
 * The contract. The module's `default` export, or when it has none its
 * named `feature` export, is a feature:
 * - a value made by `defineFeature` from `@mmlab/core` (when the module can
 *   resolve that package), or
 * - a plain object of the same shape, which needs no import at all:
 *   `{ name, install(kernel, options), summary?, thread?, options?,
 *   requires?, conflicts? }`. `name` (lower-case words joined by `-`) and
 *   `install` are required; `summary` defaults to `''`, `thread` to empty
 *   `subject`, `author` and `date`, `options` to none (each option is
 *   `{ type: 'boolean' | 'int' | 'enum', default, doc?, min?, max?, values? }`
 *   as in the core's `OptionSpec`; `doc` defaults to `''`).
 *
 * Either form goes through the core's `defineFeature`, which checks the
 * name and the option defaults. `install` runs while the kernel is built
 * and must be synchronous; what it throws is reported as a
 * {@link FeatureModuleError} naming the feature and the module. The
 * `key=value` pairs after the path are the feature's options, coerced and
 * checked by the core against the declared ones.
 * @module
 */

import { statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { KernelConfigError, defineFeature, type Feature, type FeatureDefinition, type OptionSpec } from '@mmlab/core';
import { describeImportError, withLocation } from '@mmlab/workloads';
import { FeatureModuleError, UsageError } from './errors.js';

/** The option specifications of a feature loaded from a module. */
type Options = Record<string, OptionSpec>;

/**
 * Imports a user feature module and returns its feature, validated by the
 * core's `defineFeature`.
 * @param path - the module path as given, relative to `cwd` unless absolute
 * @param cwd - the directory relative paths start from
 * @param usage - the usage line errors carry
 * @throws {@link UsageError} when the file does not exist, its import
 *   throws, it exports no feature, or what it exports is not a valid feature
 */
export async function loadFeatureModule(path: string, cwd: string, usage: string): Promise<Feature> {
  const fail = (why: string): UsageError => new UsageError(`feature module '${path}'${why}`, usage);
  const file = isAbsolute(path) ? path : resolve(cwd, path);
  const stat = statSync(file, { throwIfNoEntry: false });
  if (stat === undefined) throw fail(` not found (no file ${file})`);
  if (!stat.isFile()) throw fail(` is not a file (${file})`);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (err) {
    const hint = /Cannot find (package|module) '@mmlab\//.test(firstLine(err))
      ? ' (a feature module needs no import: export a plain object { name, install, ... })'
      : '';
    throw fail(` failed to load: ${describeImportError(err, file, path)}${hint}`);
  }
  let which = 'default';
  let value = mod.default;
  if (value === undefined) {
    which = "'feature'";
    value = mod.feature;
  }
  if (value === undefined) {
    const names = Object.keys(mod);
    throw fail(
      ` has no default export and no 'feature' export ` +
        `(${names.length === 0 ? 'it exports nothing' : `its exports: ${names.join(', ')}`})`
    );
  }
  const problem = (why: string): UsageError => fail(`: the ${which} export is not a feature: ${why}`);
  const def = toDefinition(value, { path, file }, problem);
  try {
    return defineFeature(def);
  } catch (err) {
    if (err instanceof KernelConfigError) throw fail(`: ${err.message}`);
    throw err;
  }
}

/**
 * Checks the shape of an exported value and fills in the optional fields;
 * the checks the core makes itself (name pattern, option defaults) are left
 * to `defineFeature`.
 */
function toDefinition(
  value: unknown,
  where: { readonly path: string; readonly file: string },
  problem: (why: string) => UsageError
): FeatureDefinition<Options> {
  const { path, file } = where;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw problem(`expected an object { name, install, ... } or a defineFeature value, got ${describe(value)}`);
  }
  const v = value as Record<string, unknown>;
  if (typeof v.install !== 'function') {
    throw problem(
      v.install === undefined
        ? `it has no 'install' function (got ${describe(value)})`
        : `'install' must be a function, got ${describe(v.install)}`
    );
  }
  if (typeof v.name !== 'string') throw problem(`'name' must be a string, got ${describe(v.name)}`);
  if (v.summary !== undefined && typeof v.summary !== 'string') {
    throw problem(`'summary' must be a string, got ${describe(v.summary)}`);
  }
  const name = v.name;
  const install = v.install as (this: unknown, ...args: unknown[]) => unknown;
  return {
    ...v,
    name,
    summary: v.summary ?? '',
    thread: toThread(v.thread, problem),
    options: toOptions(v.options, problem),
    ...(v.requires === undefined ? {} : { requires: toNames('requires', v.requires, problem) }),
    ...(v.conflicts === undefined ? {} : { conflicts: toNames('conflicts', v.conflicts, problem) }),
    install(kernel, options) {
      let result: unknown;
      try {
        result = install.call(value, kernel, options);
      } catch (err) {
        const why = withLocation(firstLine(err), err, file, path);
        throw new FeatureModuleError(`feature '${name}' (${path}): install failed: ${why}`, err);
      }
      if (isThenable(result)) {
        throw new FeatureModuleError(
          `feature '${name}' (${path}): install returned a promise; it must override the seams synchronously`
        );
      }
    },
  };
}

function toThread(value: unknown, problem: (why: string) => UsageError): FeatureDefinition<Options>['thread'] {
  if (value === undefined) return { subject: '', author: '', date: '' };
  if (typeof value !== 'object' || value === null) {
    throw problem(`'thread' must be an object { subject, author, date }, got ${describe(value)}`);
  }
  const t = value as Record<string, unknown>;
  const field = (key: string): string => {
    const f = t[key];
    if (f === undefined) return '';
    if (typeof f !== 'string') throw problem(`'thread.${key}' must be a string, got ${describe(f)}`);
    return f;
  };
  return { subject: field('subject'), author: field('author'), date: field('date') };
}

function toOptions(value: unknown, problem: (why: string) => UsageError): Options {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw problem(`'options' must be an object of option specifications, got ${describe(value)}`);
  }
  const out: Options = {};
  for (const [key, spec] of Object.entries(value)) {
    out[key] = toOptionSpec(key, spec, problem);
  }
  return out;
}

function toOptionSpec(key: string, value: unknown, problem: (why: string) => UsageError): OptionSpec {
  const bad = (why: string): UsageError => problem(`option '${key}': ${why}`);
  if (typeof value !== 'object' || value === null) {
    throw bad(`expected { type, default, doc? }, got ${describe(value)}`);
  }
  const s = value as Record<string, unknown>;
  if (s.doc !== undefined && typeof s.doc !== 'string') throw bad(`'doc' must be a string, got ${describe(s.doc)}`);
  const doc = s.doc ?? '';
  switch (s.type) {
    case 'boolean':
      return { ...s, type: 'boolean', default: s.default as boolean, doc };
    case 'int': {
      for (const bound of ['min', 'max'] as const) {
        const b = s[bound];
        if (b !== undefined && typeof b !== 'number') throw bad(`'${bound}' must be a number, got ${describe(b)}`);
      }
      return { ...s, type: 'int', default: s.default as number, doc };
    }
    case 'enum': {
      const values = s.values;
      if (!Array.isArray(values) || !values.every((x) => typeof x === 'string')) {
        throw bad(`'values' must be an array of strings, got ${describe(values)}`);
      }
      return { ...s, type: 'enum', default: s.default as string, values, doc };
    }
    default:
      throw bad(`'type' must be 'boolean', 'int' or 'enum', got ${describe(s.type)}`);
  }
}

function toNames(key: string, value: unknown, problem: (why: string) => UsageError): string[] {
  if (!Array.isArray(value) || !value.every((x) => typeof x === 'string')) {
    throw problem(`'${key}' must be an array of feature names, got ${describe(value)}`);
  }
  return value;
}

function isThenable(value: unknown): boolean {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** The first line of what was thrown. */
function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n', 1)[0] ?? '';
}

/** What a value is, in a few words, for error messages. */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  switch (typeof value) {
    case 'function':
      return value.name === '' ? 'a function' : `a function '${value.name}'`;
    case 'object': {
      const keys = Object.keys(value);
      return keys.length === 0 ? 'an empty object' : `an object with keys ${keys.join(', ')}`;
    }
    case 'string': {
      const text = value.length > 40 ? `${value.slice(0, 40)}...` : value;
      return `the string ${JSON.stringify(text)}`;
    }
    case 'number':
    case 'boolean':
    case 'bigint':
      return `the ${typeof value} ${String(value)}`;
    default:
      return `a ${typeof value}`;
  }
}
