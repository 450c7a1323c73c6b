/**
 * A test-only feature, `test-share-pte`: PTE tables shared between
 * processes that map the same tmpfs file, built from the core's public
 * exports and seams alone, to show that the page-table sharing primitives
 * of the seams issue are enough for Dave McCracken's shared page tables
 * (PTE level). Not exported from the package.
 *
 * The rules, after the thread (seeds/001, Hugh Dickins reviewing):
 * - a table is shareable when its whole 2 MiB is inside one VM_SHARED,
 *   linear, tmpfs-backed VMA without an anon_vma, and another mm's VMA in
 *   the file's `i_mmap` maps the same file offsets at the same 2 MiB
 *   alignment with the same protection, is itself shareable, and has the
 *   table; the `i_mmap` search skips VMAs with an anon_vma ("the prio_tree
 *   loop next_shareable_vma needs to skip any vma with its anon_vma set");
 * - sharing happens when a fault allocates the table (`pgtableAlloc`) and
 *   at fork (`copyPageRange`, which 2.6.24 skips for such VMAs: the child
 *   would re-fault);
 * - a zap through one mm (munmap, exit, MADV_DONTNEED) drops that mm's
 *   share instead of clearing PTEs the other sharers still use; truncation
 *   and invalidation clear the PTEs for every sharer, as they must;
 * - before a change that concerns one mm only (mprotect, mremap, a split
 *   or adjust through the table, remap_file_pages, a first anonymous page)
 *   the mm gets a private copy of the table;
 * - Hugh Dickins' TLB rule: the unsharing mm flushes its TLB for the
 *   table's range before the share is dropped, under `page_table_lock`;
 * - a TLB flush of a range that a shared table maps is also sent to every
 *   other sharer, at its own address for the table (a PTE cleared through
 *   one mm is gone for all of them).
 * @module
 */
import {
  _PAGE_SWP,
  addRss,
  alignDown,
  defineFeature,
  ENOMEM,
  findVma,
  genericVmaOps,
  ipiWait,
  type Kernel,
  awaitPath,
  type KGen,
  LEVEL_PTE,
  linearPageIndex,
  lookupPmdTable,
  lookupPteTable,
  type MmStruct,
  movePageTables as genericMovePageTables,
  PAGE_SIZE,
  pageAnon,
  pageDupRmap,
  pgtableShare,
  pgtableUnshare,
  PMD_SIZE,
  pmdAlloc,
  pmdIndex,
  populate,
  ptePresent,
  ptlLockSlow,
  type Seams,
  type SpecialVmaOps,
  spinLock,
  swapDuplicate,
  tableShared,
  tableSharers,
  unmapPageRange,
  VM_EXEC,
  VM_HUGETLB,
  VM_INSERTPAGE,
  VM_MIXEDMAP,
  VM_NONLINEAR,
  VM_PFNMAP,
  VM_READ,
  VM_SHARED,
  VM_WRITE,
  type Vma,
  type VmaChangeReason,
} from '../src/index.js';

/** The feature's name (seam owner, counters, checks). */
export const SHARE_PTE = 'test-share-pte';

/** VMA kinds that never share: nonlinear, hugetlb, raw pfns, inserted pages. */
const NEVER_SHARED = VM_NONLINEAR | VM_HUGETLB | VM_PFNMAP | VM_INSERTPAGE | VM_MIXEDMAP;
/** Flags two sharers must agree on (the PTEs of one table serve both). */
const SAME_FLAGS = VM_READ | VM_WRITE | VM_EXEC | VM_SHARED;

/** The feature's counters. */
export interface SharePteCounters {
  /** PTE tables shared by a fault. */
  share_fault: number;
  /** PTE tables shared at fork. */
  share_fork: number;
  /** A fault's share that lost the populate race and was given back. */
  share_lost_race: number;
  /** Shares dropped by a zap (munmap, exit, MADV_DONTNEED). */
  unshare_zap: number;
  /** Shares dropped instead of freeing the table (free_pgtables). */
  unshare_free: number;
  /** Private copies made before a change for one mm only. */
  unshare_copy: number;
  /** PTEs copied into private copies. */
  unshare_copy_ptes: number;
  /** TLB flushes sent to another sharer of a table. */
  flush_sharers: number;
}

