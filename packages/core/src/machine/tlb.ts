/**
 * A per-CPU hardware data TLB.
 *
 * Set-associative, tagged by (mm, virtual page); round-robin replacement.
 * x86 of 2008 had no ASIDs: loading CR3 flushes every (non-global) entry,
 * so the mm tag only lets the invariant checker tell entries apart. An
 * entry caches the pfn and whether the PTE allowed writes and was dirty, as
 * the hardware does; the hardware sets the PTE's accessed and dirty bits
 * when it fills or first writes through an entry.
 * @module
 */
import type { DirtyList } from '../observe/touched.js';

/** Entry permission bit: writes allowed. */
export const TLB_WRITE = 1;
/** Entry bit: the PTE's dirty bit is known set. */
export const TLB_DIRTY = 2;

/** One CPU's data TLB. */
export class Tlb {
  /** Number of entries. */
  readonly entries: number;
  /** Associativity. */
  readonly ways: number;
  private readonly setMask: number;
  /** Virtual page number per entry. */
  readonly vpn: Float64Array;
  /** Owning mm id per entry; -1 when invalid. */
  readonly mmId: Int32Array;
  /** Cached pfn per entry. */
  readonly pfn: Int32Array;
  /** `TLB_WRITE` / `TLB_DIRTY` per entry. */
  readonly perm: Uint8Array;
  /** The frame's generation when the entry was filled (the checker's way to see a freed or reused frame). */
  readonly gen: Uint32Array;
  private readonly rr: Uint8Array;
  /** Valid entries (kept so a flush of an empty TLB is cheap). */
  valid = 0;
  /** The highest page filled since the TLB was last empty (-1: none): no entry maps a page above it. */
  private top = -1;

  /**
   * @param entries total entries (a power of two times `ways`)
   * @param ways associativity
   */
  constructor(entries: number, ways: number) {
    const sets = entries / ways;
    if (!Number.isInteger(sets) || (sets & (sets - 1)) !== 0) {
      throw new RangeError(`TLB of ${entries} entries and ${ways} ways needs a power-of-two number of sets`);
    }
    this.entries = entries;
    this.ways = ways;
    this.setMask = sets - 1;
    this.vpn = new Float64Array(entries);
    this.mmId = new Int32Array(entries).fill(-1);
    this.pfn = new Int32Array(entries);
    this.perm = new Uint8Array(entries);
    this.gen = new Uint32Array(entries);
    this.rr = new Uint8Array(sets);
  }

  /** With checking on: the entries filled since the checker last ran (index + 1). */
  touched: DirtyList | null = null;

  /**
   * Where the last fault on this CPU set a PTE, as `update_mmu_cache()`
   * notes it ({@link Tlb.noteSet}): the PTE table (-1: none), and the
   * entry's table words and offset. x86's `update_mmu_cache` does nothing
   * (the retried access walks the tables again); the note is the host's
   * only: a faulting access whose walk went through that entry, retried
   * right after the fault, starts from it instead of walking the upper
   * levels again. It changes no simulated figure.
   */
  setPte = -1;
  /** The table words of the PTE {@link Tlb.setPte} notes. */
  setArr: Uint32Array | null = null;
  /** The PTE's offset in {@link Tlb.setArr}. */
  setIdx = 0;

  /**
   * `update_mmu_cache()`: note that the running fault set entry `idx` of
   * `arr`, in PTE table `pte` (see {@link Tlb.setPte}).
   * @see include/asm-x86/pgtable_64.h update_mmu_cache (a no-op on x86; ppc64 preloads its hash table here)
   */
  noteSet(pte: number, arr: Uint32Array, idx: number): void {
    this.setPte = pte;
    this.setArr = arr;
    this.setIdx = idx;
  }

  /** Index of the entry for (mm, vpn), or -1 on a miss. */
  lookup(mmId: number, vpn: number): number {
    // on locals, the page before the mm: one process's entries all share its mm
    const vpns = this.vpn;
    const ids = this.mmId;
    const ways = this.ways;
    const base = (vpn & this.setMask) * ways;
    for (let i = base; i < base + ways; i++) {
      if (vpns[i] === vpn && ids[i] === mmId) return i;
    }
    return -1;
  }

  /** Install an entry (replacing any for the same page, else a victim). */
  fill(mmId: number, vpn: number, pfn: number, perm: number, gen = 0): number {
    const i = this.lookup(mmId, vpn);
    if (i < 0) return this.fillAbsent(mmId, vpn, pfn, perm, gen);
    this.install(i, mmId, vpn, pfn, perm, gen);
    return i;
  }

  /**
   * {@link Tlb.fill} of a page known to have no entry (the lookup before
   * it missed, and nothing filled since): the victim is the set's first
   * invalid way, else its round-robin way. Returns the entry.
   */
  fillAbsent(mmId: number, vpn: number, pfn: number, perm: number, gen: number): number {
    const ways = this.ways;
    const set = vpn & this.setMask;
    const base = set * ways;
    let i = -1;
    // prefer an invalid way (none once every entry is valid), else round-robin
    if (this.valid < this.entries) {
      const ids = this.mmId;
      for (let j = base; j < base + ways; j++) {
        if (ids[j] === -1) {
          i = j;
          break;
        }
      }
    }
    if (i < 0) {
      const rr = this.rr;
      const next = rr[set]!;
      i = base + next;
      rr[set] = next + 1 === ways ? 0 : next + 1;
    } else {
      this.valid++;
    }
    if (vpn > this.top) this.top = vpn;
    this.install(i, mmId, vpn, pfn, perm, gen);
    return i;
  }

