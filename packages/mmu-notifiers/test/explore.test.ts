/**
 * Explore mode: a vCPU thread faults guest pages into KVM-like sptes
 * through get_user_pages while another thread of the VMM discards or unmaps
 * the same pages. Without the sequence/retry protocol (a test-only
 * mutation) some interleaving installs an spte after the invalidate that
 * should have removed it, and the coherence check reports it; with the
 * protocol no seed finds anything, in either variant.
 */
import { describe, expect, it } from 'vitest';
import {
  buildKernel,
  type Kernel,
  type KGen,
  MADV_DONTNEED,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_PRIVATE,
  PAGE_SIZE,
  PROT_READ,
  PROT_WRITE,
  type Violation,
} from '@mmlab/core';
import { KvmGuest, mmuNotifiers, NAME } from '../src/index.js';

const P = PAGE_SIZE;
const MiB = 2 ** 20;
const BASE = 2 ** 40;
const PAGES = 8;
const SEEDS = 120;

type Change = 'madvise' | 'munmap';

function kernel(seed: number, variant: 'v6' | 'range', preempt: boolean): Kernel {
  return buildKernel({
    mode: 'explore',
    seed,
    check: true,
    cpus: 2,
    memBytes: 16 * MiB,
    config: { preempt },
    features: [{ feature: mmuNotifiers, options: { variant } }],
  });
}

/** One interleaving: the vCPU writes every guest page while the VMM changes them. Returns the violations and the retries. */
function race(k: Kernel, change: Change, safe: boolean): { violations: Violation[]; retries: number } {
  const vmm = k.spawn();
  const vcpu = k.clone(vmm);
  if (k.mmap(vmm, BASE, PAGES * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED) !== BASE) throw new Error('mmap');
  if (k.touch(vmm, BASE, PAGES * P, true) !== 0) throw new Error('touch');
  const kvm = new KvmGuest(k, vmm.mm!, BASE, PAGES * P, { unsafeNoRetry: !safe });
  KvmGuest.run(k, vmm, kvm.attach(k));
  const sys = k.sys(vmm);
  k.runThreads([
    {
      task: vcpu,
      program: (function* (): KGen<void> {
        yield* kvm.accessRange(k, 0, PAGES, true);
      })(),
    },
    {
      task: vmm,
      program: (function* (): KGen<void> {
        if (change === 'munmap') yield* sys.munmap(BASE, PAGES * P);
        else yield* sys.madvise(BASE, PAGES * P, MADV_DONTNEED);
      })(),
    },
  ]);
  KvmGuest.run(k, vmm, kvm.detach(k));
  k.exit(vcpu);
  k.exit(vmm);
  k.finish();
  return { violations: k.invariants.violations.slice(), retries: k.metrics().feature?.[NAME]?.kvm_spte_retries ?? 0 };
}

describe('explore: the KVM fault/invalidate race', () => {
  for (const variant of ['v6', 'range'] as const) {
    for (const change of ['madvise', 'munmap'] as const) {
      it(`${variant}, ${change}: without the retry protocol some seed leaves a stale spte`, () => {
        let found: { seed: number; violations: Violation[] } | null = null;
        for (let seed = 1; seed <= SEEDS && found === null; seed++) {
          const r = race(kernel(seed, variant, true), change, false);
          if (r.violations.length > 0) found = { seed, violations: r.violations };
        }
        expect(found, 'no seed found the race').not.toBeNull();
        expect(found!.violations.some((v) => v.check === `${NAME}:coherence`)).toBe(true);
        // the same seed finds the same thing again
        const again = race(kernel(found!.seed, variant, true), change, false);
        expect(again.violations).toEqual(found!.violations);
      });

      for (const preempt of [false, true]) {
        it(`${variant}, ${change}, ${preempt ? 'PREEMPT' : 'no PREEMPT'}: with the protocol, ${SEEDS} seeds, no violation`, () => {
          let retries = 0;
          for (let seed = 1; seed <= SEEDS; seed++) {
            const r = race(kernel(seed, variant, preempt), change, true);
            expect(r.violations, `seed ${seed}`).toEqual([]);
            retries += r.retries;
          }
          // the window was hit: some faults had to retry
          expect(retries).toBeGreaterThan(0);
        });
      }
    }
  }
});
