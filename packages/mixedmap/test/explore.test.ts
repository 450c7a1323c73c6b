/**
 * Explore mode: one thread pins pages with `get_user_pages_fast` (direct
 * I/O) while another thread of the same process unmaps them, which frees
 * the pages and the PTE table the walker reads. With interrupts off around
 * the walk the unmap's shootdown IPI waits for the walker, so no seed finds
 * a use-after-free; the test-only mutation that walks with interrupts on
 * lets the IPI in, and explore mode finds the walker reading a freed frame.
 */
import { describe, expect, it } from 'vitest';
import type { Violation } from '@mmlab/core';
import { type GupRaceOutcome, gupFastIrqsOn, gupFastRace } from '../src/testing.js';

/** One seed of the race, with the guard or with the test-only mutation. */
function race(seed: number, mutated: boolean, preempt: boolean): GupRaceOutcome {
  return gupFastRace(seed, mutated ? [gupFastIrqsOn] : [], preempt);
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
