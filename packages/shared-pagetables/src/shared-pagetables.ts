/**
 * The feature `shared-pagetables`: Dave McCracken's shared page tables
 * (January 2006, Hugh Dickins reviewing) through the core's seams.
 *
 * - `specialVmaOps`: a shareable VMA gets this feature's page-table
 *   operations (the generic paths, except where a shared table must not
 *   change for one mm), unless another table of operations (hugetlb's)
 *   claims the VMA first.
 * - `pgtableAlloc`: a fault in a shareable VMA takes a sibling's table
 *   (found through `i_mmap`) instead of a new one; with PMD sharing, a PTE
 *   table below a shared PMD table is installed under that table's lock and
 *   accounted in every sharer.
 * - `pgtableDiscard`: a share that lost the populate race is given back.
 * - `pgtableFree`: freeing a shared table drops this mm's share.
 * - `copyPageRange`: fork shares the parent's tables.
 * - `vmaChange`: unshare before mprotect, mremap, remap_file_pages, a
 *   split through a table, or a first anonymous page.
 * - `flushTlb`: a flush of a range a shared table maps reaches every
 *   sharer, at its own address (so `try_to_unmap`, truncation and
 *   `page_referenced` flush every mm that sees the entry); a gather's
 *   flush (the whole mm on x86) is sent on for the range it gathered.
 * - `tlbMiss` (PMD sharing on a machine with a segment-keyed TLB, ppc64):
 *   a miss is served by another sharer's entry for the same page.
 * @module
 */
import {
  alignDown,
  defineFeature,
  type Feature,
  genericFault,
  genericVmaOps,
  type Kernel,
  type KGen,
  type KPath,
  LEVEL_PMD,
  LEVEL_PTE,
  lookupPteTable,
  type MmStruct,
  type MmuGather,
  movePageTables,
  PAGE_SIZE,
  pgtableUnshare,
  type SpecialVmaOps,
  unmapPageRange,
  type Vma,
  VM_WRITE,
  type ZapDetails,
} from '@mmlab/core';
import { checkShares } from './check.js';
import { allocAtFault, installedBelow, shareAtFork } from './share.js';
import { segmentTlbMiss } from './segment-tlb.js';
import { shareableKind } from './shareable.js';
import {
  baseOf,
  forEachSharedIn,
  forEachSharer,
  NAME,
  newState,
  removeBase,
  sharedIn,
  sharesOf,
  type ShareCounters,
  type ShareLevel,
  type ShareState,
} from './state.js';
import { dropShare, dropShareAt, privatizeRange, unshareForChange } from './unshare.js';

/**
 * The generic fault of `mm` at `address` with the fault recorded, so that
 * the `pgtableAlloc` below it may share a table for that range: the
 * answer at once when the fault finished without reaching a scheduling
 * point, else the generator of the rest, which drops the record at its
 * end.
 * @see mm/memory.c __handle_mm_fault (the series' pt_share_pte is called from its __pte_alloc)
 */
function recordingFault(st: ShareState, k: Kernel, mm: MmStruct, vma: Vma, address: number, write: boolean): KPath<number> {
  const base = alignDown(address, st.span);
  const list = sharesOf(st, mm).faulting;
  list.push(base);
  let pending: KGen<number> | null = null;
  try {
    const r = genericFault(k, mm, vma, address, write);
    if (typeof r === 'number') return r;
    pending = r;
    return recordingRest(list, base, r);
  } finally {
    if (pending === null) dropRecord(list, base);
  }
}

/** {@link recordingFault} whose fault goes on as `fault`. */
function* recordingRest(list: number[], base: number, fault: KGen<number>): KGen<number> {
  try {
    return yield* fault;
  } finally {
    dropRecord(list, base);
  }
}

/** Drop the record of a fault at `base` from `list` (the last one, as faults nest). */
function dropRecord(list: number[], base: number): void {
  if (list[list.length - 1] === base) list.pop();
  else list.splice(list.lastIndexOf(base), 1);
}

/** A forced write to a read-only shareable VMA (ptrace): its tables go private first, then the generic fault. */
function* privateFault(st: ShareState, mm: MmStruct, vma: Vma, address: number): KGen<number> {
  yield* privatizeRange(st, mm, vma.vmStart, vma.vmEnd);
  return yield* genericVmaOps.fault(st.k, mm, vma, address, true);
}

/**
 * `unmap_page_range()` for a shareable VMA, within `unmap_vmas`' block
 * budget (`k.cpu.zapWork`): the private tables are zapped by the core's
 * `unmapPageRange`, and each shared table this mm reaches loses this
 * mm's share instead (its entries stay for the other sharers), a dropped
 * share charged as one present PTE (the upper entry cleared, as 2.6.24's
 * `unmap_vmas` charges a huge page). Returns the address reached: where
 * the budget ran out, so that `unmap_vmas` finishes the gather and
 * reschedules before it goes on ("zap_work" and `ZAP_BLOCK_SIZE`), or
 * `end`. Truncation and invalidation (`details`) clear the entries for
 * every sharer through the generic zap.
 * @see mm/memory.c unmap_page_range, zap_pmd_range; the series' pt_check_unshare_pte and pt_decrement_share
 */
