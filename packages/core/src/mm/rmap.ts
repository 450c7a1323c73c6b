/**
 * Reverse maps: find every PTE that maps a page through its anon_vma or
 * its file's `i_mmap`, to age it (`page_referenced`) or unmap it
 * (`try_to_unmap`).
 * @see mm/rmap.c vma_address, page_check_address, page_referenced, try_to_unmap
 * @module
 */
import { _PAGE_ACCESSED, _PAGE_DIRTY, _PAGE_FILE, _PAGE_SWP, PAGE_SIZE, PMD_SIZE, PTE_PRESENT_MASK, PTRS_PER_PTE, pteIndex, ptePresent, TABLE_WORDS } from '../pgtable/entry.js';
import { PG_anon, PG_dirty, PG_referenced, PG_swapcache } from '../mem/page.js';
import type { Kernel } from '../kernel/kernel.js';
import { pageRemoveRmap, putPage } from './page-ref.js';
import { lookupPteTable } from './pgalloc.js';
import { addRss } from './pt-share.js';
import { swapDuplicate } from './swapfile.js';
import { baseFlushTlb, ipiWait } from './tlbflush.js';
import { ptlLockSlow, type SpinLock, spinLockSlow } from '../sched/lock.js';
import type { KGen } from '../sched/run.js';
import { updateHiwaterRss } from './mmap.js';
import { type Vma, VM_LOCKED, VM_MAYSHARE, VM_NONLINEAR } from './types.js';

/** `try_to_unmap` result: every mapping removed. */
export const SWAP_SUCCESS = 0;
/** `try_to_unmap` result: try again later. */
export const SWAP_AGAIN = 1;
/** `try_to_unmap` result: cannot unmap now (mlocked, or just referenced). */
export const SWAP_FAIL = 2;

/** Where a PTE lives: its table, the table's words and the entry's word offset. */
export interface PteLocation {
  /** The PTE table's pfn. */
  pte: number;
  /** The PTE table's words. */
  a: Uint32Array;
  /** Word offset of the PTE. */
  b: number;
}

/**
 * `vma_address()`: where `pfn` would be mapped in `vma`, or -1.
 * @see mm/rmap.c vma_address
 */
export function vmaAddress(k: Kernel, pfn: number, vma: Vma): number {
  const addr = vma.vmStart + (k.pages.index[pfn]! - vma.vmPgoff) * PAGE_SIZE;
  return addr >= vma.vmStart && addr < vma.vmEnd ? addr : -1;
}

/**
 * The second half of `page_check_address()`, with the PTE lock of table
 * `pte` held: the word offset of the entry for `addr` when it is present
 * and maps `pfn`; otherwise -1, the lock dropped.
 * @see mm/rmap.c page_check_address
 */
function pteMapsPage(k: Kernel, pfn: number, addr: number, pte: number): number {
  const a = k.tables.arr(pte);
  const b = k.tables.base(pte) + pteIndex(addr) * 2;
  if (!ptePresent(a[b]!) || a[b + 1] !== pfn) {
    k.ptl.unlock(k, pte);
    return -1;
  }
  return b;
}

/**
 * The quick check of `page_check_address()` before it takes the lock:
 * whether the entry for `addr` in PTE table `pte` is present. A none or
 * swap entry returns NULL without taking the PTE lock (2.6.24 has no
 * `sync` argument; page_mkclean's locked check came in 2.6.27).
 * @see mm/rmap.c page_check_address ("Make a quick check before getting the lock")
 */
function pteQuickPresent(k: Kernel, addr: number, pte: number): boolean {
  return ptePresent(k.tables.arr(pte)[k.tables.base(pte) + pteIndex(addr) * 2]!);
}

/**
 * `page_check_address()`: the PTE at `addr`, locked, if it is present and
 * maps `pfn`; null (unlocked) otherwise. A PTE found not present before
 * the lock is taken returns null without taking it.
 * @see mm/rmap.c page_check_address
 */
export function* pageCheckAddress(k: Kernel, pfn: number, vma: Vma, addr: number): KGen<PteLocation | null> {
  const pte = lookupPteTable(k, vma.mm, addr);
  if (pte === 0 || !pteQuickPresent(k, addr, pte)) return null;
  if (!k.ptl.tryLock(k, pte)) yield* ptlLockSlow(k, k.ptl, pte);
  const b = pteMapsPage(k, pfn, addr, pte);
  return b < 0 ? null : { pte, a: k.tables.arr(pte), b };
}

/**
 * The VMAs that may map `pfn` (anon_vma list, or the file's i_mmap).
 * @see mm/rmap.c page_referenced_anon, page_referenced_file (their anon_vma and i_mmap walks)
 */
export function rmapVmas(k: Kernel, pfn: number): readonly Vma[] {
  const p = k.pages;
  if ((p.flags[pfn]! & PG_anon) !== 0) return k.anonVmas.get(p.mapping[pfn]!)?.vmas ?? [];
  return k.files.get(p.mapping[pfn]!)?.iMmap ?? [];
}

/** The words {@link RmapWalkMemo} keeps for a span with no PTE table. */
const EMPTY_TABLE = new Uint32Array(TABLE_WORDS);

/** PTEs read at a time into {@link RmapWalkMemo.present} (one {@link RmapWalkMemo.bitsSpan} word). */
const BITS_PER_WORD = 32;
/** Blocks of {@link BITS_PER_WORD} PTEs per table. */
const WORDS_PER_TABLE = PTRS_PER_PTE / BITS_PER_WORD;
/**
 * PMD-sized spans each memo entry keeps a PTE table for, by span number
 * modulo this: walks that go back and forth over a mapping of up to
 * four spans (4 MiB not aligned to 2 MiB covers three) find them all.
 */
const PLANES = 4;

/**
 * What direct reclaim remembers of the page-table walks of its rmap walks:
 * for each VMA of a reverse-map list, its bounds and flags, and the PTE
 * tables (0 for none) that cover up to four PMD-sized spans of it (one
 * slot per plane: span number modulo {@link PLANES}; slot `plane × cap +
 * entry`). An anon_vma shared by many forked processes has reclaim walk
 * the same VMAs to the same PTE tables for every page of a span; the
 * memo keeps the host from repeating the PGD → PUD → PMD lookups and the
 * reads of a thousand VMAs. For the walks of pages with one known
 * mapping it also keeps which PTEs of those tables are present
 * ({@link present}, read from the tables 32 PTEs at a time and mended as
 * reclaim unmaps) and which tables' locks the reclaiming CPU took last
 * ({@link lockOk}), one bit per entry, so that a walk counts 32 entries
 * at a time.
 * Host state only: a probe that uses it takes the same locks and charges
 * as one that walks.
 */
