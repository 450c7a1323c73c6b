/**
 * Option values shared by `mmlab run` and `mmlab explore`.
 * @module
 */

import type { ExploreStrategyName } from '@mmlab/workloads';
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
 * Parses `--strategy random|pct`.
 * @param text - the value, or undefined when not given
 * @param usage - the command's usage line, for errors
 */
export function parseStrategy(text: string | undefined, usage: string): ExploreStrategyName | undefined {
  if (text === undefined || text === 'random' || text === 'pct') return text;
  throw new UsageError(`bad --strategy '${text}' (expected random or pct)`, usage);
}
