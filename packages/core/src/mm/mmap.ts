/**
 * mmap and munmap: `do_mmap_pgoff`, `get_unmapped_area`, `mmap_region`,
 * `do_munmap`, `unmap_region`.
 * @see mm/mmap.c, arch/x86/kernel/sys_x86_64.c arch_get_unmapped_area
 * @module
 */
import { EBADF, EINVAL, ENOMEM, EOVERFLOW } from '../errno.js';
import {
  _PAGE_ACCESSED,
  _PAGE_PRESENT,
  _PAGE_PROTNONE,
  _PAGE_RW,
  _PAGE_USER,
  PAGE_SIZE,
  PMD_SIZE,
  TASK_SIZE,
  alignUp,
  pageAlign,
} from '../pgtable/entry.js';
import type { KGen } from '../sched/run.js';
import type { Kernel } from '../kernel/kernel.js';
import type { AddressSpace } from '../fs/address-space.js';
import { shmemZeroSetup } from '../fs/shmem.js';
import { freePgtables } from './free-pgtables.js';
import { makePagesPresent } from './gup.js';
import { unmapVmas } from './zap.js';
import {
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_GROWSDOWN,
  MAP_LOCKED,
  MAP_NORESERVE,
  MAP_POPULATE,
  MAP_PRIVATE,
  MAP_SHARED,
  MAP_TYPE,
  type MmStruct,
  PROT_EXEC,
  PROT_READ,
  PROT_WRITE,
  Vma,
  VM_ACCOUNT,
  VM_EXEC,
  VM_GROWSDOWN,
  VM_LOCKED,
  VM_MAYEXEC,
  VM_MAYREAD,
  VM_MAYSHARE,
  VM_MAYWRITE,
  VM_READ,
  VM_SHARED,
  VM_WRITE,
} from './types.js';
import { findVma, findVmaPrev, splitVma, vmaDetach, vmaLink, vmaMerge } from './vma.js';

/** `TASK_UNMAPPED_BASE` on x86-64: `PAGE_ALIGN(TASK_SIZE / 3)` = 0x2aaaaaaab000. */
export const TASK_UNMAPPED_BASE = pageAlign(Math.floor(TASK_SIZE / 3));

/** Flags mmap accepts (others are EINVAL in the model; the kernel ignored some). */
const KNOWN_MAP_FLAGS = MAP_SHARED | MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | MAP_GROWSDOWN | 0x800 | MAP_LOCKED | 0x4000 | MAP_POPULATE;

/**
 * `protection_map[]` / `vm_get_page_prot()` on x86-64: the PTE protection
 * for a VMA's `VM_READ | VM_WRITE | VM_EXEC | VM_SHARED`. Private writable
 * mappings get `PAGE_COPY` (read-only: COW on first write); `PROT_NONE`
 * gets `PAGE_NONE` (not present to the hardware). x86 sets the accessed bit
 * in every base protection.
 * @see mm/mmap.c vm_get_page_prot, protection_map
 */
export function vmGetPageProt(vmFlags: number): number {
  if ((vmFlags & (VM_READ | VM_WRITE | VM_EXEC)) === 0) return _PAGE_PROTNONE | _PAGE_ACCESSED;
  let f = _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED;
  if ((vmFlags & VM_SHARED) !== 0 && (vmFlags & VM_WRITE) !== 0) f |= _PAGE_RW;
  return f;
}

/**
 * `calc_vm_prot_bits()`.
 * @see include/linux/mman.h calc_vm_prot_bits
 */
export function calcVmProtBits(prot: number): number {
  return (prot & PROT_READ ? VM_READ : 0) | (prot & PROT_WRITE ? VM_WRITE : 0) | (prot & PROT_EXEC ? VM_EXEC : 0);
}

/**
 * `arch_get_unmapped_area()` (x86-64 2.6.24, bottom-up from
 * `TASK_UNMAPPED_BASE` through `free_area_cache`). With the `aligned`
 * placement, a request of 2 MiB or more is placed on a 2 MiB boundary as
 * today's kernel does. Returns an address or a negative errno.
 * @see arch/x86/kernel/sys_x86_64.c arch_get_unmapped_area; mm/mmap.c get_unmapped_area
 */
