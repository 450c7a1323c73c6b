/**
 * Swap space and the swap cache.
 *
 * One swap device: `swap_map` counts the references to each slot (one per
 * swap PTE, one for the swap cache, one per tmpfs file that keeps the slot),
 * `data` holds each slot's contents (the page's data token), and the swap
 * cache maps a slot to the page that caches it. Slot 0 is the swap header,
 * as in the kernel. Writeback is synchronous in the model: `pageout`
 * completes at once.
 * @see mm/swapfile.c get_swap_page, swap_duplicate, swap_free, free_swap_and_cache, can_share_swap_page
 * @see mm/swap_state.c add_to_swap, add_to_swap_cache, delete_from_swap_cache, read_swap_cache_async, free_page_and_swap_cache
 * @module
 */
import { PG_active, PG_dirty, PG_huge, PG_lru, PG_swapcache, PG_table } from '../mem/page.js';
import { LRU_ACTIVE, LRU_INACTIVE } from '../mem/lru.js';
import type { Kernel } from '../kernel/kernel.js';
import type { KGen } from '../sched/run.js';
import { lruCacheAdd } from './lru-cache.js';
import { allocPage, putPage } from './page-ref.js';

/** The swap device. */
export class SwapInfo {
  /** Slots, including the header slot 0. */
  readonly nrSlots: number;
  /** `swap_map`: references per slot. */
  readonly map: Uint16Array;
  /** Contents per slot (a data token). */
  readonly data: Uint32Array;
  /** Swap cache: the page caching each slot, or 0. */
  readonly cache: Int32Array;
  /** Slots in use (`inuse_pages`). */
  inuse = 0;
  /** Where the next search starts (`cluster_next`). */
  cursor = 1;
  /**
   * One past the highest slot ever given a count ({@link getSwapPage}) or
   * a swap-cache page: only this module's functions write `map` and
   * `cache`, and a slot gets a nonzero entry only through those two, so
   * every slot from it on is still as the device came (the checker's
   * bound).
   */
  highWater = 1;

  constructor(bytes: number) {
    this.nrSlots = Math.max(1, Math.floor(bytes / 4096));
    this.map = new Uint16Array(this.nrSlots);
    this.data = new Uint32Array(this.nrSlots);
    this.cache = new Int32Array(this.nrSlots);
  }

  /** `total_swap_pages`. */
  get totalPages(): number {
    return this.nrSlots - 1;
  }

  /** `vm_swap_full()`: more than half in use. */
  get full(): boolean {
    return this.inuse * 2 > this.totalPages;
  }
}

/**
 * `get_swap_page()`: a free slot with count 1, or 0 when swap is full.
 * @see mm/swapfile.c get_swap_page
 */
export function getSwapPage(k: Kernel): number {
  const si = k.swap;
  if (si.inuse >= si.totalPages) return 0;
  for (let n = 0; n < si.nrSlots; n++) {
    const s = si.cursor;
    si.cursor = si.cursor + 1 >= si.nrSlots ? 1 : si.cursor + 1;
    if (s !== 0 && si.map[s] === 0) {
      k.touched?.slots.add(s);
      si.map[s] = 1;
      si.inuse++;
      if (s >= si.highWater) si.highWater = s + 1;
      return s;
    }
  }
  return 0;
}

/**
 * `swap_duplicate()`: one more reference to `slot`.
 * @see mm/swapfile.c swap_duplicate
 */
export function swapDuplicate(k: Kernel, slot: number): void {
  if (k.swap.map[slot] === 0) throw new Error(`swap_duplicate of free swap slot ${slot}`);
  k.touched?.slots.add(slot);
  k.swap.map[slot]!++;
}

/**
 * `swap_free()`: drop a reference; returns the count left.
 * @see mm/swapfile.c swap_free
 */
export function swapFree(k: Kernel, slot: number): number {
  const si = k.swap;
  const c = si.map[slot]!;
  if (c === 0) throw new Error(`swap_free of free swap slot ${slot}`);
  k.touched?.slots.add(slot);
  si.map[slot] = c - 1;
  if (c === 1) {
    si.inuse--;
    si.data[slot] = 0;
  }
  return c - 1;
}

