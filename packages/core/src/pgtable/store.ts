/**
 * Storage of page-table pages.
 *
 * Page tables are real frames from the page allocator; their 512 entries
 * live in a chunked `Uint32Array` store (two words per entry, see
 * `entry.ts`), found through the frame's `tableSlot`. A simulated table
 * costs 4 KiB of host memory, as a real one costs 4 KiB of RAM.
 * @module
 */
import { _PAGE_PSE, PAGE_SIZE, PGDIR_SIZE, PMD_SIZE, PUD_SIZE, TABLE_WORDS } from './entry.js';
import { type PageArrays, PG_table } from '../mem/page.js';
import type { DirtyList } from '../observe/touched.js';

const TABLES_PER_CHUNK = 4;
const CHUNK_SHIFT = 2;
/** Bytes of one chunk. */
const CHUNK_BYTES = TABLES_PER_CHUNK * TABLE_WORDS * Uint32Array.BYTES_PER_ELEMENT;
/** Chunks one host buffer holds at most (1 MiB). */
const MAX_CHUNKS_PER_BUFFER = 64;

// The walks below use these module constants, and compute `pgd_index()` …
// `pte_index()` (`entry.ts` pgdIndex … pteIndex) inline: optimized code
// checks an imported binding at every use, a module constant not at all.
const WORDS = TABLE_WORDS;
const PSE = _PAGE_PSE;
const TABLE = PG_table;
const PGDIR = PGDIR_SIZE;
const PUD = PUD_SIZE;
const PMD = PMD_SIZE;
const PAGE = PAGE_SIZE;

/** The table store: slots of 512 two-word entries. */
export class TableStore {
  private readonly chunks: Uint32Array[] = [];
  private readonly freeSlots: number[] = [];
  private nextSlot = 0;
  private readonly pages: PageArrays;
  /** The host buffer new chunks are cut from, and how many it has left. */
  private buffer: ArrayBuffer | null = null;
  private bufferChunksLeft = 0;
  /** Bytes of every host buffer allocated. */
  private bufferBytes = 0;

  /** With checking on: the tables touched since the checker last ran (every {@link arr} and {@link attach} marks). */
  touched: DirtyList | null = null;

  constructor(pages: PageArrays) {
    this.pages = pages;
  }

  /**
   * Give frame `pfn` a zeroed table slot (the kernel clears a new table
   * page). A slot never used before is still zero, as its buffer came from
   * the host; a released slot is cleared.
   */
  attach(pfn: number): void {
    const slot = this.freeSlots.pop();
    if (slot === undefined) {
      const fresh = this.nextSlot++;
      if ((fresh >> CHUNK_SHIFT) >= this.chunks.length) this.chunks.push(this.newChunk());
      this.pages.tableSlot[pfn] = fresh;
    } else {
      const base = (slot & (TABLES_PER_CHUNK - 1)) * TABLE_WORDS;
      this.chunks[slot >> CHUNK_SHIFT]!.fill(0, base, base + TABLE_WORDS);
      this.pages.tableSlot[pfn] = slot;
    }
    this.touched?.add(pfn);
  }

  /**
   * A new zeroed chunk, cut from the current host buffer. Buffers grow with
   * the store (an eighth of the chunks it has, 1 to 64), so a store of many
   * tables makes few host allocations (each costs microseconds) and keeps
   * little unused.
   */
  private newChunk(): Uint32Array {
    let buffer = this.buffer;
    if (buffer === null || this.bufferChunksLeft === 0) {
      const n = Math.min(MAX_CHUNKS_PER_BUFFER, Math.max(1, this.chunks.length >> 3));
      buffer = new ArrayBuffer(n * CHUNK_BYTES);
      this.buffer = buffer;
      this.bufferChunksLeft = n;
      this.bufferBytes += n * CHUNK_BYTES;
    }
    const offset = buffer.byteLength - this.bufferChunksLeft * CHUNK_BYTES;
    this.bufferChunksLeft--;
    return new Uint32Array(buffer, offset, TABLES_PER_CHUNK * TABLE_WORDS);
  }

  /** Release the slot of table frame `pfn` (before the frame is freed). */
  detach(pfn: number): void {
    const slot = this.pages.tableSlot[pfn]!;
    this.pages.tableSlot[pfn] = -1;
    this.freeSlots.push(slot);
  }

  /** The array holding table `pfn`'s entries; use with {@link base}. */
  arr(pfn: number): Uint32Array {
    this.touched?.add(pfn);
    return this.chunks[this.pages.tableSlot[pfn]! >> CHUNK_SHIFT]!;
  }

  /** Word offset of table `pfn`'s entry 0 inside {@link arr}. */
  base(pfn: number): number {
    return (this.pages.tableSlot[pfn]! & (TABLES_PER_CHUNK - 1)) * WORDS;
  }