function* zapShared(st: ShareState, tlb: MmuGather, vma: Vma, start: number, end: number, details: ZapDetails | null): KGen<number> {
  const k = st.k;
  const cpu = k.cpu;
  const shared = details === null ? sharedIn(st, vma.mm, start, end) : [];
  let at = start;
  for (const [table, base] of shared) {
    if (at < base) {
      at = yield* unmapPageRange(k, tlb, vma, at, base, details);
      if (at < base) return at;
    }
    yield* dropShareAt(st, vma.mm, base, table);
    st.c.unshare_zap++;
    at = Math.min(base + st.span, end);
    cpu.zapWork -= PAGE_SIZE;
    if (cpu.zapWork <= 0) return at;
  }
  return at < end ? yield* unmapPageRange(k, tlb, vma, at, end, details) : at;
}

/**
 * The page-table operations of a shareable VMA: the generic paths, except
 * where a shared table must not be changed for one mm.
 */
function shareOps(st: ShareState): SpecialVmaOps {
  return {
    name: NAME,
    fault(k, mm, vma, address, write) {
      // a forced write (ptrace) to a read-only mapping COWs an anonymous page into it (Linus'
      // strange ptrace case): go private before do_wp_page holds a table, and share nothing
      if (write && (vma.vmFlags & VM_WRITE) === 0) return privateFault(st, mm, vma, address);
      // every table down to the PTE table is in place: the fault allocates none, so it shares none
      // (should a concurrent MADV_DONTNEED drop the share meanwhile, the fault builds a private
      // table, which is always correct)
      const pte = lookupPteTable(k, mm, address);
      if (pte !== 0) return genericFault(k, mm, vma, address, write, pte);
      return recordingFault(st, k, mm, vma, address, write);
    },
    copyPageRange: (_k, dst, src, vma) => shareAtFork(st, dst, src, vma),
    unmapPageRange: (k, tlb, vma, start, end, details) => zapShared(st, tlb, vma, start, end, details),
    *changeProtection(k, vma, start, end, newprot) {
      // (the vmaChange hook unshared the range already)
      yield* privatizeRange(st, vma.mm, start, end);
      yield* genericVmaOps.changeProtection(k, vma, start, end, newprot);
    },
    followPage: (k, mm, vma, addr, write, pin) => genericVmaOps.followPage(k, mm, vma, addr, write, pin),
    freePgtableRange: (k, tlb, mm, addr, end, floor, ceiling) => genericVmaOps.freePgtableRange(k, tlb, mm, addr, end, floor, ceiling),
    *movePageTables(k, vma, oldAddr, newAddr, len) {
      yield* privatizeRange(st, vma.mm, oldAddr, oldAddr + len);
      return yield* movePageTables(k, vma, oldAddr, newAddr, len);
    },
  };
}

