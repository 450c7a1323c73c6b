/**
 * Typed workload parameters: declarations, documentation and validation of
 * the raw `key=value` arguments of a specification.
 * @module
 */

import { PAGE_SIZE } from '@mmlab/core';
import { SpecError } from './errors.js';
import { formatSize, parseSize } from './size.js';
import { unknownNameMessage } from './suggest.js';

/** How a parameter's value is written and checked. */
export type ParamKind = 'int' | 'size';

/**
 * Declaration of one workload parameter. A `size` is written in binary
 * notation (`64k`, `256m`) and must be a positive multiple of the page size;
 * an `int` is a plain decimal integer.
 */
export interface ParamSpec {
  /** `int` for counts, `size` for byte sizes. */
  readonly kind: ParamKind;
  /** Value used when the specification does not give the key. */
  readonly default: number;
  /** Smallest accepted value (default 1). */
  readonly min?: number;
  /** Largest accepted value (default: no limit beyond safe integers). */
  readonly max?: number;
  /**
   * The value must be a multiple of this (a `size` is always a multiple of
   * the page size; a hugetlbfs segment declares 2 MiB).
   */
  readonly multipleOf?: number;
  /** One line describing the parameter, shown by `mmlab list workloads`. */
  readonly doc: string;
}

/** The parameter declarations of a workload, by key. */
export type ParamSpecs<K extends string = string> = Readonly<Record<K, ParamSpec>>;

/** Resolved parameter values of a workload, by key. */
export type ParamValues<K extends string = string> = Readonly<Record<K, number>>;

/**
 * Parses one raw value according to its declaration.
 * @param owner - the workload name, for error messages
 * @param key - the parameter key, for error messages
 * @param spec - the parameter's declaration
 * @param raw - the value as written
 * @throws {@link SpecError} when the value is malformed or out of range
 */
export function parseParam(owner: string, key: string, spec: ParamSpec, raw: string): number {
  const negative = /^-/.test(raw) ? (spec.kind === 'size' ? parseSize(raw.slice(1)) : parseInteger(raw.slice(1))) : undefined;
  if (negative !== undefined && negative > 0) {
    // A well-formed negative value: say what the range is, not what the notation is.
    const min = spec.min ?? 1;
    const what = min === 1 ? 'must be positive' : `must be at least ${spec.kind === 'size' ? formatSize(min) : String(min)}`;
    throw new SpecError(`${owner}: '${key}' ${what} (got ${raw})`);
  }
  const value = spec.kind === 'size' ? parseSize(raw) : parseInteger(raw);
  if (value === undefined) {
    const expected = spec.kind === 'size' ? 'a size such as 64k, 256m or 1g' : 'an integer';
    throw new SpecError(`${owner}: bad value '${raw}' for '${key}' (expected ${expected})`);
  }
  checkParam(owner, key, spec, value);
  return value;
}

/**
 * Checks a numeric value against its declaration (range; page multiple for
 * sizes; the declared `multipleOf`).
 * @param owner - the workload name, for error messages
 * @param key - the parameter key, for error messages
 * @param spec - the parameter's declaration
 * @param value - the value to check
 * @throws {@link SpecError} naming the workload, the key and the limit
 */
export function checkParam(owner: string, key: string, spec: ParamSpec, value: number): void {
  const show = (n: number): string => (spec.kind === 'size' ? formatSize(n) : String(n));
  const min = spec.min ?? 1;
  if (!Number.isSafeInteger(value)) {
    throw new SpecError(`${owner}: '${key}' must be an integer`);
  }
  if (value < min) {
    const what = value === 0 ? 'must not be zero' : `must be at least ${show(min)}`;
    throw new SpecError(`${owner}: '${key}' ${what} (got ${show(value)})`);
  }
  if (spec.max !== undefined && value > spec.max) {
    throw new SpecError(`${owner}: '${key}' is too large (got ${show(value)}, at most ${show(spec.max)})`);
  }
  if (spec.kind === 'size' && value % PAGE_SIZE !== 0) {
    throw new SpecError(`${owner}: '${key}' must be a multiple of the page size ${PAGE_SIZE} (got ${value})`);
  }
  if (spec.multipleOf !== undefined && value % spec.multipleOf !== 0) {
    throw new SpecError(`${owner}: '${key}' must be a multiple of ${show(spec.multipleOf)} (got ${show(value)})`);
  }
}

/**
 * Resolves the raw arguments of a specification against a workload's
 * declarations: every declared key gets its value or its default.
 * @param owner - the workload name, for error messages
 * @param specs - the workload's parameter declarations
 * @param args - the raw `key=value` pairs
 * @throws {@link SpecError} on an unknown key or a bad value
 */
export function resolveParams<K extends string>(
  owner: string,
  specs: ParamSpecs<K>,
  args: ReadonlyMap<string, string>
): ParamValues<K> {
  const keys = Object.keys(specs) as K[];
  for (const key of args.keys()) {
    if (!(keys as string[]).includes(key)) {
      throw new SpecError(`${owner}: ${unknownNameMessage('parameter', key, keys)}`);
    }
  }
  const out = {} as Record<K, number>;
  for (const key of keys) {
    const spec = specs[key];
    const raw = args.get(key);
    out[key] = raw === undefined ? spec.default : parseParam(owner, key, spec, raw);
  }
  return out;
}

/**
 * Renders a parameter value in its own notation (`256m` for sizes).
 * @param spec - the parameter's declaration
 * @param value - the value to render
 */
export function formatParamValue(spec: ParamSpec, value: number): string {
  return spec.kind === 'size' ? formatSize(value) : String(value);
}

function parseInteger(raw: string): number | undefined {
  if (!/^\d+$/.test(raw)) return undefined;
  const n = Number(raw);
  return Number.isSafeInteger(n) ? n : undefined;
}