/** The feature's state in one kernel. */
interface ShareState {
  readonly k: Kernel;
  /** Every shared PTE table: each mm reaching it, with the address of the 2 MiB it maps there. */
  readonly bases: Map<number, Map<MmStruct, number>>;
  /** Faults in progress per mm (2 MiB bases): only a fault shares a table it allocates. */
  readonly faulting: Map<MmStruct, number[]>;
  /** The `pgtableAlloc` below this feature's (a private table). */
  allocPrev: Seams['pgtableAlloc'];
  /** The `pgtableDiscard` below this feature's. */
  discardPrev: Seams['pgtableDiscard'];
  readonly c: SharePteCounters;
  /** Send flushes of a shared table's range to every sharer. */
  readonly flushSharers: boolean;
  /** The unsharing mm flushes its TLB before dropping the share. */
  readonly unshareFlush: boolean;
}

const stateOf = new WeakMap<Kernel, ShareState>();

function stateFor(k: Kernel): ShareState {
  const st = stateOf.get(k);
  if (st === undefined) throw new Error(`${SHARE_PTE} is not installed in this kernel`);
  return st;
}

/** The feature's counters in kernel `k`. */
export function sharePteCounters(k: Kernel): Readonly<SharePteCounters> {
  return stateFor(k).c;
}

/** The shared PTE tables of kernel `k`: table pfn → (mm id → address of its 2 MiB in that mm). */
export function sharedPteTables(k: Kernel): Map<number, Map<number, number>> {
  const out = new Map<number, Map<number, number>>();
  for (const [t, m] of stateFor(k).bases) out.set(t, new Map([...m].map(([mm, base]) => [mm.id, base])));
  return out;
}

/** True for a VMA whose tables may be shared (Hugh Dickins: no anon_vma). */
function shareableKind(k: Kernel, vma: Vma): boolean {
  return vma.vmFile !== null && vma.vmOps === k.shmemOps && (vma.vmFlags & VM_SHARED) !== 0 && (vma.vmFlags & NEVER_SHARED) === 0 && vma.anonVma === null;
}

/** The VMA covers the whole 2 MiB from `base`. */
function covers(vma: Vma, base: number): boolean {
  return vma.vmStart <= base && base + PMD_SIZE <= vma.vmEnd;
}

function addBase(st: ShareState, table: number, mm: MmStruct, base: number): void {
  let m = st.bases.get(table);
  if (m === undefined) {
    m = new Map();
    st.bases.set(table, m);
  }
  m.set(mm, base);
}

function removeBase(st: ShareState, table: number, mm: MmStruct): void {
  const m = st.bases.get(table);
  if (m === undefined) return;
  m.delete(mm);
  if (m.size <= 1) st.bases.delete(table);
}

/** The shared tables `mm` maps over [lo, hi), as [table, base], by address. */
function sharedIn(st: ShareState, mm: MmStruct, lo: number, hi: number): [number, number][] {
  const out: [number, number][] = [];
  for (const [table, m] of st.bases) {
    const base = m.get(mm);
    if (base !== undefined && base < hi && base + PMD_SIZE > lo) out.push([table, base]);
  }
  return out.sort((x, y) => x[1] - y[1]);
}

/** `pte_lockptr()` of PTE table `table`: one lock for every mm sharing it. */
function* lockPtl(k: Kernel, table: number): KGen<void> {
  if (!k.ptl.tryLock(k, table)) yield* ptlLockSlow(k, k.ptl, table);
}

/** A sibling mapping whose table `mm` can share at `base`. */
interface Sibling {
  readonly mm: MmStruct;
  readonly base: number;
  readonly table: number;
}

/**
 * `next_shareable_vma` over the file's `i_mmap` (the caller holds
 * `i_mmap_lock`): another mm's shareable VMA mapping the same offsets at
 * the same alignment, with the same protection, that has the table.
 */
