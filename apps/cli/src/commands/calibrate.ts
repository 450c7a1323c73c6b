/**
 * `mmlab calibrate [--out FILE] ...`: a machine profile whose simulated
 * cost per primitive matches this machine's real kernel (docs/calibration.md).
 * @module
 */

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  costSensitivity,
  type CostTable,
  fitCosts,
  getMachine,
  listMachines,
  machineProfileFile,
  type MachineProfile,
  PRIMITIVE_NAMES,
  type PrimitiveName,
  SIMULATED_PAGES,
  simulatedCostPerPage,
} from '@mmlab/core';
import { buildMmbench, hostDescription, runMmbench } from '@mmlab/core/native';
import { loadMachineProfile, unknownNameMessage } from '@mmlab/workloads';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import type { Io } from '../io.js';
import { checkOutputPath, writeFileAtomic } from '../outputs.js';
import { defineCommand, single, type CliContext } from '../program.js';
import { usageLine } from '../usage.js';
import { parseCount } from './lab-options.js';

/** `mmlab calibrate` arguments. */
export const CALIBRATE_ARGS = '[--out FILE] [--force] [--base NAME] [--name NAME] [--pages N] [--reps N] [--native FILE] [--json]';

/** `mmlab calibrate` usage. */
export const CALIBRATE_USAGE = usageLine('calibrate', CALIBRATE_ARGS);

/** `mmlab calibrate` help paragraphs. */
export const CALIBRATE_HELP = `Times six primitives on this machine's real kernel (bench/native/mmbench.c,
built with the machine's C compiler: anon_fault, fork_pte, munmap_page,
mprotect_page, shared_file_fault, gup_fast_page; the median of --reps runs
over --pages pages each), fits the costs of a built-in profile (--base,
default x86-64-today) so that the model's simulated ns per page of each
primitive matches, writes the profile to --out (JSON, atomically; an
existing file is replaced only with --force), reads it back, re-runs the
model's primitives on it and prints primitive / native ns / simulated ns /
error %. Exit code 1 when a primitive is off by more than 25%, or when there
is no C compiler (--native FILE takes the figures of npm run bench -- --json
instead). Use the profile with --machine FILE (run, ab, matrix). The method:
docs/calibration.md.`;

/** The largest error a calibrated primitive may keep (±25%). */
export const CALIBRATION_TOLERANCE = 0.25;

/** The options of `mmlab calibrate` as given (values unparsed). */
export interface CalibrateOptions {
  readonly out?: string;
  readonly force?: boolean;
  readonly base?: string;
  readonly name?: string;
  readonly pages?: string;
  readonly reps?: string;
  readonly native?: string;
  readonly json?: boolean;
}

/**
 * Adds `mmlab calibrate` to the program.
 * @param program - the root program
 * @param ctx - the invocation's streams and exit code
 */
export function registerCalibrate(program: Command, ctx: CliContext): void {
  const value = (flag: string, arg: string): ((v: string, prev: unknown) => string) => single(flag, arg, CALIBRATE_USAGE);
  defineCommand(program, { name: 'calibrate', args: CALIBRATE_ARGS, summary: "write a machine profile fitted to this machine's real kernel", description: CALIBRATE_HELP })
    .option('--out <FILE>', 'the profile to write (default machine-profile.json)', value('--out', 'FILE'))
    .option('--force', 'replace the --out file if it exists')
    .option('--base <NAME>', 'built-in profile the other fields come from (default x86-64-today)', value('--base', 'NAME'))
    .option('--name <NAME>', 'the profile\'s name (default calibrated)', value('--name', 'NAME'))
    .option('--pages <N>', 'pages per native run (default 65536)', value('--pages', 'N'))
    .option('--reps <N>', 'native runs per primitive, the median kept (default 7)', value('--reps', 'N'))
    .option('--native <FILE>', 'take the native figures from FILE (npm run bench -- --json) instead of running the native benchmark', value('--native', 'FILE'))
    .option('--json', 'print the result as one JSON object')
    .action((o: CalibrateOptions) => {
      ctx.exitCode = calibrateCommand(o, ctx.io);
    });
}

/** One primitive's figures after calibration. */
export interface CalibratedPrimitive {
  /** The real kernel's ns per page. */
  readonly native_ns: number;
  /** The model's simulated ns per page with the written profile. */
  readonly simulated_ns: number;
  /** `simulated / native - 1`. */
  readonly error: number;
}

/** Reads native figures from a `npm run bench -- --json` file (or any object of `{ native_ns }` or numbers by primitive). */
function nativeFromFile(file: string, io: Io): Record<PrimitiveName, number> {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(resolve(io.cwd, file), 'utf8'));
  } catch (err) {
    throw new UsageError(`--native ${file}: ${(err as Error).message}`, CALIBRATE_USAGE);
  }
  const out: Partial<Record<PrimitiveName, number>> = {};
  for (const name of PRIMITIVE_NAMES) {
    const entry = (json as Record<string, unknown> | null)?.[name];
    const ns = typeof entry === 'number' ? entry : (entry as { native_ns?: unknown } | undefined)?.native_ns;
    if (typeof ns !== 'number' || !(ns > 0)) throw new UsageError(`--native ${file}: no positive native figure for ${name} (expected "${name}": { "native_ns": N } as npm run bench -- --json prints)`, CALIBRATE_USAGE);
    out[name] = ns;
  }
  return out as Record<PrimitiveName, number>;
}