/** `add_to_swap_cache()` without the reference (`__add_to_swap_cache`). */
function addToSwapCacheRaw(k: Kernel, pfn: number, slot: number): void {
  const p = k.pages;
  k.touched?.slots.add(slot);
  k.touched?.frames.add(pfn);
  p.flags[pfn]! |= PG_swapcache;
  p.private[pfn] = slot;
  k.swap.cache[slot] = pfn;
  if (slot >= k.swap.highWater) k.swap.highWater = slot + 1;
  p.count[pfn]!++;
  k.vm.nr_swapcached++;
}

/** `__delete_from_swap_cache()`: unlink the page; the caller drops the references. */
function deleteFromSwapCacheRaw(k: Kernel, pfn: number): number {
  const p = k.pages;
  const slot = p.private[pfn]!;
  k.touched?.slots.add(slot);
  k.touched?.frames.add(pfn);
  k.swap.cache[slot] = 0;
  p.flags[pfn]! &= ~PG_swapcache;
  p.private[pfn] = 0;
  k.vm.nr_swapcached--;
  return slot;
}

/**
 * `add_to_swap()`: give an anonymous page a swap slot and put it in the
 * swap cache (dirty, to be written). Returns false when swap is full.
 * @see mm/swap_state.c add_to_swap
 */
export function addToSwap(k: Kernel, pfn: number): boolean {
  const slot = getSwapPage(k);
  if (slot === 0) return false;
  addToSwapCacheRaw(k, pfn, slot);
  k.pages.flags[pfn]! |= PG_dirty;
  return true;
}

/**
 * `delete_from_swap_cache()`: remove from the swap cache, dropping the
 * cache's slot reference and page reference.
 * @see mm/swap_state.c delete_from_swap_cache
 */
export function deleteFromSwapCache(k: Kernel, pfn: number): void {
  const slot = deleteFromSwapCacheRaw(k, pfn);
  swapFree(k, slot);
  putPage(k, pfn);
}

/**
 * `lookup_swap_cache()`: the page caching `slot`, or 0.
 * @see mm/swap_state.c lookup_swap_cache
 */
export function lookupSwapCache(k: Kernel, slot: number): number {
  return k.swap.cache[slot]!;
}

/**
 * `read_swap_cache_async()`: the page for `slot`, read from swap into a
 * new page (added to the swap cache and the active list) if not cached.
 * Returns the pfn with a reference for the caller, or 0 on OOM. Sets
 * `major` on `out` when it read from swap.
 * @see mm/swap_state.c read_swap_cache_async
 */
export function* readSwapCacheAsync(k: Kernel, slot: number, out: { major: boolean }): KGen<number> {
  let pfn = k.swap.cache[slot]!;
  if (pfn !== 0) {
    k.pages.count[pfn]!++;
    return pfn;
  }
  pfn = yield* allocPage(k);
  if (pfn === 0) return 0;
  // raced with another fault that read it in while we allocated
  const cached = k.swap.cache[slot]!;
  if (cached !== 0) {
    putPage(k, pfn);
    k.pages.count[cached]!++;
    return cached;
  }
  if (k.swap.map[slot] === 0) {
    // the entry went away meanwhile (the PTE was zapped)
    putPage(k, pfn);
    return 0;
  }
  swapDuplicate(k, slot);
  addToSwapCacheRaw(k, pfn, slot);
  k.pages.token[pfn] = k.swap.data[slot]!;
  k.vm.pswpin++;
  k.charge(k.costs.swapIo);
  lruCacheAdd(k, pfn, true);
  out.major = true;
  return pfn;
}

/**
 * `page_swapcount()`: the references to the page's slot.
 * @see mm/swapfile.c page_swapcount
 */
export function pageSwapcount(k: Kernel, pfn: number): number {
  return k.swap.map[k.pages.private[pfn]!]!;
}

/**
 * `can_share_swap_page()`: a swap-cache page may be written in place when
 * one PTE maps it and its slot has no other user.
 * @see mm/swapfile.c can_share_swap_page
 */
