/**
 * `copy_page_range()`: fork's copy of a VMA's page tables, with COW.
 *
 * 2.6.24 skips every VMA without an anon_vma unless it is VM_HUGETLB,
 * VM_NONLINEAR, VM_PFNMAP or VM_INSERTPAGE: the child re-faults shared file
 * pages, shared anonymous memory and private file pages never written.
 * For a COW mapping both parent and child PTEs are write-protected; a
 * shared mapping's child PTE is made clean; every child PTE is made old.
 * @see mm/memory.c copy_page_range, copy_pud_range, copy_pmd_range, copy_pte_range, copy_one_pte
 * @module
 */
import {
  _PAGE_ACCESSED,
  _PAGE_DIRTY,
  _PAGE_RW,
  _PAGE_SWP,
  pgdAddrEnd,
  pgdIndex,
  pmdAddrEnd,
  pmdIndex,
  pteIndex,
  PTE_PRESENT_MASK,
  pudAddrEnd,
  pudIndex,
} from '../pgtable/entry.js';
import { ENOMEM } from '../errno.js';
import type { Kernel } from '../kernel/kernel.js';
import { ptlLockSlow } from '../sched/lock.js';
import type { KGen, KPath } from '../sched/run.js';
import { PG_anon } from '../mem/page.js';
import { pmdAllocPath, pteAllocMapPath } from './pgalloc.js';
import { addRss } from './pt-share.js';
import { baseVmNormalPage } from './fault.js';
import { swapDuplicate } from './swapfile.js';
import {
  type MmStruct,
  type Vma,
  VM_HUGETLB,
  VM_INSERTPAGE,
  VM_NONLINEAR,
  VM_PFNMAP,
  VM_SHARED,
  isCowMapping,
} from './types.js';

/**
 * The start of `copy_pte_range()` for one PTE table: map (allocating) the
 * child's table and take both PTE locks, then copy with
 * {@link copyPteRange}. Returns the PTEs copied, or -ENOMEM: at once when
 * nothing had to sleep or wait (the allocation's fast path, both locks
 * free), else the generator of the rest (a {@link KPath}).
 * @see mm/memory.c copy_pte_range
 */
function copyPteTable(k: Kernel, dst: MmStruct, vma: Vma, srcPte: number, addr: number, end: number): KPath<number> {
  const dstPte = pteAllocMapPath(k, dst, addr);
  if (typeof dstPte !== 'number') return copyPteTableAllocating(k, dst, vma, srcPte, addr, end, dstPte);
  if (dstPte === 0) return -ENOMEM;
  return lockAndCopy(k, dst, vma, srcPte, dstPte, addr, end);
}

/** {@link copyPteTable} when the child's table walk (`pending`) has to go on as a generator. */
function* copyPteTableAllocating(k: Kernel, dst: MmStruct, vma: Vma, srcPte: number, addr: number, end: number, pending: KGen<number>): KGen<number> {
  const dstPte = yield* pending;
  if (dstPte === 0) return -ENOMEM;
  const r = lockAndCopy(k, dst, vma, srcPte, dstPte, addr, end);
  return typeof r === 'number' ? r : yield* r;
}

/** `pte_alloc_map_lock` on the child's table, then the parent's PTE lock nested; then the copy. */
function lockAndCopy(k: Kernel, dst: MmStruct, vma: Vma, srcPte: number, dstPte: number, addr: number, end: number): KPath<number> {
  const ptl = k.ptl;
  if (!ptl.tryLock(k, dstPte)) return lockSlowAndCopy(k, dst, vma, srcPte, dstPte, addr, end, true);
  if (!ptl.tryLock(k, srcPte)) return lockSlowAndCopy(k, dst, vma, srcPte, dstPte, addr, end, false);
  return copyLocked(k, dst, vma, srcPte, dstPte, addr, end);
}