class RmapWalkMemo {
  /** Entries the memo has room for. */
  readonly cap: number;
  /** The VMA each entry was filled for. */
  readonly vma: (Vma | null)[];
  /** Its `vm_flags`. */
  readonly flags: Int32Array;
  /** Its `vm_start`. */
  readonly start: Float64Array;
  /** Its `vm_end`. */
  readonly end: Float64Array;
  /** `vm_start - vm_pgoff * PAGE_SIZE`: the address of page index 0 in it. */
  readonly origin: Float64Array;
  /** Per slot: the number (address / PMD_SIZE) of the span whose PTE table it holds (-1: none yet). */
  readonly span: Int32Array;
  /** Per slot: the PTE table covering the span (0: none). */
  readonly pte: Int32Array;
  /** Per slot: the words of that table (`k.tables.arr`; an empty array for none). */
  readonly arr: Uint32Array[];
  /** Per slot: word offset of the table's entry 0 in {@link arr}. */
  readonly base: Int32Array;
  /** Words of a bit row: one bit per entry. */
  readonly words: number;
  /**
   * Which PTEs of the slots' tables are present: for PTE index `x` of
   * the slot of entry `e` in `plane`, bit `e % 32` of word
   * `(plane × 512 + x) × words + ⌊e / 32⌋` (one row per plane and PTE
   * index, an entry per bit: a walk of one PTE index over many entries
   * reads 32 at a time). Valid for an entry and 32 PTEs while
   * {@link bitsSpan} holds the slot's span.
   */
  readonly present: Int32Array;
  /**
   * The span (as {@link span}) the bits of each slot and block of 32 PTEs
   * (`(plane × 16 + ⌊x / 32⌋) × cap + entry`) were read for; -1: not read.
   */
  readonly bitsSpan: Int32Array;
  /**
   * Per plane and word of a table's bits (`plane × 16 + ⌊x / 32⌋`): the
   * words of entries `[0, validTo)` hold span {@link validSpan}.
   */
  readonly validTo: Int32Array;
  /** The span each {@link validTo} is for. */
  readonly validSpan: Int32Array;
  /**
   * Per slot (bit `e % 32` of word `plane × words + ⌊e / 32⌋`), set when
   * the table's lock was taken and dropped by the CPU that took PTE locks
   * last (`PtlTable.taker`), with no other CPU taking one since
   * {@link lockStamp}: the lock is free and its word on that CPU.
   */
  readonly lockOk: Int32Array;
  /** `PtlTable.takerChanges` when {@link lockOk} was last known right. */
  lockStamp = -1;
  /**
   * Entries `[0, plain)` have entry 0's bounds and page offset and no
   * flag a walk stops or skips at: one address, one PTE index for all.
   */
  plain = 0;
  /** Filled by the running reclaim (listed in {@link memosUsed}). */
  inUse = false;

  constructor(n: number) {
    this.cap = n;
    this.vma = new Array<Vma | null>(n).fill(null);
    this.flags = new Int32Array(n);
    this.start = new Float64Array(n);
    this.end = new Float64Array(n);
    this.origin = new Float64Array(n);
    this.span = new Int32Array(PLANES * n).fill(-1);
    this.pte = new Int32Array(PLANES * n);
    this.arr = new Array<Uint32Array>(PLANES * n).fill(EMPTY_TABLE);
    this.base = new Int32Array(PLANES * n);
    this.words = Math.ceil(n / BITS_PER_WORD);
    this.present = new Int32Array(PLANES * PTRS_PER_PTE * this.words);
    this.bitsSpan = new Int32Array(PLANES * WORDS_PER_TABLE * n).fill(-1);
    this.validTo = new Int32Array(PLANES * WORDS_PER_TABLE);
    this.validSpan = new Int32Array(PLANES * WORDS_PER_TABLE).fill(-1);
    this.lockOk = new Int32Array(PLANES * this.words);
  }

  /** Remember `vma` at entry `i` (no PTE table looked up yet). */
  fill(i: number, vma: Vma): void {
    this.vma[i] = vma;
    this.flags[i] = vma.vmFlags;
    this.start[i] = vma.vmStart;
    this.end[i] = vma.vmEnd;
    this.origin[i] = vma.vmStart - vma.vmPgoff * PAGE_SIZE;
    for (let s = i; s < this.span.length; s += this.cap) {
      this.span[s] = -1;
      memoSetTable(this, s, 0);
      this.lockNotOk(s);
    }
    this.invalidFrom(0, PLANES * WORDS_PER_TABLE, i);
    if (i < this.plain) this.plain = i;
  }

  /** Clear {@link lockOk} of slot `s`. */
  lockNotOk(s: number): void {
    const e = s % this.cap;
    const w = ((s - e) / this.cap) * this.words + (e >> 5);
    this.lockOk[w]! &= ~(1 << (e & 31));
  }

  /** The bits of entry `i` on: no longer valid for the {@link validTo} words `[from, to)`. */
  invalidFrom(from: number, to: number, i: number): void {
    for (let v = from; v < to; v++) if (this.validTo[v]! > i) this.validTo[v] = i;
  }

  /** Fill every entry for `vmas` and find {@link plain}: the first walk of a reclaim. */
  fillAll(vmas: readonly Vma[]): void {
    const n = vmas.length;
    this.plain = 0;
    for (let i = 0; i < n; i++) this.fill(i, vmas[i]!);
    this.bitsSpan.fill(-1);
    this.validTo.fill(0);
    let plain = 0;
    while (plain < n && this.origin[plain] === this.origin[0] && this.start[plain] === this.start[0] && this.end[plain] === this.end[0] && (this.flags[plain]! & (VM_NONLINEAR | VM_LOCKED)) === 0) plain++;
    this.plain = plain;
  }
}

