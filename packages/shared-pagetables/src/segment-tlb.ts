/**
 * ppc64's segment-keyed TLB with PMD sharing (the thread's second reason
 * for sharing at the PMD level: "TLB entries are keyed by segment id, not
 * process, so all processes sharing a segment can reuse TLB entries for
 * regions they share. This is only possible if they share the page table
 * at segment level.").
 * @module
 */
import { alignDown, type Kernel, type MmStruct, PAGE_SIZE, TLB_DIRTY, TLB_WRITE } from '@mmlab/core';
import { baseOf, type ShareState, tableAt } from './state.js';

/**
 * The `tlbMiss` seam on a machine whose TLB is keyed by segment
 * (`segmentBytes` of the profile, ppc64), with PMD sharing: a miss of `mm`
 * in a range it reaches through a shared PMD table is served by the entry
 * another sharer made for the same page on this CPU, the way a VSID-keyed
 * TLB (and hash table) serves every process mapping the segment. The
 * model's TLB stays tagged by mm: the reuse copies the other sharer's
 * entry into one for `mm` without a page-table walk (charged as a hit),
 * counted in `tlb_segment_hits`; capacity is not shared as it would be. To
 * stay O(1), the entry looked for is that of the last sharer that walked
 * the segment's table on this CPU. A write is served only by an entry
 * that allows writes and has set the dirty bit (else the walk sets it).
 * @see arch/powerpc/mm/hash_utils_64.c hash_page, arch/powerpc/mm/slb.c (VSIDs per segment)
 */
export function segmentTlbMiss(st: ShareState, k: Kernel, mm: MmStruct, address: number, write: boolean, lastWalker: Map<number, (MmStruct | undefined)[]>): number {
  const base = alignDown(address, st.span);
  // (a table not shared yet is looked up too: its walker's entries serve a later sharer)
  const table = tableAt(st, mm, base);
  if (table === 0) return 0;
  const cpu = k.cpu;
  let walkers = lastWalker.get(table);
  const other = walkers?.[cpu.id];
  if (other !== undefined && other !== mm) {
    const obase = baseOf(st, other, table);
    if (obase !== undefined) {
      const tlb = cpu.tlb;
      const e = tlb.lookup(other.id, Math.floor((obase + (address - base)) / PAGE_SIZE));
      const need = write ? TLB_WRITE | TLB_DIRTY : 0;
      if (e >= 0 && (tlb.perm[e]! & need) === need) {
        const pfn = tlb.pfn[e]!;
        if (pfn >= k.pages.nrFrames || k.pages.gen[pfn] === tlb.gen[e]) {
          tlb.fill(mm.id, Math.floor(address / PAGE_SIZE), pfn, tlb.perm[e]!, tlb.gen[e]);
          k.charge(k.costs.tlbHit);
          st.c.tlb_segment_hits++;
          return pfn;
        }
      }
    }
  }
  // this mm walks the shared table and fills its entry: the next sharer looks here
  if (walkers === undefined) {
    walkers = [];
    lastWalker.set(table, walkers);
  }
  walkers[cpu.id] = mm;
  return 0;
}
