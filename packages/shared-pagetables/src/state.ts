/**
 * The feature's state in one kernel: the level it shares at, each mm's
 * shared tables (with the address of the table's range there, in a per-mm
 * slot) and its counters. The share count itself is not here: it is the
 * table page's refcount, kept by the core's `pgtableShare` /
 * `pgtableUnshare`, the count hugetlb's PMD sharing uses too, and the
 * sharers of a table are the core's list (`tableSharers`).
 * @module
 */
import {
  type Kernel,
  type Level,
  LEVEL_PMD,
  LEVEL_PTE,
  lookupPmdTable,
  lookupPteTable,
  type MmSlot,
  type MmStruct,
  PMD_SIZE,
  PUD_SIZE,
  type Seams,
  tableSharers,
} from '@mmlab/core';

/** The feature's name: owner of its seam links, counters, gauges and checks. */
export const NAME = 'shared-pagetables';

/** Where tables are shared: PTE tables (2 MiB each) or PMD tables (1 GiB each). */
export type ShareLevel = 'pte' | 'pmd';

/** The feature's counters (`metrics.feature['shared-pagetables']`). */
export interface ShareCounters {
  /** Tables shared by a fault (found through `i_mmap`). */
  share_fault: number;
  /** Tables shared at fork. */
  share_fork: number;
  /** A fault's share that lost the populate race and was given back. */
  share_lost_race: number;
  /** Shares dropped by a zap (munmap, exit, MADV_DONTNEED) or by an unshare without a copy. */
  unshare_zap: number;
  /** Shares dropped where free_pgtables would free the table. */
  unshare_free: number;
  /** Private copies made before a change for one mm only (PTE level). */
  unshare_copy: number;
  /** PTEs copied into private copies. */
  unshare_copy_ptes: number;
  /** TLB flushes sent to another mm sharing the flushed table. */
  flush_sharers: number;
  /** PTE tables installed below a shared PMD table, accounted in every sharer (PMD level). */
  pte_below_shared: number;
  /** TLB misses served by another sharer's entry for the same page (ppc64's segment-keyed TLB, PMD level). */
  tlb_segment_hits: number;
}

/**
 * What the feature keeps in one mm (a per-mm slot, `k.mmSlot`): each
 * shared table the mm reaches, with the address of the range it maps
 * there, and the faults in progress.
 */
export interface MmShares {
  /** Shared table → the address of its range in this mm. */
  readonly tables: Map<number, number>;
  /** Bases (span-aligned) of the faults in progress: only a fault shares a table it allocates. */
  readonly faulting: number[];
}

/** The feature's state in one kernel. */
export interface ShareState {
  /** The kernel. */
  readonly k: Kernel;
  /** The level tables are shared at. */
  readonly level: typeof LEVEL_PTE | typeof LEVEL_PMD;
  /** The bytes one shared table maps: 2 MiB (PTE) or 1 GiB (PMD). */
  readonly span: number;
  /**
   * Each mm's shares ({@link MmShares}). The sharers of a table are the
   * core's list (`tableSharers`), in the order they took their shares.
   */
  readonly mms: MmSlot<MmShares>;
  /** Tables shared through this feature. */
  tables: number;
  /** Shares of those tables (upper entries pointing at them). */
  refs: number;
  /** PTE tables this feature populated below a shared PMD table, which the core's populate then finds in place. */
  readonly installedBelow: Set<number>;
  /** The `pgtableAlloc` below this feature's (a private table). */
  allocPrev: Seams['pgtableAlloc'];
  /** The `pgtableDiscard` below this feature's. */
  discardPrev: Seams['pgtableDiscard'];
  /** The counters. */
  readonly c: ShareCounters;
  /** Send flushes of a shared table's range to every sharer. */
  readonly flushSharers: boolean;
  /** The unsharing mm flushes its TLB before dropping the share. */
  readonly unshareFlush: boolean;
}

const stateOf = new WeakMap<Kernel, ShareState>();

/** Make and remember the state of kernel `k`. */
export function newState(
  k: Kernel,
  level: ShareLevel,
  c: ShareCounters,
  flushSharers: boolean,
  unshareFlush: boolean,
): ShareState {
  const st: ShareState = {
    k,
    level: level === 'pte' ? LEVEL_PTE : LEVEL_PMD,
    span: level === 'pte' ? PMD_SIZE : PUD_SIZE,
    // a child's shares are recorded by the fork that makes them
    mms: k.mmSlot<MmShares>(NAME, 'shares', { fork: 'drop' }),
    tables: 0,
    refs: 0,
    installedBelow: new Set(),
    allocPrev: k.seams.pgtableAlloc,
    discardPrev: k.seams.pgtableDiscard,
    c,
    flushSharers,
    unshareFlush,
  };
  stateOf.set(k, st);
  return st;
}

