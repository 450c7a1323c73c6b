/**
 * Mutation tests: the explore mode finds real races. With a guard removed
 * on purpose in a test-only kernel (`@mmlab/core/testing`), a seeded search
 * of at most 500 interleavings finds an invariant violation, and re-running
 * the failing seed reproduces the same violation through the same
 * interleaving; with the guard in place the same 500 seeds find none.
 */
import { describe, expect, it } from 'vitest';
import { runScenario, type Scenario, search } from '@mmlab/core/testing';
import { type ExploreStrategy } from '../src/sched/scheduler.js';

const SEEDS = 500;

/** What each scenario's violation must be. */
const EXPECTED: Readonly<Record<Scenario, readonly string[]>> = {
  'tlb-free-before-flush': ['tlb'],
  'anon-fault-no-ptl': ['refcount', 'rss', 'mapcount', 'oracle'],
  'file-fault-no-ptl': ['refcount', 'rss', 'mapcount', 'oracle'],
  // the page comes back mapped beyond the end: not from the file any more, and its data lost
  'file-fault-vs-truncate': ['rmap', 'oracle', 'refcount', 'mapcount', 'pgoff'],
  'file-fault-vs-munmap': [],
  'file-cow-race': [],
  'swap-in-race': [],
};

function ms(x: number): string {
  return `${Math.round(x)} ms`;
}

function foundAndReplays(scenario: Scenario, strategy: ExploreStrategy): void {
  const r = search(scenario, true, SEEDS, { strategy });
  const first = r.first;
  console.log(
    `[mutation] ${scenario} (${strategy}): ${first === null ? `none in ${SEEDS} seeds` : `first failing seed ${first.seed}`} in ${ms(r.ms)}` +
      (first === null ? '' : `; ${first.violations[0]!.check}: ${first.violations[0]!.message}; interleaving: ${first.interleaving}`),
  );
  expect(first, `no violation in ${SEEDS} seeds`).not.toBeNull();
  if (first === null) return;
  expect(first.seed).toBeLessThanOrEqual(SEEDS);
  const checks = first.violations.map((v) => v.check);
  if (scenario === 'tlb-free-before-flush') {
    // reported at the access itself, not at a later boundary
    expect(first.violations[0]!.check).toBe('tlb');
    expect(first.violations[0]!.message).toMatch(/^cpu 1: access at 0x[0-9a-f]+ through a TLB entry to frame \d+, freed since the entry was filled$/);
    expect(first.violations[0]!.op).toBe('threads');
  } else {
    expect(checks.some((c) => EXPECTED[scenario].includes(c))).toBe(true);
  }
  expect(first.interleaving).toMatch(/^[ci]\d( [ci]\d)*$/);
  // the seed replays exactly
  const again = runScenario(scenario, first.seed, true, { strategy });
  expect(again.interleaving).toBe(first.interleaving);
  expect(again.violations).toEqual(first.violations);
}

function noneWithGuard(scenario: Scenario, strategy: ExploreStrategy, seeds = SEEDS): void {
  const r = search(scenario, false, seeds, { strategy });
  console.log(`[mutation] ${scenario} (${strategy}) unmutated: ${r.first === null ? 'none' : `seed ${r.first.seed} failed`} in ${seeds} seeds, ${ms(r.ms)}; ${r.ipiSeeds} seeds took a shootdown IPI, ${r.checks} checks`);
  expect(r.first?.violations ?? []).toEqual([]);
  expect(r.seedsRun).toBe(seeds);
  // the checker did run (every seed: several quiescent points and the boundaries)
  expect(r.checks).toBeGreaterThan(seeds * 3);
}

describe('explore finds a gather that frees pages before the TLB flush', () => {
  it('random: found within 500 seeds, and the seed replays', () => {
    foundAndReplays('tlb-free-before-flush', 'random');
  });

  it('random: the baseline gather (flush, then free) is clean over the same seeds', () => {
    const r = search('tlb-free-before-flush', false, SEEDS, { strategy: 'random' });
    console.log(`[mutation] tlb-free-before-flush (random) unmutated: none in ${SEEDS} seeds, ${ms(r.ms)}; ${r.ipiSeeds} seeds took a shootdown IPI`);
    expect(r.first?.violations ?? []).toEqual([]);
    // not vacuous: in many seeds the reader had the pages in its TLB when the munmap flushed
    expect(r.ipiSeeds).toBeGreaterThan(SEEDS / 10);
  });

  it('pct: the baseline gather is clean over the same seeds', () => {
    noneWithGuard('tlb-free-before-flush', 'pct');
  });

  // PCT draws its change points from the first `pctHorizon` steps (64 by
  // default, about this scenario's length)
  it('pct: found within 500 seeds, and the seed replays', () => {
    foundAndReplays('tlb-free-before-flush', 'pct');
  });
});

describe('explore finds do_anonymous_page without the PTE lock', () => {
  it('random: found within 500 seeds, and the seed replays', () => {
    foundAndReplays('anon-fault-no-ptl', 'random');
  });

  it('random: the baseline fault path is clean over the same seeds', () => {
    noneWithGuard('anon-fault-no-ptl', 'random');
  });

  it('pct: found within 500 seeds, and the seed replays', () => {
    foundAndReplays('anon-fault-no-ptl', 'pct');
  });

  it('pct: the baseline fault path is clean over the same seeds', () => {
    noneWithGuard('anon-fault-no-ptl', 'pct');
  });
});

describe('explore finds __do_fault without the PTE lock and the pte_same re-check', () => {
  for (const scenario of ['file-fault-no-ptl', 'file-fault-vs-truncate'] as const) {
    it(`${scenario}, random: found within 500 seeds, and the seed replays`, () => {
      foundAndReplays(scenario, 'random');
    });

    it(`${scenario}, random: the baseline __do_fault is clean over the same seeds`, () => {
      noneWithGuard(scenario, 'random');
    });
  }
});

describe('the other file-fault races: the baseline is clean', () => {
  it('file-fault-vs-munmap (munmap never runs inside a fault: mmap_sem)', () => {
    noneWithGuard('file-fault-vs-munmap', 'random', 200);
  });

  it('file-cow-race (do_wp_page on page-cache pages)', () => {
    noneWithGuard('file-cow-race', 'random', 200);
  });

  it('swap-in-race (do_swap_page)', () => {
    noneWithGuard('swap-in-race', 'random', 20);
  });
});
