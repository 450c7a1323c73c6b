/**
 * Helpers of the package's tests: kernels with and without the feature,
 * mapping, reading and writing that must succeed, and the checks every
 * test ends with.
 */
import { expect } from 'vitest';
import {
  buildKernel,
  type BuildOptions,
  type Kernel,
  MAP_FIXED,
  MAP_SHARED,
  PAGE_SIZE,
  PROT_READ,
  PROT_WRITE,
  type ShmemFile,
  type Task,
  type Violation,
} from '@mmlab/core';
import { type ShareLevel, sharedPagetables } from '../src/index.js';

/** A page. */
export const P = PAGE_SIZE;
/** 1 MiB. */
export const MiB = 1024 * 1024;
/** 1 GiB. */
export const GiB = 1024 * MiB;
/** Read-write protection. */
export const RW = PROT_READ | PROT_WRITE;
/** A fixed, 1 GiB-aligned address for the first mapping. */
export const R = 2 ** 44;
/** Where memory pressure is mapped. */
export const PRESSURE = 2 ** 45;

/** A kernel with the checker on, with the feature at `level` (or none). */
export function kernelWith(level: ShareLevel | null, opts: BuildOptions = {}, extra: Record<string, string | boolean> = {}): Kernel {
  return buildKernel({
    memBytes: 64 * MiB,
    check: true,
    ...(level === null ? {} : { features: [{ feature: sharedPagetables, options: { level, ...extra } }] }),
    ...opts,
  });
}

/** The violations, one a line. */
export function formatViolations(v: readonly Violation[]): string {
  return v.map((x) => `[${x.op ?? '-'}] ${x.check}: ${x.message}`).join('\n');
}

/** No violation recorded so far, and none now. */
export function clean(k: Kernel): void {
  expect(k.invariants.violations.length, formatViolations(k.invariants.violations)).toBe(0);
  const now = k.check();
  expect(now.length, formatViolations(now)).toBe(0);
}

/** Every process exits, every file goes; the leak check and the checker stay clean. */
export function shutdown(k: Kernel): void {
  for (const t of k.tasks) if (t.mm !== null) k.exit(t);
  for (const f of [...k.files.values()]) if (!f.unlinked) k.shmemUnlink(f);
  k.finish();
  clean(k);
}


/** MAP_FIXED mmap of `file` at `addr`, which must succeed. */
export function mapAt(k: Kernel, t: Task, addr: number, len: number, prot: number, flags: number, file: ShmemFile | null, offset = 0): void {
  expect(k.mmap(t, addr, len, prot, flags | MAP_FIXED, file, offset)).toBe(addr);
}

/** MAP_SHARED read-write mapping of the whole of `file` at `addr`. */
export function mapShared(k: Kernel, t: Task, addr: number, file: ShmemFile, prot = RW): void {
  mapAt(k, t, addr, file.size, prot, MAP_SHARED, file);
}



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


/** The task's file RSS, anonymous RSS and `nr_ptes`. */
export function figures(t: Task): [number, number, number] {
  const mm = mmOf(t);
  return [mm.fileRss, mm.anonRss, mm.nrPtes];
}

export { forked, mmOf, pteWords as pteAt, tlbEntries, vmaAt } from '@mmlab/core/testing';
import { mmOf } from '@mmlab/core/testing';
