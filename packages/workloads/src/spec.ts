/**
 * The one notation for workloads and features: `name:key=value:key=value`.
 * This module splits a specification into its name and raw `key=value`
 * pairs; the `params` module gives the values their types.
 * @module
 */

import { SpecError } from './errors.js';

/** A specification split into its parts, values still as written. */
export interface ParsedSpec {
  /** The workload or feature name (or a module path for user workloads). */
  readonly name: string;
  /** The `key=value` pairs in the order written; keys are unique. */
  readonly args: ReadonlyMap<string, string>;
}

const KEY_RE = /^[A-Za-z][A-Za-z0-9_-]*$/;

/**
 * Splits `name:key=value:key=value` into a name and its arguments.
 * @param text - the specification as given by the user
 * @param what - what the specification names, for error messages
 *   (`'workload'`, `'feature'`)
 * @throws {@link SpecError} on an empty name, an empty or duplicate key, or
 *   an argument without `=`
 */
export function parseSpec(text: string, what = 'workload'): ParsedSpec {
  const parts = text.split(':');
  const name = (parts[0] ?? '').trim();
  if (name === '') throw new SpecError(`empty ${what} name in '${text}'`);
  const args = new Map<string, string>();
  for (const part of parts.slice(1)) {
    const eq = part.indexOf('=');
    if (eq < 0) {
      throw new SpecError(`${what} '${name}': expected key=value, got '${part}'`);
    }
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (!KEY_RE.test(key)) throw new SpecError(`${what} '${name}': bad key '${key}'`);
    if (value === '') throw new SpecError(`${what} '${name}': empty value for '${key}'`);
    if (args.has(key)) throw new SpecError(`${what} '${name}': '${key}' given twice`);
    args.set(key, value);
  }
  return { name, args };
}
