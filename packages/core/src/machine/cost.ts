/**
 * The cost model: named costs in nanoseconds of simulated time.
 *
 * Each machine profile carries a table. The x86-64 figures are calibrated to
 * the native costs measured on this project's machine (see
 * `shared/REFERENCE.md`): an anonymous write fault is `faultEntry +
 * pageAlloc + clearPage + anonFaultRest` = 1450 ns, a PTE copied at fork
 * 45 ns, a page unmapped 95 ns, a PTE mprotected 31 ns, a COW fault about
 * 2700 ns. Costs of 2008 hardware that were not measured are estimates and
 * say so.
 * @module
 */

/** The named costs a kernel path charges to the running CPU's clock. */
export interface CostTable {
  /** Syscall entry and exit. */
  syscall: number;
  /** Page-fault exception entry, `do_page_fault`, `find_vma`. */
  faultEntry: number;
  /** `alloc_page()`. */
  pageAlloc: number;
  /** Freeing one page (`__free_page` / `free_pages_and_swap_cache` per page). */
  pageFree: number;
  /** `clear_user_highpage()`. */
  clearPage: number;
  /** `copy_user_highpage()` (COW). */
  copyPage: number;
  /** The rest of `do_anonymous_page` (locking, rmap, LRU, set_pte). */
  anonFaultRest: number;
  /** `__do_fault` for a page-cache hit: `->fault`, rmap, set_pte. */
  fileFaultRest: number;
  /** The rest of a COW `do_wp_page` (rmap, LRU, locking). */
  wpCopyRest: number;
  /** `do_wp_page` when the page is reused. */
  wpReuse: number;
  /** Allocating and clearing a page-table page. */
  tableAlloc: number;
  /** Freeing a page-table page. */
  tableFree: number;
  /** Installing a new table under `page_table_lock` (`pmd_populate` and the check before it). */
  tablePopulate: number;
  /** `copy_one_pte` for a present PTE. */
  copyPte: number;
  /** Skipping an empty PTE in a copy, zap or protection walk. */
  scanPteNone: number;
  /** `zap_pte_range` per present PTE (rmap, counters; the free is `pageFree`). */
  zapPte: number;
  /** `change_pte_range` per present PTE. */
  changePte: number;
  /** `move_ptes` per PTE (the flush is charged separately). */
  movePte: number;
  /** VMA bookkeeping: split, merge, link, unlink. */
  vmaOp: number;
  /** Local full TLB flush (CR3 reload) and the refill it causes. */
  tlbFlushAll: number;
  /** Local single-page flush (`invlpg`). */
  tlbFlushOne: number;
  /** Sending a TLB-shootdown IPI and waiting for the acks (base). */
  ipiShootdown: number;
  /** Per target CPU of a shootdown: interrupt, handler, ack. */
  ipiPerTarget: number;
  /** A hardware page walk on a TLB miss. */
  tlbMissWalk: number;
  /** A user access that hits the TLB. */
  tlbHit: number;
  /** A context switch (without the TLB flush, charged as `tlbFlushAll`). */
  contextSwitch: number;
  /** Reclaim's handling of one scanned page (rmap walk, list moves). */
  reclaimPage: number;
  /** Moving a contended cache line (a lock word) from another core of the same socket. */
  cacheLineSocket: number;
  /** Moving a cache line from the other socket (the 2008 front-side bus). */
  cacheLineRemote: number;
  /** Taking an IPI: interrupt entry, the flush handler, the ack. */
  ipiHandler: number;
  /** `get_user_pages` per page found mapped (follow_page, reference). */
  gupPage: number;
  /** One page of swap I/O (read or write; a 2008 disk, amortised by clustering). */
  swapIo: number;
}

/** Costs for the x86-64 profile (see the module comment for their origin). */
export const X86_64_COSTS: Readonly<CostTable> = Object.freeze({
  syscall: 100,
  faultEntry: 500,
  pageAlloc: 120,
  pageFree: 60,
  clearPage: 490,
  copyPage: 900,
  anonFaultRest: 340,
  fileFaultRest: 250,
  wpCopyRest: 1100,
  wpReuse: 150,
  tableAlloc: 600,
  tableFree: 100,
  tablePopulate: 40,
  copyPte: 45,
  scanPteNone: 1,
  zapPte: 35,
  changePte: 31,
  movePte: 40,
  vmaOp: 150,
  tlbFlushAll: 200,
  tlbFlushOne: 80,
  ipiShootdown: 1500,
  ipiPerTarget: 400,
  tlbMissWalk: 40,
  tlbHit: 1,
  contextSwitch: 1500,
  reclaimPage: 300,
  swapIo: 20000,
  gupPage: 60,
  cacheLineSocket: 60,
  cacheLineRemote: 250,
  ipiHandler: 800,
});

/** The names of the costs, in the table's order. */
export const COST_KEYS: readonly (keyof CostTable)[] = Object.freeze(Object.keys(X86_64_COSTS) as (keyof CostTable)[]);
