/**
 * The CLI knows `mixedmap`: `mmlab run --workload dio --features mixedmap`
 * pins the buffers with the lockless fast path and reports its counters;
 * `gupFast=false` leaves every page to the `mmap_sem` walk. Combined with
 * the in-place gather and with shared page tables, the lockless walk's
 * freeing rule still holds in explore mode (and the shared-table hazard
 * Hugh Dickins named, an unsharing mm that drops its share before its
 * flush, is found).
 */
import { describe, expect, it } from 'vitest';
import { gupFastIrqsOn, gupFastRace } from '@mmlab/mixedmap/testing';
import { buildKernel, type FeatureRequest, type KGen, MAP_FIXED, MAP_SHARED, PAGE_SIZE, PROT_READ, PROT_WRITE, type Violation } from '@mmlab/core';
import { mixedmap } from '@mmlab/mixedmap';
import { mmuGatherInplace } from '@mmlab/mmu-gather-inplace';
import { sharedPagetables } from '@mmlab/shared-pagetables';
import { mmlab } from './helpers.js';

interface Report {
  features: { name: string; options: Record<string, unknown> }[];
  metrics: { feature?: Record<string, Record<string, number>>; workload?: Record<string, number> };
  invariants?: { violations: unknown[] };
}

async function run(features: string, workload = 'dio:procs=2:size=1m', more: readonly string[] = []): Promise<Report> {
  const r = await mmlab(['run', '--workload', workload, '--check', '--json', ...more, ...(features === '' ? [] : ['--features', features])]);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.out) as Report;
}

describe('mmlab run --features mixedmap', () => {
  it('direct I/O pins its pages without mmap_sem; gupFast=false takes the slow path for all of them', async () => {
    const fast = await run('mixedmap');
    expect(fast.features.map((f) => f.name)).toEqual(['mixedmap']);
    expect(fast.invariants?.violations).toEqual([]);
    const c = fast.metrics.feature?.mixedmap;
    expect(c?.gup_fast_pages).toBe(2 * 256 * 2);
    expect(c?.gup_slow_pages).toBe(0);
    expect(c?.pte_special).toBe(1);
    const slow = (await run('mixedmap:gupFast=false')).metrics.feature?.mixedmap;
    expect(slow?.gup_fast_pages).toBe(0);
    expect(slow?.gup_slow_pages).toBe(2 * 256 * 2);
  });

  it('xip-guests: the image costs no struct pages with xip, a section of them per guest without', async () => {
    const spec = 'xip-guests:guests=3:image=2m:procs=1';
    const base = (await run('', spec)).metrics.workload!;
    const mixed = await run('mixedmap', spec);
    expect(mixed.invariants?.violations).toEqual([]);
    expect(base.image_memmap_bytes).toBe(3 * 32768 * 56);
    expect(mixed.metrics.workload!.image_memmap_bytes).toBe(0);
    expect(mixed.metrics.workload!.anon_bytes).toBe(base.anon_bytes);
    // the image's pages are raw pfns: not in any process's RSS
    expect(mixed.metrics.workload!.file_rss_bytes).toBe(0);
    expect(mixed.metrics.feature?.mixedmap?.xip_faults).toBeGreaterThan(0);
  });

  it('oltp-dio in the timed mode: the fast path takes no mmap_sem and wins throughput', async () => {
    const spec = 'oltp-dio:procs=2:cpus=4:txns=8:pool=512k';
    const slow = await run('mixedmap:gupFast=false', spec, ['--mode', 'timed']);
    const fast = await run('mixedmap', spec, ['--mode', 'timed']);
    expect(fast.invariants?.violations).toEqual([]);
    expect(fast.metrics.workload!.throughput).toBeGreaterThan(slow.metrics.workload!.throughput!);
    expect(fast.metrics.workload!.mmap_sem_wait_ns).toBe(0);
    expect(fast.metrics.feature?.mixedmap?.gup_fast_pages).toBe(16 * 64);
    expect(slow.metrics.feature?.mixedmap?.gup_slow_pages).toBe(16 * 64);
  });

  it('names a bad option', async () => {
    const r = await mmlab(['run', '--workload', 'dio:procs=1:size=1m', '--features', 'mixedmap:special=maybe']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/mixedmap.*special/);
  });
});

