/**
 * Explore mode: one thread pins pages with `get_user_pages_fast` (direct
 * I/O) while another thread of the same process unmaps them, which frees
 * the pages and the PTE table the walker reads. With interrupts off around
 * the walk the unmap's shootdown IPI waits for the walker, so no seed finds
 * a use-after-free; the test-only mutation that walks with interrupts on
 * lets the IPI in, and explore mode finds the walker reading a freed frame.
 */
import { describe, expect, it } from 'vitest';
import { buildKernel, type FeatureRequest, type Kernel, type KGen, MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, type Violation } from '@mmlab/core';
import { mixedmap, NAME } from '../src/index.js';
import { gupFastIrqsOn } from '../src/testing.js';
import { MiB, P, R, RW } from './helpers.js';

const PAGES = 8;

interface Outcome {
  violations: Violation[];
  ipi: boolean;
  fastPages: number;
}

/**
 * Thread a writes PAGES pages alone in their PTE table (and PMD table),
 * then unmaps them; thread b meanwhile runs direct I/O over them, 4 pages
 * per call, until a call fails. Everything exits; the kernel finishes.
 */
function race(seed: number, mutated: boolean, preempt: boolean): Outcome {
  const features: FeatureRequest[] = [{ feature: mixedmap, options: {} }];
  if (mutated) features.push(gupFastIrqsOn);
  const k: Kernel = buildKernel({ mode: 'explore', seed, check: true, cpus: 2, memBytes: 32 * MiB, config: { preempt }, features });
  const a = k.spawn();
  const b = k.clone(a);
  if (k.mmap(a, R, PAGES * P, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED) !== R) throw new Error('mmap');
  if (k.touch(a, R, PAGES * P, true) !== 0) throw new Error('touch');
  const sa = k.sys(a);
  const sb = k.sys(b);
  k.runThreads([
    {
      task: a,
      program: (function* (): KGen<void> {
        yield* sa.munmap(R, PAGES * P);
      })(),
    },
    {
      task: b,
      program: (function* (): KGen<void> {
        for (let round = 0; round < 4; round++) {
          for (let i = 0; i < PAGES; i += 4) {
            if ((yield* sb.directIo(R + i * P, 4, false)) < 0) return;
          }
        }
      })(),
    },
  ]);
  const ipi = /\bi\d/.test(k.lastScheduler!.interleaving());
  k.exit(b);
  k.exit(a);
  k.finish();
  // (the oracle cannot say what a read racing the unmap of its own page must return)
  const violations = k.invariants.violations.filter((v) => v.check !== 'oracle');
  return { violations, ipi, fastPages: k.metrics().feature?.[NAME]?.gup_fast_pages ?? 0 };
}

describe('explore: get_user_pages_fast against munmap', () => {
  for (const preempt of [false, true]) {
    it(`with interrupts off around the walk, ${preempt ? 'PREEMPT' : 'no PREEMPT'}: 150 seeds, no use-after-free, no violation`, () => {
      let ipiSeeds = 0;
      let fast = 0;
      for (let seed = 1; seed <= 150; seed++) {
        const r = race(seed, false, preempt);
        expect(r.violations, `seed ${seed}`).toEqual([]);
        if (r.ipi) ipiSeeds++;
        fast += r.fastPages;
      }
      // the window was open: shootdown IPIs were taken, the fast path pinned pages
      expect(ipiSeeds).toBeGreaterThan(0);
      expect(fast).toBeGreaterThan(0);
    });
  }

  it('the test-only mutation (walk with interrupts on): explore mode finds the use-after-free, and the same seed with the guard is clean', () => {
    let found: { seed: number; violations: Violation[] } | null = null;
    for (let seed = 1; seed <= 300 && found === null; seed++) {
      const r = race(seed, true, false);
      if (r.violations.length > 0) found = { seed, violations: r.violations };
    }
    console.log(`[mixedmap] gup-fast with interrupts on: ${found === null ? 'nothing found' : `seed ${found.seed}: ${found.violations[0]!.check}: ${found.violations[0]!.message}`}`);
    expect(found).not.toBeNull();
    expect(found!.violations.some((v) => v.check === 'gup_fast' && v.message.includes('use-after-free'))).toBe(true);
    expect(race(found!.seed, false, false).violations).toEqual([]);
  });
});
