/**
 * hugetlb: huge PMD entries for VM_HUGETLB VMAs, reached from the generic
 * paths through `is_vm_hugetlb_page()` branches (fault, fork copy, unmap,
 * mprotect, get_user_pages) — the special cases the pagetable_operations
 * series set out to remove — and 2.6.20's PMD sharing between VM_MAYSHARE
 * mappings that cover an aligned 1 GiB, counted on the PMD page's
 * refcount.
 *
 * Differences from 2.6.24: the TLB model caches 4 KiB entries even for a
 * huge mapping, so huge PTE changes flush the mm (`flush_tlb_range`, which
 * is what x86 did), and `hugetlb_cow` flushes after breaking COW. Hugetlb
 * pages are not counted in RSS and have no rmap, as in 2.6.24.
 * @see mm/hugetlb.c, arch/x86/mm/hugetlbpage.c huge_pte_alloc, huge_pmd_share, huge_pmd_unshare
 * @module
 */
import {
  _PAGE_ACCESSED,
  _PAGE_DIRTY,
  _PAGE_PSE,
  _PAGE_RW,
  _PAGE_TABLE,
  LEVEL_PMD,
  PAGE_SIZE,
  PROT_BITS,
  PUD_SIZE,
  alignDown,
  pgdIndex,
  pmdIndex,
  pudIndex,
} from '../pgtable/entry.js';
import { HPAGE_FRAMES, HPAGE_SIZE } from '../mem/hugetlb-pool.js';
import type { Kernel } from '../kernel/kernel.js';
import { hugetlbAllocPage, hugetlbfsFindPage, hugetlbfsAddPage } from '../fs/hugetlbfs.js';
import { VM_FAULT_MINOR, VM_FAULT_OOM, VM_FAULT_SIGBUS, VM_FAULT_WRITE } from './fault.js';
import { getPage, putPage } from './page-ref.js';
import { ipiWait } from './tlbflush.js';
import { freePgdRange } from './free-pgtables.js';
import type { SpecialVmaOps } from '../seams/seams.js';
import { mutexLock, mutexUnlock, spinLock } from '../sched/lock.js';
import type { KGen } from '../sched/run.js';
import { pmdAlloc, pudAlloc } from './pgalloc.js';
import { pgtableShare, pgtableUnshare } from './pt-share.js';
import { type MmStruct, type Vma, VM_HUGETLB, VM_MAYSHARE, VM_SHARED, VM_WRITE, isCowMapping } from './types.js';
import { findVma } from './vma.js';

/** `is_vm_hugetlb_page()`. */
export function isVmHugetlbPage(vma: Vma): boolean {
  return (vma.vmFlags & VM_HUGETLB) !== 0;
}

/** Location of a huge PTE (a PMD entry): table pfn and word offset. */
export interface HugePte {
  /** The PMD table's pfn. */
  pmd: number;
  /** The table's words. */
  a: Uint32Array;
  /** Word offset of the entry. */
  b: number;
}

function pudOf(k: Kernel, mm: MmStruct, addr: number): number {
  const a = k.tables.arr(mm.pgd);
  const b = k.tables.base(mm.pgd) + pgdIndex(addr) * 2;
  return a[b] === 0 ? 0 : a[b + 1]!;
}

/** `huge_pte_offset()`: the PMD entry for `addr`, or null when no PMD table. */
export function hugePteOffset(k: Kernel, mm: MmStruct, addr: number): HugePte | null {
  const pud = pudOf(k, mm, addr);
  if (pud === 0) return null;
  const ua = k.tables.arr(pud);
  const ub = k.tables.base(pud) + pudIndex(addr) * 2;
  if (ua[ub] === 0) return null;
  const pmd = ua[ub + 1]!;
  return { pmd, a: k.tables.arr(pmd), b: k.tables.base(pmd) + pmdIndex(addr) * 2 };
}

/** `vma_shareable()`: VM_MAYSHARE and covering the whole aligned 1 GiB around `addr`. */
function vmaShareable(vma: Vma, addr: number): boolean {
  const base = alignDown(addr, PUD_SIZE);
  return (vma.vmFlags & VM_MAYSHARE) !== 0 && vma.vmStart <= base && base + PUD_SIZE <= vma.vmEnd;
}

/**
 * `huge_pmd_share()`: find another mapping of the same file whose PMD
 * table for this 1 GiB could serve (same flags, same alignment), take a
 * reference on it and install it in our PUD.
 */
function* hugePmdShare(k: Kernel, mm: MmStruct, addr: number, pud: number, pudIdx: number): KGen<void> {
  const vma = findVma(mm, addr);
  if (vma === null || vma.vmFile === null || !vmaShareable(vma, addr)) return;
  const idx = (addr - vma.vmStart) / PAGE_SIZE + vma.vmPgoff;
  const mapping = vma.vmFile;
  yield* spinLock(k, mapping.iMmapLock);
  try {
    yield* sharePmdLocked(k, mm, vma, addr, idx, pud, pudIdx);
  } finally {
    mapping.iMmapLock.unlock(k);
  }
}