function findSibling(k: Kernel, mm: MmStruct, vma: Vma, base: number): Sibling | null {
  const file = vma.vmFile;
  if (file === null) return null;
  const idx = linearPageIndex(vma, base);
  for (const svma of file.iMmap) {
    // skip VMAs with an anon_vma (and every other unshareable kind)
    if (svma.mm === mm || svma.mm.dead || !shareableKind(k, svma)) continue;
    if (svma.vmPageProt !== vma.vmPageProt || ((svma.vmFlags ^ vma.vmFlags) & SAME_FLAGS) !== 0) continue;
    const sbase = svma.vmStart + (idx - svma.vmPgoff) * PAGE_SIZE;
    if (sbase % PMD_SIZE !== 0 || !covers(svma, sbase)) continue;
    const table = lookupPteTable(k, svma.mm, sbase);
    if (table === 0 || tableSharers(k, table).includes(mm)) continue;
    return { mm: svma.mm, base: sbase, table };
  }
  return null;
}

/**
 * `pgtableAlloc` for a PTE table during a fault: share a sibling's table
 * when the rules allow; 0 when they do not (allocate a private one).
 */
function* shareAtFault(st: ShareState, mm: MmStruct, addr: number): KGen<number> {
  const k = st.k;
  const base = alignDown(addr, PMD_SIZE);
  const vma = findVma(mm, addr);
  if (vma === null || vma.vmStart > addr || !shareableKind(k, vma) || !covers(vma, base)) return 0;
  const file = vma.vmFile;
  if (file === null) return 0;
  yield* spinLock(k, file.iMmapLock);
  try {
    const sib = findSibling(k, mm, vma, base);
    if (sib === null) return 0;
    // the table's PTE lock: no zap is half-way through it (its RSS, which the share copies, is settled)
    // and its sharers do not change under us
    yield* lockPtl(k, sib.table);
    const still = lookupPteTable(k, sib.mm, sib.base) === sib.table;
    if (still) {
      // the core installs the table under page_table_lock, or calls pgtableDiscard on a lost race
      pgtableShare(k, sib.mm, mm, LEVEL_PTE, sib.table);
      addBase(st, sib.table, sib.mm, sib.base);
      addBase(st, sib.table, mm, base);
      st.c.share_fault++;
    }
    k.ptl.unlock(k, sib.table);
    return still ? sib.table : 0;
  } finally {
    file.iMmapLock.unlock(k);
  }
}

/**
 * Fork of a shareable VMA: the child's PMD entries point at the parent's
 * PTE tables for every 2 MiB the VMA covers whole (the rest the child
 * re-faults, as 2.6.24 does for the whole VMA). Returns 0 or -ENOMEM.
 */
function* shareAtFork(st: ShareState, dst: MmStruct, src: MmStruct, vma: Vma): KGen<number> {
  const k = st.k;
  for (let base = Math.ceil(vma.vmStart / PMD_SIZE) * PMD_SIZE; base + PMD_SIZE <= vma.vmEnd; base += PMD_SIZE) {
    const table = lookupPteTable(k, src, base);
    if (table === 0) continue;
    const pmd = yield* pmdAlloc(k, dst, base);
    if (pmd === 0) return -ENOMEM;
    yield* spinLock(k, dst.pageTableLock);
    yield* lockPtl(k, table);
    const a = k.tables.arr(pmd);
    const b = k.tables.base(pmd) + pmdIndex(base) * 2;
    if (a[b] === 0) {
      pgtableShare(k, src, dst, LEVEL_PTE, table);
      addBase(st, table, src, base);
      addBase(st, table, dst, base);
      populate(k, pmd, pmdIndex(base), table);
      st.c.share_fork++;
    }
    k.ptl.unlock(k, table);
    dst.pageTableLock.unlock(k);
    yield* k.condResched();
  }
  return 0;
}

/**
 * Drop `mm`'s share of `table`, which entry `idx` of PMD table `pmd`
 * points at: clear the entry and, by Hugh Dickins' rule, flush `mm`'s TLB
 * for the range while `page_table_lock` is held, then give the share back.
 * The other sharers keep the table and its PTEs.
 */
