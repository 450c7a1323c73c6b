/**
 * `free_pgtables()`: free the page tables of unmapped VMAs, but only the
 * tables wholly inside the gap between the neighbouring VMAs (`floor`,
 * `ceiling`), since a table may still map a neighbour's pages.
 * @see mm/memory.c free_pgtables, free_pgd_range, free_pud_range, free_pmd_range, free_pte_range
 * @module
 */
import {
  LEVEL_PMD,
  LEVEL_PTE,
  LEVEL_PUD,
  PGDIR_SIZE,
  PMD_SIZE,
  PUD_SIZE,
  USER_PGTABLES_CEILING,
  alignDown,
  pgdAddrEnd,
  pgdIndex,
  pmdAddrEnd,
  pmdIndex,
  pudAddrEnd,
  pudIndex,
} from '../pgtable/entry.js';
import type { Kernel } from '../kernel/kernel.js';
import type { KGen } from '../sched/run.js';
import { baseTlbGather, type MmuGather, tlbFlushMmuNow } from './tlb-gather.js';
import type { MmStruct, Vma } from './types.js';
import { anonVmaUnlink, unlinkFileVma } from './vma.js';
import { shmemRelease } from '../fs/shmem.js';

/**
 * Baseline `pgtableFree` seam: clear the upper entry, unaccount the table
 * and hand its page to the gather (x86: `pte_free_tlb` is
 * `tlb_remove_page`).
 * @see mm/memory.c free_pte_range, free_pmd_range, free_pud_range; include/asm-generic/tlb.h pte_free_tlb
 */
export function* basePgtableFree(k: Kernel, tlb: MmuGather, mm: MmStruct, level: 0 | 1 | 2, parent: number, idx: number): KGen<void> {
  const table = pgtableUnhook(k, mm, level, parent, idx);
  if (k.seams.tlbGather.removeTable(k, tlb, table)) yield* k.seams.tlbGather.flush(k, tlb);
}

/**
 * {@link basePgtableFree} without a generator, with the baseline gather in
 * sequential mode (a full vector is flushed by {@link tlbFlushMmuNow},
 * which cannot be made to wait).
 * @see mm/memory.c free_pte_range; include/asm-generic/tlb.h pte_free_tlb
 */
function pgtableFreeNow(k: Kernel, tlb: MmuGather, mm: MmStruct, level: 0 | 1 | 2, parent: number, idx: number): void {
  const table = pgtableUnhook(k, mm, level, parent, idx);
  if (k.seams.tlbGather.removeTable(k, tlb, table)) tlbFlushMmuNow(k, tlb);
}

/** {@link basePgtableFree} up to the gather: the entry cleared and the table unaccounted; returns the table's pfn. */
function pgtableUnhook(k: Kernel, mm: MmStruct, level: 0 | 1 | 2, parent: number, idx: number): number {
  const a = k.tables.arr(parent);
  const b = k.tables.base(parent) + idx * 2;
  const table = a[b + 1]!;
  a[b] = 0;
  a[b + 1] = 0;
  k.ptl.assertFree(table);
  k.accountTable(mm, level, -1);
  k.charge(k.costs.tableFree);
  return table;
}

/**
 * Whether the baseline `pgtableFree` may be called as {@link pgtableFreeNow}:
 * it is the installed one, the gather is the baseline's and the kernel runs
 * in sequential mode.
 */
function pgtableFreeCanRunNow(k: Kernel): boolean {
  return !k.interleaving && k.seams.pgtableFree === basePgtableFree && k.seams.tlbGather === baseTlbGather;
}

function* freePmdRange(k: Kernel, tlb: MmuGather, mm: MmStruct, pud: number, pudIdx: number, addr: number, end: number, floor: number, ceiling: number): KGen<void> {
  const pa = k.tables.arr(pud);
  const pb = k.tables.base(pud) + pudIdx * 2;
  const pmd = pa[pb + 1]!;
  const a = k.tables.arr(pmd);
  const base = k.tables.base(pmd);
  let start = addr;
  // a static key: the PTE tables go without a generator each
  const now = pgtableFreeCanRunNow(k);
  do {
    const next = pmdAddrEnd(addr, end);
    const i = pmdIndex(addr);
    if (a[base + i * 2] !== 0) {
      if (now) pgtableFreeNow(k, tlb, mm, LEVEL_PTE, pmd, i);
      else yield* k.seams.pgtableFree(k, tlb, mm, LEVEL_PTE, pmd, i);
    }
    addr = next;
  } while (addr !== end);
  start = alignDown(start, PUD_SIZE);
  if (start < floor) return;
  ceiling = alignDown(ceiling, PUD_SIZE);
  if (ceiling === 0) return;
  if (end - 1 > ceiling - 1) return;
  yield* k.seams.pgtableFree(k, tlb, mm, LEVEL_PMD, pud, pudIdx);
}

