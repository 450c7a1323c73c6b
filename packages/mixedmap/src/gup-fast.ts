/**
 * Lockless `get_user_pages_fast()` (Nick Piggin, x86, 2008): walk the
 * current mm's page tables with interrupts off and without `mmap_sem`,
 * take a reference on each page, and fall back to the `mmap_sem` walk
 * (`get_user_pages`) from the first page it cannot handle.
 *
 * It is safe because the walker holds interrupts off: a page-table page is
 * freed only after the TLB shootdown IPI of the zap that unhooked it has
 * been acknowledged by every CPU running the mm, and a CPU with interrupts
 * off does not acknowledge (the order of the `tlbGather` seam's baseline:
 * unhook, flush with its IPIs, then free; a gather that freed tables
 * another way would have to keep that order, or wait for an RCU grace
 * period, as mainline's RCU table freeing does). The same holds for the pages the PTEs map
 * (freed after the gather's flush), which is why the 2008 version did not
 * re-check the PTE after taking the reference.
 *
 * The model walks the tables from the PGD like the hardware would. In the
 * explore mode it yields a `race` point before each load (other CPUs may
 * act there, while its own IPIs wait); before each load it checks that the
 * table it is about to read, or the page it is about to take, is still the
 * frame it saw in the entry above (same free generation). A walk that
 * finds a freed frame reports a `gup_fast` violation (the use-after-free a
 * missing guard causes, as KASAN would) and hands over to the slow path.
 * @see arch/x86/mm/gup.c get_user_pages_fast, gup_pte_range, gup_pmd_range (2.6.27)
 * @module
 */
import {
  _PAGE_DIRTY,
  _PAGE_PRESENT,
  _PAGE_PSE,
  _PAGE_RW,
  _PAGE_SPECIAL,
  _PAGE_USER,
  type FeatureCost,
  getPage,
  type Kernel,
  type KGen,
  type MmStruct,
  PAGE_SIZE,
  PG_allocated,
  PG_dirty,
  PG_table,
  pgdIndex,
  pmdIndex,
  pteIndex,
  pudIndex,
  RACE,
  TASK_SIZE,
} from '@mmlab/core';

/** What the fast path counts. */
export interface GupFastCounters {
  /** Pages pinned by the lockless walk. */
  gup_fast_pages: number;
  /** Pages pinned by the slow path (`get_user_pages` under `mmap_sem`) behind it. */
  gup_slow_pages: number;
  /** Calls whose lockless walk stopped before the end and handed the rest to the slow path. */
  gup_fast_fallbacks: number;
}

/** The `getUserPages` seam's type: what the fast path falls back to. */
export type GupFn = (k: Kernel, mm: MmStruct, start: number, nrPages: number, write: boolean, force: boolean) => KGen<number[] | number>;

/** How the fast path runs. */
export interface GupFastConfig {
  /**
   * Interrupts off around the walk (`local_irq_disable`): the guard that
   * keeps tables and pages from being freed under it. Only a test-only
   * mutation turns it off.
   */
  irqGuard: boolean;
  /** The kernel marks raw-pfn PTEs special: without the bit every PTE-level walk falls back. */
  readonly pteSpecial: boolean;
  /** Cost of one page of the walk (the PTE load and the reference). */
  readonly perPage: FeatureCost;
  /** Cost of the interrupts off/on pair around a walk. */
  readonly irqPair: FeatureCost;
}

/** A frame seen in an entry: its pfn and the free generation it had then. */
function live(k: Kernel, pfn: number, gen: number, table: boolean): boolean {
  const p = k.pages;
  const f = p.flags[pfn]!;
  return (f & PG_allocated) !== 0 && p.gen[pfn] === gen && (!table || ((f & PG_table) !== 0 && p.tableSlot[pfn]! >= 0));
}

/**
 * The lockless walk of [start, start + nrPages pages) of `mm`: pins what
 * it can, from the first page, into `pages`; stops at the first page it
 * cannot take (an empty or non-present entry, a huge PMD, a PTE without
 * the access bits, a special PTE, any PTE without the special bit in use,
 * or a freed frame met after a race point).
 */
