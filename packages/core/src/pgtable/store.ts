/**
 * Storage of page-table pages.
 *
 * Page tables are real frames from the page allocator; their 512 entries
 * live in a chunked `Uint32Array` store (two words per entry, see
 * `entry.ts`), found through the frame's `tableSlot`. A simulated table
 * costs 4 KiB of host memory, as a real one costs 4 KiB of RAM.
 * @module
 */
import { TABLE_WORDS } from './entry.js';
import type { PageArrays } from '../mem/page.js';
import type { DirtyList } from '../observe/touched.js';

const TABLES_PER_CHUNK = 4;
const CHUNK_SHIFT = 2;

/** The table store: slots of 512 two-word entries. */
export class TableStore {
  private readonly chunks: Uint32Array[] = [];
  private readonly freeSlots: number[] = [];
  private nextSlot = 0;
  private readonly pages: PageArrays;

  /** With checking on: the tables touched since the checker last ran (every {@link arr} and {@link attach} marks). */
  touched: DirtyList | null = null;

  constructor(pages: PageArrays) {
    this.pages = pages;
  }

  /** Give frame `pfn` a zeroed table slot (the kernel clears a new table page). */
  attach(pfn: number): void {
    let slot = this.freeSlots.pop();
    if (slot === undefined) {
      slot = this.nextSlot++;
      if ((slot >> CHUNK_SHIFT) >= this.chunks.length) {
        this.chunks.push(new Uint32Array(TABLES_PER_CHUNK * TABLE_WORDS));
      }
    }
    this.pages.tableSlot[pfn] = slot;
    this.touched?.add(pfn);
    const base = (slot & (TABLES_PER_CHUNK - 1)) * TABLE_WORDS;
    this.chunks[slot >> CHUNK_SHIFT]!.fill(0, base, base + TABLE_WORDS);
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
    return (this.pages.tableSlot[pfn]! & (TABLES_PER_CHUNK - 1)) * TABLE_WORDS;
  }

  /** Host bytes held by the store. */
  get hostBytes(): number {
    return this.chunks.length * TABLES_PER_CHUNK * TABLE_WORDS * 4;
  }
}
