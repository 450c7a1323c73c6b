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
  {
    feature: 'mixedmap',
    workload: 'oltp-dio:procs=4:cpus=8:txns=64',
    settings: { mode: 'timed' },
    why: 'mixedmap on an OLTP direct-I/O load (4 database processes, 8 CPUs of 2 sockets, timed): get_user_pages_fast pins the I/O pages without mmap_sem',
  },
  {
    feature: 'mmu-notifiers',
    workload: 'kvm-guest:guest=24m:host=24m',
    settings: { memBytes: 32 * 2 ** 20, swapBytes: 64 * 2 ** 20 },
    why: 'mmu-notifiers on a KVM-like guest under host memory pressure (32 MiB of RAM): without notifiers its sptes pin it in RAM, with them reclaim swaps guest pages out (figure guest_swapped_out)',
  },
];
