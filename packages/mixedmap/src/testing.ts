/**
 * `@mmlab/mixedmap/testing`: test-only mutations of the feature.
 *
 * TEST-ONLY: nothing here belongs in a simulation.
 * {@link gupFastIrqsOn} (`mutation-gup-fast-irqs-on`) runs the lockless
 * walk of `get_user_pages_fast` with interrupts on: the TLB shootdown IPI
 * of a racing munmap is taken in the middle of the walk, the zap frees
 * the page-table page (and the pages) the walker is about to read, and the
 * walk's check reports the use-after-free. With the guard, explore mode
 * finds none.
 * @module
 */
import { defineFeature, type Feature, KernelConfigError } from '@mmlab/core';
import { gupFastConfig, NAME } from './mixedmap.js';

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
