/**
 * The statistics of a comparison, from well-kept libraries: descriptive
 * figures from `simple-statistics`, the paired Student's t-test and its
 * confidence interval from `@stdlib/stats-ttest` (two-sided, 95 % by
 * default). No formula is written here; this module only decides what to
 * ask and how to label the answer.
 * @module
 */

import ttest from '@stdlib/stats-ttest';
import { mean, sampleStandardDeviation } from 'simple-statistics';

/** Confidence level of every interval the lab reports unless told otherwise. */
export const DEFAULT_CONFIDENCE = 0.95;

/** The method named in every report. */
export const METHOD = "paired Student's t (two-sided), @stdlib/stats-ttest";

/** Mean and spread of one side's values over the seeds. */
export interface Summary {
  /** Arithmetic mean. */
  readonly mean: number;
  /** Sample standard deviation (0 for one value). */
  readonly sd: number;
  /** True when every seed gave the same value. */
  readonly exact: boolean;
}

/** A mean with its confidence interval, or an exact value. */
export interface Estimate {
  /** The mean (of differences, of an effect). */
  readonly mean: number;
  /**
   * The confidence interval `[low, high]`; equal to `[mean, mean]` when
   * exact; `null` when there are too few values (one seed) to give one.
   */
  readonly ci: readonly [number, number] | null;
  /** True when there were several values and every one was the same (no noise to estimate). */
  readonly exact: boolean;
  /**
   * True when the interval contains 0: the difference (effect) is within
   * the noise at this confidence. False for an exact non-zero value and
   * for a single value (nothing to judge the noise by).
   */
  readonly withinNoise: boolean;
  /** Two-sided p-value of the t-test, when one was made. */
  readonly p: number | null;
  /** Number of values. */
  readonly n: number;
}

/**
 * Summarises one side's values.
 * @param values - one value per seed (at least one)
 */
export function summarize(values: readonly number[]): Summary {
  const m = mean([...values]);
  const sd = values.length > 1 ? sampleStandardDeviation([...values]) : 0;
  return { mean: m, sd, exact: values.every((v) => v === values[0]) };
}

/**
 * The mean of a sample with its t confidence interval (one-sample t-test
 * against 0), or exact when every value is the same.
 * @param values - one value per seed, for example the paired differences
 * @param confidence - the interval's level (default 0.95)
 */
export function estimate(values: readonly number[], confidence = DEFAULT_CONFIDENCE): Estimate {
  const n = values.length;
  if (n === 0) throw new RangeError('estimate of no values');
  const first = values[0]!;
  // one value: no interval, and no claim that it does not vary
  if (n === 1) return { mean: first, ci: null, exact: false, withinNoise: false, p: null, n };
  if (values.every((v) => v === first)) {
    return { mean: first, ci: [first, first], exact: true, withinNoise: first === 0, p: null, n };
  }
  const r = ttest([...values], { alpha: 1 - confidence });
  const low = r.ci[0]!;
  const high = r.ci[1]!;
  return { mean: r.mean, ci: [low, high], exact: false, withinNoise: low <= 0 && high >= 0, p: r.pValue, n };
}

/**
 * The paired difference B − A over seeds: the paired t-test of B against A
 * (the one-sample test of the differences).
 * @param a - A's value per seed
 * @param b - B's value per seed, same seeds in the same order
 * @param confidence - the interval's level (default 0.95)
 */
export function pairedDifference(a: readonly number[], b: readonly number[], confidence = DEFAULT_CONFIDENCE): Estimate {
  if (a.length !== b.length) throw new RangeError(`paired samples differ in length (${a.length} and ${b.length})`);
  return estimate(
    b.map((v, i) => v - a[i]!),
    confidence
  );
}
