/**
 * A small argument parser: long options (`--name value`, `--name=value`),
 * boolean flags with optional `--no-` form, positionals, and `--` to end
 * options. Anything it does not know is a {@link UsageError}.
 * @module
 */

import { UsageError } from './errors.js';

/** Declaration of one long option. */
export interface OptionSpec {
  /** `flag` takes no value; `value` takes one. */
  readonly kind: 'flag' | 'value';
  /** For flags: also accept `--no-NAME` (sets false). */
  readonly negatable?: boolean;
  /** For values: may be given more than once (values are collected). */
  readonly multiple?: boolean;
  /** For values: the placeholder shown in messages (`SPEC`, `N`). */
  readonly placeholder?: string;
}

/** The result of parsing one command's arguments. */
export interface ParsedArgs {
  /** Flags given, by name (true, or false for `--no-NAME`). */
  readonly flags: ReadonlyMap<string, boolean>;
  /** Values given, by name, in order. */
  readonly values: ReadonlyMap<string, readonly string[]>;
  /** Arguments that are not options. */
  readonly positionals: readonly string[];
}

/**
 * Parses `args` against the declared options.
 * @param args - the arguments after the command word
 * @param specs - the options the command accepts, by name (without `--`)
 * @param usage - the command's usage line, carried by errors
 * @throws {@link UsageError} for an unknown option, a missing value, a value
 *   given to a flag, or a repeated single-valued option
 */
export function parseArgs(
  args: readonly string[],
  specs: Readonly<Record<string, OptionSpec>>,
  usage: string
): ParsedArgs {
  const flags = new Map<string, boolean>();
  const values = new Map<string, string[]>();
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    if (!arg.startsWith('--')) throw new UsageError(`unknown option '${arg}'`, usage);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const inline = eq < 0 ? undefined : arg.slice(eq + 1);
    const spec = specs[name];
    if (spec === undefined) {
      const base = name.startsWith('no-') ? name.slice(3) : '';
      const neg = specs[base];
      if (neg?.kind === 'flag' && neg.negatable === true && inline === undefined) {
        flags.set(base, false);
        continue;
      }
      throw new UsageError(`unknown option '--${name}'`, usage);
    }
    if (spec.kind === 'flag') {
      if (inline !== undefined) throw new UsageError(`option '--${name}' takes no value`, usage);
      flags.set(name, true);
      continue;
    }
    let value = inline;
    if (value === undefined) {
      const next = args[i + 1];
      if (next === undefined || next.startsWith('--')) {
        throw new UsageError(`option '--${name}' needs a value (${spec.placeholder ?? 'VALUE'})`, usage);
      }
      value = next;
      i++;
    }
    const list = values.get(name) ?? [];
    if (list.length > 0 && spec.multiple !== true) {
      throw new UsageError(`option '--${name}' given twice`, usage);
    }
    list.push(value);
    values.set(name, list);
  }
  return { flags, values, positionals };
}

/**
 * The single value of an option, or `undefined` when not given.
 * @param parsed - parsed arguments
 * @param name - option name
 */
export function optionValue(parsed: ParsedArgs, name: string): string | undefined {
  return parsed.values.get(name)?.[0];
}
