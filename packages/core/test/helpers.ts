/**
 * Shared helpers of the core's tests (not a test file).
 */
import { expect } from 'vitest';
import {
  buildKernel,
  type BuildOptions,
  type Kernel,
  lookupPteTable,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_PRIVATE,
  PAGE_SIZE,
  pteIndex,
  PROT_READ,
  PROT_WRITE,
  type ShmemFile,
  type Task,
} from '../src/index.js';

/** One page. */
export const P = PAGE_SIZE;
/** One MiB. */
export const MiB = 1024 * 1024;
/** `PROT_READ | PROT_WRITE`. */
export const RW = PROT_READ | PROT_WRITE;
/** `MAP_PRIVATE | MAP_ANONYMOUS`. */
export const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
/**
 * A fixed address far from the mmap base: 2^44 (16 TiB), aligned to a PMD,
 * a PUD and a PGD entry's span, so tests control which tables it needs.
 */
export const R = 2 ** 44;

/** A small kernel with the checker and the oracle on. */
export function kernel(opts: BuildOptions = {}): Kernel {
  return buildKernel({ memBytes: 64 * MiB, check: true, ...opts });
}

/** No violation recorded at any boundary, checks did run, and the model is consistent now. */
export function expectClean(k: Kernel): void {
  expect(k.invariants.violations).toEqual([]);
  expect(k.invariants.checks).toBeGreaterThan(0);
  expect(k.check()).toEqual([]);
}

export { forked, mmOf } from '../src/testing/inspect.js';
import { mmOf } from '../src/testing/inspect.js';

/** MAP_FIXED mmap at `addr`, which must succeed. */
export function mapAt(k: Kernel, t: Task, addr: number, len: number, prot = RW, flags = ANON, file: ShmemFile | null = null, offset = 0): void {
  expect(k.mmap(t, addr, len, prot, flags | MAP_FIXED, file, offset)).toBe(addr);
}

/** The task's VMAs as [start, end, pgoff]. */
export function spans(t: Task): [number, number, number][] {
  return mmOf(t).vmas.map((v) => [v.vmStart, v.vmEnd, v.vmPgoff]);
}

/** The PTE mapping `addr` (flags word and pfn), or null when no PTE table covers it. */
export function pteAt(k: Kernel, t: Task, addr: number): { flags: number; pfn: number } | null {
  const tbl = lookupPteTable(k, mmOf(t), addr);
  if (tbl === 0) return null;
  const a = k.tables.arr(tbl);
  const b = k.tables.base(tbl) + pteIndex(addr) * 2;
  return { flags: a[b]!, pfn: a[b + 1]! };
}

/** The pfn a present PTE maps at `addr` (fails when none). */
export function pfnAt(k: Kernel, t: Task, addr: number): number {
  const pte = pteAt(k, t, addr);
  expect(pte).not.toBeNull();
  expect(pte!.pfn).toBeGreaterThan(0);
  return pte!.pfn;
}

export { tlbEntries } from '../src/testing/inspect.js';
