/**
 * ppc64: TLB entries keyed by segment. With PMD sharing, processes that
 * share a segment's table reuse each other's TLB entries on a CPU, so a
 * later process takes far fewer TLB misses; with PTE sharing, or on x86,
 * every process walks for itself. The checker's TLB check stays clean.
 */
import { describe, expect, it } from 'vitest';
import { buildKernel, type Kernel, MAP_SHARED } from '@mmlab/core';
import { NAME, type ShareLevel, sharedPagetables } from '../src/index.js';
import { clean, GiB, mapAt, MiB, P, R, RW, shutdown, writeOk } from './helpers.js';

/** Two processes on one CPU map a 1 GiB segment at the same address; A reads 64 pages, then B does. */
function run(machine: string, level: ShareLevel) {
  const k: Kernel = buildKernel({ machine, cpus: 1, memBytes: 64 * MiB, check: true, features: [{ feature: sharedPagetables, options: { level } }] });
  const f = k.shmemCreate('sga', GiB);
  const a = k.spawn();
  const b = k.spawn();
  mapAt(k, a, R, GiB, RW, MAP_SHARED, f);
  mapAt(k, b, R, GiB, RW, MAP_SHARED, f);
  writeOk(k, a, R, 1);
  expect(k.touch(a, R, 64 * P, false)).toBe(0);
  const before = k.vm.mmlab_tlb_miss;
  expect(k.touch(b, R, 64 * P, false)).toBe(0);
  clean(k);
  const misses = k.vm.mmlab_tlb_miss - before;
  const hits = k.metrics().feature?.[NAME]?.tlb_segment_hits ?? 0;
  // B writes through a reused entry's page: the write walks (the entry is clean), then the data is there for A
  writeOk(k, b, R + 5 * P, 0xb5);
  expect(k.read(a, R + 5 * P).value).toBe(0xb5);
  clean(k);
  shutdown(k);
  return { misses, hits };
}

describe('ppc64: segment-keyed TLB reuse with PMD sharing', () => {
  it('a second process on the CPU reuses the first one\'s TLB entries for the shared segment', () => {
    const pmd = run('ppc64', 'pmd');
    expect(pmd.hits).toBe(64);
    expect(pmd.misses).toBeLessThanOrEqual(2); // the walks around the share fault
    const pte = run('ppc64', 'pte');
    expect(pte.hits).toBe(0);
    expect(pte.misses).toBeGreaterThanOrEqual(64);
    const x86 = run('x86-64', 'pmd');
    expect(x86.hits).toBe(0);
    expect(x86.misses).toBeGreaterThanOrEqual(64);
  });
});
