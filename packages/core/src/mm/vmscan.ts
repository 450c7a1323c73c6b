/**
 * Page reclaim: direct reclaim when free memory falls below `pages_min`.
 *
 * `try_to_free_pages` scans the zone at falling priority; `shrink_zone`
 * scans `(list size >> priority) + 1` pages of each list per priority,
 * alternating `shrink_active_list` (age mapped pages through the young
 * bits and move the unreferenced ones to the inactive list) and
 * `shrink_inactive_list` → `shrink_page_list` (referenced → activate;
 * anonymous → add to swap; mapped → `try_to_unmap`; dirty → write out;
 * then `remove_mapping` and free, unless someone else — a `get_user_pages`
 * pin — still holds a reference).
 *
 * The cost is linear in the pages reclaimed: every page scanned adds to
 * `zone->pages_scanned`, freeing a page resets it, and a zone scanned six
 * times over without a page freed is `all_unreclaimable`: direct reclaim
 * then scans it only at `DEF_PRIORITY` and reports no progress, and the
 * allocation goes to the OOM path at once instead of rescanning the whole
 * zone for every page of the reserve.
 *
 * There is one zone, no kswapd (the zone is marked all-unreclaimable by
 * direct reclaim, as `balance_pgdat` would), and writeback is synchronous.
 * @see mm/vmscan.c try_to_free_pages, shrink_zones, shrink_zone, shrink_active_list, shrink_inactive_list, shrink_page_list, remove_mapping, balance_pgdat
 * @module
 */
import { LRU_ACTIVE, LRU_INACTIVE } from '../mem/lru.js';
import { PG_active, PG_anon, PG_dirty, PG_swapcache } from '../mem/page.js';
import type { Kernel } from '../kernel/kernel.js';
import type { KGen } from '../sched/run.js';
import { shmemWritepage } from '../fs/shmem.js';
import { SWAP_FAIL, SWAP_SUCCESS, pageReferenced, rmapWalkMemoBegin, rmapWalkMemoEnd, tryToUnmap } from './rmap.js';
import { addToSwap, deleteFromSwapCache, swapWritepage } from './swapfile.js';

/** `DEF_PRIORITY`: scan 1/4096 of the lists first. */
export const DEF_PRIORITY = 12;
/** `SWAP_CLUSTER_MAX`: pages per batch and the reclaim goal. */
export const SWAP_CLUSTER_MAX = 32;
/** `vm_swappiness` default. */
export const VM_SWAPPINESS = 60;
/**
 * A zone whose `pages_scanned` reaches this many times its LRU pages
 * without a page freed is all-unreclaimable.
 * @see mm/vmscan.c balance_pgdat (the `* 6` test)
 */
export const ZONE_UNRECLAIMABLE_SCANS = 6;

/**
 * Freeing a page resets `zone->pages_scanned` and clears
 * `ZONE_ALL_UNRECLAIMABLE`, as `free_pages_bulk` does. The model applies
 * the reset lazily, when reclaim next looks at the zone: any page freed
 * since (the `pgfree` counter moved) counts, so the page allocator's free
 * path stays untouched.
 * @see mm/page_alloc.c free_pages_bulk
 */
function zoneNoteFrees(k: Kernel): void {
  const freed = k.vm.pgfree;
  if (freed === k.pgfreeAtScan) return;
  k.pgfreeAtScan = freed;
  k.pagesScanned = 0;
  k.allUnreclaimable = false;
}

/** Pages on the zone's LRU lists (`NR_ACTIVE + NR_INACTIVE`). */
function zoneLruPages(k: Kernel): number {
  return k.lru.nr[LRU_ACTIVE] + k.lru.nr[LRU_INACTIVE];
}

/**
 * `zone_reclaimable()`: fewer pages scanned since the last page was freed
 * than six times the pages on the LRU lists.
 * @see mm/vmscan.c balance_pgdat (2.6.24 sets ZONE_ALL_UNRECLAIMABLE on this test; later kernels name it zone_reclaimable)
 */
export function zoneReclaimable(k: Kernel): boolean {
  zoneNoteFrees(k);
  return k.pagesScanned < zoneLruPages(k) * ZONE_UNRECLAIMABLE_SCANS;
}

/**
 * `zone_is_near_oom()`: three times the LRU scanned without a page freed;
 * `shrink_active_list` then deactivates mapped pages whatever the
 * swap tendency says.
 * @see include/linux/mmzone.h zone_is_near_oom (mm/vmscan.c in 2.6.24)
 */
