/**
 * Golden reports: the baseline kernel's `mmlab run --json` reports for every
 * built-in workload (seeds 1, 2, 3 × sequential, timed, explore × every
 * machine profile, plus `--preempt` and a few other variants), stored in
 * `test/golden/<workload>.json` and compared with what the CLI prints today.
 *
 * The rule: every leaf (number, string, boolean, null) of a golden entry
 * must be found at the same path with the identical value; arrays keep their
 * length; keys a report did not have when the golden was written may appear.
 * A change to the core (new seams, refactors) must keep these reports.
 *
 * The runs are in-process (`main` with a captured Io, exactly what
 * `mmlab run ... --json` prints) with small parameters, so the whole file
 * runs in well under a minute.
 *
 * Regenerating, only on purpose (when a baseline behaviour is deliberately
 * corrected, and the commit says so):
 *
 *     MMLAB_UPDATE_GOLDEN=1 npx vitest run apps/cli/test/golden.test.ts
 *
 * Without MMLAB_UPDATE_GOLDEN=1 this test never writes a file.
 */

import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listMachines } from '@mmlab/core';
import { listWorkloads } from '@mmlab/workloads';
import { afterAll, describe, expect, it } from 'vitest';
import { mmlab } from './helpers.js';

/** A JSON value as `JSON.parse` returns it. */
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A JSON object. */
type JsonObject = Record<string, Json>;

const GOLDEN_DIR = join(dirname(fileURLToPath(import.meta.url)), 'golden');
const UPDATE = process.env.MMLAB_UPDATE_GOLDEN === '1';
const REGENERATE = 'MMLAB_UPDATE_GOLDEN=1 npx vitest run apps/cli/test/golden.test.ts';

/** At most this many differences are listed in one failure. */
const MAX_DIFFERENCES = 20;

const SEEDS = [1, 2, 3] as const;
const MODES = ['sequential', 'timed', 'explore'] as const;
type Mode = (typeof MODES)[number];
const MACHINES = ['x86-64', 'x86-64-today', 'ppc64', 's390'] as const;

/** One CLI invocation of the matrix, under its key in the golden file. */
interface Case {
  /** `seed/mode/machine[/variant...]`. */
  readonly key: string;
  /** The arguments after `mmlab`. */
  readonly args: readonly string[];
}

/**
 * How one workload is run. The machine profiles have 4 GiB of RAM, and the
 * checker (`--check`) walks every frame at each operation boundary (in
 * explore mode at every quiescent point, about once per page touched), so
 * the matrix runs on 16m, the least the core accepts; the `default-mem`
 * variant keeps the profiles' own memory (without `--check`).
 *
 * Every case is kept as the CLI ends it: exit code, report, and the first
 * line of standard error. No case of the seed × mode × machine matrix is
 * refused by the CLI today; the hugetlb-shm `refused` variant keeps one
 * refusal message. A case whose checker finds violations today keeps them
 * (exit code 1, `report.invariants.violations`): the goldens record the
 * baseline as it is, not as it should be.
 */
interface Plan {
  /** The workload's name. */
  readonly name: string;
  /** Spec for the sequential and timed modes. */
  readonly spec: string;
  /** Spec for explore mode (a quiescent-point check per page touched makes it costlier). */
  readonly exploreSpec: string;
  /** `--mem` of the matrix. */
  readonly mem: string;
  /** Further options of the matrix (not of the `default-mem` variant). */
  readonly more?: readonly string[];
  /** Why explore mode runs without `--check`, when it does. */
  readonly exploreUnchecked?: string;
  /** Further cases of this workload (keys already made). */
  readonly extra?: readonly Case[];
}

/** The options of one `mmlab run` of the matrix. */
interface RunOpts {
  readonly seed: number;
  readonly mode: Mode;
  readonly machine: string;
  /** `--mem`; absent: the machine profile's (or what the workload requires). */
  readonly mem?: string;
  readonly check: boolean;
  readonly preempt?: boolean;
  /** Further options, as given on the command line. */
  readonly more?: readonly string[];
}

