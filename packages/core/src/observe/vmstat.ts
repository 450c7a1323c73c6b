/**
 * Counters named as in `/proc/vmstat` (events and gauges), plus model
 * counters prefixed `mmlab_` where the kernel has no name.
 * @module
 */

/** Event counters (monotonic). */
export const VM_EVENTS = [
  'pgfault',
  'pgmajfault',
  'pgalloc_normal',
  'pgfree',
  'nr_tlb_local_flush_one',
  'nr_tlb_local_flush_all',
  'nr_tlb_remote_flush',
  'nr_tlb_remote_flush_received',
  'pswpin',
  'pswpout',
  'pgactivate',
  'pgdeactivate',
  'pgrefill',
  'pgscan_direct',
  'pgsteal_direct',
  'allocstall',
  'oom_kill',
  'mmlab_anon_fault',
  'mmlab_file_fault',
  'mmlab_cow_fault',
  'mmlab_wp_reuse',
  'mmlab_fork_pte_copied',
  'mmlab_zap_pte',
  'mmlab_mprotect_pte',
  'mmlab_mremap_pte',
  'mmlab_gather_flush',
  'mmlab_tlb_miss',
  'mmlab_context_switch',
  'mmlab_huge_fault',
  'mmlab_huge_pmd_share',
  'mmlab_pgtable_share',
  'mmlab_pgtable_unshare',
  'mmlab_sigsegv',
  'mmlab_sigbus',
] as const;

/** Gauges (sampled; their maximum is kept as the peak). */
export const VM_GAUGES = [
  'nr_free_pages',
  'nr_page_table_pages',
  'nr_anon_pages',
  'nr_mapped',
  'nr_file_pages',
  'nr_memmap_pages',
  'nr_active',
  'nr_inactive',
  'nr_swapcached',
  'nr_swap_used',
] as const;

/** An event counter name. */
export type VmEvent = (typeof VM_EVENTS)[number];
/** A gauge name. */
export type VmGauge = (typeof VM_GAUGES)[number];

/**
 * The kernel's counters. Fields are plain numbers on one object so hot
 * paths increment them at the cost of a property store.
 */
export class VmStat implements Record<VmEvent | VmGauge, number> {
  /** Page faults handled (`PGFAULT`). */
  pgfault = 0;
  /** Faults that needed I/O (`PGMAJFAULT`). */
  pgmajfault = 0;
  /** Pages allocated. */
  pgalloc_normal = 0;
  /** Pages freed. */
  pgfree = 0;
  /** Local single-page TLB flushes. */
  nr_tlb_local_flush_one = 0;
  /** Local full TLB flushes. */
  nr_tlb_local_flush_all = 0;
  /** TLB shootdowns sent (once per shootdown). */
  nr_tlb_remote_flush = 0;
  /** Shootdown IPIs received (per target CPU). */
  nr_tlb_remote_flush_received = 0;
  /** Pages read from swap. */
  pswpin = 0;
  /** Pages written to swap. */
  pswpout = 0;
  /** Pages moved to the active list. */
  pgactivate = 0;
  /** Pages moved to the inactive list. */
  pgdeactivate = 0;
  /** Active pages scanned (`pgrefill`). */
  pgrefill = 0;
  /** Inactive pages scanned by direct reclaim. */
  pgscan_direct = 0;
  /** Pages freed by direct reclaim. */
  pgsteal_direct = 0;
  /** Direct reclaim entered (`allocstall`). */
  allocstall = 0;
  /** Allocations that failed with nothing to reclaim (the OOM killer's cases). */
  oom_kill = 0;
  /** Anonymous faults (`do_anonymous_page`). */
  mmlab_anon_fault = 0;
  /** File faults (`__do_fault`). */
  mmlab_file_fault = 0;
  /** COW copies in `do_wp_page`. */
  mmlab_cow_fault = 0;
  /** Write faults that reused the page (`do_wp_page` reuse). */
  mmlab_wp_reuse = 0;
  /** PTEs copied by `copy_page_range`. */
  mmlab_fork_pte_copied = 0;
  /** Present PTEs zapped. */
  mmlab_zap_pte = 0;
  /** PTEs changed by `change_protection`. */
  mmlab_mprotect_pte = 0;
  /** PTEs moved by `move_page_tables`. */
  mmlab_mremap_pte = 0;
  /** mmu_gather flushes (`tlb_flush_mmu` that flushed). */
  mmlab_gather_flush = 0;
  /** Hardware TLB misses (page walks). */
  mmlab_tlb_miss = 0;
  /** Context switches that changed mm. */
  mmlab_context_switch = 0;
  /** Huge pages instantiated by `hugetlb_no_page`. */
  mmlab_huge_fault = 0;
  /** PMD tables shared by `huge_pmd_share`. */
  mmlab_huge_pmd_share = 0;
  /** Shares of a page table taken by a feature (`pgtableShare`). */
  mmlab_pgtable_share = 0;
  /** Shares of a page table dropped (`pgtableUnshare`). */
  mmlab_pgtable_unshare = 0;
  /** SIGSEGV delivered. */
  mmlab_sigsegv = 0;
  /** SIGBUS delivered. */
  mmlab_sigbus = 0;
  /** Free frames. */
  nr_free_pages = 0;
  /** PTE table pages (`NR_PAGETABLE`, PTE level only as in 2.6.24). */
  nr_page_table_pages = 0;
  /** Mapped anonymous pages (`NR_ANON_PAGES`). */
  nr_anon_pages = 0;
  /** Mapped page-cache pages (`NR_FILE_MAPPED`). */
  nr_mapped = 0;
  /** Page-cache pages (`NR_FILE_PAGES`). */
  nr_file_pages = 0;
  /** Frames holding the memmap. */
  nr_memmap_pages = 0;
  /** Pages on the active list. */
  nr_active = 0;
  /** Pages on the inactive list. */
  nr_inactive = 0;
  /** Pages in the swap cache. */
  nr_swapcached = 0;
  /** Swap slots in use. */
  nr_swap_used = 0;

