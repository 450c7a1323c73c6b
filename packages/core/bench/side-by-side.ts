/**
 * `npm run bench` (at the repository root): the model's host time per page
 * beside the real kernel's, measured here in one run, for six primitives
 * (`anon_fault`, `fork_pte`, `munmap_page`, `mprotect_page`,
 * `shared_file_fault`, `gup_fast_page`), and their ratio (model / native;
 * the target is ≤ 0.25, a ratio, never an absolute time).
 *
 * The native figures come from `bench/native/mmbench.c`, built with the
 * machine's `cc -O2` into `bench/native/build/` (median of `BENCH_REPS`
 * runs over `BENCH_PAGES` pages, default 7 × 65,536); without a compiler
 * the benchmark says so and prints the model's figures alone. The model's
 * are the median of `BENCH_REPS` runs over 256 MiB, checker off (see
 * `scenarios.ts`).
 *
 * `--json` prints one JSON object: per primitive `{ model_ns, native_ns,
 * ratio }` (native and ratio null without a compiler) and `machine`.
 * @module
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { cpus, release, totalmem, type } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Case, measure } from './harness.js';
import { PRIMITIVE_CASES } from './scenarios.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const SRC = join(ROOT, 'bench/native/mmbench.c');
const BIN = join(ROOT, 'bench/native/build/mmbench');

function envInt(name: string, dflt: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got '${raw}'`);
  return n;
}

const REPS = envInt('BENCH_REPS', 7);
const NATIVE_PAGES = envInt('BENCH_PAGES', 65536);
const json = process.argv.includes('--json');

/** The model's median ns per unit of case `c`. */
function model<C>(c: Case<C>): number {
  return measure(c, { warmup: 1, reps: REPS }).median;
}

/** The primitives, each with the model case that times it. */
const PRIMITIVES: readonly [string, () => number][] = Object.entries(PRIMITIVE_CASES).map(([name, p]) => [name, () => p(model)]);

/** Build the native benchmark; null (and why) when there is no compiler or it fails. */
function buildNative(): { bin: string | null; why: string } {
  const cc = process.env.CC ?? 'cc';
  const probe = spawnSync(cc, ['--version'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) return { bin: null, why: `no C compiler ('${cc}' not found): model figures only` };
  mkdirSync(dirname(BIN), { recursive: true });
  const r = spawnSync(cc, ['-O2', '-o', BIN, SRC], { encoding: 'utf8' });
  if (r.status !== 0 || !existsSync(BIN)) return { bin: null, why: `'${cc}' failed to build ${SRC}: ${r.stderr.trim()}; model figures only` };
  return { bin: BIN, why: `${cc}: ${probe.stdout.split('\n')[0]!.trim()}` };
}

/** ns per page of `primitive` on the real kernel (median of REPS). */
function native(bin: string, primitive: string): number {
  const out = execFileSync(bin, [primitive, String(NATIVE_PAGES), String(REPS)], { encoding: 'utf8' });
  const [name, ns] = out.trim().split(/\s+/);
  if (name !== primitive || ns === undefined || !Number.isFinite(Number(ns))) throw new Error(`mmbench ${primitive}: unexpected output '${out.trim()}'`);
  return Number(ns);
}

const built = buildNative();
if (!json || built.bin === null) process.stderr.write(`bench: ${built.why}\n`);
const results: Record<string, { model_ns: number; native_ns: number | null; ratio: number | null }> = {};
for (const [name, c] of PRIMITIVES) {
  process.stderr.write(`bench: ${name} …\n`);
  const m = c();
  const nat = built.bin === null ? null : native(built.bin, name);
  results[name] = { model_ns: round(m), native_ns: nat === null ? null : round(nat), ratio: nat === null ? null : round(m / nat, 3) };
}

function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

const cpu = cpus();
const machine = {
  cpu: cpu[0]?.model ?? 'unknown',
  cpus: cpu.length,
  memory_bytes: totalmem(),
  kernel: `${type()} ${release()}`,
  node: process.version,
  compiler: built.bin === null ? null : built.why,
  native_pages: NATIVE_PAGES,
  reps: REPS,
};

if (json) {
  console.log(JSON.stringify({ ...results, machine }, null, 2));
} else {
  console.log(`model host time vs the real kernel, per page (${machine.cpu}, ${machine.cpus} CPUs, ${machine.kernel}, node ${machine.node}; median of ${REPS})`);
  const rows = [['primitive', 'model ns', 'native ns', 'ratio', 'target'], ...Object.entries(results).map(([n, r]) => [n, r.model_ns.toFixed(1), r.native_ns === null ? '—' : r.native_ns.toFixed(1), r.ratio === null ? '—' : r.ratio.toFixed(3), r.ratio === null ? '' : r.ratio <= 0.25 ? 'ok (≤ 0.25)' : 'MISSED (≤ 0.25)'])];
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const [i, r] of rows.entries()) {
    console.log(r.map((x, j) => (j === 0 || j === 4 ? x.padEnd(w[j]!) : x.padStart(w[j]!))).join('  ').trimEnd());
    if (i === 0) console.log(w.map((n) => '-'.repeat(n)).join('  '));
  }
}
