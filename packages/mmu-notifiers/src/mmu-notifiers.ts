/**
 * The feature `mmu-notifiers`: Andrea Arcangeli's "[PATCH] mmu notifiers
 * #v6" (February 2008) and, as options, each point of Christoph Lameter's
 * alternative that Robin Holt and Jack Steiner argued for in the thread.
 *
 * Where the callouts are (seams of the core):
 * - `ptepClearFlush`: `invalidate_page` after the primary PTE is cleared
 *   and flushed, under the PTE lock (`try_to_unmap`, `do_wp_page`,
 *   `move_ptes`, `remap_file_pages`' `zap_pte`). With `variant=range`
 *   inside an open range of the same mm (mremap's `move_ptes`) the begin
 *   already invalidated it and no call is made.
 * - `ptepClearFlushYoung`: `age_page` after the young bit is tested and
 *   cleared: page_referenced also sees the secondary MMU's accesses.
 * - `tlbGather` (`tlb_remove_tlb_entry` in `zap_pte_range`): with `v6`,
 *   `invalidate_page` for each PTE the zap clears, under the PTE lock and
 *   before the page reaches the gather: the per-pte invalidate Jack Steiner
 *   measured (munmap, MADV_DONTNEED, truncation, exit).
 * - `rangeEnd` with `v6`: `invalidate_pages(start, end)` after
 *   `change_protection` and fork's write-protect of the parent, which have
 *   no per-page call site.
 * - `rangeBegin`/`rangeEnd` with `range`: `invalidate_range_begin/end`
 *   around the zap, mprotect, mremap's move, fork's write-protect and
 *   truncation (nested begins, truncation's around each `unmap_vmas`, call
 *   out once).
 * - A PTE cleared (or aged) through a page table shared with other mms
 *   (any feature sharing tables through the core's primitives) is gone for
 *   every sharer: `invalidate_page` and `age_page` go to each of them too,
 *   at its own address ({@link forEachSharer}).
 * - `exitMmapUnmapped` (`after-unmap`, #v6) or `exitMmapBegin`
 *   (`before-unmap`, Christoph Lameter): `release`, after which the
 *   notifiers are unhooked and the rest of the teardown calls nobody.
 *
 * With `sleepable`, registration takes `mmap_sem` instead of RCU and the
 * callouts run outside the RCU read side; a sleeping method is then legal
 * where the call site may sleep (munmap, mprotect, mremap, fork hold only
 * `mmap_sem`) and reported in the kernel's words where it may not (under
 * `i_mmap_lock` in truncation, under the PTE lock in reclaim), which was
 * Andrea Arcangeli's and Nick Piggin's point.
 * @module
 */
import {
  _PAGE_RW,
  defineFeature,
  type Feature,
  lookupPteTable,
  type Kernel,
  type KGen,
  type MmStruct,
  pteIndex,
  ptePresent,
  type RangeReason,
} from '@mmlab/core';
import { attachNotifiers, type MmuNotifier, Notifiers, type NotifierOptions } from './notifier.js';
import { forEachSharer, forEachSharerOf } from './sharers.js';

/** The feature's name: owner of its seam links, counters, costs and checks. */
export const NAME = 'mmu-notifiers';