describe('mixedmap with the other proposals, explore mode', () => {
  it('with the in-place gather the walker still never meets a freed table or page (its flush comes before the frees)', () => {
    let ipiSeeds = 0;
    for (let seed = 1; seed <= 80; seed++) {
      const r = gupFastRace(seed, [mmuGatherInplace], seed % 2 === 0);
      expect(r.violations, `seed ${seed}`).toEqual([]);
      if (r.ipi) ipiSeeds++;
    }
    expect(ipiSeeds).toBeGreaterThan(0);
  });

  it('and without the guard, explore mode finds the use-after-free under the in-place gather too', () => {
    let found = false;
    for (let seed = 1; seed <= 300 && !found; seed++) {
      found = gupFastRace(seed, [mmuGatherInplace, gupFastIrqsOn]).violations.some((v) => v.check === 'gup_fast');
    }
    expect(found).toBe(true);
  });
});

/**
 * Processes A (threads a and b) and B map the same 2 MiB tmpfs file shared
 * at the same place, so they share its PTE table. Thread b pins pages with
 * direct I/O (the lockless walk reads the shared table through A's PMD)
 * while thread a unmaps the file from A and B exits, each on its own CPU:
 * A drops its share, and the last sharer frees the table.
 */
function sharedRace(seed: number, share: FeatureRequest, more: readonly FeatureRequest[] = []): { violations: Violation[]; shared: number; fast: number } {
  const k = buildKernel({ mode: 'explore', seed, check: true, cpus: 3, memBytes: 32 * 2 ** 20, features: [mixedmap, share, ...more] });
  const len = 2 * 2 ** 20;
  const at = 2 ** 44;
  const f = k.shmemCreate('sga', len);
  const a = k.spawn();
  const b = k.clone(a);
  const other = k.spawn();
  for (const t of [a, other]) {
    expect(k.mmap(t, at, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, f)).toBe(at);
    expect(k.touch(t, at, 8 * PAGE_SIZE, true)).toBe(0);
  }
  const sa = k.sys(a);
  const sb = k.sys(b);
  const so = k.sys(other);
  k.runThreads([
    { task: a, program: (function* (): KGen<void> { yield* sa.munmap(at, len); })() },
    { task: other, program: so.exit() },
    {
      task: b,
      program: (function* (): KGen<void> {
        for (let round = 0; round < 3; round++) {
          for (let i = 0; i < 8; i += 4) if ((yield* sb.directIo(at + i * PAGE_SIZE, 4, false)) < 0) return;
        }
      })(),
    },
  ]);
  k.exit(b);
  k.exit(a);
  k.shmemUnlink(f);
  k.finish();
  const m = k.metrics().feature ?? {};
  return {
    violations: k.invariants.violations.filter((v) => v.check !== 'oracle'),
    shared: m['shared-pagetables']?.share_fault ?? 0,
    fast: m.mixedmap?.gup_fast_pages ?? 0,
  };
}

describe('mixedmap with shared page tables, explore mode', () => {
  it("the walker never meets a freed shared table: the unsharing mm flushes (and waits for the walker) before it drops its share", () => {
    let fast = 0;
    for (let seed = 1; seed <= 60; seed++) {
      const r = sharedRace(seed, sharedPagetables);
      expect(r.violations, `seed ${seed}`).toEqual([]);
      // B took A's PTE table at its first fault
      expect(r.shared).toBe(1);
      fast += r.fast;
    }
    expect(fast).toBeGreaterThan(0);
  });

  it('with the in-place gather too: the last sharer frees the table through the pgtableFree seam, after the walker is gone', () => {
    let fast = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const r = sharedRace(seed, sharedPagetables, [mmuGatherInplace]);
      expect(r.violations, `seed ${seed}`).toEqual([]);
      expect(r.shared).toBe(1);
      fast += r.fast;
    }
    expect(fast).toBeGreaterThan(0);
  });

  it('without that flush (unshareFlush=false, the hazard) explore mode finds the walker reading a freed table', () => {
    let found: Violation[] = [];
    for (let seed = 1; seed <= 200 && found.length === 0; seed++) {
      found = sharedRace(seed, { feature: sharedPagetables, options: { unshareFlush: false } }).violations.filter((v) => v.check === 'gup_fast');
    }
    expect(found.length).toBeGreaterThan(0);
  });
});
