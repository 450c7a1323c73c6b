/**
 * Adding pages to the LRU and marking them accessed.
 * @see mm/swap.c lru_cache_add, lru_cache_add_active, mark_page_accessed, activate_page
 * @module
 */
import { LRU_ACTIVE, LRU_INACTIVE } from '../mem/lru.js';
import { PG_active, PG_lru, PG_referenced } from '../mem/page.js';
import type { Kernel } from '../kernel/kernel.js';

/**
 * `lru_cache_add()` / `lru_cache_add_active()`: a new user page joins an
 * LRU list (the kernel batches through a per-CPU pagevec; the model adds
 * at once).
 * @see mm/swap.c lru_cache_add, lru_cache_add_active
 */
export function lruCacheAdd(k: Kernel, pfn: number, active: boolean): void {
  k.lru.add(pfn, active ? LRU_ACTIVE : LRU_INACTIVE);
}

/**
 * `mark_page_accessed()`: inactive,referenced → active; otherwise set
 * referenced.
 * @see mm/swap.c mark_page_accessed
 */
export function markPageAccessed(k: Kernel, pfn: number): void {
  const f = k.pages.flags[pfn]!;
  if ((f & PG_active) === 0 && (f & PG_referenced) !== 0 && (f & PG_lru) !== 0) {
    k.lru.del(pfn);
    k.lru.add(pfn, LRU_ACTIVE);
    k.pages.flags[pfn]! &= ~PG_referenced;
    k.vm.pgactivate++;
  } else if ((f & PG_referenced) === 0) {
    k.pages.flags[pfn] = f | PG_referenced;
  }
}