function* sharePmdLocked(k: Kernel, mm: MmStruct, vma: Vma, addr: number, idx: number, pud: number, pudIdx: number): KGen<void> {
  for (const svma of vma.vmFile!.iMmap) {
    if (svma === vma) continue;
    const saddr = (idx - svma.vmPgoff) * PAGE_SIZE + svma.vmStart;
    const sbase = alignDown(saddr, PUD_SIZE);
    if (pmdIndex(addr) !== pmdIndex(saddr) || vma.vmFlags !== svma.vmFlags || sbase < svma.vmStart || svma.vmEnd < sbase + PUD_SIZE) continue;
    const spte = hugePteOffset(k, svma.mm, saddr);
    if (spte === null) continue;
    pgtableShare(k, svma.mm, mm, LEVEL_PMD, spte.pmd);
    yield* spinLock(k, mm.pageTableLock);
    const a = k.tables.arr(pud);
    const b = k.tables.base(pud) + pudIdx * 2;
    if (a[b] === 0) {
      a[b] = _PAGE_TABLE;
      a[b + 1] = spte.pmd;
      k.vm.mmlab_huge_pmd_share++;
    } else {
      pgtableUnshare(k, mm, LEVEL_PMD, spte.pmd);
    }
    mm.pageTableLock.unlock(k);
    return;
  }
}

/**
 * `huge_pte_alloc()`: the PMD entry for `addr`, allocating the PUD and PMD
 * tables, or first trying to share a PMD table (`huge_pmd_share`).
 */
export function* hugePteAlloc(k: Kernel, mm: MmStruct, addr: number): KGen<HugePte | null> {
  const pud = yield* pudAlloc(k, mm, addr);
  if (pud === 0) return null;
  const ui = pudIndex(addr);
  const ua = k.tables.arr(pud);
  const ub = k.tables.base(pud) + ui * 2;
  if (ua[ub] === 0) yield* hugePmdShare(k, mm, addr, pud, ui);
  // pmd_alloc (a no-op when sharing installed one)
  if (ua[ub] === 0 && (yield* pmdAlloc(k, mm, addr)) === 0) return null;
  return hugePteOffset(k, mm, addr);
}

/**
 * `huge_pmd_unshare()`: if the PMD table at `addr` is shared, drop our
 * reference and clear our PUD entry. Returns true when it did (the caller
 * skips the rest of that 1 GiB).
 */
export function hugePmdUnshare(k: Kernel, mm: MmStruct, addr: number, pte: HugePte): boolean {
  if (k.pages.count[pte.pmd]! <= 1) return false;
  const pud = pudOf(k, mm, addr);
  const a = k.tables.arr(pud);
  const b = k.tables.base(pud) + pudIndex(addr) * 2;
  a[b] = 0;
  a[b + 1] = 0;
  pgtableUnshare(k, mm, LEVEL_PMD, pte.pmd);
  return true;
}

/** The next 1 GiB boundary after `addr` (where an unshare resumes). */
function pudEnd(addr: number): number {
  return alignDown(addr, PUD_SIZE) + PUD_SIZE;
}

/** `make_huge_pte()`. */
function makeHugePte(vma: Vma, writable: boolean): number {
  let f = (vma.vmPageProt & PROT_BITS) | _PAGE_ACCESSED | _PAGE_PSE;
  if (writable) f |= _PAGE_RW | _PAGE_DIRTY;
  else f &= ~_PAGE_RW;
  return f;
}

/** The huge page index in the file of `addr` (`vma_hugecache_offset`). */
function hugeIndex(vma: Vma, addr: number): number {
  return Math.floor((addr - vma.vmStart) / HPAGE_SIZE) + Math.floor(vma.vmPgoff / HPAGE_FRAMES);
}

/**
 * `hugetlb_cow()`: a write to a read-only huge PTE: reuse the page when
 * nobody else holds it, else copy it to a new huge page.
 */
