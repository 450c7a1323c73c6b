/**
 * `npm run bench` (at the repository root): the model's host time per page
 * beside the real kernel's, measured here in one run, for six primitives
 * (`anon_fault`, `fork_pte`, `munmap_page`, `mprotect_page`,
 * `shared_file_fault`, `gup_fast_page`), and their ratio (model / native;
 * the target is ≤ 0.25, a ratio, never an absolute time).
 *
 * The native figures come from `bench/native/mmbench.c`, built with the
 * machine's `cc -O2` into `bench/native/build/` (median of `BENCH_REPS`
 * runs over `BENCH_PAGES` pages, default 7 × 65,536, after one untimed
 * run); without a compiler the benchmark says so and prints the model's
 * figures alone. The model's are the median of `BENCH_REPS` runs over 256
 * MiB, checker off (see `scenarios.ts`), after `BENCH_WARMUP` untimed runs
 * (default 16): the native warm-up run warms the real kernel's caches and
 * allocator; the model's also lets V8 finish optimizing: code that runs
 * once per PTE table or gather flush (128 times a run) is optimized only
 * from about the third to the twelfth run, on a compiler thread that
 * competes with the timed runs for the machine's cores. Window medians of
 * 40 runs per primitive (wall ns per unit, runs 4–10 / 8–14 / 16–22 /
 * 26–32, this machine): munmap 52 / 62 / 25 / 23, anon_fault 283 / 279 /
 * 243 / 256, fork 27 / 18 / 12 / 11, mprotect 5.3 / 5.8 / 4.6 / 4.4,
 * shared_file_fault 216 / 209 / 196 / 198, gup 15 / 16 / 11 / 11: flat
 * from about the sixteenth run on, so the timed runs come after that.
 *
 * `--json` prints one JSON object: per primitive `{ model_ns, native_ns,
 * ratio }` (native and ratio null without a compiler) and `machine`.
 * @module
 */
import { PRIMITIVE_NAMES } from '../src/kernel/primitives.js';
import { buildMmbench, hostDescription, runMmbench } from '../src/native/mmbench.js';
import { type Case, measure } from './harness.js';
import { PRIMITIVE_CASES } from './scenarios.js';

function envInt(name: string, dflt: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got '${raw}'`);
  return n;
}

const REPS = envInt('BENCH_REPS', 7);
const WARMUP = envInt('BENCH_WARMUP', 16);
const NATIVE_PAGES = envInt('BENCH_PAGES', 65536);
const json = process.argv.includes('--json');

/** The model's median ns per unit of case `c`. */
function model<C>(c: Case<C>): number {
  return measure(c, { warmup: WARMUP, reps: REPS }).median;
}


const built = buildMmbench();
if (!json || built.bin === null) process.stderr.write(`bench: ${built.why}${built.bin === null ? ': model figures only' : ''}\n`);
const results: Record<string, { model_ns: number; native_ns: number | null; ratio: number | null }> = {};
for (const name of PRIMITIVE_NAMES) {
  process.stderr.write(`bench: ${name} …\n`);
  const m = PRIMITIVE_CASES[name]!(model);
  const nat = built.bin === null ? null : runMmbench(built.bin, name, NATIVE_PAGES, REPS);
  results[name] = { model_ns: round(m), native_ns: nat === null ? null : round(nat), ratio: nat === null ? null : round(m / nat, 3) };
}

function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

const machine = {
  ...hostDescription(),
  compiler: built.bin === null ? null : built.why,
  native_pages: NATIVE_PAGES,
  reps: REPS,
  model_warmup: WARMUP,
};

if (json) {
  console.log(JSON.stringify({ ...results, machine }, null, 2));
} else {
  console.log(`model host time vs the real kernel, per page (${machine.cpu}, ${machine.cpus} CPUs, ${machine.kernel}, node ${machine.node}; median of ${REPS}, model after ${WARMUP} warm-up runs)`);
  const rows = [['primitive', 'model ns', 'native ns', 'ratio', 'target'], ...Object.entries(results).map(([n, r]) => [n, r.model_ns.toFixed(1), r.native_ns === null ? '—' : r.native_ns.toFixed(1), r.ratio === null ? '—' : r.ratio.toFixed(3), r.ratio === null ? '' : r.ratio <= 0.25 ? 'ok (≤ 0.25)' : 'MISSED (≤ 0.25)'])];
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const [i, r] of rows.entries()) {
    console.log(r.map((x, j) => (j === 0 || j === 4 ? x.padEnd(w[j]!) : x.padStart(w[j]!))).join('  ').trimEnd());
    if (i === 0) console.log(w.map((n) => '-'.repeat(n)).join('  '));
  }
}