function zoneIsNearOom(k: Kernel): boolean {
  return k.pagesScanned >= zoneLruPages(k) * 3;
}

/** `page_mapping_inuse()`: mapped, in the swap cache, or of a mapped file. */
function pageMappingInuse(k: Kernel, pfn: number): boolean {
  const p = k.pages;
  if (p.mapcount[pfn]! > 0) return true;
  if ((p.flags[pfn]! & PG_swapcache) !== 0) return true;
  if ((p.flags[pfn]! & PG_anon) !== 0) return false;
  const f = k.files.get(p.mapping[pfn]!);
  return f !== undefined && f.mapped;
}

const enum Verdict {
  Free,
  Keep,
  Activate,
}

/** One page of `shrink_page_list()`. */
function* shrinkPage(k: Kernel, pfn: number): KGen<Verdict> {
  const p = k.pages;
  const referenced = yield* pageReferenced(k, pfn);
  if (referenced > 0 && pageMappingInuse(k, pfn)) return Verdict.Activate;
  const anon = (p.flags[pfn]! & PG_anon) !== 0;
  if (anon && (p.flags[pfn]! & PG_swapcache) === 0) {
    if (!addToSwap(k, pfn)) return Verdict.Activate;
  }
  if (p.mapcount[pfn]! > 0) {
    const r = yield* tryToUnmap(k, pfn);
    if (r === SWAP_FAIL) return Verdict.Activate;
    if (r !== SWAP_SUCCESS) return Verdict.Keep;
  }
  if (anon) {
    if ((p.flags[pfn]! & PG_dirty) !== 0) {
      if (referenced > 0) return Verdict.Keep;
      swapWritepage(k, pfn);
    }
    // remove_mapping: only the swap cache may hold the page
    if (p.count[pfn] !== 1) return Verdict.Keep;
    deleteFromSwapCache(k, pfn);
    return Verdict.Free;
  }
  // a page-cache page of a tmpfs file: shmem_writepage moves it to swap;
  // a page truncated away while pinned has no mapping and waits for its last put_page
  if (p.count[pfn] !== 1 || p.mapping[pfn] === 0) return Verdict.Keep;
  return shmemWritepage(k, pfn) ? Verdict.Free : Verdict.Activate;
}

/**
 * `shrink_inactive_list()`: isolate up to `max` pages from the inactive
 * tail, try to free each, put the rest back. Returns pages freed.
 * @see mm/vmscan.c shrink_inactive_list
 */
export function* shrinkInactiveList(k: Kernel, max: number): KGen<number> {
  const lru = k.lru;
  const batch: number[] = [];
  for (let i = 0; i < max; i++) {
    const pfn = lru.tail(LRU_INACTIVE);
    if (pfn === 0) break;
    lru.del(pfn);
    batch.push(pfn);
  }
  zoneNoteFrees(k);
  k.pagesScanned += batch.length;
  k.vm.pgscan_direct += batch.length;
  let freed = 0;
  for (const pfn of batch) {
    k.charge(k.costs.reclaimPage);
    const v = yield* shrinkPage(k, pfn);
    if (v === Verdict.Free) {
      freed++;
      continue;
    }
    if (v === Verdict.Activate) {
      k.vm.pgactivate++;
      lru.add(pfn, LRU_ACTIVE);
    } else {
      lru.add(pfn, (k.pages.flags[pfn]! & PG_active) !== 0 ? LRU_ACTIVE : LRU_INACTIVE);
    }
  }
  k.vm.pgsteal_direct += freed;
  return freed;
}

/**
 * `shrink_active_list()`: move up to `max` pages from the active tail to
 * the inactive list, keeping mapped pages that were referenced (when
 * mapped pages may be reclaimed at all: `swap_tendency` ≥ 100, or the
 * zone is near OOM).
 * @see mm/vmscan.c shrink_active_list
 */