function* hugetlbCow(k: Kernel, mm: MmStruct, vma: Vma, pte: HugePte): KGen<number> {
  const old = pte.a[pte.b + 1]!;
  const p = k.pages;
  if (p.count[old] === 1) {
    pte.a[pte.b] = pte.a[pte.b]! | _PAGE_RW | _PAGE_DIRTY;
    if (k.seams.flushTlb(k, 'range', mm, vma.vmStart, vma.vmEnd, 'hugetlb')) yield* ipiWait(k);
    return VM_FAULT_WRITE;
  }
  getPage(k, old);
  const np = hugetlbAllocPage(k, vma, -1);
  if (np === 0) {
    putPage(k, old);
    return VM_FAULT_OOM;
  }
  k.charge(k.costs.copyPage * HPAGE_FRAMES);
  p.token.copyWithin(np, old, old + HPAGE_FRAMES);
  pte.a[pte.b] = makeHugePte(vma, true);
  pte.a[pte.b + 1] = np;
  if (k.seams.flushTlb(k, 'range', mm, vma.vmStart, vma.vmEnd, 'hugetlb')) yield* ipiWait(k);
  k.vm.mmlab_cow_fault++;
  putPage(k, old); // ours
  putPage(k, old); // the old PTE's
  return VM_FAULT_WRITE;
}

/**
 * `hugetlb_no_page()`: instantiate the huge page at `addr`: from the
 * file's page cache, or allocated from the pool and cleared (added to the
 * page cache for a shared mapping); a private write then COWs at once.
 */
function* hugetlbNoPage(k: Kernel, mm: MmStruct, vma: Vma, addr: number, pte: HugePte, write: boolean): KGen<number> {
  const f = vma.vmFile!;
  const idx = hugeIndex(vma, addr);
  const size = Math.floor(f.size / HPAGE_SIZE);
  let page = hugetlbfsFindPage(f, idx);
  if (page !== 0) {
    getPage(k, page);
  } else {
    if (idx >= size) return VM_FAULT_SIGBUS;
    page = hugetlbAllocPage(k, vma, (vma.vmFlags & VM_MAYSHARE) !== 0 ? idx : -1);
    if (page === 0) return VM_FAULT_OOM;
    k.charge(k.costs.clearPage * HPAGE_FRAMES);
    k.pages.token.fill(0, page, page + HPAGE_FRAMES);
    if ((vma.vmFlags & VM_SHARED) !== 0) hugetlbfsAddPage(k, f, idx, page);
  }
  pte.a[pte.b] = makeHugePte(vma, (vma.vmFlags & (VM_WRITE | VM_SHARED)) === (VM_WRITE | VM_SHARED));
  pte.a[pte.b + 1] = page;
  k.vm.mmlab_huge_fault++;
  if (write && (vma.vmFlags & VM_SHARED) === 0) return yield* hugetlbCow(k, mm, vma, pte);
  return VM_FAULT_MINOR;
}

/**
 * `hugetlb_fault()`.
 * @see mm/hugetlb.c hugetlb_fault
 */
export function* hugetlbFault(k: Kernel, mm: MmStruct, vma: Vma, addr: number, write: boolean): KGen<number> {
  const pte = yield* hugePteAlloc(k, mm, addr);
  if (pte === null) return VM_FAULT_OOM;
  // hugetlb_instantiation_mutex serialises instantiation; page_table_lock the COW
  yield* mutexLock(k, k.hugetlbInstantiationMutex);
  try {
    const f = pte.a[pte.b]!;
    if (f === 0) return yield* hugetlbNoPage(k, mm, vma, addr, pte, write);
    yield* spinLock(k, mm.pageTableLock);
    try {
      if (pte.a[pte.b] === f) {
        if (write && (f & _PAGE_RW) === 0) return yield* hugetlbCow(k, mm, vma, pte);
        pte.a[pte.b] = f | _PAGE_ACCESSED | (write ? _PAGE_DIRTY : 0);
      }
      return VM_FAULT_MINOR;
    } finally {
      mm.pageTableLock.unlock(k);
    }
  } finally {
    mutexUnlock(k, k.hugetlbInstantiationMutex);
  }
}

/**
 * `copy_hugetlb_page_range()`: fork. An entry whose PMD table the child
 * already shares (`dst_pte == src_pte`) is skipped; otherwise the child
 * gets the entry and a reference, write-protected in both for a COW
 * mapping. Returns 0 or -ENOMEM.
 */
export function* copyHugetlbPageRange(k: Kernel, dst: MmStruct, src: MmStruct, vma: Vma): KGen<number> {
  const cow = isCowMapping(vma.vmFlags);
  for (let addr = vma.vmStart; addr < vma.vmEnd; addr += HPAGE_SIZE) {
    const s = hugePteOffset(k, src, addr);
    if (s === null) continue;
    const d = yield* hugePteAlloc(k, dst, addr);
    if (d === null) return -12;
    if (d.pmd === s.pmd) continue;
    const f = s.a[s.b]!;
    if (f === 0) continue;
    let nf = f;
    if (cow) {
      nf = f & ~_PAGE_RW;
      s.a[s.b] = nf;
    }
    getPage(k, s.a[s.b + 1]!);
    d.a[d.b] = nf;
    d.a[d.b + 1] = s.a[s.b + 1]!;
    k.vm.mmlab_fork_pte_copied++;
  }
  return 0;
}