/** Dave McCracken's shared page tables as a feature. */
export const sharedPagetables: Feature = defineFeature({
  name: NAME,
  summary: 'shared page tables: processes mapping the same file region share PTE (or PMD) tables, at fault time and at fork',
  thread: { subject: '[PATCH/RFC] Shared page tables', author: 'Dave McCracken', date: '2006-01' },
  options: {
    level: {
      type: 'enum',
      default: 'pte',
      values: ['pte', 'pmd'],
      doc: 'share PTE tables (2 MiB each, the series default) or PMD tables (1 GiB each; what ppc64 segments need)',
    },
    flushSharers: {
      type: 'boolean',
      default: true,
      doc: 'send a TLB flush of a shared table range to every mm sharing it (off: the try_to_unmap hazard Hugh Dickins raised, for tests)',
    },
    unshareFlush: {
      type: 'boolean',
      default: true,
      doc: "the unsharing mm flushes its TLB before it drops the lock, Hugh Dickins' rule (off: the hazard, for tests)",
    },
  },
  install(k, opts) {
    const c: ShareCounters = k.defineCounters(NAME, {
      share_fault: 'tables shared by a fault (a sibling found through i_mmap)',
      share_fork: 'tables shared at fork',
      share_lost_race: "a fault's share that lost the populate race and was given back",
      unshare_zap: 'shares dropped by a zap (munmap, exit, MADV_DONTNEED) or by an unshare without a copy',
      unshare_free: 'shares dropped where free_pgtables would free the table',
      unshare_copy: 'private copies of a shared PTE table made before a change for one mm',
      unshare_copy_ptes: 'PTEs copied into private copies',
      flush_sharers: 'TLB flushes sent to another mm sharing the flushed table',
      pte_below_shared: 'PTE tables installed below a shared PMD table, accounted in every sharer (level=pmd)',
      tlb_segment_hits: "TLB misses served by another sharer's entry for the same page (ppc64's segment-keyed TLB, level=pmd)",
    });
    const st = newState(k, opts.level as ShareLevel, c, opts.flushSharers, opts.unshareFlush);
    k.defineGauge(NAME, 'shared_tables', 'tables reached by more than one mm through this feature, at snapshot', () => st.tables);
    k.defineGauge(NAME, 'table_refs', 'upper entries pointing at those tables (their share counts summed)', () => st.refs);
    const ops = shareOps(st);

    k.seamTable.wrap(NAME, 'pgtableAlloc', (prev) => {
      st.allocPrev = prev;
      // only a fault shares (mremap's, fork's and the drivers' allocations stay private)
      return (kk, mm, level, addr) =>
        st.mms.get(mm)?.faulting.includes(alignDown(addr, st.span)) === true ? allocAtFault(st, mm, level, addr) : prev(kk, mm, level, addr);
    });

    k.seamTable.wrap(NAME, 'pgtableDiscard', (prev) => {
      st.discardPrev = prev;
      return (kk, mm, level, pfn) => {
        if (level === st.level && baseOf(st, mm, pfn) !== undefined) {
          // a fault's share that lost the populate race
          removeBase(st, pfn, mm);
          pgtableUnshare(kk, mm, level, pfn);
          c.share_lost_race++;
          return;
        }
        // a PTE table installed below a PMD table by installBelow: the core's populate found it in place
        if (level === LEVEL_PTE && installedBelow(st, pfn)) return;
        prev(kk, mm, level, pfn);
      };
    });

    k.seamTable.wrap(NAME, 'pgtableFree', (prev) =>
      function* (kk, tlb, mm, level, parent, idx) {
        if (level === st.level) {
          const a = kk.tables.arr(parent);
          const b = kk.tables.base(parent) + idx * 2;
          const table = a[b + 1]!;
          if (a[b] !== 0 && baseOf(st, mm, table) !== undefined) {
            // still shared: drop this mm's share, the table stays for the others
            yield* dropShare(st, mm, parent, idx, table);
            c.unshare_free++;
            return;
          }
        }
        yield* prev(kk, tlb, mm, level, parent, idx);
      },
    );

    k.seamTable.wrap(NAME, 'copyPageRange', (prev) =>
      function* (kk, dst, src, vma) {
        if (kk.seams.specialVmaOps(vma) === ops) return yield* shareAtFork(st, dst, src, vma);
        return yield* prev(kk, dst, src, vma);
      },
    );

    k.seamTable.wrap(NAME, 'specialVmaOps', (prev) => (vma) => {
      const special = prev(vma);
      if (special !== null) return special;
      return shareableKind(k, vma) ? ops : null;
    });

    k.seamTable.wrap(NAME, 'vmaChange', (prev) =>
      function* (kk, vma, start, end, reason) {
        if (st.tables > 0) yield* unshareForChange(st, vma, start, end, reason);
        yield* prev(kk, vma, start, end, reason);
      },
    );

    k.seamTable.wrap(NAME, 'flushTlb', (prev) => (kk, kind, mm, start, end, reason) => {
      let wait = prev(kk, kind, mm, start, end, reason);
      if (!st.flushSharers || (st.mms.get(mm)?.tables.size ?? 0) === 0) return wait;
      // a gather's flush is flush_tlb_mm on x86, but only the range it gathered can be in a shared table
      const whole = kind === 'mm' && !(reason === 'gather' && end > start);
      const lo = whole ? 0 : start;
      const hi = whole ? Number.MAX_SAFE_INTEGER : kind === 'page' ? start + PAGE_SIZE : end;
      forEachSharedIn(st, mm, lo, hi, (table, base) => {
        const s = Math.max(lo, base) - base;
        const e = Math.min(hi, base + st.span) - base;
        forEachSharer(st, table, (other, obase) => {
          if (other === mm) return;
          if (prev(kk, kind === 'page' ? 'page' : 'range', other, obase + s, obase + e, reason)) wait = true;
          c.flush_sharers++;
        });
      });
      return wait;
    });

    if (st.level === LEVEL_PMD && k.profile.segmentBytes > 0) {
      const lastWalker = new Map<number, (MmStruct | undefined)[]>();
      k.seamTable.wrap(NAME, 'tlbMiss', (prev) => (kk, mm, address, write) => {
        const found = prev(kk, mm, address, write);
        return found !== 0 ? found : segmentTlbMiss(st, kk, mm, address, write, lastWalker);
      });
    }

    k.addInvariantCheck(NAME, 'tables', () => checkShares(st));
  },
});