export function* shrinkActiveList(k: Kernel, max: number, priority: number): KGen<void> {
  const lru = k.lru;
  const vm = k.vm;
  zoneNoteFrees(k);
  const distress = 100 >> priority;
  const mappedRatio = Math.floor(((vm.nr_mapped + vm.nr_anon_pages) * 100) / k.mem.nrFrames);
  const reclaimMapped = zoneIsNearOom(k) || mappedRatio / 2 + distress + VM_SWAPPINESS >= 100;
  const hold: number[] = [];
  for (let i = 0; i < max; i++) {
    const pfn = lru.tail(LRU_ACTIVE);
    if (pfn === 0) break;
    lru.del(pfn);
    hold.push(pfn);
  }
  k.pagesScanned += hold.length;
  vm.pgrefill += hold.length;
  const p = k.pages;
  for (const pfn of hold) {
    k.charge(k.costs.reclaimPage);
    if (p.mapcount[pfn]! > 0) {
      if (!reclaimMapped || (k.swap.totalPages === 0 && (p.flags[pfn]! & PG_anon) !== 0) || (yield* pageReferenced(k, pfn)) > 0) {
        lru.add(pfn, LRU_ACTIVE);
        continue;
      }
    }
    lru.add(pfn, LRU_INACTIVE);
    vm.pgdeactivate++;
  }
}

/**
 * `shrink_zone()`: scan both lists in batches of `SWAP_CLUSTER_MAX`, the
 * amounts accumulating per priority as `zone->nr_scan_*` did.
 * @see mm/vmscan.c shrink_zone
 */
export function* shrinkZone(k: Kernel, priority: number): KGen<number> {
  const lru = k.lru;
  k.nrScanActive += (lru.nr[LRU_ACTIVE] >> priority) + 1;
  let nrActive = k.nrScanActive;
  if (nrActive >= SWAP_CLUSTER_MAX) k.nrScanActive = 0;
  else nrActive = 0;
  k.nrScanInactive += (lru.nr[LRU_INACTIVE] >> priority) + 1;
  let nrInactive = k.nrScanInactive;
  if (nrInactive >= SWAP_CLUSTER_MAX) k.nrScanInactive = 0;
  else nrInactive = 0;
  let reclaimed = 0;
  while (nrActive > 0 || nrInactive > 0) {
    if (nrActive > 0) {
      const n = Math.min(nrActive, SWAP_CLUSTER_MAX);
      nrActive -= n;
      yield* shrinkActiveList(k, n, priority);
    }
    if (nrInactive > 0) {
      const n = Math.min(nrInactive, SWAP_CLUSTER_MAX);
      nrInactive -= n;
      reclaimed += yield* shrinkInactiveList(k, n);
    }
  }
  return reclaimed;
}

/**
 * `shrink_zones()` for the model's one zone: a zone found all-unreclaimable
 * is left alone below `DEF_PRIORITY`; after the scan the zone is marked
 * all-unreclaimable when it is no longer {@link zoneReclaimable} (the
 * model has no kswapd, whose `balance_pgdat` sets the mark in 2.6.24).
 * Returns the pages freed, or -1 when the zone was skipped
 * (`sc->all_unreclaimable` stays set).
 * @see mm/vmscan.c shrink_zones, balance_pgdat
 */
export function* shrinkZones(k: Kernel, priority: number): KGen<number> {
  zoneNoteFrees(k);
  if (k.allUnreclaimable && priority !== DEF_PRIORITY) return -1;
  const reclaimed = yield* shrinkZone(k, priority);
  if (!zoneReclaimable(k)) k.allUnreclaimable = true;
  return reclaimed;
}

/**
 * `try_to_free_pages()`: direct reclaim at falling priority until
 * `SWAP_CLUSTER_MAX` pages are freed or every priority was tried. Returns
 * the kernel's `ret`: true when it made progress (freed enough, or the
 * zone was still worth scanning at the last priority), false when the zone
 * is all-unreclaimable — the caller's cue for `out_of_memory()`.
 * @see mm/vmscan.c try_to_free_pages
 */
export function* tryToFreePages(k: Kernel): KGen<boolean> {
  k.vm.allocstall++;
  let reclaimed = 0;
  let allUnreclaimable = true;
  const memo = rmapWalkMemoBegin(k);
  try {
    for (let priority = DEF_PRIORITY; priority >= 0; priority--) {
      const r = yield* shrinkZones(k, priority);
      allUnreclaimable = r < 0;
      if (r > 0) reclaimed += r;
      yield* k.condResched();
      if (reclaimed >= SWAP_CLUSTER_MAX) return true;
    }
  } finally {
    rmapWalkMemoEnd(memo);
  }
  return !allUnreclaimable;
}
