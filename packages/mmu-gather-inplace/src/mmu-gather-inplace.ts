/**
 * The feature `mmu-gather-inplace`: Nick Piggin's "[rfc] mm: mmu gather
 * in-place" (March 2006) as a replacement of the core's `tlbGather` seam.
 *
 * - `begin` makes a fresh {@link InplaceGather} (no per-CPU variable, so
 *   preemption stays on) where {@link inPlaceAllowed} says no fault can
 *   meet a gathered PTE; elsewhere it takes the core's per-CPU gather
 *   (`baseTlbGather`), and every other operation follows the gather it is
 *   given.
 * - `removePage` writes the page back into the PTE the zap just cleared,
 *   as a {@link _PAGE_GATHERED} entry; `removeTable` (reached through the
 *   `pgtableFree` seam, so a shared table is released there, not here)
 *   keeps the unhooked table for later. Neither ever asks for a flush.
 * - `blockSize` is unbounded (no `ZAP_BLOCK_SIZE` breaks), and `tableDone`
 *   reschedules after each PTE table without ending the batch.
 * - `flush` (and `finish` through it) flushes the TLB once for the range
 *   through the `flushTlb` seam, then walks the gathered tables a second
 *   time, freeing each gathered page, and frees the unhooked tables last.
 * @module
 */
import {
  baseTlbGather,
  defineFeature,
  type Feature,
  freePageAndSwapCache,
  tlbFlush,
  type Kernel,
  type KGen,
  type MmuGather,
  type MmStruct,
  pteIndex,
  type TlbGatherOps,
} from '@mmlab/core';
import { _PAGE_GATHERED, InplaceGather, inPlaceAllowed } from './gather.js';

/** The feature's name: owner of its seam link, counters, costs and check. */
export const NAME = 'mmu-gather-inplace';