/** The arguments of `mmlab run ... --json` for `spec` with `opts`. */
function runArgs(spec: string, opts: RunOpts): string[] {
  return [
    'run',
    '--workload',
    spec,
    '--json',
    '--seed',
    String(opts.seed),
    '--mode',
    opts.mode,
    '--machine',
    opts.machine,
    ...(opts.mem === undefined ? [] : ['--mem', opts.mem]),
    ...(opts.check ? ['--check'] : []),
    ...(opts.preempt === true ? ['--preempt'] : []),
    ...(opts.more ?? []),
  ];
}

/** Every machine profile at seed 1 in sequential mode, with `args(machine)`. */
function perMachine(variant: string, args: (machine: string) => string[]): Case[] {
  return MACHINES.map((machine) => ({ key: `1/sequential/${machine}/${variant}`, args: args(machine) }));
}

const PLANS: readonly Plan[] = [
  {
    name: 'shm-procs',
    spec: 'shm-procs:procs=4:size=8m',
    exploreSpec: 'shm-procs:procs=3:size=256k',
    mem: '16m',
  },
  {
    name: 'anon-touch',
    spec: 'anon-touch:size=8m',
    exploreSpec: 'anon-touch:size=1m',
    mem: '16m',
  },
  {
    name: 'fork-exit',
    spec: 'fork-exit:procs=3:size=2m',
    exploreSpec: 'fork-exit:procs=2:size=256k',
    mem: '16m',
  },
  {
    name: 'swap-pressure',
    // 18m of anonymous memory on 16m of RAM (the least the core accepts): it swaps out and back in.
    // 8m of swap rather than the default 32m: the checker walks every swap slot too.
    spec: 'swap-pressure:size=18m',
    exploreSpec: 'swap-pressure:size=18m',
    mem: '16m',
    more: ['--swap', '8m'],
    exploreUnchecked:
      'swapping needs SIZE > RAM >= 16m, i.e. >= 4096 pages touched twice; explore mode checks at every ' +
      'quiescent point (once per page touched), some 9,000 full checks and 5-10 s per run',
    // RAM and swap (16m + 4m) too small for 24m: the OOM killer stops the run.
    extra: perMachine('oom', (machine) =>
      runArgs('swap-pressure:size=24m', {
        seed: 1,
        mode: 'sequential',
        machine,
        mem: '16m',
        check: true,
        more: ['--swap', '4m'],
      })
    ),
  },
  {
    name: 'dio',
    spec: 'dio:procs=2:size=2m:passes=2',
    exploreSpec: 'dio:procs=2:size=512k:passes=2',
    mem: '16m',
  },
  {
    name: 'hugetlb-shm',
    // The workload sizes its pool (2 huge pages); 4m covers no whole GiB, so no PMD is shared here.
    spec: 'hugetlb-shm:procs=3:size=4m',
    exploreSpec: 'hugetlb-shm:procs=2:size=2m',
    mem: '16m',
    exploreUnchecked:
      'a huge page is touched in 512 user-mode steps, each a quiescent checkpoint: some 1,500 full checks ' +
      'per run of two processes; the check variant below runs one process with the checker',
    extra: [
      // A pool too small (1 huge page for a 4m segment): ENOMEM from the first mmap is the run's result.
      ...perMachine('hugepages=1', (machine) =>
        runArgs('hugetlb-shm:procs=3:size=4m', {
          seed: 1,
          mode: 'sequential',
          machine,
          mem: '16m',
          check: true,
          more: ['--hugepages', '1'],
        })
      ),
      // A 1 GiB segment on the profile's memory: the second process shares the PMD table.
      ...perMachine('pmd-share', (machine) =>
        runArgs('hugetlb-shm:procs=2:size=1g', { seed: 1, mode: 'sequential', machine, check: false })
      ),
      // Refused today (exit 2): the pool the workload needs does not fit in 16m; the message must stay.
      ...perMachine('refused', (machine) =>
        runArgs('hugetlb-shm:procs=2:size=64m', { seed: 1, mode: 'sequential', machine, mem: '16m', check: true })
      ),
      // Explore mode with the checker, one process (see exploreUnchecked).
      {
        key: '1/explore/x86-64/check',
        args: runArgs('hugetlb-shm:procs=1:size=2m', { seed: 1, mode: 'explore', machine: 'x86-64', mem: '16m', check: true }),
      },
    ],
  },
  {
    name: 'kbuild',
    spec: 'kbuild:jobs=2:objs=4:bin=256k:lib=128k:heap=128k',
    // explore mode checks once per page touched: fewer, smaller jobs
    exploreSpec: 'kbuild:jobs=2:objs=2:bin=32k:lib=16k:heap=16k',
    mem: '16m',
  },
  {
    name: 'oltp-sga',
    spec: 'oltp-sga:procs=3:sga=4m:window=16k',
    // explore mode checks once per page touched: a smaller segment and window
    exploreSpec: 'oltp-sga:procs=2:sga=2m:window=8k',
    mem: '16m',
  },
  {
    name: 'oltp-dio',
    spec: 'oltp-dio:procs=2:cpus=4:txns=8:pool=256k:work=2000',
    exploreSpec: 'oltp-dio:procs=1:cpus=2:txns=2:pool=256k:work=2000',
    mem: '16m',
  },
  {
    name: 'xip-guests',
    // the baseline's XIP image has a memmap: one 128 MiB section of struct pages per guest
    spec: 'xip-guests:guests=2:image=1m:procs=2',
    exploreSpec: 'xip-guests:guests=2:image=128k:procs=1',
    mem: '16m',
  },
  {
    name: 'kvm-guest',
    // 8m of pinned guest and 12m of host memory on 16m of RAM: the host's pages go to swap, the guest's cannot
    // (pinned pages still go to swap once, so the swap must hold the guest as well)
    spec: 'kvm-guest:guest=8m:host=12m',
    exploreSpec: 'kvm-guest:guest=512k:host=512k',
    mem: '16m',
    more: ['--swap', '24m'],
  },
  {
    name: 'gru',
    // no COW: without notifiers a pinned GRU entry survives do_wp_page's copy (see the workload's tests)
    spec: 'gru:procs=2:size=1m:unmaps=4',
    exploreSpec: 'gru:procs=1:size=256k:unmaps=2',
    mem: '16m',
  },
  {
    name: 'threads-fault',
    spec: 'threads-fault:threads=4:size=2m',
    // explore mode checks once per page touched: half the pages
    exploreSpec: 'threads-fault:threads=4:size=1m',
    mem: '16m',
    // Four threads on two CPUs: tasks sharing a CPU are switched (timed and explore modes).
    extra: SEEDS.flatMap((seed) =>
      (['timed', 'explore'] as const).flatMap((mode) =>
        MACHINES.map((machine) => ({
          key: `${seed}/${mode}/${machine}/cpus=2`,
          args: runArgs(mode === 'explore' ? 'threads-fault:threads=4:size=1m' : 'threads-fault:threads=4:size=2m', {
            seed,
            mode,
            machine,
            mem: '16m',
            check: true,
            more: ['--cpus', '2'],
          }),
        }))
      )
    ),
  },
];

