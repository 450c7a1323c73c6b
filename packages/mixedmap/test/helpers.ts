/**
 * Shared helpers of the package's tests (not a test file).
 */
import { expect } from 'vitest';
import {
  buildKernel,
  type BuildOptions,
  findVma,
  type Kernel,
  lookupPteTable,
  MAP_FIXED,
  PAGE_SIZE,
  pteIndex,
  PROT_READ,
  PROT_WRITE,
  type ShmemFile,
  type Task,
  type Vma,
} from '@mmlab/core';
import { mixedmap } from '../src/index.js';

/** One page. */
export const P = PAGE_SIZE;
/** One MiB. */
export const MiB = 2 ** 20;
/** `PROT_READ | PROT_WRITE`. */
export const RW = PROT_READ | PROT_WRITE;
/** A fixed, PGD-aligned address for the tests' mappings. */
export const R = 2 ** 44;
/** The two PTE formats: with the pte_special bit (x86-64) and without (s390-like). */
export const PROFILES = ['x86-64', 's390'] as const;

/** Options of the feature, as the tests give them. */
export interface MixedOptions {
  special?: boolean;
  gupFast?: boolean;
  xip?: boolean;
}

/** A small kernel with the checker on, a 4 MiB XIP image and the feature (unless `features` says otherwise). */
export function kernel(machine: string, options: MixedOptions = {}, opts: BuildOptions = {}): Kernel {
  return buildKernel({ machine, memBytes: 32 * MiB, xipBytes: 4 * MiB, check: true, features: [{ feature: mixedmap, options: { ...options } }], ...opts });
}

/** MAP_FIXED mmap at `addr`, which must succeed. */
export function mapAt(k: Kernel, t: Task, addr: number, len: number, prot: number, flags: number, file: ShmemFile | null = null): Vma {
  expect(k.mmap(t, addr, len, prot, flags | MAP_FIXED, file)).toBe(addr);
  return findVma(t.mm!, addr)!;
}

/** The PTE mapping `addr` in `t`'s mm: its flags and value words, or null. */
export function pteAt(k: Kernel, t: Task, addr: number): { flags: number; pfn: number } | null {
  const pte = lookupPteTable(k, t.mm!, addr);
  if (pte === 0) return null;
  const a = k.tables.arr(pte);
  const b = k.tables.base(pte) + pteIndex(addr) * 2;
  return a[b] === 0 && a[b + 1] === 0 ? null : { flags: a[b]!, pfn: a[b + 1]! };
}

/** No violation recorded, checks did run, and the model is consistent now. */
export function expectClean(k: Kernel): void {
  expect(k.invariants.violations).toEqual([]);
  expect(k.invariants.checks).toBeGreaterThan(0);
  expect(k.check()).toEqual([]);
}

/** The feature's counters. */
export function counters(k: Kernel): Record<string, number> {
  return k.metrics().feature?.mixedmap ?? {};
}
