/**
 * Page-table sharing and notifiers: a PTE cleared through a shared page
 * table is gone for every mm that shares the table, but notifiers are
 * registered per mm. The callouts for such a PTE therefore go to every
 * sharer as well, each at its own address for the entry (sharers map the
 * same file offsets, not necessarily at the same address). Only the core's
 * sharing primitives are used (`tableSharers`), so this holds for any
 * feature that shares tables through them.
 * @see include/linux/mmu_notifier.h (mainline) — not in #v6, which predates shared page tables
 * @module
 */
import { findVma, type Kernel, lookupPmdTable, lookupPteTable, type MmStruct, PAGE_SIZE, tableSharers, type Vma } from '@mmlab/core';

/**
 * Call `visit(mm, address)` for every other mm that sees the PTE for `addr`
 * of `vma` through a shared PTE or PMD table. Nothing when no table of the
 * kernel is shared (the common case costs one map size check).
 */
export function forEachSharer(k: Kernel, vma: Vma, addr: number, visit: (mm: MmStruct, addr: number) => void): void {
  if (k.sharedTables.size === 0 || vma.vmFile === null) return;
  const mm = vma.mm;
  const pte = lookupPteTable(k, mm, addr);
  const pmd = lookupPmdTable(k, mm, addr);
  const others = new Set<MmStruct>();
  for (const table of [pte, pmd]) {
    if (table === 0) continue;
    for (const s of tableSharers(k, table)) if (s !== mm) others.add(s);
  }
  if (others.size === 0) return;
  const pgoff = vma.vmPgoff + (addr - vma.vmStart) / PAGE_SIZE;
  for (const v of vma.vmFile.iMmap) {
    if (!others.has(v.mm)) continue;
    const at = v.vmStart + (pgoff - v.vmPgoff) * PAGE_SIZE;
    if (at < v.vmStart || at >= v.vmEnd) continue;
    others.delete(v.mm);
    visit(v.mm, at);
  }
}

/** {@link forEachSharer} for a zap that knows only the mm and the address (`tlb_remove_tlb_entry`). */
export function forEachSharerOf(k: Kernel, mm: MmStruct, addr: number, visit: (mm: MmStruct, addr: number) => void): void {
  if (k.sharedTables.size === 0) return;
  const vma = findVma(mm, addr);
  if (vma !== null && vma.vmStart <= addr) forEachSharer(k, vma, addr, visit);
}
