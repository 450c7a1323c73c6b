/**
 * The workload that shows each registered proposal: what `mmlab ab --each`
 * (and `npm start`) compares against the baseline. A proposal joins this
 * list with the registry.
 * @module
 */

import type { RunSettings } from './run.js';

/** One proposal's showcase. */
export interface Showcase {
  /** The feature set B (a registered feature, maybe with options). */
  readonly feature: string;
  /** The workload that shows it. */
  readonly workload: string;
  /** Settings the comparison needs (mode, CPUs). */
  readonly settings: RunSettings;
  /** One line: what to look at. */
  readonly why: string;
}

/** Every registered proposal's showcase, in registry order. */
export const SHOWCASE: readonly Showcase[] = [
  {
    feature: 'hugetlb-pagetable-ops',
    workload: 'hugetlb-shm:procs=8:size=1g',
    settings: {},
    why: 'hugetlb-pagetable-ops on a 1 GiB hugetlbfs SGA shared by 8 processes: is_vm_hugetlb_page() branches become calls through vma->pagetable_ops',
  },
  {
    feature: 'mmu-gather-inplace',
    workload: 'kbuild:jobs=4:objs=32',
    settings: { mode: 'timed', cpus: 4 },
    why: 'mmu-gather-inplace on make -j4 (timed, 4 CPUs): one TLB flush per gather instead of one per full per-CPU vector, and shorter non-preemptible stretches',
  },
  {
    feature: 'shared-pagetables',
    workload: 'shm-procs:procs=32:size=256m',
    settings: {},
    why: 'shared-pagetables on 32 processes mapping one 256 MiB tmpfs file: the file\'s PTE pages are built once and shared, not once per process',
  },
];
