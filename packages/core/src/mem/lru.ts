/**
 * The active and inactive LRU lists of the (single) zone, as doubly linked
 * lists threaded through `page->lru` in typed arrays.
 * @see mm/swap.c lru_cache_add, lru_cache_add_active, mark_page_accessed, include/linux/mm_inline.h
 * @module
 */
import { PG_active, PG_lru, type PageArrays } from './page.js';
import type { DirtyList } from '../observe/touched.js';

/** The inactive list. */
export const LRU_INACTIVE = 0;
/** The active list. */
export const LRU_ACTIVE = 1;

/** `zone->active_list` and `zone->inactive_list`. */
export class LruLists {
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  private readonly flags: Uint32Array;
  /** Head index of each list (beyond the last pfn). */
  readonly heads: readonly [number, number];
  /** Pages on each list (`nr_inactive`, `nr_active`). */
  readonly nr: [number, number] = [0, 0];
  /** With checking on: the frames added to or taken off a list since the checker last ran. */
  touched: DirtyList | null = null;

  constructor(pages: PageArrays) {
    this.prev = pages.lruPrev;
    this.next = pages.lruNext;
    this.flags = pages.flags;
    const n = pages.nrFrames;
    this.heads = [n, n + 1];
    for (const h of this.heads) {
      this.prev[h] = h;
      this.next[h] = h;
    }
  }

  /** `add_page_to_(in)active_list()`: add at the head (most recently used end). */
  add(pfn: number, list: 0 | 1): void {
    this.touched?.add(pfn);
    const h = this.heads[list];
    const first = this.next[h]!;
    this.next[pfn] = first;
    this.prev[pfn] = h;
    this.prev[first] = pfn;
    this.next[h] = pfn;
    this.flags[pfn] = (this.flags[pfn]! | PG_lru | (list === LRU_ACTIVE ? PG_active : 0)) & ~(list === LRU_ACTIVE ? 0 : PG_active);
    this.nr[list]++;
  }

  /** `del_page_from_lru()`. */
  del(pfn: number): void {
    const f = this.flags[pfn]!;
    if ((f & PG_lru) === 0) return;
    this.touched?.add(pfn);
    const p = this.prev[pfn]!;
    const n = this.next[pfn]!;
    this.next[p] = n;
    this.prev[n] = p;
    this.nr[(f & PG_active) !== 0 ? LRU_ACTIVE : LRU_INACTIVE]--;
    this.flags[pfn] = f & ~(PG_lru | PG_active);
  }

  /** The least recently added page of `list`, or 0 when empty. */
  tail(list: 0 | 1): number {
    const h = this.heads[list];
    const t = this.prev[h]!;
    return t === h ? 0 : t;
  }

  /** Walk a list from head to tail (for the checker). */
  *walk(list: 0 | 1): Generator<number> {
    const h = this.heads[list];
    for (let p = this.next[h]!; p !== h; p = this.next[p]!) yield p;
  }
}
