/**
 * The registry: the one list of the proposal packages the lab, the command
 * line and the web app know by name. Each proposal package joins it when it
 * lands; the order here is the canonical order of a feature set.
 * @module
 */

import type { Feature } from '@mmlab/core';
import { hugetlbPagetableOpsFeature } from '@mmlab/hugetlb-pagetable-ops';
import { mixedmap } from '@mmlab/mixedmap';
import { mmuGatherInplace } from '@mmlab/mmu-gather-inplace';
import { mmuNotifiers } from '@mmlab/mmu-notifiers';
import { sharedPagetables } from '@mmlab/shared-pagetables';

/** Every registered feature, in canonical order. */
export const FEATURES: readonly Feature[] = [hugetlbPagetableOpsFeature, mmuGatherInplace, sharedPagetables, mixedmap, mmuNotifiers];

/**
 * The registered feature called `name`.
 * @param name - a feature name such as `mmu-gather-inplace`
 * @param registry - the features to look in (default {@link FEATURES})
 * @returns the feature, or `undefined` when none has that name
 */
export function findFeature(name: string, registry: readonly Feature[] = FEATURES): Feature | undefined {
  return registry.find((f) => f.name === name);
}

/** A feature's name and one-line summary, as lists show them. */
export interface FeatureSummary {
  /** The feature's name. */
  readonly name: string;
  /** Its one-line summary. */
  readonly summary: string;
}

/**
 * Name and one-line summary of every registered feature.
 * @param registry - the features to list (default {@link FEATURES})
 */
export function listFeatures(registry: readonly Feature[] = FEATURES): FeatureSummary[] {
  return registry.map((f) => ({ name: f.name, summary: f.summary }));
}
