/**
 * `@mmlab/mixedmap/testing`: test-only mutations of the feature.
 *
 * TEST-ONLY: nothing here belongs in a simulation.
 * {@link gupFastIrqsOn} (`mutation-gup-fast-irqs-on`) runs the lockless
 * walk of `get_user_pages_fast` with interrupts on: the TLB shootdown IPI
 * of a racing munmap is taken in the middle of the walk, the zap frees
 * the page-table page (and the pages) the walker is about to read, and the
 * walk's check reports the use-after-free. With the guard, explore mode
 * finds none. {@link gupFastRace} runs one seed of that race.
 * @module
 */
import {
  buildKernel,
  defineFeature,
  type Feature,
  type FeatureRequest,
  type Kernel,
  KernelConfigError,
  type KGen,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_PRIVATE,
  PAGE_SIZE,
  PROT_READ,
  PROT_WRITE,
  type Violation,
} from '@mmlab/core';
import { gupFastConfig, mixedmap, NAME } from './mixedmap.js';

/** Test-only mutation: `get_user_pages_fast` walks with interrupts on (the guard removed). */
export const gupFastIrqsOn: Feature = defineFeature({
  name: 'mutation-gup-fast-irqs-on',
  summary: 'test-only: get_user_pages_fast walks the page tables with interrupts on',
  thread: { subject: 'test-only mutation', author: 'mmlab tests', date: '2008-03' },
  options: {},
  requires: [NAME],
  install(k) {
    const cfg = gupFastConfig(k);
    if (cfg === undefined) throw new KernelConfigError("mutation-gup-fast-irqs-on needs 'mixedmap' with gupFast=true, listed before it");
    cfg.irqGuard = false;
  },
});

/** What one seeded run of {@link gupFastRace} found. */
export interface GupRaceOutcome {
  /** The violations the checker recorded (the oracle's, about reads racing the unmap of their own page, left out). */
  readonly violations: Violation[];
  /** The interleaving took a TLB-shootdown IPI (the race window was open). */
  readonly ipi: boolean;
  /** Pages the lockless walk pinned. */
  readonly fastPages: number;
}

/** Pages of the race's mapping: alone in their PTE and PMD tables, so the unmap frees both. */
const RACE_PAGES = 8;
/** A fixed, PGD-aligned address for the race's mapping. */
const RACE_ADDR = 2 ** 44;

/**
 * One seed of the race the guard is for, in explore mode on 2 CPUs with
 * the checker on: thread a of a process unmaps 8 pages it wrote (freeing
 * the pages, the PTE table and the PMD table), while thread b pins them
 * with direct I/O, 4 pages per call, until a call fails. The kernel has
 * `mixedmap` (defaults), then `others` (features to combine with it, or
 * {@link gupFastIrqsOn}); everything exits and the kernel finishes.
 */
export function gupFastRace(seed: number, others: readonly FeatureRequest[] = [], preempt = false): GupRaceOutcome {
  const features: FeatureRequest[] = [mixedmap, ...others];
  const k: Kernel = buildKernel({ mode: 'explore', seed, check: true, cpus: 2, memBytes: 32 * 2 ** 20, config: { preempt }, features });
  const a = k.spawn();
  const b = k.clone(a);
  const len = RACE_PAGES * PAGE_SIZE;
  if (k.mmap(a, RACE_ADDR, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED) !== RACE_ADDR) throw new Error('gupFastRace: mmap failed');
  if (k.touch(a, RACE_ADDR, len, true) !== 0) throw new Error('gupFastRace: touch failed');
  const sa = k.sys(a);
  const sb = k.sys(b);
  k.runThreads([
    {
      task: a,
      program: (function* (): KGen<void> {
        yield* sa.munmap(RACE_ADDR, len);
      })(),
    },
    {
      task: b,
      program: (function* (): KGen<void> {
        for (let round = 0; round < 4; round++) {
          for (let i = 0; i < RACE_PAGES; i += 4) {
            if ((yield* sb.directIo(RACE_ADDR + i * PAGE_SIZE, 4, false)) < 0) return;
          }
        }
      })(),
    },
  ]);
  const ipi = /\bi\d/.test(k.lastScheduler!.interleaving());
  k.exit(b);
  k.exit(a);
  k.finish();
  const violations = k.invariants.violations.filter((v) => v.check !== 'oracle');
  return { violations, ipi, fastPages: k.metrics().feature?.[NAME]?.gup_fast_pages ?? 0 };
}
