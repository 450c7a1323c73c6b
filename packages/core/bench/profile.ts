/**
 * Profile one primitive's model side: run its case `BENCH_REPS` times
 * (default 5) after a warm-up, for `node --cpu-prof`:
 *
 *     node --conditions=@mmlab/source --import tsx --cpu-prof --cpu-prof-dir=/tmp/prof \
 *       packages/core/bench/profile.ts shared_file_fault
 *
 * Prints the median ns per unit. The timed part runs inside a function
 * named `timedRun`, so a profile can be cut to it. Primitives as in `side-by-side.ts`.
 * @module
 */
import { type Case, measure } from './harness.js';
import { PRIMITIVE_CASES } from './scenarios.js';

const name = process.argv[2] ?? '';
const c = PRIMITIVE_CASES[name];
if (c === undefined) throw new Error(`profile: unknown primitive '${name}' (one of ${Object.keys(PRIMITIVE_CASES).join(', ')})`);
const reps = Number(process.env.BENCH_REPS ?? '5');
// the timed part under a name of its own, so a profile can be cut to it
const s = c(<C>(cs: Case<C>) =>
  measure(
    {
      setup: cs.setup,
      run: function timedRun(ctx: C) {
        cs.run(ctx);
      },
      units: cs.units,
    },
    { warmup: 1, reps },
  ),
);
console.log(`${name} ${s.median.toFixed(1)} ns/unit (min ${s.min.toFixed(1)}, max ${s.max.toFixed(1)})`);
