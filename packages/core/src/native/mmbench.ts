/**
 * The real kernel beside the model (Node.js only: `@mmlab/core/native`):
 * build `bench/native/mmbench.c` with the machine's C compiler and run it
 * for one primitive, and describe the host. `npm run bench` and
 * `mmlab calibrate` both use it.
 * @module
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { cpus, release, totalmem, type } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PrimitiveName } from '../kernel/primitives.js';

/** The repository root, from this module's place (`packages/core/{src,dist}/native/`). */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../../..');

/** The benchmark's C source in the repository. */
export const MMBENCH_SOURCE = join(ROOT, 'bench/native/mmbench.c');
/** Where {@link buildMmbench} puts the program (ignored by git). */
export const MMBENCH_BINARY = join(ROOT, 'bench/native/build/mmbench');

/** What {@link buildMmbench} did. */
export interface MmbenchBuild {
  /** The program, or null when there is no compiler or the build failed. */
  readonly bin: string | null;
  /** The compiler's first `--version` line, or why there is no program. */
  readonly why: string;
  /** True when the compiler itself is missing (as opposed to a failed build). */
  readonly noCompiler: boolean;
}

/**
 * Builds the native benchmark with `cc -O2` (or `$CC`).
 * @param options - `cc` (default `$CC` or `cc`), `source`, `out`
 */
export function buildMmbench(options: { cc?: string; source?: string; out?: string } = {}): MmbenchBuild {
  const cc = options.cc ?? process.env.CC ?? 'cc';
  const source = options.source ?? MMBENCH_SOURCE;
  const out = options.out ?? MMBENCH_BINARY;
  const probe = spawnSync(cc, ['--version'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) return { bin: null, why: `no C compiler ('${cc}' not found)`, noCompiler: true };
  if (!existsSync(source)) return { bin: null, why: `the native benchmark's source ${source} is missing`, noCompiler: false };
  mkdirSync(dirname(out), { recursive: true });
  const r = spawnSync(cc, ['-O2', '-o', out, source], { encoding: 'utf8' });
  if (r.status !== 0 || !existsSync(out)) return { bin: null, why: `'${cc}' failed to build ${source}: ${r.stderr.trim()}`, noCompiler: false };
  return { bin: out, why: `${cc}: ${probe.stdout.split('\n')[0]!.trim()}`, noCompiler: false };
}

/**
 * ns per page of `primitive` on the real kernel: the median of `reps`
 * timed runs over `pages` pages, after one untimed run (`mmbench
 * PRIMITIVE PAGES REPS`).
 * @param bin - the program {@link buildMmbench} built
 * @param primitive - which primitive
 * @param pages - pages per run
 * @param reps - timed runs
 * @throws Error when the program fails or prints something unexpected
 */
export function runMmbench(bin: string, primitive: PrimitiveName, pages: number, reps: number): number {
  const out = execFileSync(bin, [primitive, String(pages), String(reps)], { encoding: 'utf8' });
  const [name, ns] = out.trim().split(/\s+/);
  if (name !== primitive || ns === undefined || !Number.isFinite(Number(ns))) throw new Error(`mmbench ${primitive}: unexpected output '${out.trim()}'`);
  return Number(ns);
}

/** The host, as benchmark reports describe it. */
export interface HostDescription {
  /** CPU model. */
  readonly cpu: string;
  /** CPUs online. */
  readonly cpus: number;
  /** RAM in bytes. */
  readonly memory_bytes: number;
  /** Operating system and kernel release. */
  readonly kernel: string;
  /** Node.js version. */
  readonly node: string;
}

/** Describes this host (CPU, CPUs, memory, kernel, Node.js). */
export function hostDescription(): HostDescription {
  const cpu = cpus();
  return { cpu: cpu[0]?.model ?? 'unknown', cpus: cpu.length, memory_bytes: totalmem(), kernel: `${type()} ${release()}`, node: process.version };
}