function* dropShare(st: ShareState, mm: MmStruct, pmd: number, idx: number, table: number): KGen<void> {
  const k = st.k;
  const base = st.bases.get(table)?.get(mm);
  yield* spinLock(k, mm.pageTableLock);
  const a = k.tables.arr(pmd);
  const b = k.tables.base(pmd) + idx * 2;
  if (a[b] === 0 || a[b + 1] !== table) {
    mm.pageTableLock.unlock(k);
    return;
  }
  // the table's PTE lock: a zap through another sharer is not half-way (the RSS given back is settled)
  yield* lockPtl(k, table);
  a[b] = 0;
  a[b + 1] = 0;
  removeBase(st, table, mm);
  if (st.unshareFlush) {
    const wait = base === undefined ? k.seams.flushTlb(k, 'mm', mm, 0, 0, 'unshare') : k.seams.flushTlb(k, 'range', mm, base, base + PMD_SIZE, 'unshare');
    if (wait) yield* ipiWait(k);
  }
  pgtableUnshare(k, mm, LEVEL_PTE, table);
  k.ptl.unlock(k, table);
  mm.pageTableLock.unlock(k);
}

/** {@link dropShare} for the table `mm` maps at `base`. */
function* dropShareAt(st: ShareState, mm: MmStruct, base: number, table: number): KGen<void> {
  const pmd = lookupPmdTable(st.k, mm, base);
  if (pmd !== 0) yield* dropShare(st, mm, pmd, pmdIndex(base), table);
}

/**
 * Unshare `table` (mapped by `mm` at `base`) keeping the mappings: a new
 * private table with a copy of every PTE and the references a copy needs
 * (as fork's `copy_pte_range`: a page reference, `page_dup_rmap`, RSS),
 * installed in place of the shared one under `page_table_lock`; then
 * `mm`'s TLB is flushed and the share dropped. Without memory for the
 * copy, the share is dropped and the pages re-fault (a shared file
 * mapping without anonymous pages loses nothing).
 */
function* privatize(st: ShareState, mm: MmStruct, base: number, table: number): KGen<void> {
  const k = st.k;
  const vma = findVma(mm, base);
  if (vma === null || !covers(vma, base)) throw new Error(`${SHARE_PTE}: shared table ${table} of mm ${mm.id} at 0x${base.toString(16)} is not inside one VMA`);
  const fresh = yield* awaitPath(st.allocPrev(k, mm, LEVEL_PTE, base));
  if (fresh === 0) {
    yield* dropShareAt(st, mm, base, table);
    st.c.unshare_zap++;
    return;
  }
  yield* spinLock(k, mm.pageTableLock);
  const pmd = lookupPmdTable(k, mm, base);
  const ma = pmd === 0 ? null : k.tables.arr(pmd);
  const mb = pmd === 0 ? 0 : k.tables.base(pmd) + pmdIndex(base) * 2;
  if (ma === null || ma[mb] === 0 || ma[mb + 1] !== table) {
    // someone unshared it meanwhile
    mm.pageTableLock.unlock(k);
    st.discardPrev(k, mm, LEVEL_PTE, fresh);
    return;
  }
  yield* lockPtl(k, table);
  const sa = k.tables.arr(table);
  const sb = k.tables.base(table);
  const da = k.tables.arr(fresh);
  const db = k.tables.base(fresh);
  let anon = 0;
  let file = 0;
  let copied = 0;
  for (let i = 0; i < 512; i++) {
    const f = sa[sb + 2 * i]!;
    const v = sa[sb + 2 * i + 1]!;
    if (f === 0 && v === 0) continue;
    if (ptePresent(f)) {
      const page = k.seams.vmNormalPage(k, vma, base + i * PAGE_SIZE, f, v);
      if (page !== 0) {
        k.pages.count[page]!++;
        pageDupRmap(k, page);
        if (pageAnon(k, page)) anon++;
        else file++;
      }
    } else if ((f & _PAGE_SWP) !== 0) {
      swapDuplicate(k, v);
    }
    da[db + 2 * i] = f;
    da[db + 2 * i + 1] = v;
    copied++;
  }
  populate(k, pmd, pmdIndex(base), fresh);
  addRss(k, mm, fresh, anon, file);
  k.charge(copied * k.costs.copyPte);
  removeBase(st, table, mm);
  if (st.unshareFlush && k.seams.flushTlb(k, 'range', mm, base, base + PMD_SIZE, 'unshare')) yield* ipiWait(k);
  pgtableUnshare(k, mm, LEVEL_PTE, table);
  k.ptl.unlock(k, table);
  mm.pageTableLock.unlock(k);
  st.c.unshare_copy++;
  st.c.unshare_copy_ptes += copied;
}