  /** Peak value of each gauge, updated by {@link sample}. */
  readonly peak: Record<VmGauge, number> = {
    nr_free_pages: 0,
    nr_page_table_pages: 0,
    nr_anon_pages: 0,
    nr_mapped: 0,
    nr_file_pages: 0,
    nr_memmap_pages: 0,
    nr_active: 0,
    nr_inactive: 0,
    nr_swapcached: 0,
    nr_swap_used: 0,
  };

  /**
   * Fold the current gauge values into the peaks. Every operation boundary
   * runs it, so it is written out gauge by gauge (a loop over
   * {@link VM_GAUGES} reads the fields by name, several times slower); a
   * test keeps the two lists the same.
   */
  sample(): void {
    const p = this.peak;
    if (this.nr_free_pages > p.nr_free_pages) p.nr_free_pages = this.nr_free_pages;
    if (this.nr_page_table_pages > p.nr_page_table_pages) p.nr_page_table_pages = this.nr_page_table_pages;
    if (this.nr_anon_pages > p.nr_anon_pages) p.nr_anon_pages = this.nr_anon_pages;
    if (this.nr_mapped > p.nr_mapped) p.nr_mapped = this.nr_mapped;
    if (this.nr_file_pages > p.nr_file_pages) p.nr_file_pages = this.nr_file_pages;
    if (this.nr_memmap_pages > p.nr_memmap_pages) p.nr_memmap_pages = this.nr_memmap_pages;
    if (this.nr_active > p.nr_active) p.nr_active = this.nr_active;
    if (this.nr_inactive > p.nr_inactive) p.nr_inactive = this.nr_inactive;
    if (this.nr_swapcached > p.nr_swapcached) p.nr_swapcached = this.nr_swapcached;
    if (this.nr_swap_used > p.nr_swap_used) p.nr_swap_used = this.nr_swap_used;
  }

  /** Events and gauges as a plain object. */
  snapshot(): Record<VmEvent | VmGauge, number> {
    const out = {} as Record<VmEvent | VmGauge, number>;
    for (const e of VM_EVENTS) out[e] = this[e];
    for (const g of VM_GAUGES) out[g] = this[g];
    return out;
  }
}