function* gupFastWalk(k: Kernel, mm: MmStruct, start: number, nrPages: number, write: boolean, cfg: GupFastConfig, pages: number[]): KGen<void> {
  const race = k.mode === 'explore';
  const mask = _PAGE_PRESENT | _PAGE_USER | (write ? _PAGE_RW : 0);
  const p = k.pages;
  let addr = start;
  const end = start + nrPages * PAGE_SIZE;
  while (addr < end) {
    // pgd → pud → pmd: the PTE table covering addr
    let table = mm.pgd;
    let gen = p.gen[table]!;
    for (let level = 3; level > 0; level--) {
      if (race) {
        yield RACE;
        if (!live(k, table, gen, true)) {
          useAfterFree(k, mm, addr, table, 'page-table page');
          return;
        }
      }
      const idx = level === 3 ? pgdIndex(addr) : level === 2 ? pudIndex(addr) : pmdIndex(addr);
      const a = k.tables.arr(table);
      const b = k.tables.base(table) + idx * 2;
      const f = a[b]!;
      if ((f & _PAGE_PRESENT) === 0 || (f & _PAGE_PSE) !== 0) return;
      table = a[b + 1]!;
      gen = p.gen[table]!;
    }
    if (!cfg.pteSpecial) return;
    // gup_pte_range over this table's part of the range
    const tableEnd = Math.min(end, (Math.floor(addr / (512 * PAGE_SIZE)) + 1) * 512 * PAGE_SIZE);
    for (; addr < tableEnd; addr += PAGE_SIZE) {
      if (race) {
        yield RACE;
        if (!live(k, table, gen, true)) {
          useAfterFree(k, mm, addr, table, 'PTE table');
          return;
        }
      }
      const a = k.tables.arr(table);
      const b = k.tables.base(table) + pteIndex(addr) * 2;
      const f = a[b]!;
      if ((f & (mask | _PAGE_SPECIAL)) !== mask) return;
      const pfn = a[b + 1]!;
      if (!k.mem.pfnValid(pfn)) {
        // VM_BUG_ON(!pfn_valid(pte_pfn(pte))): a raw pfn without the special bit
        k.reportViolation('gup_fast', `get_user_pages_fast: PTE at 0x${addr.toString(16)} (mm ${mm.id}) maps pfn ${pfn} without a struct page and is not special`);
        return;
      }
      const pageGen = p.gen[pfn]!;
      if (race) {
        yield RACE;
        if (!live(k, pfn, pageGen, false)) {
          useAfterFree(k, mm, addr, pfn, 'page');
          return;
        }
      }
      getPage(k, pfn);
      p.pinned[pfn]!++;
      // (the caller's set_page_dirty after the I/O, done here)
      if (write && (f & _PAGE_DIRTY) === 0) p.flags[pfn]! |= PG_dirty;
      k.chargeCost(cfg.perPage);
      pages.push(pfn);
    }
  }
}

/** Report a use-after-free found by the walk. */
function useAfterFree(k: Kernel, mm: MmStruct, addr: number, pfn: number, what: string): void {
  k.reportViolation('gup_fast', `get_user_pages_fast: use-after-free: the ${what} (frame ${pfn}) it found for 0x${addr.toString(16)} (mm ${mm.id}) was freed while it walked`);
}

/**
 * `get_user_pages_fast()` in front of `slow` (the `getUserPages` seam as
 * it was): a forced access (`access_process_vm`), another mm than the one
 * running, or a range beyond user space goes to `slow` at once; otherwise
 * the lockless walk pins what it can with interrupts off, and `slow` pins
 * the rest. Returns the pinned pfns, or a negative errno when not even the
 * first page could be pinned.
 * @see arch/x86/mm/gup.c get_user_pages_fast
 */
export function* getUserPagesFast(k: Kernel, mm: MmStruct, start: number, nrPages: number, write: boolean, force: boolean, slow: GupFn, cfg: GupFastConfig, counters: GupFastCounters): KGen<number[] | number> {
  start = Math.floor(start / PAGE_SIZE) * PAGE_SIZE;
  const pages: number[] = [];
  if (!force && nrPages > 0 && start + nrPages * PAGE_SIZE <= TASK_SIZE && k.cpu.activeMm === mm) {
    k.chargeCost(cfg.irqPair);
    if (cfg.irqGuard) k.localIrqDisable();
    try {
      yield* gupFastWalk(k, mm, start, nrPages, write, cfg, pages);
    } finally {
      if (cfg.irqGuard) k.localIrqEnable();
    }
    counters.gup_fast_pages += pages.length;
    if (pages.length === nrPages) return pages;
    counters.gup_fast_fallbacks++;
  }
  const rest = yield* slow(k, mm, start + pages.length * PAGE_SIZE, nrPages - pages.length, write, force);
  if (typeof rest === 'number') return pages.length > 0 ? pages : rest;
  counters.gup_slow_pages += rest.length;
  for (const pfn of rest) pages.push(pfn);
  return pages;
}