export function canShareSwapPage(k: Kernel, pfn: number): boolean {
  const p = k.pages;
  if (p.mapcount[pfn]! > 1) return false;
  if ((p.flags[pfn]! & PG_swapcache) === 0) return true;
  return pageSwapcount(k, pfn) + p.mapcount[pfn]! <= 2;
}

/**
 * `remove_exclusive_swap_page()`: drop the page from the swap cache when
 * nobody else uses it or its slot (refcount: cache + caller).
 * @see mm/swapfile.c remove_exclusive_swap_page
 */
export function removeExclusiveSwapPage(k: Kernel, pfn: number): boolean {
  const p = k.pages;
  if ((p.flags[pfn]! & PG_swapcache) === 0) return false;
  if (p.count[pfn] !== 2) return false;
  if (pageSwapcount(k, pfn) !== 1) return false;
  deleteFromSwapCache(k, pfn);
  return true;
}

/**
 * `free_page_and_swap_cache()`: what the gather does with each page — drop
 * it from the swap cache if exclusive, then release the reference.
 * @see mm/swap_state.c free_page_and_swap_cache
 */
export function freePageAndSwapCache(k: Kernel, pfn: number): void {
  if ((k.pages.flags[pfn]! & PG_swapcache) !== 0) removeExclusiveSwapPage(k, pfn);
  putPage(k, pfn);
}

/**
 * `free_pages_and_swap_cache()`: {@link freePageAndSwapCache} for the
 * first `nr` pages of `pages` in turn (the kernel's `release_pages` takes
 * the zone's LRU lock once per batch; the model takes none). The general
 * path, page by page; the baseline gather frees its vector with
 * {@link releasePagesQuick}, which gives the same.
 * @see mm/swap_state.c free_pages_and_swap_cache; mm/swap.c release_pages
 */
export function freePagesAndSwapCache(k: Kernel, pages: Int32Array, nr: number): void {
  for (let i = 0; i < nr; i++) freePageAndSwapCache(k, pages[i]!);
}

/**
 * {@link freePagesAndSwapCache} in runs: consecutive pages in the common
 * case drop their last reference, leave the LRU and have their
 * `struct page` reset for the allocator (`releasePagesRun`), then go onto
 * the free stack together (`PhysMem.pushFreed`), each in its turn, as
 * `release_pages` hands a pagevec to `__pagevec_free`; `pgfree` and the
 * `pageFree` time are added once per run. Any other page goes through {@link freePageAndSwapCache}
 * between the runs, in its turn. The final state is what the page-by-page
 * path leaves (the LRU and the allocator keep disjoint state, and the
 * order within each is kept); the checker's touched sets would see
 * another order, so with checking on the caller takes the general path.
 * @see mm/swap.c release_pages; mm/page_alloc.c __pagevec_free, free_hot_cold_page
 */
export function releasePagesQuick(k: Kernel, pages: Int32Array, nr: number): void {
  const cost = k.costs.pageFree;
  let i = 0;
  while (i < nr) {
    const j = releasePagesRun(k, pages, i, nr);
    if (j > i) {
      k.mem.pushFreed(pages, i, j);
      k.vm.pgfree += j - i;
      chargeEach(k, cost, j - i);
    }
    if (j < nr) freePageAndSwapCache(k, pages[j]!);
    i = j + 1;
  }
}

/**
 * The loop of `release_pages` over `pages[from]` … while each page is in
 * the common case (not in the swap cache, not a table or huge page, its
 * count's cache line on this CPU, the last reference): `put_page_testzero`
 * and `del_page_from_lru` (`LruLists.del` inline on the page arrays' links,
 * the lists' counts changed once; the flags are left for the free, which
 * clears them), then `free_hot_cold_page`'s reset of the `struct page`
 * (`PhysMem.freePage` inline: flags, mapping, the token poisoned, the
 * generation bumped; the count was just dropped to 0 and the map count is
 * 0 already), page by page: the kernel frees a pagevec of 14 at a time,
 * with the same result. Every field but `lineCpu` goes through
 * `PageArrays.words` (host speed: one typed array for the loop). The
 * caller puts the run onto the free stack.
 * Returns the index of the first page not taken.
 * @see mm/swap.c release_pages, put_page_testzero; include/linux/mm_inline.h del_page_from_lru; mm/page_alloc.c free_hot_cold_page
 */
