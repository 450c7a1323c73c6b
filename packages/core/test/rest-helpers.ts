/**
 * Helpers of the reclaim / gup / truncate / hugetlb / driver tests
 * (baseline-rest and property-rest; not a test file).
 */
import { expect } from 'vitest';
import {
  buildKernel,
  type BuildOptions,
  type Kernel,
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  PAGE_SIZE,
  PROT_READ,
  PROT_WRITE,
  type Task,
  type Violation,
} from '../src/index.js';

/** One page. */
export const P = PAGE_SIZE;
/** One MiB. */
export const MiB = 1024 * 1024;
/** One GiB. */
export const GiB = 1024 * MiB;
/** `PROT_READ | PROT_WRITE`. */
export const RW = PROT_READ | PROT_WRITE;
/** `MAP_PRIVATE | MAP_ANONYMOUS`. */
export const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
/** A fixed address far from the mmap base (16 TiB), PGD-aligned. */
export const R = 2 ** 44;
/** A second fixed area for memory-pressure regions (32 TiB). */
export const PRESSURE = 2 ** 45;

/** A small kernel with the invariant checker and the data oracle on. */
export function kernel(opts: BuildOptions = {}): Kernel {
  return buildKernel({ memBytes: 32 * MiB, check: true, ...opts });
}

/** Violations as readable lines (for failure messages). */
export function formatViolations(v: readonly Violation[]): string {
  return v.map((x) => `[${x.op ?? '-'}] ${x.check}: ${x.message}`).join('\n');
}

/** No violation recorded at any operation boundary so far. */
export function expectNoViolations(k: Kernel): void {
  const v = k.invariants.violations;
  expect(v.length, formatViolations(v)).toBe(0);
  expect(k.invariants.checks).toBeGreaterThan(0);
}

/**
 * End of a test: every live task exits, every file still linked is
 * unlinked, `finish()` runs the leak check; nothing may be reported.
 */
export function shutdown(k: Kernel): void {
  for (const t of k.tasks) if (t.mm !== null) k.exit(t);
  for (const f of [...k.files.values()]) if (!f.unlinked) k.shmemUnlink(f);
  k.finish();
  expectNoViolations(k);
  const now = k.check();
  expect(now.length, formatViolations(now)).toBe(0);
}

export { forked, mapAt, mmOf } from './helpers.js';
import { mapAt } from './helpers.js';

export { vmaAt, pteWords as pteAt } from '../src/testing/inspect.js';


/** Read the page at `addr`, which must not fault with a signal; its data token. */
export function readOk(k: Kernel, t: Task, addr: number): number {
  const r = k.read(t, addr);
  expect(r.sig).toBe(0);
  return r.value;
}

/** Write `value` to the page at `addr`, which must succeed. */
export function writeOk(k: Kernel, t: Task, addr: number, value: number): void {
  expect(k.write(t, addr, value)).toBe(0);
}

/**
 * Memory pressure: map `bytes` of anonymous memory at `addr` in `t` and
 * write every page (one operation), which must succeed.
 */
export function pressure(k: Kernel, t: Task, addr: number, bytes: number): void {
  mapAt(k, t, addr, bytes);
  expect(k.touch(t, addr, bytes, true)).toBe(0);
}

/** A counter from /proc/vmstat. */
export function vmstat(k: Kernel, name: string): number {
  const v = k.metrics().vmstat[name];
  if (v === undefined) throw new Error(`no vmstat counter ${name}`);
  return v;
}
