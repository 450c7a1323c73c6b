/**
 * VMA bookkeeping: lookup, link, split, adjust and merge, plus the anon_vma
 * and `i_mmap` links.
 *
 * The mm keeps its VMAs in a sorted array (the kernel's list plus rbtree);
 * lookups are binary searches.
 * @see mm/mmap.c find_vma, find_vma_prev, vma_link, split_vma, vma_adjust, vma_merge
 * @see mm/rmap.c anon_vma_prepare, anon_vma_link, anon_vma_unlink
 * @module
 */
import { PAGE_SIZE } from '../pgtable/entry.js';
import type { Kernel } from '../kernel/kernel.js';
import { EINVAL, ENOMEM } from '../errno.js';
import { SpinLock, spinLock } from '../sched/lock.js';
import type { KGen } from '../sched/run.js';
import { type MergeWatch, vmaSlotsMergeBegin, vmaSlotsMergeEnd, vmaSlotsSplit } from '../seams/slots.js';
import { AnonVma, type MmStruct, Vma, VM_HUGETLB, VM_NONLINEAR, VM_SHARED, VM_SPECIAL } from './types.js';

/** Index of the first VMA with `vm_end > addr`, or `vmas.length`. */
function firstEndingAfter(vmas: readonly Vma[], addr: number): number {
  let lo = 0;
  let hi = vmas.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (vmas[mid]!.vmEnd > addr) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * `find_vma()`: the first VMA with `vm_end > addr` (it may start above
 * `addr`), or null.
 * @see mm/mmap.c find_vma
 */
export function findVma(mm: MmStruct, addr: number): Vma | null {
  const c = mm.mmapCache;
  if (c !== null && c.vmStart <= addr && c.vmEnd > addr) return c;
  const i = firstEndingAfter(mm.vmas, addr);
  const v = mm.vmas[i] ?? null;
  if (v !== null) mm.mmapCache = v;
  return v;
}

/** What {@link findVmaPrev} returns. */
export interface VmaLookup {
  /** The VMA `find_vma` returns. */
  vma: Vma | null;
  /** The VMA before it. */
  prev: Vma | null;
}

/**
 * `find_vma_prev()`: as {@link findVma}, with the VMA before it.
 * @see mm/mmap.c find_vma_prev
 */
export function findVmaPrev(mm: MmStruct, addr: number): VmaLookup {
  const i = firstEndingAfter(mm.vmas, addr);
  return { vma: mm.vmas[i] ?? null, prev: i > 0 ? mm.vmas[i - 1]! : null };
}

/**
 * The VMA after `vma` (`vma->vm_next`), or null.
 * @see include/linux/mm_types.h vm_next (the field of vm_area_struct)
 */
export function vmaNext(mm: MmStruct, vma: Vma): Vma | null {
  const i = mm.vmas.indexOf(vma);
  return mm.vmas[i + 1] ?? null;
}

/**
 * The VMA before `vma`, or null.
 * @see mm/mmap.c find_vma_prev (how the kernel finds the VMA before one)
 */
export function vmaPrev(mm: MmStruct, vma: Vma): Vma | null {
  const i = mm.vmas.indexOf(vma);
  return i > 0 ? mm.vmas[i - 1]! : null;
}

/** `__vma_link_file()`: add to the file's `i_mmap` (the caller holds `i_mmap_lock`). */
function linkFileLocked(vma: Vma): void {
  const f = vma.vmFile;
  if (f === null) return;
  if ((vma.vmFlags & VM_NONLINEAR) !== 0) f.iMmapNonlinear.push(vma);
  else f.iMmap.push(vma);
  if ((vma.vmFlags & VM_SHARED) !== 0) f.iMmapWritable++;
}

/**
 * `vma_link_file` with `i_mmap_lock`: add to the file's `i_mmap`.
 * @see mm/mmap.c __vma_link_file
 */
export function* vmaLinkFile(k: Kernel, vma: Vma): KGen<void> {
  const f = vma.vmFile;
  if (f === null) return;
  yield* spinLock(k, f.iMmapLock);
  linkFileLocked(vma);
  f.iMmapLock.unlock(k);
}

/** `__remove_shared_vm_struct()` (the caller holds `i_mmap_lock`). */
function unlinkFileLocked(vma: Vma): void {
  const f = vma.vmFile;
  if (f === null) return;
  const list = (vma.vmFlags & VM_NONLINEAR) !== 0 ? f.iMmapNonlinear : f.iMmap;
  const i = list.indexOf(vma);
  if (i >= 0) {
    list.splice(i, 1);
    if ((vma.vmFlags & VM_SHARED) !== 0) f.iMmapWritable--;
  }
}

/**
 * `unlink_file_vma()`: leave the file's `i_mmap`, under `i_mmap_lock`.
 * @see mm/mmap.c unlink_file_vma
 */
export function* unlinkFileVma(k: Kernel, vma: Vma): KGen<void> {
  const f = vma.vmFile;
  if (f === null) return;
  yield* spinLock(k, f.iMmapLock);
  unlinkFileLocked(vma);
  f.iMmapLock.unlock(k);
}

/**
 * `anon_vma_link()`: join the anon_vma the VMA points at, under its lock.
 * @see mm/rmap.c anon_vma_link
 */
export function* anonVmaLink(k: Kernel, vma: Vma): KGen<void> {
  const av = vma.anonVma;
  if (av === null) return;
  yield* spinLock(k, av.lock);
  av.vmas.push(vma);
  av.lock.unlock(k);
}

/**
 * `anon_vma_unlink()`: leave its anon_vma; the last VMA frees it.
 * @see mm/rmap.c anon_vma_unlink
 */
export function* anonVmaUnlink(k: Kernel, vma: Vma): KGen<void> {
  const av = vma.anonVma;
  if (av === null) return;
  yield* spinLock(k, av.lock);
  const i = av.vmas.indexOf(vma);
  if (i >= 0) av.vmas.splice(i, 1);
  const empty = av.vmas.length === 0;
  av.lock.unlock(k);
  if (empty) k.anonVmas.delete(av.id);
}

/**
 * `anon_vma_prepare()`: give the VMA an anon_vma before its first
 * anonymous page. 2.6.24 first tries `find_mergeable_anon_vma` (a
 * neighbour's); the model does the same for an adjacent VMA that could
 * merge (same flags, same file, contiguous pgoff).
 * @see mm/rmap.c anon_vma_prepare
 */
export function* anonVmaPrepare(k: Kernel, vma: Vma): KGen<AnonVma> {
  if (vma.anonVma !== null) return vma.anonVma;
  yield* k.seams.vmaChange(k, vma, vma.vmStart, vma.vmEnd, 'anon_vma_prepare');
  // the hook may have slept: another thread may have prepared it meanwhile
  const raced = vma.anonVma as AnonVma | null;
  if (raced !== null) return raced;
  const mm = vma.mm;
  let av: AnonVma | null = null;
  const near = [vmaPrev(mm, vma), vmaNext(mm, vma)];
  for (const n of near) {
    if (n?.anonVma == null) continue;
    if (n.vmFlags !== vma.vmFlags || n.vmFile !== vma.vmFile) continue;
    const contiguous =
      n.vmEnd === vma.vmStart
        ? n.vmPgoff + (n.vmEnd - n.vmStart) / PAGE_SIZE === vma.vmPgoff
        : n.vmStart === vma.vmEnd && vma.vmPgoff + (vma.vmEnd - vma.vmStart) / PAGE_SIZE === n.vmPgoff;
    if (contiguous) {
      av = n.anonVma;
      break;
    }
  }
  if (av === null) {
    av = new AnonVma(k.nextId++, new SpinLock(k.locks, 'anon_vma_lock'));
    k.anonVmas.set(av.id, av);
  }
  yield* spinLock(k, av.lock);
  vma.anonVma = av;
  av.vmas.push(vma);
  av.lock.unlock(k);
  return av;
}

/**
 * `vma_link()`: insert into the mm's sorted list, the file's `i_mmap` and
 * the anon_vma.
 * @see mm/mmap.c vma_link
 */
export function* vmaLink(k: Kernel, mm: MmStruct, vma: Vma): KGen<void> {
  const i = firstEndingAfter(mm.vmas, vma.vmStart);
  mm.vmas.splice(i, 0, vma);
  yield* vmaLinkFile(k, vma);
  yield* anonVmaLink(k, vma);
}

/**
 * Remove from the mm's list only (`detach_vmas_to_be_unmapped` for one VMA).
 * @see mm/mmap.c detach_vmas_to_be_unmapped
 */
export function vmaDetach(mm: MmStruct, vma: Vma): void {
  const i = mm.vmas.indexOf(vma);
  if (i >= 0) mm.vmas.splice(i, 1);
  if (mm.mmapCache === vma) mm.mmapCache = null;
}

/** Fully remove a VMA that is being merged away (list, i_mmap, anon_vma). */
function* removeMerged(k: Kernel, mm: MmStruct, vma: Vma): KGen<void> {
  vmaDetach(mm, vma);
  yield* unlinkFileVma(k, vma);
  yield* anonVmaUnlink(k, vma);
}

/**
 * `vma_adjust()`: set `vma` to [start, end) with `pgoff`, absorbing the
 * following VMAs it now covers and trimming the next one it overlaps, or
 * handing its tail to the next VMA when it shrinks in front of it (case 4).
 * An importer without an anon_vma takes the exporter's.
 * @see mm/mmap.c vma_adjust
 */
export function* vmaAdjust(k: Kernel, vma: Vma, start: number, end: number, pgoff: number): KGen<void> {
  yield* k.seams.vmaChange(k, vma, start, end, 'adjust');
  const mm = vma.mm;
  k.charge(k.costs.vmaOp);
  let next = vmaNext(mm, vma);
  if (next !== null && end < vma.vmEnd && next.vmStart === vma.vmEnd) {
    // case 4: next grows backward over vma's tail
    const delta = (vma.vmEnd - end) / PAGE_SIZE;
    if (next.anonVma === null && vma.anonVma !== null) {
      next.anonVma = vma.anonVma;
      yield* anonVmaLink(k, next);
    }
    next.vmStart = end;
    next.vmPgoff -= delta;
  }
  while (next !== null && end >= next.vmEnd) {
    // absorb next entirely (cases 1, 6, 8)
    if (vma.anonVma === null && next.anonVma !== null) {
      vma.anonVma = next.anonVma;
      yield* anonVmaLink(k, vma);
    }
    yield* removeMerged(k, mm, next);
    next = vmaNext(mm, vma);
  }
  if (next !== null && end > next.vmStart) {
    // case 5: take the front of next
    const delta = (end - next.vmStart) / PAGE_SIZE;
    if (vma.anonVma === null && next.anonVma !== null) {
      vma.anonVma = next.anonVma;
      yield* anonVmaLink(k, vma);
    }
    next.vmStart = end;
    next.vmPgoff += delta;
  }
  vma.vmStart = start;
  vma.vmEnd = end;
  vma.vmPgoff = pgoff;
}

/**
 * `split_vma()`: split `vma` at `addr`; the new VMA is the part below
 * `addr` when `newBelow`, else the part above. Returns the new VMA, or
 * -ENOMEM when the mm has too many mappings, or -EINVAL for a hugetlb VMA
 * split off a huge page boundary.
 * @see mm/mmap.c split_vma
 */
export function* splitVma(k: Kernel, mm: MmStruct, vma: Vma, addr: number, newBelow: boolean): KGen<Vma | number> {
  if ((vma.vmFlags & VM_HUGETLB) !== 0 && addr % (2 * 1024 * 1024) !== 0) return -EINVAL;
  if (mm.mapCount >= k.maxMapCount) return -ENOMEM;
  yield* k.seams.vmaChange(k, vma, addr, addr, 'split');
  k.charge(k.costs.vmaOp);
  const nv = vma.clone();
  if (newBelow) {
    nv.vmEnd = addr;
    vma.vmPgoff += (addr - vma.vmStart) / PAGE_SIZE;
    vma.vmStart = addr;
  } else {
    nv.vmStart = addr;
    nv.vmPgoff += (addr - vma.vmStart) / PAGE_SIZE;
    vma.vmEnd = addr;
  }
  vmaSlotsSplit(k, vma, nv);
  yield* vmaLink(k, mm, nv);
  return nv;
}

function isMergeableAnonVma(a: AnonVma | null, b: AnonVma | null): boolean {
  return a === null || b === null || a === b;
}

function canMergeBefore(vma: Vma, flags: number, anon: AnonVma | null, file: Vma['vmFile'], pgoff: number): boolean {
  return vma.vmFlags === flags && vma.vmFile === file && isMergeableAnonVma(anon, vma.anonVma) && vma.vmPgoff === pgoff;
}

function canMergeAfter(vma: Vma, flags: number, anon: AnonVma | null, file: Vma['vmFile'], pgoff: number): boolean {
  return (
    vma.vmFlags === flags &&
    vma.vmFile === file &&
    isMergeableAnonVma(anon, vma.anonVma) &&
    vma.vmPgoff + (vma.vmEnd - vma.vmStart) / PAGE_SIZE === pgoff
  );
}

/** The end of a successful `vma_merge`: the extension slots' merge rules, then the VMA. */
function merged(k: Kernel, watch: MergeWatch | null, vma: Vma, srcExt: readonly unknown[] | null): Vma {
  if (watch !== null) vmaSlotsMergeEnd(k, watch, vma, srcExt);
  return vma;
}

/**
 * `vma_merge()`: try to merge the range [addr, end) with its neighbours
 * `prev` and the VMA after it. Returns the VMA that now covers the range,
 * or null when nothing merged. The eight cases of the kernel's comment map
 * onto {@link vmaAdjust}. The surviving VMA's extension slots follow their
 * merge rules; `srcExt` holds the slot values a range no VMA covered
 * brings (mremap's moved VMA; the kernel passes a policy the same way).
 * @see mm/mmap.c vma_merge
 */
export function* vmaMerge(
  k: Kernel,
  mm: MmStruct,
  prev: Vma | null,
  addr: number,
  end: number,
  vmFlags: number,
  anonVma: AnonVma | null,
  file: Vma['vmFile'],
  pgoff: number,
  srcExt: readonly unknown[] | null = null,
): KGen<Vma | null> {
  if ((vmFlags & VM_SPECIAL) !== 0) return null;
  const pglen = (end - addr) / PAGE_SIZE;
  let next = prev !== null ? vmaNext(mm, prev) : (mm.vmas[0] ?? null);
  const area = next;
  if (next !== null && next.vmEnd === end) next = vmaNext(mm, next);
  const watch = k.slots.vma.length === 0 ? null : vmaSlotsMergeBegin(k, [prev, area, area !== null ? vmaNext(mm, area) : null]);
  if (prev !== null && prev.vmEnd === addr && canMergeAfter(prev, vmFlags, anonVma, file, pgoff)) {
    if (
      next !== null &&
      end === next.vmStart &&
      canMergeBefore(next, vmFlags, anonVma, file, pgoff + pglen) &&
      isMergeableAnonVma(prev.anonVma, next.anonVma)
    ) {
      yield* vmaAdjust(k, prev, prev.vmStart, next.vmEnd, prev.vmPgoff);
    } else {
      yield* vmaAdjust(k, prev, prev.vmStart, end, prev.vmPgoff);
    }
    return merged(k, watch, prev, srcExt);
  }
  if (next !== null && end === next.vmStart && canMergeBefore(next, vmFlags, anonVma, file, pgoff + pglen)) {
    if (prev !== null && addr < prev.vmEnd) {
      yield* vmaAdjust(k, prev, prev.vmStart, addr, prev.vmPgoff);
      return merged(k, watch, next, srcExt);
    }
    const target = area !== null && area !== next && area.vmStart <= addr ? area : next;
    if (target === next) {
      yield* vmaAdjust(k, next, addr, next.vmEnd, next.vmPgoff - pglen);
      return merged(k, watch, next, srcExt);
    }
    yield* vmaAdjust(k, target, addr, next.vmEnd, next.vmPgoff - pglen);
    return merged(k, watch, target, srcExt);
  }
  return null;
}
