/**
 * Execute-in-place files, the 2.6.24 way: the file's pages are the XIP
 * image's own memory (flash, an s390 DCSS), found by `get_xip_page`, which
 * returns a `struct page` — so the image must be covered by a memmap
 * (counted in `nr_memmap_pages`), the cost Nick Piggin's VM_MIXEDMAP series
 * removes. Faults map those pages like page-cache pages; they are never on
 * the LRU and never freed.
 * @see mm/filemap_xip.c xip_file_fault, xip_file_mmap; fs/ext2/xip.c ext2_get_xip_page
 * @module
 */
import { PG_allocated, PG_reserved, PG_xip } from '../mem/page.js';
import { PAGE_SIZE } from '../pgtable/entry.js';
import type { Kernel } from '../kernel/kernel.js';
import { SpinLock } from '../sched/lock.js';
import { KernelConfigError } from '../seams/feature.js';
import { getPage } from '../mm/page-ref.js';
import { VM_FAULT_MINOR, VM_FAULT_SIGBUS } from '../mm/fault.js';
import { type Vma, type VmFaultResult, type VmOperations, VM_CAN_NONLINEAR } from '../mm/types.js';
import type { KGen } from '../sched/run.js';
import { AddressSpace, type FileOperations } from './address-space.js';

/**
 * Create an XIP file of `size` bytes in the next free part of the XIP
 * image; its pages start zeroed.
 */
export function xipFileCreate(k: Kernel, name: string, size: number): AddressSpace {
  const nr = Math.ceil(size / PAGE_SIZE);
  const mem = k.mem;
  if (mem.xipFrames > 0 && !mem.xipMemmap) {
    throw new KernelConfigError(`XIP image has no memmap: get_xip_page needs a struct page for ${name} (a feature that maps the image by pfn must create its own file type)`);
  }
  if (k.xipNext + nr > mem.xipFrames) {
    throw new KernelConfigError(`XIP image of ${mem.xipFrames} pages has no room for ${name} (${nr} pages; build the kernel with a larger xipBytes)`);
  }
  const f = new AddressSpace(k.nextId++, name, nr * PAGE_SIZE, false, new SpinLock(k.locks, 'i_mmap_lock'), XIP_FILE_OPS);
  f.xipBase = mem.xipBase + k.xipNext;
  k.xipNext += nr;
  const p = k.pages;
  for (let i = 0; i < nr; i++) {
    const pfn = f.xipBase + i;
    p.flags[pfn] = PG_allocated | PG_reserved | PG_xip;
    p.count[pfn] = 1;
    p.mapping[pfn] = f.id;
    p.index[pfn] = i;
    p.token[pfn] = 0;
  }
  k.files.set(f.id, f);
  return f;
}

/** `get_xip_page()`: the image page at `pgoff`, or 0 beyond the file. */
export function getXipPage(f: AddressSpace, pgoff: number): number {
  return pgoff < f.size / PAGE_SIZE ? f.xipBase + pgoff : 0;
}

/** `xip_file_vm_ops` bound to a kernel. */
export function createXipVmOps(k: Kernel): VmOperations {
  return {
    name: 'xip',
    // eslint-disable-next-line require-yield -- xip_file_fault never sleeps, but ->fault is a kernel path
    *fault(vma: Vma, pgoff: number): KGen<VmFaultResult> {
      const pfn = getXipPage(vma.vmFile!, pgoff);
      if (pfn === 0) return { pfn: 0, ret: VM_FAULT_SIGBUS };
      getPage(k, pfn);
      return { pfn, ret: VM_FAULT_MINOR };
    },
  };
}

/** `xip_file_mmap()`. */
export function xipFileMmap(k: Kernel, vma: Vma): number {
  vma.vmOps = k.xipOps;
  vma.vmFlags |= VM_CAN_NONLINEAR;
  return 0;
}

/**
 * The `file_operations` of an XIP filesystem's files: mmap is
 * {@link xipFileMmap}.
 * @see fs/ext2/file.c ext2_xip_file_operations
 */
export const XIP_FILE_OPS: FileOperations = Object.freeze({
  name: 'xip',
  // eslint-disable-next-line require-yield -- xip_file_mmap never sleeps, but f_op->mmap is a kernel path
  *mmap(k: Kernel, _file: AddressSpace, vma: Vma): KGen<number> {
    return xipFileMmap(k, vma);
  },
});