export function getUnmappedArea(k: Kernel, mm: MmStruct, addr: number, len: number, flags: number, huge = false): number {
  if (len > TASK_SIZE) return -ENOMEM;
  // hugetlb_get_unmapped_area / prepare_hugepage_range: huge page alignment
  if (huge && len % PMD_SIZE !== 0) return -EINVAL;
  if ((flags & MAP_FIXED) !== 0) {
    if (addr % (huge ? PMD_SIZE : PAGE_SIZE) !== 0) return -EINVAL;
    if (addr > TASK_SIZE - len) return -ENOMEM;
    return addr;
  }
  const begin = TASK_UNMAPPED_BASE;
  const end = TASK_SIZE;
  const align = huge || (k.placement === 'aligned' && len >= PMD_SIZE) ? PMD_SIZE : PAGE_SIZE;
  if (addr !== 0) {
    addr = alignUp(pageAlign(addr), align);
    const vma = findVma(mm, addr);
    if (end - len >= addr && (vma === null || addr + len <= vma.vmStart)) return addr;
  }
  addr = mm.freeAreaCache < begin ? begin : mm.freeAreaCache;
  let startAddr = addr;
  for (;;) {
    addr = alignUp(addr, align);
    let vma = findVma(mm, addr);
    let found = false;
    for (;;) {
      if (end - len < addr) break;
      if (vma === null || addr + len <= vma.vmStart) {
        found = true;
        break;
      }
      if (addr + mm.cachedHoleSize < vma.vmStart) mm.cachedHoleSize = vma.vmStart - addr;
      addr = alignUp(vma.vmEnd, align);
      vma = findVma(mm, addr);
    }
    if (found) {
      mm.freeAreaCache = addr + len;
      return addr;
    }
    if (startAddr !== begin) {
      startAddr = addr = begin;
      mm.cachedHoleSize = 0;
      continue;
    }
    return -ENOMEM;
  }
}

/** Arguments of {@link doMmapPgoff}. */
export interface MmapArgs {
  /** Hint or fixed address. */
  addr: number;
  /** Length in bytes. */
  len: number;
  /** `PROT_*`. */
  prot: number;
  /** `MAP_*`. */
  flags: number;
  /** The file's mapping, or null for anonymous memory. */
  file: AddressSpace | null;
  /** Offset in pages. */
  pgoff: number;
}

/**
 * `do_mmap_pgoff()`: validate, place, compute `vm_flags`, and call
 * {@link mmapRegion}. Returns the address or a negative errno.
 * @see mm/mmap.c do_mmap_pgoff
 */
export function* doMmapPgoff(k: Kernel, mm: MmStruct, args: MmapArgs): KGen<number> {
  const { prot, flags, file } = args;
  let { addr, len, pgoff } = args;
  if ((prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC)) !== 0) return -EINVAL;
  if ((flags & ~KNOWN_MAP_FLAGS) !== 0) return -EINVAL;
  if (!Number.isSafeInteger(addr) || !Number.isSafeInteger(len) || addr < 0 || len < 0) return -EINVAL;
  if (len === 0) return -EINVAL;
  len = pageAlign(len);
  if (len > TASK_SIZE) return -ENOMEM;
  if (pgoff + len / PAGE_SIZE > 0xffffffff) return -EOVERFLOW;
  if (mm.mapCount > k.maxMapCount) return -ENOMEM;
  const type = flags & MAP_TYPE;
  if (type !== MAP_SHARED && type !== MAP_PRIVATE) return -EINVAL;
  // sys_mmap: no MAP_ANONYMOUS means a file descriptor, and there is none
  if (file === null && (flags & MAP_ANONYMOUS) === 0) return -EBADF;
  addr = getUnmappedArea(k, mm, addr, len, flags, file?.huge === true);
  if (addr < 0) return addr;
  let vmFlags = calcVmProtBits(prot) | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
  if ((flags & MAP_GROWSDOWN) !== 0) vmFlags |= VM_GROWSDOWN;
  if ((flags & MAP_LOCKED) !== 0) vmFlags |= VM_LOCKED;
  if (file !== null) {
    if (type === MAP_SHARED) vmFlags |= VM_SHARED | VM_MAYSHARE;
  } else if (type === MAP_SHARED) {
    vmFlags |= VM_SHARED | VM_MAYSHARE;
    pgoff = 0;
  } else {
    pgoff = addr / PAGE_SIZE;
  }
  // private writable memory is charged (VM_ACCOUNT) unless MAP_NORESERVE
  if ((vmFlags & VM_SHARED) === 0 && (vmFlags & VM_WRITE) !== 0 && (flags & MAP_NORESERVE) === 0) vmFlags |= VM_ACCOUNT;
  const r = yield* mmapRegion(k, mm, file, addr, len, vmFlags, pgoff);
  if (r < 0) return r;
  if ((flags & MAP_POPULATE) !== 0 || (vmFlags & VM_LOCKED) !== 0) yield* makePagesPresent(k, mm, addr, addr + len);
  return r;
}

/**
 * `mmap_region()`: unmap what was there, try to extend a neighbour
 * (`vma_merge`), else create and link a new VMA.
 * @see mm/mmap.c mmap_region
 */
