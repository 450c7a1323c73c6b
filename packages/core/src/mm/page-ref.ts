/**
 * Page references and the rmap counters: `get_page`, `put_page`,
 * `page_add_new_anon_rmap`, `page_add_file_rmap`, `page_dup_rmap`,
 * `page_remove_rmap`.
 * @see mm/swap.c put_page, mm/rmap.c page_add_new_anon_rmap, page_remove_rmap
 * @module
 */
import { PG_anon, PG_huge, PG_table } from '../mem/page.js';
import { PAGE_SIZE } from '../pgtable/entry.js';
import type { Kernel } from '../kernel/kernel.js';
import { MIGHT_SLEEP, type KGen } from '../sched/run.js';
import type { Vma } from './types.js';

/**
 * The fast path of `alloc_page(GFP_KERNEL)`: a frame from the free list
 * while free memory is above the `pages_min` watermark (or the CPU is in
 * reclaim itself), else 0 — the caller then takes {@link allocPage}'s slow
 * path.
 * @see mm/page_alloc.c get_page_from_freelist (the first try of __alloc_pages)
 */
export function allocPageFast(k: Kernel): number {
  const cpu = k.cpu;
  if (cpu.preemptCount > 0 || cpu.irqsOff > 0) k.mightSleep('alloc_page');
  if (k.mem.nrFree <= k.pagesMin && !cpu.inReclaim) return 0;
  const pfn = k.mem.allocPage();
  if (pfn !== 0) {
    k.vm.pgalloc_normal++;
    k.charge(k.costs.pageAlloc);
  }
  return pfn;
}

/**
 * `alloc_page(GFP_KERNEL)`: may sleep; below the `pages_min` watermark it
 * first reclaims (`try_to_free_pages`, direct reclaim) until free memory is
 * above the watermark. Returns the pfn with refcount 1, or 0 when nothing
 * is reclaimable any more (OOM; see {@link Kernel.reclaim}).
 * @see mm/page_alloc.c __alloc_pages
 */
export function* allocPage(k: Kernel): KGen<number> {
  if (k.interleaving) yield MIGHT_SLEEP;
  k.mightSleep('alloc_page');
  const fast = allocPageFast(k);
  if (fast !== 0) return fast;
  if (!k.cpu.inReclaim && !(yield* k.reclaim())) return 0;
  const pfn = k.mem.allocPage();
  if (pfn !== 0) {
    k.vm.pgalloc_normal++;
    k.charge(k.costs.pageAlloc);
  }
  return pfn;
}

/**
 * `get_page()`.
 * @see include/linux/mm.h get_page
 */
export function getPage(k: Kernel, pfn: number): void {
  k.pages.count[pfn]!++;
  pageLine(k, pfn);
}

/**
 * The `struct page` cache line (count, mapcount) was written by this CPU:
 * when another CPU wrote it last, the line moves — a hot shared page's
 * refcount bounces like a lock word. Three hot loops apply this rule
 * inline on locals (fork's `copyPteRange`, the zap's `zapPtesQuick`, and
 * get_user_pages' `followPagesQuick`): a change here goes there too;
 * `test/hot-loop-equivalence.test.ts` fails when they disagree.
 * @see include/linux/mm.h get_page, put_page_testzero (the atomic operations on page->_count, whose cache line moves between CPUs)
 */
export function pageLine(k: Kernel, pfn: number): void {
  const last = k.pages.lineCpu;
  const cpu = k.cpu.id + 1;
  const prev = last[pfn]!;
  if (prev === cpu) return;
  last[pfn] = cpu;
  if (prev === 0) return;
  k.charge(k.cpus[prev - 1]!.socket === k.cpu.socket ? k.costs.cacheLineSocket : k.costs.cacheLineRemote);
}

/**
 * `put_page()`: drop a reference; the last one frees the frame (a table
 * page's slot goes back to the table store first).
 * @see mm/swap.c put_page
 */
export function putPage(k: Kernel, pfn: number): void {
  pageLine(k, pfn);
  const c = --k.pages.count[pfn]!;
  if (c > 0) return;
  if (c < 0) throw new Error(`put_page of pfn ${pfn} with no reference (refcount ${c})`);
  const p = k.pages;
  if ((p.flags[pfn]! & PG_huge) !== 0) {
    k.hugePool.release(pfn);
    return;
  }
  if ((p.flags[pfn]! & PG_table) !== 0) k.tables.detach(pfn);
  else k.lru.del(pfn);
  k.mem.freePage(pfn);
  k.vm.pgfree++;
  k.charge(k.costs.pageFree);
}

/**
 * `linear_page_index()`: the page offset `addr` maps in `vma`.
 * @see include/linux/pagemap.h linear_page_index
 */
export function linearPageIndex(vma: Vma, addr: number): number {
  return (addr - vma.vmStart) / PAGE_SIZE + vma.vmPgoff;
}

/**
 * `page_add_new_anon_rmap()`: a freshly allocated anonymous page gets its
 * first mapping: `mapping` = the VMA's anon_vma, `index` = linear index.
 * @see mm/rmap.c page_add_new_anon_rmap
 */
export function pageAddNewAnonRmap(k: Kernel, pfn: number, vma: Vma, addr: number): void {
  const p = k.pages;
  p.mapcount[pfn] = 1;
  p.flags[pfn]! |= PG_anon;
  p.mapping[pfn] = vma.anonVma!.id;
  p.index[pfn] = linearPageIndex(vma, addr);
  k.vm.nr_anon_pages++;
}

/**
 * `page_add_anon_rmap()`: one more mapping of an anonymous page (a swap
 * cache page being mapped again); the first mapping sets `mapping` and
 * `index`.
 * @see mm/rmap.c page_add_anon_rmap
 */
export function pageAddAnonRmap(k: Kernel, pfn: number, vma: Vma, addr: number): void {
  const p = k.pages;
  if (++p.mapcount[pfn]! === 1) {
    p.flags[pfn]! |= PG_anon;
    p.mapping[pfn] = vma.anonVma!.id;
    p.index[pfn] = linearPageIndex(vma, addr);
    k.vm.nr_anon_pages++;
  }
}

/**
 * `page_add_file_rmap()`.
 * @see mm/rmap.c page_add_file_rmap
 */
export function pageAddFileRmap(k: Kernel, pfn: number): void {
  pageLine(k, pfn);
  if (++k.pages.mapcount[pfn]! === 1) k.vm.nr_mapped++;
}

/**
 * `page_dup_rmap()` (fork): one more mapping, counters unchanged.
 * @see include/linux/rmap.h page_dup_rmap
 */
export function pageDupRmap(k: Kernel, pfn: number): void {
  pageLine(k, pfn);
  k.pages.mapcount[pfn]!++;
}

/**
 * `page_remove_rmap()`.
 * @see mm/rmap.c page_remove_rmap
 */
export function pageRemoveRmap(k: Kernel, pfn: number): void {
  pageLine(k, pfn);
  const p = k.pages;
  const m = --p.mapcount[pfn]!;
  if (m < 0) throw new Error(`page_remove_rmap of pfn ${pfn} with mapcount 0`);
  if (m === 0) {
    if ((p.flags[pfn]! & PG_anon) !== 0) k.vm.nr_anon_pages--;
    else k.vm.nr_mapped--;
  }
}

/**
 * `PageAnon()`.
 * @see include/linux/mm.h PageAnon
 */
export function pageAnon(k: Kernel, pfn: number): boolean {
  return (k.pages.flags[pfn]! & PG_anon) !== 0;
}