  /**
   * The PMD table below PGD `pgd` for `addr` (`pgd_offset` → `pud_offset`),
   * or 0 when an entry on the way is empty. Marks what it reads as
   * {@link arr} does. The walks of `mm/` and of the MMU go through here
   * (`lookupPmdTable`, `lookupPteTable`), one slot lookup per level.
   */
  pmdTableOf(pgd: number, addr: number): number {
    const touched = this.touched;
    touched?.add(pgd);
    const slots = this.pages.tableSlot;
    const chunks = this.chunks;
    let s = slots[pgd]!;
    let a = chunks[s >> CHUNK_SHIFT]!;
    let b = (s & (TABLES_PER_CHUNK - 1)) * WORDS + ((addr / PGDIR) & 511) * 2;
    if (a[b] === 0) return 0;
    const pud = a[b + 1]!;
    touched?.add(pud);
    s = slots[pud]!;
    a = chunks[s >> CHUNK_SHIFT]!;
    b = (s & (TABLES_PER_CHUNK - 1)) * WORDS + ((addr / PUD) & 511) * 2;
    if (a[b] === 0) return 0;
    return a[b + 1]!;
  }

  /**
   * The PTE table below PGD `pgd` for `addr` (down to `pmd_offset`), or 0
   * when an entry on the way is empty or the PMD entry maps a huge page
   * (`_PAGE_PSE`). Marks what it reads as {@link arr} does.
   */
  pteTableOf(pgd: number, addr: number): number {
    const pmd = this.pmdTableOf(pgd, addr);
    if (pmd === 0) return 0;
    this.touched?.add(pmd);
    const s = this.pages.tableSlot[pmd]!;
    const a = this.chunks[s >> CHUNK_SHIFT]!;
    const b = (s & (TABLES_PER_CHUNK - 1)) * WORDS + ((addr / PMD) & 511) * 2;
    const f = a[b]!;
    if (f === 0 || (f & PSE) !== 0) return 0;
    return a[b + 1]!;
  }

  /**
   * The hardware walk's table part (`mm/access.ts` `hwWalk`): from PGD
   * `pgd` down to the leaf entry for `addr` — a PTE, or a PMD entry with
   * `_PAGE_PSE` — left in `out` (its table words `a` and offset `b`; `pte`
   * the PTE table, 0 for a huge PMD entry). Returns {@link WALK_FOUND}
   * (positive), {@link WALK_NONE} (0) when an entry on the way is empty,
   * or {@link WALK_BAD_PMD} / {@link WALK_BAD_PTE} (negative) when an
   * entry points at a frame that is no longer a table (`out.pte` is then
   * that frame). Marks what it reads as {@link arr} does. The same answer
   * as {@link pmdTableOf} and an {@link arr} and {@link base} per lower
   * level, with one slot lookup per level.
   */
  walkLeaf(pgd: number, addr: number, out: TableWalk): number {
    const pmd = this.pmdTableOf(pgd, addr);
    if (pmd === 0) return WALK_NONE;
    const flags = this.pages.flags;
    if ((flags[pmd]! & TABLE) === 0) {
      out.pte = pmd;
      return WALK_BAD_PMD;
    }
    const touched = this.touched;
    touched?.add(pmd);
    const slots = this.pages.tableSlot;
    const chunks = this.chunks;
    let s = slots[pmd]!;
    const ma = chunks[s >> CHUNK_SHIFT]!;
    const mb = (s & (TABLES_PER_CHUNK - 1)) * WORDS + ((addr / PMD) & 511) * 2;
    const mf = ma[mb]!;
    if (mf === 0) return WALK_NONE;
    if ((mf & PSE) !== 0) {
      out.a = ma;
      out.b = mb;
      out.pte = 0;
      return WALK_FOUND;
    }
    const pte = ma[mb + 1]!;
    out.pte = pte;
    if ((flags[pte]! & TABLE) === 0) return WALK_BAD_PTE;
    touched?.add(pte);
    s = slots[pte]!;
    out.a = chunks[s >> CHUNK_SHIFT]!;
    out.b = (s & (TABLES_PER_CHUNK - 1)) * WORDS + ((addr / PAGE) & 511) * 2;
    return WALK_FOUND;
  }

  /** Host bytes held by the store. */
  get hostBytes(): number {
    return this.bufferBytes;
  }
}

/** Where {@link TableStore.walkLeaf} ended. */
export interface TableWalk {
  /** The leaf entry's table words. */
  a: Uint32Array | null;
  /** The leaf entry's word offset in {@link TableWalk.a}. */
  b: number;
  /** The PTE table walked through (0 for a huge PMD entry), or the frame that is no longer a table. */
  pte: number;
}

/** {@link TableStore.walkLeaf}: the leaf entry was found. */
export const WALK_FOUND = 1;
/** {@link TableStore.walkLeaf}: an entry on the way is empty. */
export const WALK_NONE = 0;
/** {@link TableStore.walkLeaf}: the PUD entry points at a frame that is no longer a (PMD) table. */
export const WALK_BAD_PMD = -1;
/** {@link TableStore.walkLeaf}: the PMD entry points at a frame that is no longer a (PTE) table. */
export const WALK_BAD_PTE = -2;