export function* mmapRegion(k: Kernel, mm: MmStruct, file: AddressSpace | null, addr: number, len: number, vmFlags: number, pgoff: number): KGen<number> {
  // Clear old maps
  for (;;) {
    const { vma } = findVmaPrev(mm, addr);
    if (vma !== null && vma.vmStart < addr + len) {
      const r = yield* doMunmap(k, mm, addr, len);
      if (r !== 0) return -ENOMEM;
      continue;
    }
    break;
  }
  const { prev } = findVmaPrev(mm, addr);
  if (file === null && (vmFlags & VM_SHARED) === 0) {
    const merged = yield* vmaMerge(k, mm, prev, addr, addr + len, vmFlags, null, null, pgoff);
    if (merged !== null) {
      mm.totalVm += len / PAGE_SIZE;
      if ((vmFlags & VM_LOCKED) !== 0) mm.lockedVm += len / PAGE_SIZE;
      return addr;
    }
  }
  const vma = new Vma(mm, addr, addr + len, vmFlags, vmGetPageProt(vmFlags), pgoff);
  k.charge(k.costs.vmaOp);
  if (file !== null) {
    // f_op->mmap: tmpfs, hugetlbfs, a device driver, an XIP filesystem, or a feature's file type
    vma.vmFile = file;
    const err = yield* k.seams.fileMmap(k, file, vma);
    if (err !== 0) {
      // undo any partial mapping done by a device driver
      yield* unmapRegion(k, mm, [vma], prev, findVmaPrev(mm, addr).vma, vma.vmStart, vma.vmEnd);
      return err;
    }
    vmFlags = vma.vmFlags;
  } else if ((vmFlags & VM_SHARED) !== 0) {
    shmemZeroSetup(k, vma);
  }
  const f = vma.vmFile;
  const merged = f !== null && !f.anonShared ? yield* vmaMerge(k, mm, prev, addr, addr + len, vmFlags, null, f, pgoff) : null;
  if (merged === null) yield* vmaLink(k, mm, vma);
  mm.totalVm += len / PAGE_SIZE;
  if ((vmFlags & VM_LOCKED) !== 0) mm.lockedVm += len / PAGE_SIZE;
  return addr;
}

/**
 * `unmap_region()`: zap the removed VMAs' pages with a gather, then free
 * their page tables within the gap between `prev` and `next`.
 * @see mm/mmap.c unmap_region
 */
export function* unmapRegion(k: Kernel, mm: MmStruct, vmas: readonly Vma[], prev: Vma | null, next: Vma | null, start: number, end: number): KGen<void> {
  let tlb = k.seams.tlbGather.begin(k, mm, false);
  updateHiwaterRss(mm);
  tlb = yield* unmapVmas(k, tlb, vmas, start, end);
  yield* freePgtables(k, tlb, vmas, prev !== null ? prev.vmEnd : 0, next !== null ? next.vmStart : 0);
  yield* k.seams.tlbGather.finish(k, tlb);
}

/**
 * `update_hiwater_rss()`.
 * @see include/linux/sched.h update_hiwater_rss
 */
export function updateHiwaterRss(mm: MmStruct): void {
  const rss = mm.anonRss + mm.fileRss;
  if (rss > mm.hiwaterRss) mm.hiwaterRss = rss;
}

/**
 * Baseline `fileMmap` seam: `file->f_op->mmap(file, vma)`, the file's own
 * mmap method.
 * @see mm/mmap.c mmap_region
 */
export function* baseFileMmap(k: Kernel, file: AddressSpace, vma: Vma): KGen<number> {
  return yield* file.fileOps.mmap(k, file, vma);
}

/**
 * `do_munmap()`: split at the ends, detach the VMAs in [start, start+len),
 * unmap them and free their tables. Returns 0 or a negative errno.
 * @see mm/mmap.c do_munmap
 */
export function* doMunmap(k: Kernel, mm: MmStruct, start: number, len: number): KGen<number> {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(len) || start < 0 || len < 0) return -EINVAL;
  if (start % PAGE_SIZE !== 0 || start > TASK_SIZE || len > TASK_SIZE - start) return -EINVAL;
  len = pageAlign(len);
  if (len === 0) return -EINVAL;
  const end = start + len;
  const found = findVmaPrev(mm, start);
  const vma = found.vma;
  let prev = found.prev;
  if (vma === null || vma.vmStart >= end) return 0;
  if (start > vma.vmStart) {
    const r = yield* splitVma(k, mm, vma, start, true);
    if (typeof r === 'number') return r;
    prev = findVmaPrev(mm, start).prev;
  }
  const last = findVma(mm, end);
  if (last !== null && end > last.vmStart) {
    const r = yield* splitVma(k, mm, last, end, true);
    if (typeof r === 'number') return r;
  }
  // detach_vmas_to_be_unmapped
  const doomed: Vma[] = [];
  const first = prev !== null ? mm.vmas.indexOf(prev) + 1 : 0;
  for (let i = first; i < mm.vmas.length && mm.vmas[i]!.vmStart < end; i++) doomed.push(mm.vmas[i]!);
  for (const v of doomed) {
    vmaDetach(mm, v);
    mm.totalVm -= (v.vmEnd - v.vmStart) / PAGE_SIZE;
    if ((v.vmFlags & VM_LOCKED) !== 0) mm.lockedVm -= (v.vmEnd - v.vmStart) / PAGE_SIZE;
  }
  // arch_unmap_area: a new hole at the lowest possible address
  const hole = prev !== null ? prev.vmEnd : mm.mmapBase;
  if (hole >= TASK_UNMAPPED_BASE && hole < mm.freeAreaCache) {
    mm.freeAreaCache = hole;
    mm.cachedHoleSize = Number.MAX_SAFE_INTEGER;
  }
  const next = prev !== null ? (mm.vmas[mm.vmas.indexOf(prev) + 1] ?? null) : (mm.vmas[0] ?? null);
  yield* unmapRegion(k, mm, doomed, prev, next, start, end);
  return 0;
}