/** mmu notifiers #v6, with Christoph Lameter's range/sleepable alternative as options. */
export const mmuNotifiers: Feature = defineFeature({
  name: NAME,
  summary: 'mmu notifiers #v6 (invalidate_page/pages, age_page, release) or the range/sleepable alternative, for KVM-, GRU- and XPMEM-like secondary MMUs',
  thread: { subject: '[PATCH] mmu notifiers #v6', author: 'Andrea Arcangeli', date: '2008-02' },
  options: {
    variant: {
      type: 'enum',
      default: 'v6',
      values: ['v6', 'range'],
      doc: 'v6: invalidate_page per PTE (zap, ptep_clear_flush) and invalidate_pages for mprotect/fork; range: invalidate_range_begin/end around each change',
    },
    release: {
      type: 'enum',
      default: 'after-unmap',
      values: ['after-unmap', 'before-unmap'],
      doc: "where exit_mmap calls release: after unmap_vmas (#v6) or before it (Christoph Lameter's patch)",
    },
    sleepable: {
      type: 'boolean',
      default: false,
      doc: 'registration under mmap_sem instead of RCU and callouts outside the RCU read side, so that a notifier may sleep where the call site may',
    },
  },
  install(k, options) {
    const opts: NotifierOptions = {
      variant: options.variant as NotifierOptions['variant'],
      release: options.release as NotifierOptions['release'],
      sleepable: options.sleepable,
    };
    const counters = k.defineCounters(NAME, {
      invalidate_page: 'invalidate_page callouts (one per notifier and page)',
      invalidate_pages: "invalidate_pages callouts (#v6's ranges: mprotect, fork)",
      range_begin: 'invalidate_range_begin callouts',
      range_end: 'invalidate_range_end callouts',
      age_page: 'age_page callouts (page_referenced and try_to_unmap ask the secondary MMUs)',
      age_young: 'age_page callouts that found the secondary young bit set',
      release: 'release callouts (exit_mmap)',
      registered: 'notifiers registered',
      unregistered: 'notifiers unregistered (by their driver, or unhooked by release)',
      atomic_sleeps: 'sleeping notifier methods called where the call site could not sleep (each also a BUG report)',
    });
    const drivers = k.defineCounters(NAME, {
      kvm_spte_faults: 'KVM-like: secondary faults that filled an spte through get_user_pages',
      kvm_spte_retries: 'KVM-like: secondary faults retried because an invalidate raced with them (sequence/count check)',
      kvm_sptes_dropped: 'KVM-like: sptes dropped by callouts',
      gru_tlb_faults: 'GRU-like: TLB misses filled from the primary PTE',
      gru_tlb_invalidates: 'GRU-like: TLB invalidate instructions issued (one per callout, any range)',
      gru_tlb_invalidated_pages: 'GRU-like: TLB entries dropped by the invalidate instructions',
      xpmem_messages: 'XPMEM-like: invalidate messages sent to the remote partition (each sleeps)',
      xpmem_detached: 'XPMEM-like: remote attachments dropped',
    });
    const costs = {
      kvmSpteDrop: k.defineCost(NAME, 'kvmSpteDrop', 'KVM-like: drop one spte (rmap removal, shadow TLB flush share)', { 'x86-64': 60, default: 80 }),
      gruTlbFlush: k.defineCost(NAME, 'gruTlbFlush', 'GRU-like: one TLB invalidate instruction, any range (the GRU flush is slow)', { default: 2000 }),
      xpmemMessage: k.defineCost(NAME, 'xpmemMessage', 'XPMEM-like: one invalidate message round trip to another partition', { default: 20_000 }),
    };
    k.defineGauge(NAME, 'gru_flush_ns', 'GRU-like: simulated ns of TLB invalidate instructions', () => costs.gruTlbFlush.charged * costs.gruTlbFlush.ns);
    const lists = k.mmSlot<readonly MmuNotifier[]>(NAME, 'notifiers', { fork: 'drop' });
    const n = new Notifiers(opts, counters, lists, drivers, costs);
    attachNotifiers(k, n);
    const v6 = opts.variant === 'v6';

    /** `invalidate_page` for `addr` of `mm`, called where the PTE lock is held. */
    const invalidatePage = (kk: Kernel, mm: MmStruct, addr: number): void => {
      // the zap's hot path: nothing to build when no secondary MMU is registered on the mm
      if (n.list(mm).length === 0) return;
      n.callAtomic(kk, mm, 'invalidate_page', (mn) => {
        if (mn.ops.invalidatePage === undefined) return;
        counters.invalidate_page++;
        mn.ops.invalidatePage(kk, mm, addr);
      });
    };

    k.seamTable.wrap(NAME, 'ptepClearFlush', (prev) =>
      function* (kk, vma, addr, pte): KGen<void> {
        yield* prev(kk, vma, addr, pte);
        // #v6: mmu_notifier(invalidate_page) after flush_tlb_page, PTE lock held
        if (v6 || !n.rangeOpen(vma.mm)) invalidatePage(kk, vma.mm, addr);
        // a shared table: the PTE is gone for every sharer too
        forEachSharer(kk, vma, addr, (mm, at) => {
          invalidatePage(kk, mm, at);
        });
      },
    );

    k.seamTable.wrap(NAME, 'ptepClearFlushYoung', (prev) =>
      function* (kk, vma, addr, pte): KGen<boolean> {
        let young = yield* prev(kk, vma, addr, pte);
        const age = (mm: MmStruct, at: number): void => {
          if (n.list(mm).length === 0) return;
          // __young |= mmu_notifier_age_page(mm, address)
          n.callAtomic(kk, mm, 'age_page', (mn) => {
            if (mn.ops.agePage === undefined) return;
            counters.age_page++;
            if (mn.ops.agePage(kk, mm, at)) {
              counters.age_young++;
              young = true;
            }
          });
        };
        age(vma.mm, addr);
        forEachSharer(kk, vma, addr, age);
        return young;
      },
    );

    if (v6) {
      k.seamTable.wrap(NAME, 'tlbGather', (prev) => ({
        ...prev,
        removeTlbEntry(kk, tlb, addr) {
          prev.removeTlbEntry(kk, tlb, addr);
          // the per-pte invalidate of the zap, before the page is handed to the gather
          if (tlb.mm === null) return;
          invalidatePage(kk, tlb.mm, addr);
          forEachSharerOf(kk, tlb.mm, addr, (mm, at) => {
            invalidatePage(kk, mm, at);
          });
        },
      }));
    }

    k.seamTable.wrap(NAME, 'rangeBegin', (prev) =>
      function* (kk, mm, start, end, reason): KGen<void> {
        yield* prev(kk, mm, start, end, reason);
        if (v6 || !n.beginRange(mm)) return;
        yield* n.call(kk, mm, 'invalidate_range_begin', (mn) => {
          if (mn.ops.invalidateRangeBegin === undefined) return;
          counters.range_begin++;
          mn.ops.invalidateRangeBegin(kk, mm, start, end);
        });
      },
    );

    k.seamTable.wrap(NAME, 'rangeEnd', (prev) =>
      function* (kk, mm, start, end, reason): KGen<void> {
        if (v6) {
          if (V6_RANGE_REASONS.has(reason)) {
            yield* n.call(kk, mm, 'invalidate_pages', (mn) => {
              if (mn.ops.invalidatePages === undefined) return;
              counters.invalidate_pages++;
              mn.ops.invalidatePages(kk, mm, start, end);
            });
          }
        } else if (n.endRange(mm)) {
          yield* n.call(kk, mm, 'invalidate_range_end', (mn) => {
            if (mn.ops.invalidateRangeEnd === undefined) return;
            counters.range_end++;
            mn.ops.invalidateRangeEnd(kk, mm, start, end);
          });
        }
        yield* prev(kk, mm, start, end, reason);
      },
    );

    const seam = opts.release === 'before-unmap' ? 'exitMmapBegin' : 'exitMmapUnmapped';
    k.seamTable.wrap(NAME, seam, (prev) =>
      function* (kk, mm): KGen<void> {
        yield* n.release(kk, mm);
        yield* prev(kk, mm);
      },
    );

    k.addInvariantCheck(NAME, 'coherence', (kk) => coherence(kk, n));
  },
});