/** Every case of a workload, in the order of its golden file. */
function casesOf(plan: Plan): Case[] {
  const cases: Case[] = [];
  const one = (seed: number, mode: Mode, machine: string, preempt: boolean): Case => ({
    key: `${seed}/${mode}/${machine}${preempt ? '/preempt' : ''}`,
    args: runArgs(mode === 'explore' ? plan.exploreSpec : plan.spec, {
      seed,
      mode,
      machine,
      mem: plan.mem,
      check: mode !== 'explore' || plan.exploreUnchecked === undefined,
      preempt,
      ...(plan.more === undefined ? {} : { more: plan.more }),
    }),
  });
  for (const seed of SEEDS) {
    for (const mode of MODES) {
      for (const machine of MACHINES) cases.push(one(seed, mode, machine, false));
      // CONFIG_PREEMPT on the default machine, every mode
      cases.push(one(seed, mode, 'x86-64', true));
    }
  }
  // The profiles' own memory (4 GiB, or what the workload requires), without the checker.
  cases.push(
    ...perMachine('default-mem', (machine) =>
      runArgs(plan.spec, { seed: 1, mode: 'sequential', machine, check: false })
    )
  );
  cases.push(...(plan.extra ?? []));
  return cases;
}

/**
 * What one invocation produced: the command, its exit code, and the JSON
 * report (stdout) or the error line (the first line of stderr).
 */
