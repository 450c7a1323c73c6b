/**
 * hugetlbfs files: a page cache of huge pages indexed in huge-page units
 * (reported in `HugePages_*`, not in `nr_file_pages`),
 * the shared-mapping reservation (`hugetlb_reserve_pages`), and the mmap
 * hook that makes a VMA VM_HUGETLB.
 * @see fs/hugetlbfs/inode.c hugetlbfs_file_mmap, hugetlbfs_truncate; mm/hugetlb.c hugetlb_reserve_pages, alloc_huge_page
 * @module
 */
import { EINVAL, ENOMEM } from '../errno.js';
import { HPAGE_FRAMES, HPAGE_SIZE } from '../mem/hugetlb-pool.js';
import type { Kernel } from '../kernel/kernel.js';
import { SpinLock } from '../sched/lock.js';
import { putPage } from '../mm/page-ref.js';
import { VM_FAULT_SIGBUS } from '../mm/fault.js';
import { type Vma, type VmFaultResult, type VmOperations, VM_HUGETLB, VM_MAYSHARE, VM_RESERVED } from '../mm/types.js';
import type { KGen } from '../sched/run.js';
import { AddressSpace, type FileOperations } from './address-space.js';

/** `hugetlb_vm_ops`: faults never reach `->fault` (hugetlb_fault handles them). */
export const HUGETLB_VM_OPS: VmOperations = Object.freeze({
  name: 'hugetlb',
  // eslint-disable-next-line require-yield -- hugetlb_nopage is never called (BUG in the kernel)
  *fault(): KGen<VmFaultResult> {
    return { pfn: 0, ret: VM_FAULT_SIGBUS };
  },
});

/**
 * `hugetlbfs_file_operations`: mmap is {@link hugetlbfsFileMmap}.
 * @see fs/hugetlbfs/inode.c hugetlbfs_file_operations
 */
export const HUGETLBFS_FILE_OPS: FileOperations = Object.freeze({
  name: 'hugetlbfs',
  // eslint-disable-next-line require-yield -- hugetlbfs_file_mmap never sleeps, but f_op->mmap is a kernel path
  *mmap(k: Kernel, _file: AddressSpace, vma: Vma): KGen<number> {
    return hugetlbfsFileMmap(k, vma);
  },
});

/** Create a hugetlbfs file of `size` bytes (a multiple of 2 MiB). */
export function hugetlbfsCreate(k: Kernel, name: string, size: number): AddressSpace {
  const f = new AddressSpace(k.nextId++, name, size, false, new SpinLock(k.locks, 'i_mmap_lock'), HUGETLBFS_FILE_OPS);
  f.huge = true;
  k.files.set(f.id, f);
  return f;
}

/** The huge page cached at huge index `idx`, or 0. */
export function hugetlbfsFindPage(f: AddressSpace, idx: number): number {
  return f.findPage(idx);
}

/** `add_to_page_cache()` for a new huge page (the cache's reference). */
export function hugetlbfsAddPage(k: Kernel, f: AddressSpace, idx: number, head: number): void {
  const p = k.pages;
  p.count[head]!++;
  p.mapping[head] = f.id;
  p.index[head] = idx;
  f.setPage(idx, head);
  f.reserved?.delete(idx);
}

/**
 * `alloc_huge_page()`: for a shared mapping (`idx` ≥ 0) consume the
 * file's reservation of that index when there is one; a private mapping
 * may only take unreserved pages. Returns the head pfn or 0.
 */
export function hugetlbAllocPage(k: Kernel, vma: Vma, idx: number): number {
  const f = vma.vmFile;
  const reserved = idx >= 0 && f !== null && f.reserved?.has(idx) === true;
  if (reserved) f.reserved!.delete(idx);
  return k.hugePool.alloc(reserved);
}

/**
 * `hugetlbfs_file_mmap()`: check alignment, reserve the huge pages a
 * shared mapping may need (`hugetlb_reserve_pages`), extend `i_size` to
 * cover the mapping, and mark the VMA VM_HUGETLB | VM_RESERVED. Returns 0
 * or a negative errno.
 */
export function hugetlbfsFileMmap(k: Kernel, vma: Vma): number {
  const f = vma.vmFile!;
  if (vma.vmPgoff % HPAGE_FRAMES !== 0 || vma.vmStart % HPAGE_SIZE !== 0 || vma.vmEnd % HPAGE_SIZE !== 0) return -EINVAL;
  vma.vmFlags |= VM_HUGETLB | VM_RESERVED;
  vma.vmOps = HUGETLB_VM_OPS;
  const from = vma.vmPgoff / HPAGE_FRAMES;
  const to = from + (vma.vmEnd - vma.vmStart) / HPAGE_SIZE;
  if ((vma.vmFlags & VM_MAYSHARE) !== 0) {
    const resv = (f.reserved ??= new Set());
    let chg = 0;
    for (let i = from; i < to; i++) if (!resv.has(i) && f.findPage(i) === 0) chg++;
    const pool = k.hugePool;
    if (chg > pool.nrFree - pool.resv) return -ENOMEM;
    for (let i = from; i < to; i++) if (f.findPage(i) === 0) resv.add(i);
    pool.resv += chg;
  }
  const len = to * HPAGE_SIZE;
  if (f.size < len) f.size = len;
  return 0;
}

/**
 * Drop the huge pages and reservations of file offsets from huge index
 * `start` on (truncation, or the last reference to an unlinked file).
 */
export function hugetlbfsTruncatePages(k: Kernel, f: AddressSpace, start: number): void {
  const pages = f.pages;
  for (let i = start; i < pages.length; i++) {
    const head = pages[i]!;
    if (head === 0) continue;
    f.setPage(i, 0);
    k.pages.mapping[head] = 0;
    putPage(k, head);
  }
  const resv = f.reserved;
  if (resv !== null) {
    for (const i of [...resv]) {
      if (i < start) continue;
      resv.delete(i);
      k.hugePool.resv--;
    }
  }
}