/** The kernel whose direct reclaim may use {@link memos} now, or null. */
let memoKernel: Kernel | null = null;
/**
 * For {@link memoKernel}: per frame, the PTE a memo walk last read
 * mapping it (looking for it or for another page), as
 * `table pfn × 512 + index + 1` (0: none). A hint only: each walk checks
 * it first (see {@link uniqueMapping}).
 */
let memoHits: Float64Array | null = null;
/**
 * For {@link memoKernel}: per frame, how many memo slots hold it as
 * their PTE table, so that a PTE reclaim changes reaches the
 * {@link RmapWalkMemo.present} bits that show it ({@link memoPteChanged}).
 */
let memoTableRefs: Int32Array | null = null;
/** For {@link memoKernel}: per frame, the memo slot that last took it as its PTE table (see {@link memoSetTable}). */
let memoTableSlot: Int32Array | null = null;
/** The hint and reference arrays of each kernel, kept from one reclaim to the next. */
const hitsOf = new WeakMap<Kernel, { hits: Float64Array; refs: Int32Array; slot: Int32Array }>();
/** The memo of each reverse-map list, kept from one reclaim to the next (emptied in between). */
const memos = new WeakMap<readonly Vma[], RmapWalkMemo>();
/** The memos the running direct reclaim filled. */
const memosUsed: RmapWalkMemo[] = [];
/** The memo and slot of the last hit a memo walk returned (its PTE may change next), or null. */
let lastHitMemo: RmapWalkMemo | null = null;
let lastHitSlot = 0;

/** Reverse-map lists shorter than this are walked without a memo (nothing to gain). */
const MEMO_MIN_VMAS = 8;

/** The memo for the reverse-map list `vmas` when direct reclaim of `k` may use one; else null. */
function walkMemo(k: Kernel, vmas: readonly Vma[]): RmapWalkMemo | null {
  if (memoKernel !== k || vmas.length < MEMO_MIN_VMAS) return null;
  let m = memos.get(vmas);
  if (m === undefined || m.cap < vmas.length) {
    // a list that grows (one VMA per fork) gets room to grow
    m = new RmapWalkMemo(Math.max(vmas.length, 2 * (m?.cap ?? 0)));
    memos.set(vmas, m);
  }
  if (!m.inUse) {
    m.inUse = true;
    memosUsed.push(m);
    m.fillAll(vmas);
  }
  return m;
}

/** Empty every memo the running reclaim filled. */
function forgetWalks(): void {
  for (const m of memosUsed) {
    for (let s = 0; s < m.pte.length; s++) memoSetTable(m, s, 0);
    m.vma.fill(null);
    m.span.fill(-1);
    m.lockOk.fill(0);
    m.lockStamp = -1;
    m.plain = 0;
    m.inUse = false;
  }
  memosUsed.length = 0;
  lastHitMemo = null;
}

/**
 * Start remembering page-table walks for the rmap walks of one direct
 * reclaim (`try_to_free_pages`) of `k`. Only where nothing but reclaim
 * runs until {@link rmapWalkMemoEnd}, reclaim changes no VMA and no
 * page table above the PTEs, and PTEs only where `try_to_unmap` unmaps
 * (which tells the memo, `memoPteChanged`): in the
 * sequential mode (no other thread runs while reclaim waits), without the
 * checker (which tracks every table looked at), and with the baseline
 * seams that reclaim calls (a feature's version might share or unshare
 * tables). Returns what to pass to {@link rmapWalkMemoEnd}. Host
 * bookkeeping around the kernel's reclaim, which walks every time.
 * @see mm/vmscan.c try_to_free_pages (the memo lives for one call)
 */
export function rmapWalkMemoBegin(k: Kernel): Kernel | null {
  const prev = memoKernel;
  forgetWalks();
  const s = k.seams;
  const safe =
    !k.interleaving &&
    k.tables.touched === null &&
    s.ptepClearFlushYoung === basePtepClearFlushYoung &&
    s.ptepClearFlush === basePtepClearFlush &&
    s.flushTlb === baseFlushTlb;
  memoKernel = safe ? k : null;
  memoHits = null;
  memoTableRefs = null;
  memoTableSlot = null;
  if (safe) {
    let h = hitsOf.get(k);
    if (h === undefined) {
      const n = k.pages.nrFrames;
      h = { hits: new Float64Array(n), refs: new Int32Array(n), slot: new Int32Array(n) };
      hitsOf.set(k, h);
    }
    memoHits = h.hits;
    memoTableRefs = h.refs;
    memoTableSlot = h.slot;
  }
  return prev;
}

/**
 * End what {@link rmapWalkMemoBegin} started: forget every walk (faults
 * after reclaim change page tables) and restore the state it returned.
 * @see mm/vmscan.c try_to_free_pages (the memo lives for one call)
 */
export function rmapWalkMemoEnd(prev: Kernel | null): void {
  forgetWalks();
  memoKernel = prev;
  const h = prev === null ? undefined : hitsOf.get(prev);
  memoHits = h?.hits ?? null;
  memoTableRefs = h?.refs ?? null;
  memoTableSlot = h?.slot ?? null;
}

/**
 * Make `pte` the PTE table of slot `s` of `m`, counting it in
 * {@link memoTableRefs} (and noting the slot in {@link memoTableSlot}).
 */
function memoSetTable(m: RmapWalkMemo, s: number, pte: number): void {
  const refs = memoTableRefs;
  const old = m.pte[s]!;
  if (refs !== null) {
    if (old !== 0) refs[old] = refs[old]! - 1;
    if (pte !== 0) {
      refs[pte] = refs[pte]! + 1;
      memoTableSlot![pte] = s;
    }
  }
  m.pte[s] = pte;
}

/**
 * Where in `memo`'s plane starting at slot `s0` the PTE table `pte` is
 * for span `sp`: the entry, when that slot is the only memo slot holding
 * the table; else -1 (not known: the walk compares every table).
 */
function memoEntryOf(memo: RmapWalkMemo, pte: number, s0: number, sp: number): number {
  if (pte < 0 || memoTableRefs![pte] !== 1) return -1;
  const s = memoTableSlot![pte]!;
  const e = s - s0;
  return e >= 0 && e < memo.cap && memo.pte[s] === pte && memo.span[s] === sp ? e : -1;
}

/**
 * Reclaim of {@link memoKernel} changed the PTE at index `x` of table
 * `pte` (`try_to_unmap_one` and the nonlinear scan): mend the presence
 * bits of the memo slots that hold the table. Usually that is the slot
 * of the walk's last hit alone; else every memo in use is searched.
 */