  /**
   * {@link Tlb.fillAbsent} of the `count` pages from `vpn` in order, none
   * with an entry: page `vpn + j`'s entry from `pfn[j]` and `perm[j]`,
   * with the generation `frameGen` gives its frame (0 past `nrFrames`).
   * Once every entry is valid each fill takes its set's round-robin way,
   * so a fill that `entries` later ones follow (each set's next `ways`
   * fills) is overwritten before anything reads the TLB: it leaves only
   * the set's round-robin step ({@link Tlb.skipFills}). A host shortcut:
   * the entries, round-robin pointers and valid count the fills one by
   * one leave (the hardware fills an entry per TLB miss).
   */
  fillRun(mmId: number, vpn: number, count: number, pfn: Int32Array, perm: Uint8Array, frameGen: Uint32Array, nrFrames: number): void {
    let j = 0;
    for (; j < count && (this.valid < this.entries || this.touched !== null); j++) {
      const f = pfn[j]!;
      this.fillAbsent(mmId, vpn + j, f, perm[j]!, f < nrFrames ? frameGen[f]! : 0);
    }
    if (j === count) return;
    const skip = count - j - this.entries;
    if (skip > 0) {
      this.skipFills(vpn + j, skip);
      j += skip;
    }
    // on locals: the set's round-robin way, every entry valid
    const ids = this.mmId;
    const vpns = this.vpn;
    const pfns = this.pfn;
    const perms = this.perm;
    const gens = this.gen;
    const rr = this.rr;
    const ways = this.ways;
    const mask = this.setMask;
    for (; j < count; j++) {
      const v = vpn + j;
      const set = v & mask;
      const next = rr[set]!;
      const i = set * ways + next;
      rr[set] = next + 1 === ways ? 0 : next + 1;
      const f = pfn[j]!;
      ids[i] = mmId;
      vpns[i] = v;
      pfns[i] = f;
      perms[i] = perm[j]!;
      gens[i] = f < nrFrames ? frameGen[f]! : 0;
    }
    if (vpn + count - 1 > this.top) this.top = vpn + count - 1;
  }

  /**
   * `count` fills of the pages from `vpn`, none with an entry, every entry
   * valid, each of which later fills overwrite before anything reads the
   * TLB: what they leave is each set's round-robin pointer, moved once
   * per fill of the set (a host shortcut for those fills).
   */
  skipFills(vpn: number, count: number): void {
    const rr = this.rr;
    const ways = this.ways;
    const sets = this.setMask + 1;
    const all = Math.floor(count / sets);
    const rest = count - all * sets;
    for (let s = 0; s < sets; s++) {
      // the sets from vpn's on get one fill more than the others
      const extra = ((s - vpn) & this.setMask) < rest ? 1 : 0;
      rr[s] = (rr[s]! + all + extra) % ways;
    }
  }

  /** Write entry `i`. */
  private install(i: number, mmId: number, vpn: number, pfn: number, perm: number, gen: number): void {
    this.touched?.add(i + 1);
    this.mmId[i] = mmId;
    this.vpn[i] = vpn;
    this.pfn[i] = pfn;
    this.perm[i] = perm;
    this.gen[i] = gen;
  }

  /**
   * Whether an entry of mm `mmId` may map a page of [`lo`, `hi`): false
   * when none does, so that every lookup of those pages misses until one
   * of them is filled. Reads the sets the range maps to only (a host
   * question: the hardware looks up one page at a time).
   */
  mayHold(mmId: number, lo: number, hi: number): boolean {
    if (this.valid === 0 || lo > this.top) return false;
    const vpns = this.vpn;
    const ids = this.mmId;
    const ways = this.ways;
    const sets = Math.min(hi - lo, this.setMask + 1);
    for (let s = 0; s < sets; s++) {
      const base = ((lo + s) & this.setMask) * ways;
      for (let i = base; i < base + ways; i++) {
        if (ids[i] === mmId && vpns[i]! >= lo && vpns[i]! < hi) return true;
      }
    }
    return false;
  }

  /** `__flush_tlb_one()`: drop the entry for one page. */
  flushOne(mmId: number, vpn: number): void {
    const i = this.lookup(mmId, vpn);
    if (i >= 0) {
      this.mmId[i] = -1;
      this.valid--;
    }
  }

  /** Drop every entry of one address space (a tagged TLB's per-context flush). */
  flushMm(mmId: number): void {
    if (this.valid === 0) return;
    for (let i = 0; i < this.entries; i++) {
      if (this.mmId[i] === mmId) {
        this.mmId[i] = -1;
        this.valid--;
      }
    }
  }

  /** `local_flush_tlb()`: drop every entry (CR3 reload without ASIDs). */
  flushAll(): void {
    this.top = -1;
    if (this.valid === 0) return;
    this.mmId.fill(-1);
    this.valid = 0;
  }
}
