/**
 * What `--check` costs: host time of `mmlab run` for each built-in workload
 * and for a page-by-page user workload, without and with the checker, and
 * the ratio (the target is at most 3×). Rough figures: run it on a quiet
 * machine for precise ones.
 *
 *     npm run build && npx tsx scripts/check-overhead.ts [--quick | --defaults]
 *
 * `--quick` runs smaller parameters; `--defaults` runs every built-in
 * workload (as `mmlab list workloads` names them) with its default
 * parameters; `MMLAB_CLI` names another build of the CLI (a "before" figure). Each case runs the CLI as a child
 * process (so start-up counts on both sides); the best of `REPS` (default
 * 1, environment) runs is kept.
 * @module
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = process.env.MMLAB_CLI ?? join(ROOT, 'apps/cli/dist/main.js');
const quick = process.argv.includes('--quick');
const defaults = process.argv.includes('--defaults');
const REPS = Math.max(1, Number(process.env.REPS ?? '1'));

/** The built-in workloads' names, from `mmlab list workloads` (a name at the start of a line). */
function builtinWorkloads(): string[] {
  const res = spawnSync(process.execPath, [CLI, 'list', 'workloads'], { cwd: ROOT, encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`mmlab list workloads exited ${String(res.status)}: ${res.stderr}`);
  return res.stdout.split('\n').filter((l) => /^[a-z][a-z0-9-]*$/.test(l));
}

/** The cases: a workload spec and extra CLI options. */
const CASES: readonly (readonly string[])[] = defaults
  ? builtinWorkloads().map((w) => [w])
  : quick
  ? [
      ['anon-touch:size=64m'],
      ['fork-exit:procs=8:size=8m'],
      ['./packages/workloads/examples/touch-half.mjs:size=32m'],
    ]
  : [
      ['shm-procs:procs=32:size=64m'],
      ['anon-touch:size=256m'],
      ['fork-exit:procs=64:size=16m'],
      ['swap-pressure:size=256m', '--mem', '192m', '--swap', '256m'],
      ['dio:procs=4:size=32m'],
      ['hugetlb-shm:procs=8:size=512m'],
      ['threads-fault:threads=4:size=64m'],
      ['kbuild:objs=64'],
      // page by page: about 40,000 operations
      ['./packages/workloads/examples/touch-half.mjs:size=320m'],
    ];

/** Wall-clock seconds of one CLI run (best of REPS). */
function seconds(args: readonly string[]): number {
  let best = Infinity;
  for (let r = 0; r < REPS; r++) {
    const t0 = process.hrtime.bigint();
    const res = spawnSync(process.execPath, [CLI, 'run', '--workload', ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 26 });
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (res.status !== 0) throw new Error(`mmlab run ${args.join(' ')} exited ${String(res.status)}: ${res.stderr}`);
    best = Math.min(best, s);
  }
  return best;
}

const rows: string[][] = [['workload', 'unchecked s', '--check s', 'ratio']];
for (const c of CASES) {
  const plain = seconds(c);
  const checked = seconds([...c, '--check']);
  rows.push([c.join(' '), plain.toFixed(2), checked.toFixed(2), (checked / plain).toFixed(2)]);
  process.stderr.write(`${rows[rows.length - 1]!.join('  ')}\n`);
}
const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
for (const [n, r] of rows.entries()) {
  console.log(r.map((x, i) => (i === 0 ? x.padEnd(widths[i]!) : x.padStart(widths[i]!))).join('  '));
  if (n === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
}