function memoPteChanged(pte: number, x: number): void {
  const refs = memoTableRefs;
  if (refs === null || refs[pte] === 0) return;
  const m = lastHitMemo;
  if (refs[pte] === 1 && m !== null && m.pte[lastHitSlot] === pte) {
    memoBitReread(m, lastHitSlot, x);
    return;
  }
  for (const u of memosUsed) for (let s = 0; s < u.pte.length; s++) if (u.pte[s] === pte) memoBitReread(u, s, x);
}

/** Read the presence of PTE `x` of slot `s`'s table again, if {@link RmapWalkMemo.present} holds it. */
function memoBitReread(m: RmapWalkMemo, s: number, x: number): void {
  const e = s % m.cap;
  const plane = (s - e) / m.cap;
  if (m.bitsSpan[(plane * WORDS_PER_TABLE + (x >> 5)) * m.cap + e] !== m.span[s]) return;
  const w = (plane * PTRS_PER_PTE + x) * m.words + (e >> 5);
  const bit = 1 << (e & 31);
  if (ptePresent(m.arr[s]![m.base[s]! + x * 2]!)) m.present[w]! |= bit;
  else m.present[w]! &= ~bit;
}

/** {@link rmapSkip} reached the end of the list. */
const STOP_END = 0;
/** {@link rmapSkip} found the PTE mapping the page, its lock held. */
const STOP_HIT = 1;
/** {@link rmapSkip} found the PTE table's lock held by someone else: the caller waits for it. */
const STOP_CONTENDED = 2;
/** {@link rmapSkip} met an mlocked shared file VMA (`page_referenced_one` counts it referenced). */
const STOP_LOCKED_SHARED = 3;

// What the last rmapSkip stopped at: read right after the call, before any yield.
let skipStop = STOP_END;
let skipAddr = 0;
let skipPte = 0;

/** Record where {@link rmapSkip} stopped; returns `i`. */
function skipStopAt(stop: number, addr: number, pte: number, i: number): number {
  skipStop = stop;
  skipAddr = addr;
  skipPte = pte;
  return i;
}

/**
 * The per-VMA steps of an rmap walk that find nothing: from `vmas[i]` on,
 * `vma_address()` and `page_check_address()` for each VMA (a PTE that
 * is not present passed by the quick check without its lock; the PTE
 * lock taken and dropped, as the kernel does, when the entry is present
 * but does not map `pfn`), up to the first VMA the caller must act
 * on. Returns that VMA's index (or `vmas.length`) and sets `skipStop`,
 * with `skipAddr` and `skipPte` for a hit or a contended lock.
 *
 * A plain function: with an anon_vma shared by a thousand forked
 * processes nearly every step of the walk is a miss, and none of them may
 * sleep, so the walk's generator runs only for the hits. The simulated
 * work (every lock taken, every charge) is the kernel's.
 * @param referencedWalk `page_referenced_one()`'s walk (skips nonlinear VMAs, stops at mlocked shared ones of a file page); else `try_to_unmap_one()`'s.
 * @see mm/rmap.c page_referenced_anon, page_referenced_file, try_to_unmap_anon, try_to_unmap_file, vma_address, page_check_address
 */
function rmapSkip(k: Kernel, pfn: number, vmas: readonly Vma[], memo: RmapWalkMemo | null, i: number, referencedWalk: boolean, file: boolean): number {
  if (memo !== null) return rmapSkipMemo(k, pfn, vmas, memo, i, referencedWalk, file);
  const ptl = k.ptl;
  for (; i < vmas.length; i++) {
    const vma = vmas[i]!;
    if (referencedWalk) {
      const step = referencedStep(vma, file);
      if (step === REF_STOP) return skipStopAt(STOP_LOCKED_SHARED, 0, 0, i);
      if (step === REF_SKIP) continue;
    }
    const addr = vmaAddress(k, pfn, vma);
    if (addr < 0) continue;
    const pte = lookupPteTable(k, vma.mm, addr);
    if (pte === 0 || !pteQuickPresent(k, addr, pte)) continue;
    if (!ptl.tryLock(k, pte)) return skipStopAt(STOP_CONTENDED, addr, pte, i);
    if (pteMapsPage(k, pfn, addr, pte) >= 0) return skipStopAt(STOP_HIT, addr, pte, i);
  }
  skipStop = STOP_END;
  return i;
}

/** `page_referenced_one()` probes the VMA. */
const REF_PROBE = 0;
/** `page_referenced_one()` skips the VMA (nonlinear). */
const REF_SKIP = 1;
/** An mlocked shared VMA of a file page: counted referenced, the walk ends. */
const REF_STOP = 2;

/** What `page_referenced_one()`'s walk does with `vma` before probing it. */
function referencedStep(vma: Vma, file: boolean): number {
  const flags = vma.vmFlags;
  if (file && (flags & (VM_LOCKED | VM_MAYSHARE)) === (VM_LOCKED | VM_MAYSHARE)) return REF_STOP;
  return (flags & VM_NONLINEAR) !== 0 ? REF_SKIP : REF_PROBE;
}

/**
 * The one PTE that maps `pfn`, as `table pfn × 512 + index`, when the
 * page has a single mapping and {@link memoHits} names it; else -1.
 * Host bookkeeping: with `page_mapcount()` 1, exactly one PTE maps the
 * frame (the checker's mapcount invariant; a shared table's entry counts
 * once), so once that entry is read and found mapping it, every other
 * entry an rmap walk probes is known not to, without comparing its pfn.
 * The kernel compares each (under the lock, for a present entry); the
 * answer, and so every lock and charge, is the same.
 */
function uniqueMapping(k: Kernel, hits: Float64Array, pfn: number): number {
  const p = k.pages;
  if (p.mapcount[pfn] !== 1) return -1;
  const h = hits[pfn]! - 1;
  if (h < 0) return -1;
  const idx = h % PTRS_PER_PTE;
  const table = (h - idx) / PTRS_PER_PTE;
  if (p.tableSlot[table]! < 0) return -1;
  const a = k.tables.arr(table);
  const b = k.tables.base(table) + idx * 2;
  return ptePresent(a[b]!) && a[b + 1] === pfn ? h : -1;
}

