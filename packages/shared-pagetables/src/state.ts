/**
 * The feature's state in one kernel: the level it shares at, the shared
 * tables it made (with each sharer's address for the table) and its
 * counters. The share count itself is not here: it is the table page's
 * refcount, kept by the core's `pgtableShare` / `pgtableUnshare`, the count
 * hugetlb's PMD sharing uses too.
 * @module
 */
import { type Kernel, type Level, LEVEL_PMD, LEVEL_PTE, type MmStruct, PMD_SIZE, PUD_SIZE, type Seams } from '@mmlab/core';

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
}

/** The feature's state in one kernel. */
export interface ShareState {
  /** The kernel. */
  readonly k: Kernel;
  /** The level tables are shared at. */
  readonly level: typeof LEVEL_PTE | typeof LEVEL_PMD;
  /** The bytes one shared table maps: 2 MiB (PTE) or 1 GiB (PMD). */
  readonly span: number;
  /** Every shared table: each mm reaching it, with the address of the range it maps there. */
  readonly bases: Map<number, Map<MmStruct, number>>;
  /** The same records by mm: base → table for each shared table the mm reaches. */
  readonly byMm: Map<MmStruct, Map<number, number>>;
  /** Faults in progress per mm (bases of their spans): only a fault shares a table it allocates. */
  readonly faulting: Map<MmStruct, number[]>;
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
    bases: new Map(),
    byMm: new Map(),
    faulting: new Map(),
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

/** Record that `mm` reaches shared `table` at `base`. */
export function addBase(st: ShareState, table: number, mm: MmStruct, base: number): void {
  let m = st.bases.get(table);
  if (m === undefined) {
    m = new Map();
    st.bases.set(table, m);
  }
  m.set(mm, base);
  let t = st.byMm.get(mm);
  if (t === undefined) {
    t = new Map();
    st.byMm.set(mm, t);
  }
  t.set(base, table);
}

function forget(st: ShareState, base: number | undefined, mm: MmStruct): void {
  const t = st.byMm.get(mm);
  if (t === undefined || base === undefined) return;
  t.delete(base);
  if (t.size === 0) st.byMm.delete(mm);
}

/** Forget `mm` as a sharer of `table` (and the table once one sharer is left). */
export function removeBase(st: ShareState, table: number, mm: MmStruct): void {
  const m = st.bases.get(table);
  if (m === undefined) return;
  const base = m.get(mm);
  m.delete(mm);
  forget(st, base, mm);
  if (m.size <= 1) {
    st.bases.delete(table);
    for (const [last, lastBase] of m) forget(st, lastBase, last);
  }
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
 * the table ranges when the span is short and the mm's records otherwise.
 */
export function forEachSharedIn(st: ShareState, mm: MmStruct, lo: number, hi: number, fn: (table: number, base: number) => void): void {
  const mine = st.byMm.get(mm);
  if (mine === undefined || hi <= lo) return;
  const first = Math.floor(lo / st.span) * st.span;
  if ((hi - first) / st.span <= mine.size) {
    for (let base = first; base < hi; base += st.span) {
      const table = mine.get(base);
      if (table !== undefined) fn(table, base);
    }
    return;
  }
  for (const [base, table] of mine) if (base < hi && base + st.span > lo) fn(table, base);
}
