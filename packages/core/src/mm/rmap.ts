/**
 * Reverse maps: find every PTE that maps a page through its anon_vma or
 * its file's `i_mmap`, to age it (`page_referenced`) or unmap it
 * (`try_to_unmap`).
 * @see mm/rmap.c vma_address, page_check_address, page_referenced, try_to_unmap
 * @module
 */
import { _PAGE_ACCESSED, _PAGE_DIRTY, _PAGE_FILE, _PAGE_SWP, PAGE_SIZE, PMD_SIZE, PTRS_PER_PTE, pteIndex, ptePresent, TABLE_WORDS } from '../pgtable/entry.js';
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

/**
 * What direct reclaim remembers of the page-table walks of its rmap walks:
 * for each VMA of a reverse-map list, its bounds and flags and the PTE
 * table (0 for none) that covers one PMD-sized span of it. An anon_vma
 * shared by many forked processes has reclaim walk the same VMAs to the
 * same PTE tables for every page of a span; the memo keeps the host from
 * repeating the PGD → PUD → PMD lookups and the reads of a thousand VMAs.
 * Host state only: a probe that uses it takes the same locks and charges
 * as one that walks.
 */
class RmapWalkMemo {
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
  /** The start of the PMD-sized span whose PTE table the entry holds (-Infinity: none yet). */
  readonly lo: Float64Array;
  /** The PTE table covering the span (0: none). */
  readonly pte: Int32Array;
  /** The words of that table (`k.tables.arr`; an empty array for none). */
  readonly arr: Uint32Array[];
  /** Word offset of the table's entry 0 in {@link arr}. */
  readonly base: Int32Array;
  /** Filled by the running reclaim (listed in {@link memosUsed}). */
  inUse = false;

  constructor(n: number) {
    this.vma = new Array<Vma | null>(n).fill(null);
    this.flags = new Int32Array(n);
    this.start = new Float64Array(n);
    this.end = new Float64Array(n);
    this.origin = new Float64Array(n);
    this.lo = new Float64Array(n);
    this.pte = new Int32Array(n);
    this.arr = new Array<Uint32Array>(n).fill(EMPTY_TABLE);
    this.base = new Int32Array(n);
  }