/**
 * The misses of one {@link rmapSkipMemo} call, in walk order: each
 * probe's PTE table and VMA index (grown to the longest list walked).
 */
let missPte = new Int32Array(64);
let missAt = new Int32Array(64);

// module copies of imported constants for the walk's loop (optimized
// code re-reads an imported binding at every use)
const PRESENT_MASK = PTE_PRESENT_MASK;
const PMD = PMD_SIZE;
const PAGE = PAGE_SIZE;
const PER_TABLE = PTRS_PER_PTE;
const LOCKED_SHARED = VM_LOCKED | VM_MAYSHARE;
const NONLINEAR = VM_NONLINEAR;
const PLANE_COUNT = PLANES;
const TABLE_BITS_WORDS = WORDS_PER_TABLE;

/**
 * {@link rmapSkip} with the page-table walks remembered in `memo` (only
 * the PTE table of a VMA not seen yet in this span is looked up), and
 * the PTEs of a page with one mapping compared with the one found last
 * time ({@link uniqueMapping}) instead of read: over the entries that
 * share one address ({@link RmapWalkMemo.plain}) by
 * {@link rmapSkipPlain}, over the others by {@link rmapSkipEach}.
 */
function rmapSkipMemo(k: Kernel, pfn: number, vmas: readonly Vma[], memo: RmapWalkMemo, i: number, referencedWalk: boolean, file: boolean): number {
  const offset = k.pages.index[pfn]! * PAGE;
  const unique = uniqueMapping(k, memoHits!, pfn);
  if (unique >= 0 && i < memo.plain && memoLocksKnown(k, memo)) {
    i = rmapSkipPlain(k, memo, i, offset, unique);
    if (skipStop !== STOP_END) return i;
  }
  return rmapSkipEach(k, pfn, vmas, memo, i, referencedWalk, file, offset, unique);
}

/**
 * Whether {@link rmapSkipPlain} may count the locks of
 * {@link RmapWalkMemo.lockOk} slots without taking them: no PTE lock
 * is held, a take and release would move nothing but the count (in the
 * sequential mode, under the rmap lock), and the memo's knowledge is
 * still right (else it is dropped).
 */
function memoLocksKnown(k: Kernel, memo: RmapWalkMemo): boolean {
  const ptl = k.ptl;
  const cpu = k.cpu;
  if (ptl.held !== 0 || cpu.preemptCount === 0 || k.mode === 'timed') return false;
  if (memo.lockStamp !== ptl.takerChanges || ptl.taker !== cpu.id) {
    memo.lockOk.fill(0);
    memo.lockStamp = ptl.takerChanges;
  }
  return true;
}

/** The number of the PMD-sized span holding user address `addr`. */
function spanOf(addr: number): number {
  return (addr / PMD) | 0;
}

/**
 * {@link rmapSkip} over the entries `[i, plain)` of `memo`, which map
 * the page's offset at one address, for a page whose one mapping is
 * `unique` (`table pfn × 512 + index`). Each VMA's probe, in order:
 * `vma_address()` (one for all), `page_check_address()`'s quick check
 * (the presence bit, {@link RmapWalkMemo.present}), and for a present
 * PTE the PTE lock taken and dropped, the pfn compared (`unique` names
 * the one PTE that maps the page). A lock this CPU took last in this
 * reclaim ({@link RmapWalkMemo.lockOk}) only counts its acquisition (see
 * `PtlTable.lockUnlockKnown`); any other is taken and dropped as
 * {@link rmapSkipEach} does. When the memo knows the hit's entry (or
 * that there is none here), the probes up to it are counted 32 entries
 * at a time ({@link memoCountRun}); else entry by entry, each present
 * PTE's table compared with the hit's ({@link rmapSkipPlainEach}).
 * Returns the hit's index or `plain` (with `skipStop` `STOP_END`: go
 * on), as {@link rmapSkip}.
 */
function rmapSkipPlain(k: Kernel, memo: RmapWalkMemo, i: number, offset: number, unique: number): number {
  const plain = memo.plain;
  const addr = memo.origin[0]! + offset;
  skipStop = STOP_END;
  if (addr < memo.start[0]! || addr >= memo.end[0]!) return plain;
  const sp = spanOf(addr);
  const x = ((addr - sp * PMD) / PAGE) | 0;
  const ux = unique % PER_TABLE;
  const hitTable = ux === x ? ((unique - ux) / PER_TABLE) | 0 : -1;
  const s0 = (sp % PLANE_COUNT) * memo.cap;
  const hitEntry = memoEntryOf(memo, hitTable, s0, sp);
  if (hitTable >= 0 && hitEntry < 0) return rmapSkipPlainEach(k, memo, i, addr, x, hitTable);
  const end = hitEntry >= i && hitEntry < plain ? hitEntry : plain;
  memoValidate(k, memo, addr, x, end);
  // reading bits may have looked tables up: is the hit's entry still the one?
  if (hitTable >= 0 && memoEntryOf(memo, hitTable, s0, sp) !== hitEntry) return rmapSkipPlainEach(k, memo, i, addr, x, hitTable);
  return rmapSkipPlainDone(k, memo, memoCountRun(k, memo, sp, x, i, end), end, addr, hitTable);
}

/**
 * {@link rmapSkipPlain} entry by entry, for a hit in table `hitTable`
 * whose entry the memo does not know: each present PTE's table is
 * compared with it.
 */
function rmapSkipPlainEach(k: Kernel, memo: RmapWalkMemo, i: number, addr: number, x: number, hitTable: number): number {
  const plain = memo.plain;
  const sp = spanOf(addr);
  const plane = sp % PLANE_COUNT;
  let known = 0;
  for (; i < plain; i++) {
    memoValidate(k, memo, addr, x, i + 1);
    // a present PTE (the quick check) in the hit's table is the hit
    const present = (memo.present[(plane * PER_TABLE + x) * memo.words + (i >> 5)]! & (1 << (i & 31))) !== 0;
    if (present && memo.pte[plane * memo.cap + i] === hitTable) break;
    known += memoCountRun(k, memo, sp, x, i, i + 1);
  }
  return rmapSkipPlainDone(k, memo, known, i, addr, hitTable);
}

