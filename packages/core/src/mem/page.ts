/**
 * `struct page` as a structure of typed arrays indexed by pfn.
 *
 * Models `include/linux/mm_types.h struct page`: `_count` (refcount),
 * `_mapcount`, `flags`, `mapping`, `index`. The kernel keeps `_mapcount`
 * at -1 for an unmapped page; the model keeps the number of mappings (0 when
 * unmapped). `mapping` holds the id of the page's address_space, or of its
 * anon_vma when `PG_anon` is set (the kernel tags the pointer's low bit,
 * `PAGE_MAPPING_ANON`). A page's contents are modelled by a 32-bit token
 * (`token`) for the data-integrity oracle.
 * @module
 */

/** `PG_locked`. */
export const PG_locked = 1 << 0;
/** `PG_referenced`. */
export const PG_referenced = 1 << 2;
/** `PG_uptodate`. */
export const PG_uptodate = 1 << 3;
/** `PG_dirty`. */
export const PG_dirty = 1 << 4;
/** `PG_lru`: on an LRU list. */
export const PG_lru = 1 << 5;
/** `PG_active`: on the active LRU list. */
export const PG_active = 1 << 6;
/** `PG_reserved`: never allocated (memmap, pfn 0). */
export const PG_reserved = 1 << 10;
/** `PG_swapcache`. */
export const PG_swapcache = 1 << 15;
/** The page is anonymous: `mapping` names an anon_vma (`PAGE_MAPPING_ANON`). */
export const PG_anon = 1 << 20;
/** The page is a page-table page at some level (the model's `PageTable`). */
export const PG_table = 1 << 21;
/** Head of a huge page (`PageHead` of a hugetlb compound page). */
export const PG_huge = 1 << 23;
/** A tail frame of a huge page (`PageTail`). */
export const PG_huge_tail = 1 << 24;
/** A page of the XIP image (never allocated or freed; a reference held by the image). */
export const PG_xip = 1 << 25;
/** A page a driver allocated and holds (vm_insert_page). */
export const PG_driver = 1 << 26;
/** The page is allocated (not on the free list); the model's `!PageBuddy`. */
export const PG_allocated = 1 << 22;

/** Host bytes of model state per simulated frame (all the arrays below). */
export const HOST_BYTES_PER_FRAME = 4 + 4 + 4 + 4 + 8 + 4 + 4 + 4 + 4 + 4 + 4 + 4 + 2;

/**
 * The 32-bit fields of `struct page`, in the order they lie in
 * {@link PageArrays.words}: field `i` of frame `pfn` is word
 * `i * PageArrays.stride + pfn`.
 */
const WORD_FIELDS = ['count', 'mapcount', 'flags', 'mapping', 'token', 'tableSlot', 'lruPrev', 'lruNext', 'private', 'pinned', 'gen'] as const;

/** A field of {@link WORD_FIELDS}. */
type WordField = (typeof WORD_FIELDS)[number];

/**
 * The `mem_map`: one entry per physical frame, as parallel typed arrays.
 *
 * The 32-bit fields share one host buffer, one field after the other
 * ({@link PageArrays.words}); each field's own array is a view of its part.
 * Code reads and writes the fields through their arrays; a hot loop that
 * touches several fields of each page may go through `words` instead,
 * at the field's offset (`wFlags + pfn`, …): the same memory, one typed
 * array instead of several (host speed: optimized code checks each typed
 * array it touches again on every pass of a loop).
 */