async function invoke(args: readonly string[]): Promise<JsonObject> {
  const r = await mmlab(args);
  const entry: JsonObject = { command: `mmlab ${args.join(' ')}`, exitCode: r.code };
  if (r.out !== '') entry.report = JSON.parse(r.out) as Json;
  if (r.err !== '') entry.error = r.err.split('\n', 1)[0] ?? '';
  return entry;
}

/** `a.b[2].c`, with keys that are not identifiers quoted. */
function pathOf(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  const name = /^[A-Za-z_$][\w$]*$/.test(key) ? key : JSON.stringify(key);
  if (name.startsWith('"')) return `${parent}[${name}]`;
  return parent === '' ? name : `${parent}.${name}`;
}

function kindOf(value: Json | undefined): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `array(${value.length})`;
  return typeof value;
}

function show(value: Json | undefined): string {
  if (value === undefined) return '(missing)';
  if (typeof value === 'object' && value !== null) return kindOf(value);
  return JSON.stringify(value);
}

/**
 * The differences of `actual` from `golden`: every leaf of `golden` must be
 * at the same path in `actual` with the same value, every array of `golden`
 * must have the same length in `actual`; extra keys in `actual` are allowed.
 * @returns one line per difference, `path: golden X, actual Y`
 */
function goldenDiff(golden: Json, actual: Json | undefined, path = ''): string[] {
  const at = path === '' ? '(root)' : path;
  if (Array.isArray(golden)) {
    if (!Array.isArray(actual)) return [`${at}: golden ${kindOf(golden)}, actual ${show(actual)}`];
    const out: string[] = [];
    if (actual.length !== golden.length) out.push(`${at}: golden length ${golden.length}, actual length ${actual.length}`);
    golden.forEach((g, i) => out.push(...goldenDiff(g, actual[i], pathOf(path, i))));
    return out;
  }
  if (golden !== null && typeof golden === 'object') {
    if (actual === null || actual === undefined || typeof actual !== 'object' || Array.isArray(actual)) {
      return [`${at}: golden object, actual ${show(actual)}`];
    }
    const out: string[] = [];
    for (const [key, g] of Object.entries(golden)) {
      out.push(...goldenDiff(g, Object.hasOwn(actual, key) ? actual[key] : undefined, pathOf(path, key)));
    }
    return out;
  }
  return actual === golden ? [] : [`${at}: golden ${show(golden)}, actual ${show(actual)}`];
}

function isJsonObject(value: Json): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function goldenFile(name: string): string {
  return join(GOLDEN_DIR, `${name}.json`);
}

function readGolden(name: string): JsonObject | undefined {
  const file = goldenFile(name);
  if (!existsSync(file)) return undefined;
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as Json;
  if (!isJsonObject(parsed)) throw new Error(`${file}: not a JSON object`);
  return parsed;
}