/**
 * The end of {@link rmapSkipPlain}: count the `known` probes' locks,
 * note that what {@link RmapWalkMemo.lockOk} says holds, and stop at the
 * hit (entry `i`, table `hitTable`) unless `i` is `plain`.
 */
function rmapSkipPlainDone(k: Kernel, memo: RmapWalkMemo, known: number, i: number, addr: number, hitTable: number): number {
  const ptl = k.ptl;
  if (known > 0) ptl.lockUnlockKnown(k, known);
  // every take of this walk was this CPU's
  memo.lockStamp = ptl.takerChanges;
  if (i === memo.plain) return i;
  lastHitMemo = memo;
  lastHitSlot = (spanOf(addr) % PLANE_COUNT) * memo.cap + i;
  return skipStopAt(ptl.tryLock(k, hitTable) ? STOP_HIT : STOP_CONTENDED, addr, hitTable, i);
}

/** A PTE lock found held by a walk that knows none is: a model bug. */
function noPteLockHeld(pte: number): never {
  throw new Error(`rmap walk memo: the PTE lock of table ${pte} is held, but no PTE lock was`);
}

/**
 * The probes of {@link rmapSkipPlain} over the entries `[from, to)` that
 * hold no hit, for PTE index `x` of span `sp`, 32 entries at a time:
 * returns how many present PTEs' locks are known
 * ({@link RmapWalkMemo.lockOk}); the others are taken and dropped in walk
 * order (`PtlTable.lockUnlock`) and become known.
 */
function memoCountRun(k: Kernel, memo: RmapWalkMemo, sp: number, x: number, from: number, to: number): number {
  const plane = sp % PLANE_COUNT;
  const s0 = plane * memo.cap;
  const row = (plane * PER_TABLE + x) * memo.words;
  const okRow = plane * memo.words;
  const { pte: ptes, present, lockOk } = memo;
  const ptl = k.ptl;
  let known = 0;
  for (let e = from; e < to; ) {
    const w = e >> 5;
    const next = Math.min(to, (w + 1) << 5);
    const n = next - e;
    // the entries [e, next) of word w
    const mask = (n === BITS_PER_WORD ? -1 : (1 << n) - 1) << (e & 31);
    const here = present[row + w]! & mask;
    const ok = lockOk[okRow + w]!;
    known += popcount(here & ok);
    let fresh = here & ~ok;
    while (fresh !== 0) {
      const low = fresh & -fresh;
      fresh ^= low;
      const pte = ptes[s0 + (w << 5) + 31 - Math.clz32(low)]!;
      if (!ptl.lockUnlock(k, pte)) noPteLockHeld(pte);
      lockOk[okRow + w]! |= low;
    }
    e = next;
  }
  return known;
}

