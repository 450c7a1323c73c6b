/**
 * The kernel settings `mmlab ab` and `mmlab matrix` share, and the
 * conversion of the lab's errors into the command line's.
 * @module
 */

import { PAGE_SIZE } from '@mmlab/core';
import { FeatureSetError, ResultsError, type RunSettings } from '@mmlab/lab';
import { RUN_MODES, parseSize, type RunMode } from '@mmlab/workloads';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { single } from '../program.js';
import { parseCpus, parseMachine, parseStrategy } from './options.js';

/** The settings options as given. */
export interface SettingsOptions {
  readonly machine?: string;
  readonly mode?: string;
  readonly cpus?: string;
  readonly strategy?: string;
  readonly preempt?: boolean;
  readonly placement?: string;
  readonly mem?: string;
  readonly swap?: string;
  readonly hugepages?: string;
  readonly check?: boolean;
}

/**
 * Adds the settings options to a command.
 * @param cmd - the command
 * @param usage - its usage line, for errors
 */
export function withSettingsOptions(cmd: Command, usage: string): Command {
  const value = (flag: string, placeholder: string): ((v: string, p: unknown) => string) => single(flag, placeholder, usage);
  return cmd
    .option('--machine <NAME|FILE>', 'machine profile (default x86-64) or a profile file (mmlab calibrate)', value('--machine', 'NAME|FILE'))
    .option('--mode <sequential|timed|explore>', 'how concurrent threads run (default sequential)', value('--mode', 'MODE'))
    .option('--cpus <N>', "CPU count (default: the machine's)", value('--cpus', 'N'))
    .option('--strategy <random|pct>', 'interleaving strategy of --mode explore', value('--strategy', 'random|pct'))
    .option('--preempt', 'CONFIG_PREEMPT on')
    .option('--no-preempt', 'CONFIG_PREEMPT off (the default)')
    .option('--placement <legacy|aligned>', 'mmap placement', value('--placement', 'legacy|aligned'))
    .option('--mem <SIZE>', "simulated RAM (default: the machine's)", value('--mem', 'SIZE'))
    .option('--swap <SIZE>', 'swap space (default: twice the RAM)', value('--swap', 'SIZE'))
    .option('--hugepages <N>', 'pool of 2 MiB huge pages', value('--hugepages', 'N'))
    .option('--check', 'run the invariant checker (a violation: exit 1)');
}

/**
 * Parses the settings options.
 * @param o - the options given
 * @param usage - the command's usage line, for errors
 * @param cwd - where a relative machine profile file starts (default the process's)
 * @throws {@link UsageError} naming the bad value
 */
export function parseSettings(o: SettingsOptions, usage: string, cwd: string = process.cwd()): RunSettings {
  const machine = parseMachine(o.machine, cwd, usage);
  let mode: RunMode | undefined;
  if (o.mode !== undefined) {
    mode = RUN_MODES.find((m) => m === o.mode);
    if (mode === undefined) throw new UsageError(`bad --mode '${o.mode}' (expected ${RUN_MODES.join(', ')})`, usage);
  }
  const strategy = parseStrategy(o.strategy, usage);
  if (strategy !== undefined && mode !== 'explore') throw new UsageError('--strategy applies to --mode explore only', usage);
  if (o.placement !== undefined && o.placement !== 'legacy' && o.placement !== 'aligned') {
    throw new UsageError(`bad placement '${o.placement}' (expected legacy or aligned)`, usage);
  }
  const placement = o.placement;
  const size = (flag: string, text: string | undefined): number | undefined => {
    if (text === undefined) return undefined;
    const bytes = parseSize(text);
    if (bytes === undefined) throw new UsageError(`bad ${flag} size '${text}' (expected a size such as 256m or 1g)`, usage);
    return bytes;
  };
  const memBytes = size('--mem', o.mem);
  const swapBytes = size('--swap', o.swap);
  if (swapBytes !== undefined && swapBytes % PAGE_SIZE !== 0) {
    throw new UsageError(`--swap must be a multiple of the page size ${PAGE_SIZE} (got ${o.swap ?? ''})`, usage);
  }
  let hugePages: number | undefined;
  if (o.hugepages !== undefined) {
    hugePages = /^\d+$/.test(o.hugepages) ? Number(o.hugepages) : NaN;
    if (!Number.isSafeInteger(hugePages)) throw new UsageError(`bad --hugepages '${o.hugepages}' (expected a whole number)`, usage);
  }
  const cpus = parseCpus(o.cpus, usage);
  return {
    machine,
    ...(mode === undefined ? {} : { mode }),
    ...(cpus === undefined ? {} : { cpus }),
    ...(strategy === undefined ? {} : { strategy }),
    ...(o.preempt === true ? { preempt: true } : {}),
    ...(placement === undefined ? {} : { placement }),
    ...(memBytes === undefined ? {} : { memBytes }),
    ...(swapBytes === undefined ? {} : { swapBytes }),
    ...(hugePages === undefined ? {} : { hugePages }),
    ...(o.check === true ? { check: true } : {}),
  };
}

/**
 * Parses a whole number option within bounds.
 * @param flag - the option (`--reps`)
 * @param text - its value, or undefined
 * @param min - smallest allowed
 * @param max - largest allowed
 * @param usage - the usage line, for errors
 */
export function parseCount(flag: string, text: string | undefined, min: number, max: number, usage: string): number | undefined {
  if (text === undefined) return undefined;
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(n >= min && n <= max)) throw new UsageError(`bad ${flag} '${text}' (expected an integer from ${min} to ${max})`, usage);
  return n;
}

/**
 * The lab's input errors as usage errors (exit code 2): a feature set the
 * notation refuses, a results file that cannot be used.
 * @param err - what was thrown
 * @param usage - the command's usage line
 */
export function labInputError(err: unknown, usage: string): unknown {
  if (err instanceof FeatureSetError || err instanceof ResultsError) return new UsageError(err.message, usage);
  return err;
}