/** Writes the file whole or not at all: a temporary file, then a rename. */
function writeAtomic(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

describe('golden comparison', () => {
  it('finds changed, missing and retyped leaves and changed array lengths, and allows new keys', () => {
    const golden: Json = { a: 1, b: { c: 'x', d: [1, 2, 3] }, e: null, f: true, 'g-h': [{ i: 0 }] };
    expect(goldenDiff(golden, { a: 1, b: { c: 'x', d: [1, 2, 3], z: 9 }, e: null, f: true, 'g-h': [{ i: 0 }], n: 1 })).toEqual([]);
    expect(goldenDiff(golden, { a: 2, b: { d: [1, 2] }, e: 0, f: 'true', 'g-h': [{ i: 0, j: 1 }] })).toEqual([
      'a: golden 1, actual 2',
      'b.c: golden "x", actual (missing)',
      'b.d: golden length 3, actual length 2',
      'b.d[2]: golden 3, actual (missing)',
      'e: golden null, actual 0',
      'f: golden true, actual "true"',
    ]);
    expect(goldenDiff(golden, { ...golden, b: [1] })).toEqual(['b: golden object, actual array(1)']);
    expect(goldenDiff(golden, { ...golden, 'g-h': [{ i: 1 }] })).toEqual(['["g-h"][0].i: golden 0, actual 1']);
    expect(goldenDiff([], [1])).toEqual(['(root): golden length 0, actual length 1']);
  });
});

describe('golden coverage', () => {
  it('covers every built-in workload and every machine profile', () => {
    expect(PLANS.map((p) => p.name).sort()).toEqual(listWorkloads().map((w) => w.name).sort());
    expect([...MACHINES].sort()).toEqual([...listMachines()].sort());
  });
});

for (const plan of PLANS) {
  describe(`golden reports: ${plan.name}`, () => {
    const cases = casesOf(plan);
    const golden = UPDATE ? undefined : readGolden(plan.name);
    const fresh = new Map<string, JsonObject>();

    if (UPDATE) {
      afterAll(() => {
        // Only a complete run replaces the file (a -t filter would drop entries).
        if (fresh.size !== cases.length) return;
        const entries: JsonObject = {};
        for (const c of cases) entries[c.key] = fresh.get(c.key)!;
        writeAtomic(goldenFile(plan.name), `${JSON.stringify(entries, null, 2)}\n`);
      });
    } else {
      it('has a golden entry for every case, and none for a case no longer run', () => {
        const file = relative(process.cwd(), goldenFile(plan.name));
        if (golden === undefined) expect.fail(`${file} is missing; generate it (on purpose only) with ${REGENERATE}`);
        const keys = new Set(cases.map((c) => c.key));
        expect(Object.keys(golden).filter((k) => !keys.has(k)), `${file}: entries of no case`).toEqual([]);
        expect(cases.map((c) => c.key).filter((k) => !(k in golden)), `${file}: cases without an entry`).toEqual([]);
      });
    }

    it.each(cases.map((c) => [c.key, c] as const))('%s', async (key, c) => {
      const entry = await invoke(c.args);
      if (UPDATE) {
        fresh.set(key, entry);
        return;
      }
      const expected = golden?.[key];
      if (expected === undefined) {
        expect.fail(`${plan.name} ${key}: no golden entry; generate it (on purpose only) with ${REGENERATE}`);
      }
      const diffs = goldenDiff(expected, entry);
      if (diffs.length > 0) {
        const shown = diffs.slice(0, MAX_DIFFERENCES).map((d) => `  ${d}`);
        const more = diffs.length > MAX_DIFFERENCES ? [`  ... and ${diffs.length - MAX_DIFFERENCES} more`] : [];
        expect.fail(
          [
            `${plan.name} ${key}: ${diffs.length} difference(s) from the golden report`,
            `  (mmlab ${c.args.join(' ')})`,
            ...shown,
            ...more,
          ].join('\n')
        );
      }
    });
  });
}