export class PageArrays {
  /** Number of frames (`max_pfn`). */
  readonly nrFrames: number;
  /**
   * Words per field in {@link words}: the frames and the two LRU list
   * heads, rounded up to 1024 and 208 more, so that one frame's fields do
   * not all fall into one set of the host's caches.
   */
  readonly stride: number;
  /**
   * Every 32-bit field of every frame, field by field (signed: `flags`,
   * `token` and `gen` read here as the `Int32Array` of their bits).
   */
  readonly words: Int32Array;
  /** Offset of `count` in {@link words}. */
  readonly wCount: number;
  /** Offset of `mapcount` in {@link words}. */
  readonly wMapcount: number;
  /** Offset of `flags` in {@link words}. */
  readonly wFlags: number;
  /** Offset of `mapping` in {@link words}. */
  readonly wMapping: number;
  /** Offset of `token` in {@link words}. */
  readonly wToken: number;
  /** Offset of `lruPrev` in {@link words}. */
  readonly wLruPrev: number;
  /** Offset of `lruNext` in {@link words}. */
  readonly wLruNext: number;
  /** Offset of `gen` in {@link words}. */
  readonly wGen: number;
  /** `page->_count`. */
  readonly count: Int32Array;
  /** Number of PTEs mapping the page (`page_mapcount()`). */
  readonly mapcount: Int32Array;
  /** `page->flags`. */
  readonly flags: Uint32Array;
  /** `page->mapping`: address_space id, or anon_vma id with `PG_anon`; 0 for none. */
  readonly mapping: Int32Array;
  /** `page->index`: the page offset in its mapping (linear page index for anon). */
  readonly index: Float64Array;
  /** Data token: the model of the page's contents. */
  readonly token: Uint32Array;
  /** For a page-table page, its slot in the table store; -1 otherwise. */
  readonly tableSlot: Int32Array;
  /** `page->lru.prev` (indices nrFrames and nrFrames+1 are the list heads). */
  readonly lruPrev: Int32Array;
  /** `page->lru.next`. */
  readonly lruNext: Int32Array;
  /** `page->private`: the swap slot of a swap-cache page. */
  readonly private: Int32Array;
  /** References held by `get_user_pages` callers (the model's bookkeeping, for the checker). */
  readonly pinned: Int32Array;
  /** Bumped each time the frame is freed: a TLB entry remembers it to tell a freed or reused frame. */
  readonly gen: Uint32Array;
  /** The CPU (+1; 0 for none) that last wrote the page's count/mapcount cache line. */
  readonly lineCpu: Uint16Array;

  constructor(nrFrames: number) {
    this.nrFrames = nrFrames;
    const stride = Math.ceil((nrFrames + 2) / 1024) * 1024 + 208;
    this.stride = stride;
    const buffer = new ArrayBuffer(WORD_FIELDS.length * stride * 4);
    this.words = new Int32Array(buffer);
    const at = (field: WordField): number => WORD_FIELDS.indexOf(field) * stride;
    const i32 = (field: WordField, n = nrFrames): Int32Array => new Int32Array(buffer, at(field) * 4, n);
    const u32 = (field: WordField): Uint32Array => new Uint32Array(buffer, at(field) * 4, nrFrames);
    this.wCount = at('count');
    this.wMapcount = at('mapcount');
    this.wFlags = at('flags');
    this.wMapping = at('mapping');
    this.wToken = at('token');
    this.wLruPrev = at('lruPrev');
    this.wLruNext = at('lruNext');
    this.wGen = at('gen');
    this.count = i32('count');
    this.mapcount = i32('mapcount');
    this.flags = u32('flags');
    this.mapping = i32('mapping');
    this.index = new Float64Array(nrFrames);
    this.token = u32('token');
    this.tableSlot = i32('tableSlot').fill(-1);
    this.lruPrev = i32('lruPrev', nrFrames + 2);
    this.lruNext = i32('lruNext', nrFrames + 2);
    this.private = i32('private');
    // The next three are written at boot, as memmap_init_zone writes every
    // struct page: the host's first touch of an array that an allocation
    // does not write (gen[] before the first free, pinned[] before the
    // first get_user_pages, lineCpu[] before a page's first get_page from
    // another path) is not left to the first operation that uses it.
    this.pinned = i32('pinned').fill(0);
    this.gen = u32('gen').fill(0);
    this.lineCpu = new Uint16Array(nrFrames).fill(0);
  }
}
