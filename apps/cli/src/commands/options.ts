/**
 * Option values shared by `mmlab run` and `mmlab explore`.
 * @module
 */

import { resolve } from 'node:path';
import { getMachine, listMachines } from '@mmlab/core';
import { isMachineFile, loadMachineProfile, unknownNameMessage, type ExploreStrategyName } from '@mmlab/workloads';
import { UsageError } from '../errors.js';

/** Most CPUs the core models. */
const MAX_CPUS = 256;

/**
 * Parses `--seed N`: an integer from 0 to 2^32-1.
 * @param text - the value, or undefined when not given
 * @param usage - the command's usage line, for errors
 */
export function parseSeed(text: string | undefined, usage: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 0xffffffff) {
    throw new UsageError(`bad seed '${text}' (expected an integer from 0 to 4294967295)`, usage);
  }
  return n;
}

/**
 * Parses `--cpus N`: an integer from 1 to 256.
 * @param text - the value, or undefined when not given
 * @param usage - the command's usage line, for errors
 */
export function parseCpus(text: string | undefined, usage: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > MAX_CPUS) {
    throw new UsageError(`bad --cpus '${text}' (expected an integer from 1 to ${MAX_CPUS})`, usage);
  }
  return n;
}

/**
 * Parses `--machine NAME|FILE`: a built-in profile's name, or a machine
 * profile file (`mmlab calibrate` writes one; a value starting with `.` or
 * `/` or ending in `.json`), which is read and checked now.
 * @param text - the value, or undefined when not given (then `x86-64`)
 * @param cwd - where a relative file path starts
 * @param usage - the command's usage line, for errors
 * @returns the name, or the file's absolute path
 * @throws {@link UsageError} for an unknown name; `KernelConfigError` (a usage error too) naming the file and what is wrong with it
 */
export function parseMachine(text: string | undefined, cwd: string, usage: string): string {
  const machine = text ?? 'x86-64';
  if (isMachineFile(machine)) {
    loadMachineProfile(machine, cwd);
    return resolve(cwd, machine);
  }
  if (getMachine(machine) === undefined) {
    throw new UsageError(`${unknownNameMessage('machine', machine, listMachines())}; or give a machine profile file (./FILE.json, from mmlab calibrate)`, usage);
  }
  return machine;
}

/**
 * Parses `--strategy random|pct`.
 * @param text - the value, or undefined when not given
 * @param usage - the command's usage line, for errors
 */
export function parseStrategy(text: string | undefined, usage: string): ExploreStrategyName | undefined {
  if (text === undefined || text === 'random' || text === 'pct') return text;
  throw new UsageError(`bad --strategy '${text}' (expected random or pct)`, usage);
}