/** The changes #v6 reports with one `invalidate_pages` call: they have no per-page call site. */
const V6_RANGE_REASONS: ReadonlySet<RangeReason> = new Set<RangeReason>(['mprotect', 'fork']);

/**
 * The coherence invariant, checked once every callout has returned: each
 * translation a secondary MMU holds maps the frame the primary PTE maps at
 * that address (present, same frame, writable only where the primary is),
 * in a live mm, and never a freed frame. The references sptes hold are
 * `get_user_pages` pins, so the core's refcount check counts them.
 */
export function* coherence(k: Kernel, n: Notifiers): Iterable<string> {
  const out: string[] = [];
  for (const s of n.secondaries) {
    s.forEachMapping((mm, addr, pfn, writable) => {
      const where = `${s.name}: mm ${mm.id} address 0x${addr.toString(16)}`;
      if (pfn <= 0 || pfn >= k.pages.nrFrames || k.pages.count[pfn] === 0) {
        out.push(`${where} reaches frame ${pfn}, which is free`);
        return;
      }
      if (mm.dead) {
        out.push(`${where} still maps frame ${pfn} after the mm was torn down`);
        return;
      }
      const pte = lookupPteTable(k, mm, addr);
      const a = pte === 0 ? null : k.tables.arr(pte);
      const b = pte === 0 ? 0 : k.tables.base(pte) + pteIndex(addr) * 2;
      const f = a === null ? 0 : a[b]!;
      if (a === null || !ptePresent(f)) {
        out.push(`${where} maps frame ${pfn}; the primary maps nothing there`);
      } else if (a[b + 1] !== pfn) {
        out.push(`${where} maps frame ${pfn}; the primary maps frame ${a[b + 1]!} there`);
      } else if (writable && (f & _PAGE_RW) === 0) {
        out.push(`${where} maps frame ${pfn} writable; the primary PTE is read-only`);
      }
    });
  }
  yield* out;
}