function releasePagesRun(k: Kernel, pages: Int32Array, from: number, nr: number): number {
  const p = k.pages;
  // the fields through PageArrays.words, at their offsets (one typed array for the loop)
  const w = p.words;
  const oFlags = p.wFlags | 0;
  const oCount = p.wCount | 0;
  const oPrev = p.wLruPrev | 0;
  const oNext = p.wLruNext | 0;
  const oMapping = p.wMapping | 0;
  const oToken = p.wToken | 0;
  const oGen = p.wGen | 0;
  const lineCpu = p.lineCpu;
  const line = k.cpu.id + 1;
  // locals only in the loop (see PTE_PRESENT_MASK)
  const special = PG_swapcache | PG_huge | PG_table;
  const onLru = PG_lru;
  const activeBit = PG_active;
  // PhysMem.freePage's poison, as the Int32Array holds its bits
  const poison = 0xdeadbeef | 0;
  // pages off the LRU and pages on the inactive list (the active list's count follows; an
  // anonymous page is on the active list: nothing is counted per page then)
  let offLru = 0;
  let inactive = 0;
  let j = from;
  for (; j < nr; j++) {
    const pfn = pages[j]!;
    const f = w[oFlags + pfn]!;
    if ((f & special) !== 0 || lineCpu[pfn] !== line || w[oCount + pfn] !== 1) break;
    w[oCount + pfn] = 0;
    if ((f & onLru) !== 0) {
      const before = w[oPrev + pfn]!;
      const after = w[oNext + pfn]!;
      w[oNext + before] = after;
      w[oPrev + after] = before;
      if ((f & activeBit) === 0) inactive++;
    } else {
      offLru++;
    }
    // free_hot_cold_page
    w[oFlags + pfn] = 0;
    w[oMapping + pfn] = 0;
    w[oToken + pfn] = poison;
    w[oGen + pfn]!++;
  }
  const lists = k.lru.nr;
  lists[LRU_INACTIVE] -= inactive;
  lists[LRU_ACTIVE] -= j - from - offLru - inactive;
  return j;
}

/**
 * `n` charges of `ns` in a row, added at once when that gives the same
 * doubles (whole numbers below 2^53 add exactly), else one by one.
 */
function chargeEach(k: Kernel, ns: number, n: number): void {
  const cpu = k.cpu;
  const total = ns * n;
  if (Number.isInteger(ns) && Number.isInteger(cpu.clock) && Number.isInteger(cpu.busyNs) && Number.isSafeInteger(cpu.clock + total) && Number.isSafeInteger(cpu.busyNs + total)) {
    k.charge(total);
  } else {
    for (let i = 0; i < n; i++) k.charge(ns);
  }
}

/**
 * `free_swap_and_cache()`: a swap PTE is being zapped: drop its slot
 * reference, and drop a swap-cache page nobody else needs.
 * @see mm/swapfile.c free_swap_and_cache
 */
export function freeSwapAndCache(k: Kernel, slot: number): void {
  const left = swapFree(k, slot);
  if (left !== 1) return;
  const pfn = k.swap.cache[slot]!;
  if (pfn === 0) return;
  const p = k.pages;
  // one_user: only the swap cache holds the page
  if (p.count[pfn] === 1 || k.swap.full) {
    p.flags[pfn]! |= PG_dirty;
    deleteFromSwapCache(k, pfn);
  }
}

/**
 * Write a page's contents to its slot (`swap_writepage`, synchronous).
 * @see mm/page_io.c swap_writepage
 */
export function swapWritepage(k: Kernel, pfn: number): void {
  const slot = k.pages.private[pfn]!;
  k.swap.data[slot] = k.pages.token[pfn]!;
  k.pages.flags[pfn]! &= ~PG_dirty;
  k.vm.pswpout++;
  k.charge(k.costs.swapIo);
}

/**
 * Move a slot reference from the swap cache to a tmpfs file (the page leaves the swap cache).
 * @see mm/swap_state.c move_from_swap_cache
 */
export function swapCacheHandOff(k: Kernel, pfn: number): number {
  return deleteFromSwapCacheRaw(k, pfn);
}