/** {@link lockAndCopy} when a PTE lock is held elsewhere: the child's (`dstWaits`), else the parent's. */
function* lockSlowAndCopy(k: Kernel, dst: MmStruct, vma: Vma, srcPte: number, dstPte: number, addr: number, end: number, dstWaits: boolean): KGen<number> {
  if (dstWaits) {
    yield* ptlLockSlow(k, k.ptl, dstPte);
    if (!k.ptl.tryLock(k, srcPte)) yield* ptlLockSlow(k, k.ptl, srcPte);
  } else {
    yield* ptlLockSlow(k, k.ptl, srcPte);
  }
  return copyLocked(k, dst, vma, srcPte, dstPte, addr, end);
}

/** {@link copyPteRange} with both PTE locks held. */
function copyLocked(k: Kernel, dst: MmStruct, vma: Vma, srcPte: number, dstPte: number, addr: number, end: number): number {
  // a static key: with the baseline seam, RAM pfns of a non-PFNMAP VMA skip the call
  const fast = k.seams.vmNormalPage === baseVmNormalPage && (vma.vmFlags & VM_PFNMAP) === 0;
  return copyPteRange(k, dst, vma, vma.vmFlags, fast, srcPte, dstPte, addr, end);
}

/**
 * `copy_pte_range()` with both PTE locks held (`copy_one_pte` for each
 * entry): copies [addr, end) from the source table into the destination
 * table, drops the locks and accounts the copy; returns the PTEs copied.
 * `vmFlags` are the VMA's; `fast` takes a pfn in RAM as `vm_normal_page`'s
 * answer without the call. Nothing else of `vma` is read but where a PTE
 * needs it (host speed: optimized code that reads a VMA is dropped when the
 * last VMA object dies), and the loop uses locals only (see
 * {@link PTE_PRESENT_MASK}).
 * @see mm/memory.c copy_pte_range, copy_one_pte
 */
function copyPteRange(k: Kernel, dst: MmStruct, vma: Vma, vmFlags: number, fast: boolean, srcPte: number, dstPte: number, addr: number, end: number): number {
  // every value the loop reads is an int32 local (| 0): optimized code
  // otherwise checks a value's type again at each use
  const presentMask = PTE_PRESENT_MASK | 0;
  const swp = _PAGE_SWP | 0;
  // a COW mapping write-protects parent and child
  const wp = (isCowMapping(vmFlags) ? _PAGE_RW : 0) | 0;
  // a shared mapping's child PTE is made clean; every child PTE is made old
  const kept = ~(_PAGE_ACCESSED | ((vmFlags & VM_SHARED) !== 0 ? _PAGE_DIRTY : 0)) | 0;
  const anon = PG_anon | 0;
  const sa = k.tables.arr(srcPte);
  let sb = (k.tables.base(srcPte) + pteIndex(addr) * 2) | 0;
  const da = k.tables.arr(dstPte);
  // the child's entry is at a fixed distance from the parent's
  const dOff = (k.tables.base(dstPte) - k.tables.base(srcPte)) | 0;
  const p = k.pages;
  const mapcount = p.mapcount;
  const count = p.count;
  const pageFlags = p.flags;
  const lineCpu = p.lineCpu;
  const line = (k.cpu.id + 1) | 0;
  const cpus = k.cpus;
  const socket = k.cpu.socket;
  const lineSocket = k.costs.cacheLineSocket;
  const lineRemote = k.costs.cacheLineRemote;
  let anonRss = 0;
  let fileRss = 0;
  let none = 0;
  const sb0 = sb;
  const sbEnd = (sb + ((end - addr) / 4096) * 2) | 0;
  const normalPage = k.seams.vmNormalPage;
  // with `fast`, a pfn below this limit is vm_normal_page's answer; 0 makes every PTE ask
  const quickLimit = fast ? p.nrFrames | 0 : 0;
  for (; sb < sbEnd; sb += 2) {
    // flags words use bits 0-30: | 0 keeps them int32 (the same bits are stored)
    let f = sa[sb]! | 0;
    const v = sa[sb + 1]!;
    if (f === 0 && v === 0) {
      none++;
      continue;
    }
    if ((f & presentMask) === 0) {
      // a swap entry (or nonlinear file PTE) is copied as it is
      if ((f & swp) !== 0) swapDuplicate(k, v);
    } else {
      if ((f & wp) !== 0) {
        f &= ~wp;
        sa[sb] = f;
      }
      f &= kept;
      const page = v > 0 && v < quickLimit ? v : normalPage(k, vma, addr + ((sb - sb0) / 2) * 4096, f, v);
      if (page !== 0) {
        count[page]!++;
        const m = mapcount[page]!;
        if (m === 0) throw new Error(`fork: pfn ${page} mapped with mapcount 0`);
        // page_dup_rmap; pageLine inline: the count's line comes here
        const prevLine = lineCpu[page]!;
        if (prevLine !== line) {
          lineCpu[page] = line;
          if (prevLine !== 0) k.charge(cpus[prevLine - 1]!.socket === socket ? lineSocket : lineRemote);
        }
        mapcount[page] = m + 1;
        if ((pageFlags[page]! & anon) !== 0) anonRss++;
        else fileRss++;
      }
    }
    da[sb + dOff] = f;
    da[sb + dOff + 1] = v;
  }
  const copied = (sbEnd - sb0) / 2 - none;
  k.ptl.unlock(k, srcPte);
  k.ptl.unlock(k, dstPte);
  addRss(k, dst, dstPte, anonRss, fileRss);
  k.vm.mmlab_fork_pte_copied += copied;
  k.charge(copied * k.costs.copyPte + none * k.costs.scanPteNone);
  return copied;
}