/** Replaces the per-CPU `mmu_gather` with the preemptible in-place gather. */
export const mmuGatherInplace: Feature = defineFeature({
  name: NAME,
  summary: 'in-place mmu_gather: pages wait in their PTEs until one flush, a second walk frees them; preemptible, no ZAP_BLOCK_SIZE breaks',
  thread: { subject: '[rfc] mm: mmu gather in-place', author: 'Nick Piggin', date: '2006-03' },
  options: {
    readLocked: {
      type: 'enum',
      default: 'baseline',
      values: ['baseline', 'inplace'],
      doc:
        'zaps that hold mmap_sem only for read or not at all (MADV_DONTNEED, truncation): baseline keeps the per-CPU gather for them; ' +
        'inplace gathers in place there too, which lets a racing fault meet a gathered PTE (unsafe: for showing the race)',
    },
    resched: {
      type: 'enum',
      default: 'table',
      values: ['table', 'never'],
      doc: 'table: the zap and the second walk reschedule after each PTE table without ending the batch; never: no such points',
    },
    walkNs: {
      type: 'int',
      default: -1,
      min: -1,
      max: 1000,
      doc: "simulated ns per PTE entry read by the second walk (-1: the machine profile's figure)",
    },
  },
  install(k, { readLocked, resched, walkNs }) {
    const counters = k.defineCounters(NAME, {
      gathers: 'in-place gathers begun (each covers a whole munmap, exit or mmap_sem-write zap)',
      fallbacks: 'gathers that kept the per-CPU vector: zaps without mmap_sem held for write (MADV_DONTNEED, truncation)',
      pages_in_place: 'pages freed by the second walk after waiting in their PTEs',
      walk_entries: 'PTE entries read by the second walk (from the first to the last gathered entry of each table)',
      walk_tables: 'PTE tables the second walk visited',
      tables_freed: 'page-table pages unhooked by free_pgtables and freed after the pages',
      flushes: 'TLB flushes of in-place gathers (one per gather with anything to flush)',
      aside: 'pages kept beside the tables because their PTE was not free (a nonlinear truncation left a file PTE)',
    });
    const walkEntry = k.defineCost(
      NAME,
      'walkEntry',
      'the second walk reads one PTE entry (sequential, 8 to a cache line)',
      walkNs >= 0 ? walkNs : { 'x86-64': 2, 'x86-64-today': 1, default: 3 },
    );
    const walkTable = k.defineCost(NAME, 'walkTable', 'the second walk reaches one PTE table (its struct page and first cache line)', {
      'x86-64': 40,
      'x86-64-today': 30,
      default: 60,
    });
    k.defineGauge(NAME, 'walk_ns', 'simulated ns the second walk cost', () => walkEntry.charged * walkEntry.ns + walkTable.charged * walkTable.ns);

    /** The in-place gathers begun and not finished. */
    const open = new Set<InplaceGather>();
    let outstanding = 0;
    const base = baseTlbGather;

    function* secondWalk(kk: Kernel, g: InplaceGather): KGen<void> {
      const pages = kk.pages;
      for (let t = 0; t < g.tables.length; t++) {
        const pte = g.tables[t]!;
        const lo = g.lo[t]!;
        const hi = g.hi[t]!;
        const a = kk.tables.arr(pte);
        const b0 = kk.tables.base(pte);
        const n = hi - lo + 1;
        walkEntry.charged += n;
        walkTable.charged++;
        kk.charge(n * walkEntry.ns + walkTable.ns);
        counters.walk_entries += n;
        counters.walk_tables++;
        for (let i = lo; i <= hi; i++) {
          const b = b0 + i * 2;
          if (a[b] !== _PAGE_GATHERED) continue;
          const pfn = a[b + 1]!;
          a[b] = 0;
          a[b + 1] = 0;
          if (pfn <= 0 || pfn >= pages.nrFrames) {
            kk.reportViolation(`${NAME}:walk`, `gathered PTE in table ${pte} entry ${i} names frame ${pfn}`);
            continue;
          }
          freePageAndSwapCache(kk, pfn);
          counters.pages_in_place++;
          outstanding--;
        }
        // preemptible: nothing per-CPU is held, the batch goes on after a reschedule
        if (resched === 'table' && t + 1 < g.tables.length) yield* kk.condResched();
      }
      for (const pfn of g.aside) freePageAndSwapCache(kk, pfn);
      for (const table of g.unhooked) {
        freePageAndSwapCache(kk, table);
        counters.tables_freed++;
      }
      g.reset();
    }

    const ops: TlbGatherOps = {
      begin(kk: Kernel, mm: MmStruct, fullmm: boolean): MmuGather {
        if (readLocked === 'baseline' && !inPlaceAllowed(kk, mm, fullmm)) {
          counters.fallbacks++;
          return base.begin(kk, mm, fullmm);
        }
        const g = new InplaceGather();
        g.active = true;
        g.mm = mm;
        g.fullmm = fullmm;
        open.add(g);
        counters.gathers++;
        return g;
      },
      removeTlbEntry(kk, tlb, addr) {
        base.removeTlbEntry(kk, tlb, addr);
      },
      removePage(kk, tlb, pfn, addr, pte) {
        if (!(tlb instanceof InplaceGather)) return base.removePage(kk, tlb, pfn, addr, pte);
        tlb.needFlush = true;
        const idx = pteIndex(addr);
        const a = kk.tables.arr(pte);
        const b = kk.tables.base(pte) + idx * 2;
        if (a[b] !== 0 || a[b + 1] !== 0) {
          tlb.aside.push(pfn);
          counters.aside++;
          return false;
        }
        a[b] = _PAGE_GATHERED;
        a[b + 1] = pfn;
        tlb.note(pte, idx);
        outstanding++;
        return false;
      },
      removeTable(kk, tlb, pfn) {
        if (!(tlb instanceof InplaceGather)) return base.removeTable(kk, tlb, pfn);
        // pgtableFree has cleared the upper entry: the table is unhooked, its
        // gathered entries stay in it until the second walk
        tlb.needFlush = true;
        tlb.unhooked.push(pfn);
        return false;
      },
      *flush(kk, tlb) {
        if (!(tlb instanceof InplaceGather)) {
          yield* base.flush(kk, tlb);
          return;
        }
        if (!tlb.needFlush) return;
        tlb.needFlush = false;
        yield* tlbFlush(kk, tlb);
        counters.flushes++;
        yield* secondWalk(kk, tlb);
      },
      *finish(kk, tlb) {
        if (!(tlb instanceof InplaceGather)) {
          yield* base.finish(kk, tlb);
          return;
        }
        yield* kk.seams.tlbGather.flush(kk, tlb);
        tlb.active = false;
        tlb.mm = null;
        open.delete(tlb);
      },
      blockSize(kk, tlb) {
        // no ZAP_BLOCK_SIZE: the batch never has to end for latency's sake
        return tlb instanceof InplaceGather ? Number.MAX_SAFE_INTEGER : base.blockSize(kk, tlb);
      },
      tableDone(kk, tlb) {
        return tlb instanceof InplaceGather ? resched === 'table' : base.tableDone(kk, tlb);
      },
    };
    k.seamTable.replace(NAME, 'tlbGather', ops);

    k.addInvariantCheck(NAME, 'no-gathered-pte', function* () {
      // at an operation boundary every in-place gather is finished and its entries freed
      for (const g of open) yield `in-place gather of mm ${g.mm?.id ?? '?'} still open (${g.gathered} entries, ${g.unhooked.length} tables)`;
      if (outstanding !== 0) yield `${outstanding} gathered PTE(s) survive the operation`;
    });
  },
});