function* freePudRange(k: Kernel, tlb: MmuGather, mm: MmStruct, pgdIdx: number, addr: number, end: number, floor: number, ceiling: number): KGen<void> {
  const ga = k.tables.arr(mm.pgd);
  const pud = ga[k.tables.base(mm.pgd) + pgdIdx * 2 + 1]!;
  const a = k.tables.arr(pud);
  const base = k.tables.base(pud);
  let start = addr;
  do {
    const next = pudAddrEnd(addr, end);
    const i = pudIndex(addr);
    if (a[base + i * 2] !== 0) yield* freePmdRange(k, tlb, mm, pud, i, addr, next, floor, ceiling);
    addr = next;
  } while (addr !== end);
  start = alignDown(start, PGDIR_SIZE);
  if (start < floor) return;
  ceiling = alignDown(ceiling, PGDIR_SIZE);
  if (ceiling === 0) return;
  if (end - 1 > ceiling - 1) return;
  yield* k.seams.pgtableFree(k, tlb, mm, LEVEL_PUD, mm.pgd, pgdIdx);
}

/**
 * `free_pgd_range()`: free the tables mapping [addr, end) that lie wholly
 * within [floor, ceiling). A `ceiling` of 0 means the top of user space.
 * @see mm/memory.c free_pgd_range
 */
export function* freePgdRange(k: Kernel, tlb: MmuGather, mm: MmStruct, addr: number, end: number, floor: number, ceiling: number): KGen<void> {
  if (ceiling === 0) ceiling = USER_PGTABLES_CEILING;
  addr = alignDown(addr, PMD_SIZE);
  if (addr < floor) addr += PMD_SIZE;
  ceiling = alignDown(ceiling, PMD_SIZE);
  if (ceiling === 0) return;
  if (end - 1 > ceiling - 1) end -= PMD_SIZE;
  if (addr > end - 1) return;
  const a = k.tables.arr(mm.pgd);
  const base = k.tables.base(mm.pgd);
  do {
    const next = pgdAddrEnd(addr, end);
    const i = pgdIndex(addr);
    if (a[base + i * 2] !== 0) yield* freePudRange(k, tlb, mm, i, addr, next, floor, ceiling);
    addr = next;
  } while (addr !== end);
}

/**
 * `free_pgtables()`: for each VMA being removed (in address order), drop
 * its rmap links and free its page tables within [floor, ceiling); nearby
 * VMAs (within a PMD) are gathered into one call, as in the kernel.
 * @see mm/memory.c free_pgtables
 */
export function* freePgtables(k: Kernel, tlb: MmuGather, vmas: readonly Vma[], floor: number, ceiling: number): KGen<void> {
  const mm = tlb.mm!;
  let i = 0;
  while (i < vmas.length) {
    let vma = vmas[i]!;
    const addr = vma.vmStart;
    yield* unlinkVma(k, vma);
    i++;
    // special VMAs (hugetlb) are freed on their own (hugetlb_free_pgd_range)
    const special = k.seams.specialVmaOps(vma);
    if (special !== null) {
      const next = vmas[i];
      yield* special.freePgtableRange(k, tlb, mm, addr, vma.vmEnd, floor, next !== undefined ? next.vmStart : ceiling);
      continue;
    }
    while (i < vmas.length && vmas[i]!.vmStart <= vma.vmEnd + PMD_SIZE && k.seams.specialVmaOps(vmas[i]!) === null) {
      vma = vmas[i]!;
      yield* unlinkVma(k, vma);
      i++;
    }
    const next = vmas[i];
    yield* freePgdRange(k, tlb, mm, addr, vma.vmEnd, floor, next !== undefined ? next.vmStart : ceiling);
  }
}

/** Drop a removed VMA's rmap links; an unlinked file loses its pages with its last mapping. */
function* unlinkVma(k: Kernel, vma: Vma): KGen<void> {
  yield* anonVmaUnlink(k, vma);
  yield* unlinkFileVma(k, vma);
  if (vma.vmFile !== null) shmemRelease(k, vma.vmFile);
}