/**
 * `unmap_hugepage_range()`: clear the huge PTEs of [start, end) (a shared
 * PMD table is only unshared), flush, then release the pages.
 */
export function* unmapHugepageRange(k: Kernel, vma: Vma, start: number, end: number): KGen<void> {
  const mm = vma.mm;
  const release: number[] = [];
  for (let addr = start; addr < end; addr += HPAGE_SIZE) {
    const pte = hugePteOffset(k, mm, addr);
    if (pte === null) continue;
    if (hugePmdUnshare(k, mm, addr, pte)) {
      addr = pudEnd(addr) - HPAGE_SIZE;
      continue;
    }
    if (pte.a[pte.b] === 0) continue;
    release.push(pte.a[pte.b + 1]!);
    pte.a[pte.b] = 0;
    pte.a[pte.b + 1] = 0;
  }
  if (k.seams.flushTlb(k, 'range', mm, start, end, 'hugetlb')) yield* ipiWait(k);
  for (const page of release) putPage(k, page);
}

/**
 * `hugetlb_change_protection()`, bracketed by the `rangeBegin`/`rangeEnd`
 * events as the generic `change_protection` is (2.6.24 had no hook here;
 * mainline later put its range notifier calls in this place).
 */
export function* hugetlbChangeProtection(k: Kernel, vma: Vma, start: number, end: number, newprot: number): KGen<void> {
  const mm = vma.mm;
  yield* k.seams.rangeBegin(k, mm, start, end, 'mprotect');
  for (let addr = start; addr < end; addr += HPAGE_SIZE) {
    const pte = hugePteOffset(k, mm, addr);
    if (pte === null) continue;
    if (hugePmdUnshare(k, mm, addr, pte)) {
      addr = pudEnd(addr) - HPAGE_SIZE;
      continue;
    }
    const f = pte.a[pte.b]!;
    if (f !== 0) pte.a[pte.b] = (f & ~PROT_BITS) | (newprot & PROT_BITS);
  }
  if (k.seams.flushTlb(k, 'range', mm, start, end, 'hugetlb')) yield* ipiWait(k);
  yield* k.seams.rangeEnd(k, mm, start, end, 'mprotect');
}

/**
 * `follow_hugetlb_page()`: one step of get_user_pages over a huge
 * mapping: fault if needed, then return the 4 KiB frame at `addr` with a
 * reference on the head (`get_page` on a tail page goes to its head); the
 * pin is recorded on the head too. Returns the frame, or a negated
 * `VM_FAULT_*` error.
 * @see mm/hugetlb.c follow_hugetlb_page
 */
export function* followHugetlbPage(k: Kernel, mm: MmStruct, vma: Vma, addr: number, write: boolean, get: boolean): KGen<number> {
  for (;;) {
    const pte = hugePteOffset(k, mm, addr);
    const f = pte === null ? 0 : pte.a[pte.b]!;
    if (pte === null || f === 0 || (write && (f & _PAGE_RW) === 0)) {
      const r = yield* hugetlbFault(k, mm, vma, addr, write);
      if ((r & (VM_FAULT_OOM | VM_FAULT_SIGBUS)) !== 0) return -r;
      continue;
    }
    const head = pte.a[pte.b + 1]!;
    if (get) {
      getPage(k, head);
      k.pages.pinned[head]!++;
      k.touched?.frames.add(head);
    }
    return head + (Math.floor(addr / PAGE_SIZE) % HPAGE_FRAMES);
  }
}

/** The head frame of the huge page containing `pfn`. */
export function hugeHead(pfn: number): number {
  return pfn - (pfn % HPAGE_FRAMES);
}

/**
 * hugetlb's page-table operations: the targets of 2.6.24's
 * `is_vm_hugetlb_page()` branches, gathered in one table.
 */
export const hugetlbVmaOps: SpecialVmaOps = {
  name: 'hugetlb',
  fault: hugetlbFault,
  copyPageRange: copyHugetlbPageRange,
  unmapPageRange: (k, _tlb, vma, start, end) => unmapHugepageRange(k, vma, start, end),
  changeProtection: hugetlbChangeProtection,
  followPage: followHugetlbPage,
  // hugetlb_free_pgd_range is free_pgd_range on x86
  freePgtableRange: freePgdRange,
};

/**
 * Baseline `specialVmaOps` seam: `is_vm_hugetlb_page()` — hugetlb's
 * operations for a VM_HUGETLB VMA, the generic paths otherwise.
 * @see include/linux/hugetlb.h is_vm_hugetlb_page
 */
export function baseSpecialVmaOps(vma: Vma): SpecialVmaOps | null {
  return (vma.vmFlags & VM_HUGETLB) !== 0 ? hugetlbVmaOps : null;
}
