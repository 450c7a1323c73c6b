/**
 * What tests, scripts and reports may read of the feature's state.
 * @module
 */
import type { Kernel } from '@mmlab/core';
import { recordedShares, type ShareCounters, stateFor } from './state.js';

/** The feature's counters in kernel `k` (throws when the feature is not installed there). */
export function shareCounters(k: Kernel): Readonly<ShareCounters> {
  return stateFor(k).c;
}

/**
 * The tables the feature shares in kernel `k`: table pfn → (mm id →
 * address of the table's range in that mm).
 */
export function sharedTables(k: Kernel): Map<number, Map<number, number>> {
  const out = new Map<number, Map<number, number>>();
  for (const [t, m] of recordedShares(stateFor(k))) out.set(t, new Map([...m].map(([mm, base]) => [mm.id, base])));
  return out;
}