/** Give `mm` private copies of the shared tables it maps over [lo, hi). */
function* privatizeRange(st: ShareState, mm: MmStruct, lo: number, hi: number): KGen<void> {
  for (const [table, base] of sharedIn(st, mm, lo, hi)) yield* privatize(st, mm, base, table);
}

/** The `vmaChange` hook: unshare what the change will touch, before it happens. */
function* unshareForChange(st: ShareState, vma: Vma, start: number, end: number, reason: VmaChangeReason): KGen<void> {
  const mm = vma.mm;
  switch (reason) {
    case 'anon_vma_prepare':
    case 'remap_file_pages':
      // the VMA stops being shareable: every table goes private
      yield* privatizeRange(st, mm, vma.vmStart, vma.vmEnd);
      return;
    case 'mprotect':
    case 'move':
      yield* privatizeRange(st, mm, start, end);
      return;
    case 'split':
      // a split on a 2 MiB boundary leaves every table inside one VMA
      if (start % PMD_SIZE !== 0) yield* privatizeRange(st, mm, start, start + 1);
      return;
    case 'adjust': {
      const lo = Math.min(start, vma.vmStart);
      const hi = Math.max(end, vma.vmEnd);
      const involved = mm.vmas.filter((v) => v.vmStart <= hi && v.vmEnd >= lo);
      if (involved.some((v) => v.anonVma !== null)) {
        // a merge may hand an anon_vma to a VMA with shared tables
        for (const v of involved) yield* privatizeRange(st, mm, v.vmStart, v.vmEnd);
        return;
      }
      for (const at of [start, end, vma.vmStart, vma.vmEnd]) if (at % PMD_SIZE !== 0) yield* privatizeRange(st, mm, at, at + 1);
      return;
    }
  }
}

/**
 * The page-table operations of a shareable VMA: the generic paths, except
 * where a shared table must not be changed for one mm.
 */