/** Rounds costs to 1/1000 ns (the file stays readable; far below the fit's tolerance). */
function rounded(costs: Readonly<CostTable>): CostTable {
  const out = { ...costs };
  for (const key of Object.keys(out) as (keyof CostTable)[]) out[key] = Math.round(out[key] * 1000) / 1000;
  return out;
}

/** A table of rows, the first the header, numbers right-aligned. */
function table(rows: readonly (readonly string[])[]): string {
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) => r.map((x, j) => (j === 0 ? x.padEnd(w[j]!) : x.padStart(w[j]!))).join('  ').trimEnd());
  lines.splice(1, 0, w.map((n) => '-'.repeat(n)).join('  '));
  return lines.join('\n') + '\n';
}

/**
 * Runs `mmlab calibrate`: times the six primitives on the real kernel
 * (`bench/native/mmbench.c`, built with the machine's C compiler), fits the
 * base profile's costs so that the model's simulated ns per page of each
 * matches, writes the profile (atomically), reads it back and re-runs the
 * model's primitives on it to print primitive / native / simulated / error.
 * @param o - the options
 * @param io - output streams and working directory
 * @returns 0 when every primitive is within ±25%, 1 when one is not or there is no C compiler
 * @throws {@link UsageError} for a bad option or an output that cannot be written
 */
export function calibrateCommand(o: CalibrateOptions, io: Io): number {
  const baseName = o.base ?? 'x86-64-today';
  const base = getMachine(baseName);
  if (base === undefined) throw new UsageError(unknownNameMessage('--base machine', baseName, listMachines()), CALIBRATE_USAGE);
  const name = o.name ?? 'calibrated';
  if (name === '') throw new UsageError('--name must not be empty', CALIBRATE_USAGE);
  const pages = parseCount('--pages', o.pages, 512, 4 * 1024 * 1024, CALIBRATE_USAGE) ?? 65536;
  const reps = parseCount('--reps', o.reps, 1, 101, CALIBRATE_USAGE) ?? 7;
  const force = o.force === true;
  const outFile = o.out ?? 'machine-profile.json';
  const path = checkOutputPath(outFile, io.cwd, { what: 'machine profile', force, usage: CALIBRATE_USAGE });

  let native: Record<PrimitiveName, number>;
  let compiler: string | null = null;
  if (o.native !== undefined) {
    native = nativeFromFile(o.native, io);
  } else {
    const built = buildMmbench();
    if (built.bin === null) {
      io.stderr(
        built.noCompiler
          ? `mmlab: calibrate needs a C compiler to time the real kernel: ${built.why}; install one (cc, gcc or clang), set CC, or give --native FILE with figures measured elsewhere\n`
          : `mmlab: calibrate cannot build the native benchmark: ${built.why}\n`
      );
      return 1;
    }
    compiler = built.why;
    native = {} as Record<PrimitiveName, number>;
    for (const p of PRIMITIVE_NAMES) {
      io.stderr(`calibrate: native ${p} …\n`);
      native[p] = runMmbench(built.bin, p, pages, reps);
    }
  }

  io.stderr(`calibrate: fitting ${baseName}'s costs …\n`);
  const figures = PRIMITIVE_NAMES.map((p) => ({ name: p, target: native[p], ...costSensitivity(p, base, SIMULATED_PAGES) }));
  const fit = fitCosts(base.costs, figures);
  const host = hostDescription();
  const profile: MachineProfile = {
    ...base,
    name,
    description: `${base.name} with costs calibrated to ${host.cpu} (${host.cpus} CPUs), ${host.kernel} (mmlab calibrate)`,
    costs: rounded(fit.costs),
  };
  const calibration = {
    method: 'docs/calibration.md',
    date: new Date().toISOString(),
    host,
    compiler,
    source: o.native === undefined ? 'bench/native/mmbench.c' : o.native,
    native_pages: o.native === undefined ? pages : null,
    reps: o.native === undefined ? reps : null,
    simulated_pages: SIMULATED_PAGES,
    native_ns: native,
    fit_steps: fit.steps,
  };
  writeFileAtomic(path, JSON.stringify(machineProfileFile(profile, baseName, calibration), null, 2) + '\n', force);

  // verify: the file as any run would read it, the primitives re-run on it
  const loaded = loadMachineProfile(path);
  const result: Record<string, CalibratedPrimitive> = {};
  const missed: string[] = [];
  for (const p of PRIMITIVE_NAMES) {
    const sim = simulatedCostPerPage(p, loaded, SIMULATED_PAGES);
    const error = sim / native[p] - 1;
    result[p] = { native_ns: native[p], simulated_ns: sim, error };
    if (Math.abs(error) > CALIBRATION_TOLERANCE) missed.push(p);
  }
  if (o.json === true) {
    io.stdout(JSON.stringify({ profile: path, name, base: baseName, primitives: result, within: CALIBRATION_TOLERANCE, ok: missed.length === 0 }, null, 2) + '\n');
  } else {
    io.stdout(`machine profile '${name}' (from ${baseName}) written to ${outFile}; re-run on it:\n\n`);
    const rows = [['primitive', 'native ns', 'simulated ns', 'error %'], ...PRIMITIVE_NAMES.map((p) => [p, result[p]!.native_ns.toFixed(1), result[p]!.simulated_ns.toFixed(1), (result[p]!.error * 100).toFixed(1)])];
    io.stdout(table(rows));
    io.stdout(`\nuse it with: mmlab run --machine ${outFile} --workload ...\n`);
  }
  if (missed.length > 0) {
    io.stderr(`mmlab: calibration missed ±${CALIBRATION_TOLERANCE * 100}% for ${missed.join(', ')}\n`);
    return 1;
  }
  return 0;
}
