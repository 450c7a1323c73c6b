/**
 * The page allocator.
 *
 * Models `mm/page_alloc.c` (`alloc_pages`, `__free_pages`) as a LIFO stack
 * of free pfns: order-0 allocation only, no zones, no buddy coalescing, no
 * per-CPU lists. The stack is deterministic, so a seed gives the same
 * frames every run. Memmap is accounted as the kernel does: the frames that
 * hold `struct page` for all of RAM are reserved at boot.
 * @module
 */
import type { DirtyList } from '../observe/touched.js';
import { PG_allocated, PG_reserved, PageArrays } from './page.js';

/** Pages per memory section (`SECTION_SIZE_BITS` 27 on x86-64: 128 MiB). */
export const PAGES_PER_SECTION = 32768;

/** Outcome of an allocation that found no free frame. */
export const NO_PAGE = 0;

/**
 * Physical memory: frames, their `struct page` arrays, and the free stack.
 */
export class PhysMem {
  /** The `struct page` arrays. */
  readonly pages: PageArrays;
  /** Frames of RAM. */
  readonly nrFrames: number;
  /** Frames reserved for the memmap (`nr_memmap_pages`). */
  readonly nrMemmapPages: number;
  /** Bytes of one `struct page` in the profile. */
  readonly structPageSize: number;
  private readonly freeStack: Int32Array;
  private freeTop: number;

  /** First pfn of the huge page pool (frames from here on are the pool's). */
  readonly hugeBase: number;
  /** First pfn of the XIP image (a memory section boundary above RAM); equal to `nrFrames` without one. */
  readonly xipBase: number;
  /** Frames of the XIP image. */
  readonly xipFrames: number;
  /** The XIP image has a memmap (`struct page` per frame), as 2.6.24 needs. */
  readonly xipMemmap: boolean;

  /**
   * @param nrFrames frames of simulated RAM
   * @param structPageSize `sizeof(struct page)` for the machine profile
   * @param hugeFrames frames set aside at the top of RAM for the huge page
   * pool (a multiple of 512), as `hugepages=` on the boot line does
   * @param xipFrames frames of an execute-in-place image (flash, DCSS)
   * placed above RAM; 2.6.24's `get_xip_page` needs `struct page` for it,
   * so its memory sections get a memmap, counted in `nr_memmap_pages`
   * @param xipMemmap false: the image gets no memmap (no `struct page`,
   * `pfn_valid()` false, nothing counted), as with VM_MIXEDMAP XIP; the
   * kernel then keeps the image as device memory
   */
  constructor(nrFrames: number, structPageSize: number, hugeFrames = 0, xipFrames = 0, xipMemmap = true) {
    if (!Number.isInteger(nrFrames) || nrFrames < 1024) {
      throw new RangeError(`memory of ${nrFrames} frames is too small (at least 1024 frames, 4 MiB)`);
    }
    this.nrFrames = nrFrames;
    this.structPageSize = structPageSize;
    this.xipFrames = xipFrames;
    this.xipMemmap = xipMemmap;
    this.xipBase = xipFrames > 0 ? Math.ceil(nrFrames / PAGES_PER_SECTION) * PAGES_PER_SECTION : nrFrames;
    this.pages = new PageArrays(xipMemmap ? this.xipBase + xipFrames : nrFrames);
    const xipSections = xipMemmap ? Math.ceil(xipFrames / PAGES_PER_SECTION) : 0;
    this.nrMemmapPages = Math.ceil((nrFrames * structPageSize) / 4096) + Math.ceil((xipSections * PAGES_PER_SECTION * structPageSize) / 4096);
    this.freeStack = new Int32Array(nrFrames);
    // pfn 0 and the memmap frames (placed right after it) are reserved.
    const firstFree = 1 + this.nrMemmapPages;
    if (firstFree + 1024 > nrFrames) throw new RangeError(`memory of ${nrFrames} frames cannot hold its memmap of ${this.nrMemmapPages} pages`);
    const flags = this.pages.flags;
    for (let pfn = 0; pfn < firstFree && pfn < nrFrames; pfn++) flags[pfn] = PG_reserved;
    this.hugeBase = hugeFrames > 0 ? Math.floor((nrFrames - hugeFrames) / 512) * 512 : nrFrames;
    if (hugeFrames > 0 && this.hugeBase < firstFree + 1024) {
      throw new RangeError(`${hugeFrames / 512} huge pages do not fit in ${nrFrames} frames`);
    }
    let top = 0;
    for (let pfn = this.hugeBase - 1; pfn >= firstFree; pfn--) this.freeStack[top++] = pfn;
    this.freeTop = top;
  }

  /**
   * `pfn_valid()`: the frame has a `struct page` (RAM, or a section of the
   * XIP image); device memory above has none.
   */
  pfnValid(pfn: number): boolean {
    return (pfn > 0 && pfn < this.nrFrames) || (this.xipMemmap && pfn >= this.xipBase && pfn < this.xipBase + this.xipFrames);
  }

  /** Frames on the free stack (`nr_free_pages`). */
  get nrFree(): number {
    return this.freeTop;
  }

  /** With checking on: the frames allocated or freed since the checker last ran. */
  touched: DirtyList | null = null;

  /**
   * `alloc_page()`: take a frame with refcount 1, or {@link NO_PAGE} when
   * memory is exhausted. The caller clears or fills its contents.
   */
  allocPage(): number {
    if (this.freeTop === 0) return NO_PAGE;
    const pfn = this.freeStack[--this.freeTop]!;
    this.touched?.add(pfn);
    const p = this.pages;
    p.count[pfn] = 1;
    p.mapcount[pfn] = 0;
    p.flags[pfn] = PG_allocated;
    p.mapping[pfn] = 0;
    p.index[pfn] = 0;
    return pfn;
  }

  /**
   * `__free_page()`: return a frame whose refcount dropped to zero.
   * Poisons the token so a stale access reads garbage, as it would.
   */
  freePage(pfn: number): void {
    this.touched?.add(pfn);
    const p = this.pages;
    p.flags[pfn] = 0;
    p.count[pfn] = 0;
    p.mapcount[pfn] = 0;
    p.mapping[pfn] = 0;
    p.token[pfn] = 0xdeadbeef;
    p.gen[pfn]!++;
    this.freeStack[this.freeTop++] = pfn;
  }

  /**
   * The end of `__pagevec_free()` for a hot loop that resets each frame's
   * `struct page` fields itself, as {@link freePage} does (the count and
   * map count already 0), while it walks them (`release_pages`, checking
   * off): frames `pages[from]` … `pages[to - 1]` go onto the free stack
   * in turn, copied at once (one `subarray` view per run, that is per
   * gather flush, not per page: the copy costs about 1 ns per page less
   * than a loop).
   * @see mm/page_alloc.c __pagevec_free, free_hot_cold_page
   */
  pushFreed(pages: Int32Array, from: number, to: number): void {
    this.freeStack.set(pages.subarray(from, to), this.freeTop);
    this.freeTop += to - from;
  }

  /** True when the frame is allocated (not free, not reserved). */
  isAllocated(pfn: number): boolean {
    return (this.pages.flags[pfn]! & PG_allocated) !== 0;
  }
}