/** The set bits of int32 `v`. */
function popcount(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

/**
 * Make the presence bits of entries `[0, to)` for PTE index `x` of
 * `addr`'s span valid (read what is not: {@link memoReadBits}).
 */
function memoValidate(k: Kernel, memo: RmapWalkMemo, addr: number, x: number, to: number): void {
  const sp = spanOf(addr);
  const v = (sp % PLANE_COUNT) * TABLE_BITS_WORDS + (x >> 5);
  let valid = memo.validSpan[v] === sp ? memo.validTo[v]! : 0;
  if (valid >= to) return;
  const bitsSpan = memo.bitsSpan;
  const w0 = v * memo.cap;
  for (; valid < to; valid++) if (bitsSpan[w0 + valid] !== sp) memoReadBits(k, memo, valid, addr, x);
  memo.validTo[v] = valid;
  memo.validSpan[v] = sp;
}

/**
 * Read the presence bits of the 32 PTEs around index `x` of entry `i`'s
 * table for `addr`'s span into {@link RmapWalkMemo.present}, looking the
 * table up first if the entry's slot holds another span.
 */
function memoReadBits(k: Kernel, memo: RmapWalkMemo, i: number, addr: number, x: number): void {
  const sp = spanOf(addr);
  const plane = sp % PLANE_COUNT;
  const s = plane * memo.cap + i;
  if (memo.span[s] !== sp) memoSpan(k, memo, i, memo.vma[i]!, addr);
  const x0 = x & ~31;
  const words = memo.words;
  const present = memo.present;
  const bit = 1 << (i & 31);
  const a = memo.arr[s]!;
  const b = memo.base[s]! + x0 * 2;
  const none = memo.pte[s] === 0;
  for (let j = 0, w = (plane * PER_TABLE + x0) * words + (i >> 5); j < BITS_PER_WORD; j++, w += words) {
    if (!none && (a[b + j * 2]! & PRESENT_MASK) !== 0) present[w]! |= bit;
    else present[w]! &= ~bit;
  }
  memo.bitsSpan[(plane * TABLE_BITS_WORDS + (x >> 5)) * memo.cap + i] = sp;
}

/**
 * {@link rmapSkipMemo} VMA by VMA from `vmas[i]` on, with `unique` from
 * {@link uniqueMapping} (-1: none known). In two passes: the probes are
 * found first (`vma_address` and the PTE read of `page_check_address`
 * are host reads), then their locks are taken and dropped in walk order
 * (`PtlTable.lockUnlockEach`), up to the first one held, then the hit's.
 */
function rmapSkipEach(k: Kernel, pfn: number, vmas: readonly Vma[], memo: RmapWalkMemo, i: number, referencedWalk: boolean, file: boolean, offset: number, unique: number): number {
  const n = vmas.length;
  if (missPte.length < n) {
    missPte = new Int32Array(n);
    missAt = new Int32Array(n);
  }
  const misses = missPte;
  const missVma = missAt;
  const hits = memoHits!;
  const cap = memo.cap;
  const { flags, origin, start, end, span: spans, pte: ptes, arr, base } = memo;
  let m = 0;
  let stop = STOP_END;
  let hitSlot = 0;
  for (; i < n; i++) {
    const vma = vmas[i]!;
    if (memo.vma[i] !== vma) memo.fill(i, vma);
    if (referencedWalk) {
      const f = flags[i]!;
      if (file && (f & LOCKED_SHARED) === LOCKED_SHARED) {
        stop = STOP_LOCKED_SHARED;
        break;
      }
      if ((f & NONLINEAR) !== 0) continue;
    }
    // vma_address
    const addr = origin[i]! + offset;
    if (addr < start[i]! || addr >= end[i]!) continue;
    const sp = spanOf(addr);
    const s = (sp % PLANE_COUNT) * cap + i;
    if (spans[s] !== sp) memoSpan(k, memo, i, vma, addr);
    const pte = ptes[s]!;
    if (pte === 0) continue;
    // page_check_address with the table's words remembered; the pfn is
    // compared before the lock is taken, which nothing can tell apart here
    const idx = ((addr - sp * PMD) / PAGE) | 0;
    const b = base[s]! + idx * 2;
    const a = arr[s]!;
    // the quick check: a PTE not present is passed without its lock
    if ((a[b]! & PRESENT_MASK) === 0) continue;
    const entry = pte * PER_TABLE + idx;
    if (unique >= 0) {
      if (entry === unique) {
        stop = STOP_HIT;
        hitSlot = s;
        break;
      }
    } else {
      const mapped = a[b + 1]!;
      // what this PTE maps, for that page's walks to come
      if (mapped < hits.length) hits[mapped] = entry + 1;
      if (mapped === pfn) {
        stop = STOP_HIT;
        hitSlot = s;
        break;
      }
    }
    misses[m] = pte;
    missVma[m] = i;
    m++;
  }
  const ptl = k.ptl;
  const done = ptl.lockUnlockEach(k, misses, m);
  if (done < m) {
    const j = missVma[done]!;
    return skipStopAt(STOP_CONTENDED, origin[j]! + offset, misses[done]!, j);
  }
  if (stop === STOP_HIT) {
    const pte = ptes[hitSlot]!;
    lastHitMemo = memo;
    lastHitSlot = hitSlot;
    return skipStopAt(ptl.tryLock(k, pte) ? STOP_HIT : STOP_CONTENDED, origin[i]! + offset, pte, i);
  }
  if (stop === STOP_LOCKED_SHARED) return skipStopAt(STOP_LOCKED_SHARED, 0, 0, i);
  skipStop = STOP_END;
  return i;
}

/**
 * Look up the PTE table of `memo` entry `i` for the PMD-sized span
 * holding `addr` (`pgd_offset` … `pmd_offset`) and remember it in the
 * span's slot (no presence bits read for it yet, its lock not known).
 */
function memoSpan(k: Kernel, memo: RmapWalkMemo, i: number, vma: Vma, addr: number): void {
  const sp = spanOf(addr);
  const plane = sp % PLANE_COUNT;
  const s = plane * memo.cap + i;
  const pte = lookupPteTable(k, vma.mm, addr);
  memo.span[s] = sp;
  memoSetTable(memo, s, pte);
  memo.arr[s] = pte === 0 ? EMPTY_TABLE : k.tables.arr(pte);
  memo.base[s] = pte === 0 ? 0 : k.tables.base(pte);
  memo.lockNotOk(s);
  memo.invalidFrom(plane * TABLE_BITS_WORDS, (plane + 1) * TABLE_BITS_WORDS, i);
  const bitsSpan = memo.bitsSpan;
  for (let j = 0, w = plane * TABLE_BITS_WORDS * memo.cap + i; j < TABLE_BITS_WORDS; j++, w += memo.cap) bitsSpan[w] = -1;
}

/** The lock guarding the page's reverse map: its anon_vma's, or its file's `i_mmap_lock`. */
function rmapLock(k: Kernel, pfn: number): SpinLock | null {
  const p = k.pages;
  if ((p.flags[pfn]! & PG_anon) !== 0) return k.anonVmas.get(p.mapping[pfn]!)?.lock ?? null;
  return k.files.get(p.mapping[pfn]!)?.iMmapLock ?? null;
}

/**
 * Baseline `ptepClearFlushYoung` seam, `ptep_clear_flush_young()`: test
 * and clear the young bit of the PTE for `addr` in PTE table `pte`; flush
 * the TLB entry if it was set. Returns whether it was young.
 * @see include/asm-generic/pgtable.h ptep_clear_flush_young
 */
export function* basePtepClearFlushYoung(k: Kernel, vma: Vma, addr: number, pte: number): KGen<boolean> {
  const a = k.tables.arr(pte);
  const b = k.tables.base(pte) + pteIndex(addr) * 2;
  const f = a[b]!;
  if ((f & _PAGE_ACCESSED) === 0) return false;
  a[b] = f & ~_PAGE_ACCESSED;
  if (k.seams.flushTlb(k, 'page', vma.mm, addr, addr + PAGE_SIZE, 'clear_flush_young')) yield* ipiWait(k);
  return true;
}

/**
 * Baseline `ptepClearFlush` seam, `ptep_clear_flush()`: clear the PTE for
 * `addr` in PTE table `pte` and flush its TLB entry.
 * @see include/asm-generic/pgtable.h ptep_clear_flush
 */
export function* basePtepClearFlush(k: Kernel, vma: Vma, addr: number, pte: number): KGen<void> {
  const a = k.tables.arr(pte);
  const b = k.tables.base(pte) + pteIndex(addr) * 2;
  a[b] = 0;
  a[b + 1] = 0;
  if (k.seams.flushTlb(k, 'page', vma.mm, addr, addr + PAGE_SIZE, 'clear_flush')) yield* ipiWait(k);
}

/**
 * `page_referenced()`: count the young PTEs mapping the page, clearing
 * them, plus its `PG_referenced` bit (cleared too). The walk holds the
 * anon_vma lock or `i_mmap_lock`.
 * @see mm/rmap.c page_referenced, page_referenced_anon, page_referenced_file
 */
export function* pageReferenced(k: Kernel, pfn: number): KGen<number> {
  const p = k.pages;
  let referenced = 0;
  if ((p.flags[pfn]! & PG_referenced) !== 0) {
    p.flags[pfn]! &= ~PG_referenced;
    referenced++;
  }
  if (p.mapcount[pfn] === 0 || p.mapping[pfn] === 0) return referenced;
  const anon = (p.flags[pfn]! & PG_anon) !== 0;
  let mapcount = p.mapcount[pfn]!;
  const lock = rmapLock(k, pfn);
  if (lock !== null && !lock.tryLock(k)) yield* spinLockSlow(k, lock);
  const vmas = rmapVmas(k, pfn);
  const memo = walkMemo(k, vmas);
  for (let i = 0; ; i++) {
    i = rmapSkip(k, pfn, vmas, memo, i, true, !anon);
    if (skipStop === STOP_END) break;
    if (skipStop === STOP_LOCKED_SHARED) {
      referenced++;
      break;
    }
    const vma = vmas[i]!;
    const addr = skipAddr;
    const pte = skipPte;
    if (skipStop === STOP_CONTENDED) {
      yield* ptlLockSlow(k, k.ptl, pte);
      if (pteMapsPage(k, pfn, addr, pte) < 0) continue;
    }
    if (yield* k.seams.ptepClearFlushYoung(k, vma, addr, pte)) referenced++;
    k.ptl.unlock(k, pte);
    if (--mapcount === 0) break;
  }
  lock?.unlock(k);
  return referenced;
}

/**
 * `try_to_unmap_one()` once `page_check_address()` found the PTE mapping
 * `pfn` at `addr` in table `pte`, its lock held: unmap the page from
 * `vma` unless mlocked or young; an anonymous page leaves a swap entry
 * behind. Drops the lock.
 * @see mm/rmap.c try_to_unmap_one
 */
function* tryToUnmapOne(k: Kernel, pfn: number, vma: Vma, addr: number, pte: number): KGen<number> {
  if ((vma.vmFlags & VM_LOCKED) !== 0 || (yield* k.seams.ptepClearFlushYoung(k, vma, addr, pte))) {
    k.ptl.unlock(k, pte);
    return SWAP_FAIL;
  }
  const a = k.tables.arr(pte);
  const b = k.tables.base(pte) + pteIndex(addr) * 2;
  const mm = vma.mm;
  const f = a[b]!;
  yield* k.seams.ptepClearFlush(k, vma, addr, pte);
  const p = k.pages;
  if ((f & _PAGE_DIRTY) !== 0) p.flags[pfn]! |= PG_dirty;
  updateHiwaterRss(mm);
  if ((p.flags[pfn]! & PG_anon) !== 0) {
    if ((p.flags[pfn]! & PG_swapcache) === 0) throw new Error(`try_to_unmap of anonymous page ${pfn} not in the swap cache`);
    const slot = p.private[pfn]!;
    swapDuplicate(k, slot);
    addRss(k, mm, pte, -1, 0);
    a[b] = _PAGE_SWP;
    a[b + 1] = slot;
  } else {
    addRss(k, mm, pte, 0, -1);
  }
  if (memoKernel === k) memoPteChanged(pte, pteIndex(addr));
  pageRemoveRmap(k, pfn);
  putPage(k, pfn);
  k.ptl.unlock(k, pte);
  return SWAP_AGAIN;
}

/**
 * `try_to_unmap()`: unmap the page from every VMA that maps it, under the
 * anon_vma lock or `i_mmap_lock`.
 * @see mm/rmap.c try_to_unmap, try_to_unmap_anon, try_to_unmap_file
 */
export function* tryToUnmap(k: Kernel, pfn: number): KGen<number> {
  let ret = SWAP_AGAIN;
  const lock = rmapLock(k, pfn);
  if (lock !== null && !lock.tryLock(k)) yield* spinLockSlow(k, lock);
  const live = rmapVmas(k, pfn);
  const memo = walkMemo(k, live);
  const vmas = live.slice();
  for (let i = 0; ; i++) {
    // the VMAs skipped map nothing here: try_to_unmap_one returns SWAP_AGAIN for each
    i = rmapSkip(k, pfn, vmas, memo, i, false, false);
    if (skipStop === STOP_END) break;
    const addr = skipAddr;
    const pte = skipPte;
    if (skipStop === STOP_CONTENDED) {
      yield* ptlLockSlow(k, k.ptl, pte);
      if (pteMapsPage(k, pfn, addr, pte) < 0) {
        // someone may have unmapped the page while we waited
        if (k.pages.mapcount[pfn] === 0) break;
        continue;
      }
    }
    ret = yield* tryToUnmapOne(k, pfn, vmas[i]!, addr, pte);
    if (ret === SWAP_FAIL || k.pages.mapcount[pfn] === 0) break;
  }
  if (ret !== SWAP_FAIL && k.pages.mapcount[pfn]! > 0 && (k.pages.flags[pfn]! & PG_anon) === 0) {
    const f = k.files.get(k.pages.mapping[pfn]!);
    if (f !== undefined) ret = yield* tryToUnmapNonlinear(k, pfn, f.iMmapNonlinear);
  }
  lock?.unlock(k);
  if (k.pages.mapcount[pfn] === 0) ret = SWAP_SUCCESS;
  return ret;
}

/**
 * `try_to_unmap_nonlinear()`: a page-cache page may sit anywhere in a
 * nonlinear VMA, so scan them; a mapping that is not young is replaced by a
 * file PTE keeping the page's offset (the kernel scans clusters with a
 * cursor and unmaps every page it meets; the model unmaps only this page).
 */
function* tryToUnmapNonlinear(k: Kernel, pfn: number, vmas: readonly Vma[]): KGen<number> {
  for (const vma of vmas) if ((vma.vmFlags & VM_LOCKED) !== 0) return SWAP_FAIL;
  const p = k.pages;
  for (const vma of vmas.slice()) {
    for (let addr = vma.vmStart; addr < vma.vmEnd && p.mapcount[pfn]! > 0; addr += PAGE_SIZE) {
      const pte = yield* pageCheckAddress(k, pfn, vma, addr);
      if (pte === null) continue;
      const { a, b } = pte;
      if (yield* k.seams.ptepClearFlushYoung(k, vma, addr, pte.pte)) {
        k.ptl.unlock(k, pte.pte);
        continue;
      }
      const f = a[b]!;
      yield* k.seams.ptepClearFlush(k, vma, addr, pte.pte);
      if (p.index[pfn] !== (addr - vma.vmStart) / PAGE_SIZE + vma.vmPgoff) {
        a[b] = _PAGE_FILE;
        a[b + 1] = p.index[pfn]!;
      }
      if ((f & _PAGE_DIRTY) !== 0) p.flags[pfn]! |= PG_dirty;
      if (memoKernel === k) memoPteChanged(pte.pte, pteIndex(addr));
      addRss(k, vma.mm, pte.pte, 0, -1);
      pageRemoveRmap(k, pfn);
      putPage(k, pfn);
      k.ptl.unlock(k, pte.pte);
    }
  }
  return SWAP_AGAIN;
}
