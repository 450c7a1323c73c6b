/**
 * What the operations touched since the invariant checker last ran: the
 * page tables read or written, the frames whose state changed, the swap
 * slots used. With checking on, the core marks them as it goes (one
 * typed-array store per mark); the checker then re-checks only these at an
 * operation boundary, and the whole machine at the snapshot and at the end.
 * With checking off nothing is marked.
 * @module
 */

/** A set of small integers (pfns, swap slots) with O(1) add and a clear proportional to its size. */
export class DirtyList {
  /** 1 for a member. */
  readonly mark: Uint8Array;
  private list: Int32Array;
  /** Members, in the order they were added. */
  n = 0;

  /** A set over `0 … size-1`. */
  constructor(size: number) {
    this.mark = new Uint8Array(size);
    this.list = new Int32Array(64);
  }

  /** Add `i` (no-op when present or out of range). */
  add(i: number): void {
    if (i <= 0 || i >= this.mark.length || this.mark[i] !== 0) return;
    this.mark[i] = 1;
    if (this.n === this.list.length) {
      const grown = new Int32Array(this.n * 2);
      grown.set(this.list);
      this.list = grown;
    }
    this.list[this.n++] = i;
  }

  /** The `j`-th member. */
  at(j: number): number {
    return this.list[j]!;
  }

  /** Empty the set. */
  clear(): void {
    for (let j = 0; j < this.n; j++) this.mark[this.list[j]!] = 0;
    this.n = 0;
  }
}

/** The kernel's touched sets (`Kernel.touched`, present with checking on). */
export class Touched {
  /** Page-table frames read or written (every `TableStore.arr` and `attach`). */
  readonly tables: DirtyList;
  /** Frames allocated, freed, put on or taken off an LRU list, added to or removed from the swap cache, pinned. */
  readonly frames: DirtyList;
  /** Swap slots whose `swap_map` or swap cache changed. */
  readonly slots: DirtyList;

  /** Sets for `nrFrames` frames and `nrSlots` swap slots. */
  constructor(nrFrames: number, nrSlots: number) {
    this.tables = new DirtyList(nrFrames);
    this.frames = new DirtyList(nrFrames);
    this.slots = new DirtyList(nrSlots);
  }
}