function shareOps(st: ShareState): SpecialVmaOps {
  return {
    name: SHARE_PTE,
    *fault(k, mm, vma, address, write) {
      // a forced write (ptrace) to a read-only shared mapping COWs an anonymous page into it
      // (Linus' strange ptrace case): go private before do_wp_page holds a table pointer, and
      // share nothing in this fault
      if (write && (vma.vmFlags & VM_WRITE) === 0) {
        yield* privatizeRange(st, mm, vma.vmStart, vma.vmEnd);
        return yield* genericVmaOps.fault(k, mm, vma, address, write);
      }
      const base = alignDown(address, PMD_SIZE);
      let list = st.faulting.get(mm);
      if (list === undefined) {
        list = [];
        st.faulting.set(mm, list);
      }
      list.push(base);
      try {
        return yield* genericVmaOps.fault(k, mm, vma, address, write);
      } finally {
        list.splice(list.lastIndexOf(base), 1);
        if (list.length === 0 && st.faulting.get(mm) === list) st.faulting.delete(mm);
      }
    },
    copyPageRange: (_k, dst, src, vma) => shareAtFork(st, dst, src, vma),
    *unmapPageRange(k, tlb, vma, start, end, details) {
      // truncation and invalidation (details) clear the PTEs for every sharer
      const shared = details === null ? sharedIn(st, vma.mm, start, end) : [];
      const cpu = k.cpu;
      let at = start;
      // within unmap_vmas' block budget: return where it ran out
      for (const [table, base] of shared) {
        if (at < base) {
          at = yield* unmapPageRange(k, tlb, vma, at, base, details);
          if (at < base) return at;
        }
        yield* dropShareAt(st, vma.mm, base, table);
        st.c.unshare_zap++;
        at = Math.min(base + PMD_SIZE, end);
        // one upper entry cleared: charged as a present PTE
        cpu.zapWork -= PAGE_SIZE;
        if (cpu.zapWork <= 0) return at;
      }
      return at < end ? yield* unmapPageRange(k, tlb, vma, at, end, details) : at;
    },
    *changeProtection(k, vma, start, end, newprot) {
      // (the vmaChange hook unshared the range already)
      yield* privatizeRange(st, vma.mm, start, end);
      yield* genericVmaOps.changeProtection(k, vma, start, end, newprot);
    },
    followPage: (k, mm, vma, addr, write, pin) => genericVmaOps.followPage(k, mm, vma, addr, write, pin),
    freePgtableRange: (k, tlb, mm, addr, end, floor, ceiling) => genericVmaOps.freePgtableRange(k, tlb, mm, addr, end, floor, ceiling),
    *movePageTables(k, vma, oldAddr, newAddr, len) {
      yield* privatizeRange(st, vma.mm, oldAddr, oldAddr + len);
      return yield* genericMovePageTables(k, vma, oldAddr, newAddr, len);
    },
  };
}

/** The feature's consistency check: its records agree with the page tables and the core's. */
function* checkShares(st: ShareState): Generator<string> {
  const k = st.k;
  for (const [table, m] of st.bases) {
    if (m.size < 2) yield `table ${table} recorded with ${m.size} sharer`;
    if (k.pages.count[table] !== m.size) yield `table ${table}: refcount ${k.pages.count[table]!}, ${m.size} sharers recorded`;
    const sharers = tableSharers(k, table);
    if (sharers.length !== m.size || !sharers.every((s) => m.has(s))) yield `table ${table}: the core lists sharers ${sharers.map((s) => s.id).join(',')}`;
    let offset = -1;
    for (const [mm, base] of m) {
      const where = `mm ${mm.id}: shared table ${table} at 0x${base.toString(16)}`;
      if (lookupPteTable(k, mm, base) !== table) yield `${where} is not installed there`;
      const v = mm.vmas.find((x) => x.vmStart <= base && base < x.vmEnd);
      if (v === undefined || !covers(v, base) || !shareableKind(k, v)) {
        yield `${where} is not inside one shareable VMA`;
        continue;
      }
      const idx = linearPageIndex(v, base);
      if (offset >= 0 && idx !== offset) yield `${where} maps file offset ${idx}, another sharer ${offset}`;
      offset = idx;
    }
  }
}