/**
 * Baseline `copyPageRange` seam. Returns 0, or -ENOMEM.
 * @see mm/memory.c copy_page_range
 */
export function* baseCopyPageRange(k: Kernel, dst: MmStruct, src: MmStruct, vma: Vma): KGen<number> {
  const special = k.seams.specialVmaOps(vma);
  if (special === null && (vma.vmFlags & (VM_HUGETLB | VM_NONLINEAR | VM_PFNMAP | VM_INSERTPAGE)) === 0 && vma.anonVma === null) return 0;
  if (special !== null) return yield* special.copyPageRange(k, dst, src, vma);
  return yield* copyPageRangeGeneric(k, dst, src, vma);
}

/**
 * The generic walk of `copy_page_range()` (`copy_pud_range` →
 * `copy_pmd_range` → `copy_pte_range`), without the skip rule and the
 * special-VMA branch: for a feature's special operations that defer to
 * it. Returns 0, or -ENOMEM.
 * @see mm/memory.c copy_page_range
 */
export function* copyPageRangeGeneric(k: Kernel, dst: MmStruct, src: MmStruct, vma: Vma): KGen<number> {
  const t = k.tables;
  let addr = vma.vmStart;
  const end = vma.vmEnd;
  do {
    const gnext = pgdAddrEnd(addr, end);
    const ga = t.arr(src.pgd);
    const gb = t.base(src.pgd) + pgdIndex(addr) * 2;
    if (ga[gb] === 0) {
      addr = gnext;
      continue;
    }
    const pud = ga[gb + 1]!;
    do {
      const unext = pudAddrEnd(addr, gnext);
      const ua = t.arr(pud);
      const ub = t.base(pud) + pudIndex(addr) * 2;
      if (ua[ub] === 0) {
        addr = unext;
        continue;
      }
      const pmd = ua[ub + 1]!;
      const dstPmd = pmdAllocPath(k, dst, addr);
      if ((typeof dstPmd === 'number' ? dstPmd : yield* dstPmd) === 0) return -ENOMEM;
      // the PMD table's words, looked up once (this generator's loop runs
      // interpreted: a fork runs it once per PTE table)
      const ma = t.arr(pmd);
      const mbase = t.base(pmd);
      do {
        const mnext = pmdAddrEnd(addr, unext);
        const mb = mbase + pmdIndex(addr) * 2;
        if (ma[mb] !== 0) {
          const c = copyPteTable(k, dst, vma, ma[mb + 1]!, addr, mnext);
          const r = typeof c === 'number' ? c : yield* c;
          if (r < 0) return r;
          // cond_resched: a generator only where it may yield
          if (k.interleaving) yield* k.condResched();
          else k.npBreak();
        }
        addr = mnext;
      } while (addr !== unext);
    } while (addr !== gnext);
  } while (addr !== end);
  return 0;
}
