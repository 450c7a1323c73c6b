/**
 * A small timing harness: untimed set-up, warm-up runs, several timed
 * repetitions with `process.hrtime.bigint()`, and the median.
 * @module
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** One benchmark case: `setup` builds a fresh state, `run` is timed. */
export interface Case<C> {
  /** Build the state the timed part needs (not timed). */
  readonly setup: () => C;
  /** The timed part. */
  readonly run: (ctx: C) => void;
  /** Simulated operations done by `run` (read after timing, not timed). */
  readonly units: (ctx: C) => number;
}

/** Timing options. */
export interface MeasureOptions {
  /** Untimed runs first, so the JIT has compiled the paths. */
  warmup: number;
  /** Timed repetitions. */
  reps: number;
}

/** Result of {@link measure}: host nanoseconds per unit. */
export interface Stats {
  /** Median over the repetitions. */
  median: number;
  /** Fastest repetition. */
  min: number;
  /** Slowest repetition. */
  max: number;
  /** Repetitions timed. */
  reps: number;
  /** Units per repetition (of the last one). */
  units: number;
  /** Median total host time of one repetition, ms. */
  totalMs: number;
}

let gcFn: (() => void) | null | undefined;

/**
 * A full garbage collection between repetitions, so garbage from the last
 * set-up is not collected inside the next timed part. Uses `global.gc`
 * when node was started with `--expose-gc`, otherwise enables it at run
 * time; a no-op if neither works.
 */
export function collectGarbage(): void {
  if (gcFn === undefined) {
    gcFn = null;
    try {
      setFlagsFromString('--expose-gc');
      const f: unknown = runInNewContext('gc');
      if (typeof f === 'function') gcFn = f as () => void;
    } catch {
      // leave gcFn null: timings are just noisier
    }
  }
  gcFn?.();
}

/** The median of a non-empty list. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Run `c` `warmup` times untimed, then `reps` times timed; ns per unit. */
export function measure<C>(c: Case<C>, opts: MeasureOptions): Stats {
  for (let i = 0; i < opts.warmup; i++) {
    const ctx = c.setup();
    c.run(ctx);
    c.units(ctx);
  }
  const per: number[] = [];
  const totals: number[] = [];
  let units = 0;
  for (let i = 0; i < opts.reps; i++) {
    const ctx = c.setup();
    collectGarbage();
    const t0 = process.hrtime.bigint();
    c.run(ctx);
    const t1 = process.hrtime.bigint();
    units = c.units(ctx);
    if (!(units > 0)) throw new Error(`benchmark did no work (units = ${units})`);
    const ns = Number(t1 - t0);
    per.push(ns / units);
    totals.push(ns / 1e6);
  }
  return {
    median: median(per),
    min: Math.min(...per),
    max: Math.max(...per),
    reps: opts.reps,
    units,
    totalMs: median(totals),
  };
}