/** The feature value. */
export const sharePte = defineFeature({
  name: SHARE_PTE,
  summary: 'Test fixture: share PTE tables between mms mapping the same tmpfs file (shared page tables through the core seams)',
  thread: { subject: '[PATCH/RFC] Shared page tables', author: 'Dave McCracken', date: '2006-01' },
  options: {
    flushSharers: { type: 'boolean', default: true, doc: 'Send a TLB flush of a shared table range to every mm sharing it (off: the hazard, for tests).' },
    unshareFlush: { type: 'boolean', default: true, doc: "The unsharing mm flushes its TLB before dropping the share, Hugh Dickins' rule (off: the hazard, for tests)." },
  },
  install(k, opts) {
    const c = k.defineCounters(SHARE_PTE, {
      share_fault: 'PTE tables shared by a fault',
      share_fork: 'PTE tables shared at fork',
      share_lost_race: 'Shares taken by a fault that lost the populate race and were given back',
      unshare_zap: 'Shares dropped by a zap (munmap, exit, MADV_DONTNEED)',
      unshare_free: 'Shares dropped where free_pgtables would free the table',
      unshare_copy: 'Private copies of a shared table made before a change for one mm',
      unshare_copy_ptes: 'PTEs copied into private copies',
      flush_sharers: 'TLB flushes sent to another mm sharing the flushed table',
    });
    const st: ShareState = {
      k,
      bases: new Map(),
      faulting: new Map(),
      allocPrev: k.seams.pgtableAlloc,
      discardPrev: k.seams.pgtableDiscard,
      c,
      flushSharers: opts.flushSharers,
      unshareFlush: opts.unshareFlush,
    };
    stateOf.set(k, st);
    const ops = shareOps(st);

    k.seamTable.wrap(SHARE_PTE, 'pgtableAlloc', (prev) => {
      st.allocPrev = prev;
      return function* (kk, mm, level, addr) {
        if (level === LEVEL_PTE && st.faulting.get(mm)?.includes(alignDown(addr, PMD_SIZE)) === true) {
          const shared = yield* shareAtFault(st, mm, addr);
          if (shared !== 0) return shared;
        }
        return yield* awaitPath(prev(kk, mm, level, addr));
      };
    });

    k.seamTable.wrap(SHARE_PTE, 'pgtableDiscard', (prev) => {
      st.discardPrev = prev;
      return (kk, mm, level, pfn) => {
        if (level === LEVEL_PTE && st.bases.get(pfn)?.has(mm) === true) {
          // a fault's share that lost the populate race
          removeBase(st, pfn, mm);
          pgtableUnshare(kk, mm, LEVEL_PTE, pfn);
          c.share_lost_race++;
          return;
        }
        prev(kk, mm, level, pfn);
      };
    });

    k.seamTable.wrap(SHARE_PTE, 'pgtableFree', (prev) =>
      function* (kk, tlb, mm, level, parent, idx) {
        if (level === LEVEL_PTE) {
          const a = kk.tables.arr(parent);
          const b = kk.tables.base(parent) + idx * 2;
          const table = a[b + 1]!;
          if (a[b] !== 0 && tableShared(kk, table)) {
            // still shared: drop this mm's share, the table stays for the others
            yield* dropShare(st, mm, parent, idx, table);
            c.unshare_free++;
            return;
          }
        }
        yield* prev(kk, tlb, mm, level, parent, idx);
      },
    );

    k.seamTable.wrap(SHARE_PTE, 'copyPageRange', (prev) =>
      function* (kk, dst, src, vma) {
        if (kk.seams.specialVmaOps(vma) === ops) return yield* shareAtFork(st, dst, src, vma);
        return yield* prev(kk, dst, src, vma);
      },
    );

    k.seamTable.wrap(SHARE_PTE, 'specialVmaOps', (prev) => (vma) => {
      const special = prev(vma);
      if (special !== null) return special;
      return shareableKind(k, vma) ? ops : null;
    });

    k.seamTable.wrap(SHARE_PTE, 'vmaChange', (prev) =>
      function* (kk, vma, start, end, reason) {
        if (st.bases.size > 0) yield* unshareForChange(st, vma, start, end, reason);
        yield* prev(kk, vma, start, end, reason);
      },
    );

    k.seamTable.wrap(SHARE_PTE, 'flushTlb', (prev) => (kk, kind, mm, start, end, reason) => {
      let wait = prev(kk, kind, mm, start, end, reason);
      if (!st.flushSharers || st.bases.size === 0) return wait;
      const lo = start;
      const hi = kind === 'page' ? start + PAGE_SIZE : end;
      if (hi <= lo) return wait;
      for (const m of st.bases.values()) {
        const base = m.get(mm);
        if (base === undefined || base >= hi || base + PMD_SIZE <= lo) continue;
        const s = Math.max(lo, base) - base;
        const e = Math.min(hi, base + PMD_SIZE) - base;
        for (const [other, obase] of m) {
          if (other === mm) continue;
          if (prev(kk, kind === 'page' ? 'page' : 'range', other, obase + s, obase + e, reason)) wait = true;
          c.flush_sharers++;
        }
      }
      return wait;
    });

    k.addInvariantCheck(SHARE_PTE, 'tables', () => checkShares(st));
  },
});