/** The state of kernel `k`; throws when the feature is not installed there. */
export function stateFor(k: Kernel): ShareState {
  const st = stateOf.get(k);
  if (st === undefined) throw new Error(`${NAME} is not installed in this kernel`);
  return st;
}

/** `mm`'s shares, made when missing. */
export function sharesOf(st: ShareState, mm: MmStruct): MmShares {
  let r = st.mms.get(mm);
  if (r === undefined) {
    r = { tables: new Map(), faulting: [] };
    st.mms.set(mm, r);
  }
  return r;
}

/** Where `mm` reaches shared `table` (the address of its range), or undefined when it does not share it. */
export function baseOf(st: ShareState, mm: MmStruct, table: number): number | undefined {
  return st.mms.get(mm)?.tables.get(table);
}

/** True when `table` is shared through this feature. */
export function isShared(st: ShareState, table: number): boolean {
  const sharers = tableSharers(st.k, table);
  return sharers.length > 0 && baseOf(st, sharers[0]!, table) !== undefined;
}

/**
 * Record that `mm` reaches `table` at `base`, shared from `owner` (at
 * `ownerBase`), which is recorded too when this is the table's first
 * share. The caller took the share (`pgtableShare`).
 */
export function addShare(st: ShareState, table: number, owner: MmStruct, ownerBase: number, mm: MmStruct, base: number): void {
  const o = sharesOf(st, owner).tables;
  if (!o.has(table)) {
    o.set(table, ownerBase);
    st.tables++;
    st.refs++;
  }
  sharesOf(st, mm).tables.set(table, base);
  st.refs++;
}

/**
 * Forget `mm` as a sharer of `table` (and the table, with its last
 * sharer's record, once one sharer is left). Call it before
 * `pgtableUnshare`: the core's list still holds `mm`.
 */
export function removeBase(st: ShareState, table: number, mm: MmStruct): void {
  if (st.mms.get(mm)?.tables.delete(table) !== true) return;
  st.refs--;
  let left = 0;
  let last: MmStruct | undefined;
  for (const s of tableSharers(st.k, table)) {
    if (s === mm) continue;
    last = s;
    if (++left > 1) return;
  }
  if (last !== undefined && st.mms.get(last)?.tables.delete(table) === true) st.refs--;
  st.tables--;
}

/**
 * Every shared table as the mms' records have it: table → (mm → the
 * address of its range there), tables by pfn and sharers in the order of
 * the core's list. For checks and reports (it walks every live mm).
 */
export function recordedShares(st: ShareState): Map<number, Map<MmStruct, number>> {
  const out = new Map<number, Map<MmStruct, number>>();
  for (const mm of st.k.liveMms()) {
    for (const table of st.mms.get(mm)?.tables.keys() ?? []) {
      if (out.has(table)) continue;
      const m = new Map<MmStruct, number>();
      forEachSharer(st, table, (s, base) => m.set(s, base));
      out.set(table, m);
    }
  }
  return new Map([...out].sort((x, y) => x[0] - y[0]));
}

/** Call `fn` for each sharer of `table` with the address of the table's range there. */
export function forEachSharer(st: ShareState, table: number, fn: (mm: MmStruct, base: number) => void): void {
  for (const s of tableSharers(st.k, table)) {
    const base = baseOf(st, s, table);
    if (base !== undefined) fn(s, base);
  }
}

/** The table at the shared level that maps `base` in `mm` (0 when none). */
export function tableAt(st: ShareState, mm: MmStruct, base: number): number {
  return st.level === LEVEL_PTE ? lookupPteTable(st.k, mm, base) : lookupPmdTable(st.k, mm, base);
}

/** The shared tables `mm` maps over [lo, hi), as [table, base], by address. */
export function sharedIn(st: ShareState, mm: MmStruct, lo: number, hi: number): [number, number][] {
  const out: [number, number][] = [];
  forEachSharedIn(st, mm, lo, hi, (table, base) => out.push([table, base]));
  return out.sort((x, y) => x[1] - y[1]);
}

/** The level's name for messages. */
export function levelName(level: Level): string {
  return level === LEVEL_PTE ? 'PTE' : 'PMD';
}

/**
 * Call `fn` for each shared table `mm` reaches over [lo, hi), by walking
 * the page tables when the span is short and the mm's records otherwise.
 */
export function forEachSharedIn(st: ShareState, mm: MmStruct, lo: number, hi: number, fn: (table: number, base: number) => void): void {
  const mine = st.mms.get(mm)?.tables;
  if (mine === undefined || mine.size === 0 || hi <= lo) return;
  const first = Math.floor(lo / st.span) * st.span;
  if ((hi - first) / st.span <= mine.size) {
    for (let base = first; base < hi; base += st.span) {
      const table = tableAt(st, mm, base);
      if (table !== 0 && mine.get(table) === base) fn(table, base);
    }
    return;
  }
  for (const [table, base] of mine) if (base < hi && base + st.span > lo) fn(table, base);
}