  /** Remember `vma` at entry `i` (no PTE table looked up yet). */
  fill(i: number, vma: Vma): void {
    this.vma[i] = vma;
    this.flags[i] = vma.vmFlags;
    this.start[i] = vma.vmStart;
    this.end[i] = vma.vmEnd;
    this.origin[i] = vma.vmStart - vma.vmPgoff * PAGE_SIZE;
    this.lo[i] = -Infinity;
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
/** The hint arrays of each kernel, kept from one reclaim to the next. */
const hitsOf = new WeakMap<Kernel, Float64Array>();
/** The memo of each reverse-map list, kept from one reclaim to the next (emptied in between). */
const memos = new WeakMap<readonly Vma[], RmapWalkMemo>();
/** The memos the running direct reclaim filled. */
const memosUsed: RmapWalkMemo[] = [];

/** Reverse-map lists shorter than this are walked without a memo (nothing to gain). */
const MEMO_MIN_VMAS = 8;

/** The memo for the reverse-map list `vmas` when direct reclaim of `k` may use one; else null. */
function walkMemo(k: Kernel, vmas: readonly Vma[]): RmapWalkMemo | null {
  if (memoKernel !== k || vmas.length < MEMO_MIN_VMAS) return null;
  let m = memos.get(vmas);
  if (m === undefined || m.pte.length < vmas.length) {
    // a list that grows (one VMA per fork) gets room to grow
    m = new RmapWalkMemo(Math.max(vmas.length, 2 * (m?.pte.length ?? 0)));
    memos.set(vmas, m);
  }
  if (!m.inUse) {
    m.inUse = true;
    memosUsed.push(m);
  }
  return m;
}

/** Empty every memo the running reclaim filled. */
function forgetWalks(): void {
  for (const m of memosUsed) {
    m.vma.fill(null);
    m.inUse = false;
  }
  memosUsed.length = 0;
}

/**
 * Start remembering page-table walks for the rmap walks of one direct
 * reclaim (`try_to_free_pages`) of `k`. Only where nothing but reclaim
 * runs until {@link rmapWalkMemoEnd}, and reclaim changes no VMA and no
 * page table above the PTEs: in the
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
  if (safe) {
    memoHits = hitsOf.get(k) ?? new Float64Array(k.pages.nrFrames);
    hitsOf.set(k, memoHits);
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
  memoHits = prev === null ? null : (hitsOf.get(prev) ?? null);
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
 * {@link rmapSkip} with the page-table walks remembered in `memo` (only
 * the PTE table of a VMA not seen yet in this span is looked up), and
 * the PTEs of a page with one mapping compared with the one found last
 * time ({@link uniqueMapping}) instead of read.
 */
function rmapSkipMemo(k: Kernel, pfn: number, vmas: readonly Vma[], memo: RmapWalkMemo, i: number, referencedWalk: boolean, file: boolean): number {
  const ptl = k.ptl;
  const offset = k.pages.index[pfn]! * PAGE_SIZE;
  const hits = memoHits!;
  const unique = uniqueMapping(k, hits, pfn);
  for (; i < vmas.length; i++) {
    const vma = vmas[i]!;
    if (memo.vma[i] !== vma) memo.fill(i, vma);
    if (referencedWalk) {
      const flags = memo.flags[i]!;
      if (file && (flags & (VM_LOCKED | VM_MAYSHARE)) === (VM_LOCKED | VM_MAYSHARE)) return skipStopAt(STOP_LOCKED_SHARED, 0, 0, i);
      if ((flags & VM_NONLINEAR) !== 0) continue;
    }
    // vma_address
    const addr = memo.origin[i]! + offset;
    if (addr < memo.start[i]! || addr >= memo.end[i]!) continue;
    let pte: number;
    const lo = memo.lo[i]!;
    if (addr < lo || addr >= lo + PMD_SIZE) {
      pte = lookupPteTable(k, vma.mm, addr);
      memo.lo[i] = addr - (addr % PMD_SIZE);
      memo.pte[i] = pte;
      memo.arr[i] = pte === 0 ? EMPTY_TABLE : k.tables.arr(pte);
      memo.base[i] = pte === 0 ? 0 : k.tables.base(pte);
    } else {
      pte = memo.pte[i]!;
    }
    if (pte === 0) continue;
    // page_check_address with the table's words remembered; the pfn is
    // compared before the lock is taken, which nothing can tell apart here
    const entry = pte * PTRS_PER_PTE + pteIndex(addr);
    const a = memo.arr[i]!;
    const b = memo.base[i]! + pteIndex(addr) * 2;
    // the quick check: a PTE not present is passed without its lock
    if (!ptePresent(a[b]!)) continue;
    if (unique >= 0) {
      if (entry === unique) return skipStopAt(ptl.tryLock(k, pte) ? STOP_HIT : STOP_CONTENDED, addr, pte, i);
    } else {
      const mapped = a[b + 1]!;
      // what this PTE maps, for that page's walks to come
      if (mapped < hits.length) hits[mapped] = entry + 1;
      if (mapped === pfn) return skipStopAt(ptl.tryLock(k, pte) ? STOP_HIT : STOP_CONTENDED, addr, pte, i);
    }
    if (!ptl.lockUnlock(k, pte)) return skipStopAt(STOP_CONTENDED, addr, pte, i);
  }
  skipStop = STOP_END;
  return i;
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
      addRss(k, vma.mm, pte.pte, 0, -1);
      pageRemoveRmap(k, pfn);
      putPage(k, pfn);
      k.ptl.unlock(k, pte.pte);
    }
  }
  return SWAP_AGAIN;
}
