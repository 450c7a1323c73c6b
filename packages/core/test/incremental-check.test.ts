/**
 * The incremental checker (what the operations touched, at each boundary)
 * against the full walk: on every seed of every mutation scenario it finds
 * a violation exactly when the full walk does, of the same checks; on
 * seeded workloads without a bug both find nothing after the same number
 * of checks.
 */
import { describe, expect, it } from 'vitest';
import { MUTATION_OF, runScenario, SCENARIOS } from '@mmlab/core/testing';
import { buildKernel, MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, PAGE_SIZE, PROT_READ, PROT_WRITE, type Kernel } from '../src/index.js';

const SEEDS = 60;

function checksOf(vs: readonly { check: string }[]): string[] {
  return [...new Set(vs.map((v) => v.check))].sort();
}

describe('the incremental checker finds what the full walk finds', () => {
  for (const scenario of SCENARIOS.filter((s) => MUTATION_OF[s] !== null)) {
    it(`${scenario}: the same seeds fail, with the same checks`, () => {
      let found = 0;
      for (let seed = 1; seed <= SEEDS; seed++) {
        const inc = runScenario(scenario, seed, true, {}, false);
        const full = runScenario(scenario, seed, true, {}, true);
        expect(inc.interleaving).toBe(full.interleaving);
        expect(inc.checks).toBe(full.checks);
        expect(inc.violations.length > 0, `seed ${seed}`).toBe(full.violations.length > 0);
        // the first violation is found at the same operation
        if (full.violations.length > 0) {
          found++;
          expect(inc.violations[0]!.op).toBe(full.violations[0]!.op);
          for (const c of checksOf(full.violations)) if (c !== 'pte' && c !== 'lru') expect(checksOf(inc.violations)).toContain(c);
        }
      }
      expect(found).toBeGreaterThan(0);
    });
  }
});

/** A seeded mix of mmap, touch, fork, mprotect, munmap, truncate and exit on 64 MiB. */
function mixed(k: Kernel, seed: number): void {
  let x = seed;
  const rnd = (n: number): number => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x % n;
  };
  const a = k.spawn();
  const len = 64 * PAGE_SIZE;
  const anon = k.mmap(a, 0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  const file = k.shmemCreate('f', len);
  const shm = k.mmap(a, 0, len, PROT_READ | PROT_WRITE, MAP_SHARED, file);
  const kids = [];
  for (let i = 0; i < 120; i++) {
    const r = rnd(10);
    const page = rnd(64) * PAGE_SIZE;
    if (r < 4) k.touch(a, anon + page, PAGE_SIZE * (1 + rnd(4)), rnd(2) === 0);
    else if (r < 6) k.touch(a, shm + page, PAGE_SIZE, rnd(2) === 0);
    else if (r === 6 && kids.length < 3) {
      const c = k.fork(a);
      if (typeof c !== 'number') kids.push(c);
    } else if (r === 7 && kids.length > 0) {
      const c = kids[rnd(kids.length)]!;
      k.touch(c, anon + page, PAGE_SIZE, true);
    } else if (r === 8) k.mprotect(a, anon + page, PAGE_SIZE, rnd(2) === 0 ? PROT_READ : PROT_READ | PROT_WRITE);
    else if (r === 9 && rnd(4) === 0) k.ftruncate(file, rnd(64) * PAGE_SIZE);
    else k.madvise(a, anon + page, PAGE_SIZE, 4);
  }
  for (const c of kids) k.exit(c);
  k.exit(a);
  k.finish();
}

describe('without a bug', () => {
  it('finds nothing, like the full walk, with the same number of checks', () => {
    for (const seed of [1, 2, 3]) {
      const inc = buildKernel({ check: true, memBytes: 16 << 20, seed });
      const full = buildKernel({ check: true, memBytes: 16 << 20, seed });
      full.fullCheck = true;
      mixed(inc, seed);
      mixed(full, seed);
      expect(inc.invariants.violations).toEqual([]);
      expect(full.invariants.violations).toEqual([]);
      expect(inc.invariants.checks).toBe(full.invariants.checks);
    }
  });
});
