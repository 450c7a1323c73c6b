/**
 * tmpfs / shm files: creation, `shmem_fault`, and `shmem_zero_setup` for
 * shared anonymous mappings.
 *
 * The model keeps tmpfs pages in the page cache only (no swap until the
 * reclaim issue); a page is allocated zeroed on first fault and holds one
 * reference for the page cache.
 * @see mm/shmem.c shmem_fault, shmem_getpage, shmem_zero_setup, shmem_file_setup
 * @module
 */
import { PG_dirty, PG_uptodate } from '../mem/page.js';
import { PAGE_SIZE } from '../pgtable/entry.js';
import type { Kernel } from '../kernel/kernel.js';
import { SpinLock } from '../sched/lock.js';
import type { KGen, KPath } from '../sched/run.js';
import { allocPage, getPage, putPage } from '../mm/page-ref.js';
import { lruCacheAdd } from '../mm/lru-cache.js';
import { getSwapPage, swapFree } from '../mm/swapfile.js';
import { VM_FAULT_MAJOR, VM_FAULT_MINOR, VM_FAULT_OOM, VM_FAULT_SIGBUS } from '../mm/fault.js';
import { type Vma, type VmFaultResult, type VmOperations, VM_CAN_NONLINEAR } from '../mm/types.js';
import { AddressSpace, type FileOperations } from './address-space.js';
import { hugetlbfsTruncatePages } from './hugetlbfs.js';
import { deviceRelease } from './drivers.js';

/** A tmpfs file as the API hands it out: its address_space. */
export type ShmemFile = AddressSpace;

/**
 * `shmem_file_operations`: `shmem_mmap` gives the VMA the shmem
 * `vm_operations` and `VM_CAN_NONLINEAR` (tmpfs supports
 * remap_file_pages).
 * @see mm/shmem.c shmem_mmap
 */
export const SHMEM_FILE_OPS: FileOperations = Object.freeze({
  name: 'shmem',
  // eslint-disable-next-line require-yield -- shmem_mmap never sleeps, but f_op->mmap is a kernel path
  *mmap(k: Kernel, _file: AddressSpace, vma: Vma): KGen<number> {
    vma.vmFlags |= VM_CAN_NONLINEAR;
    vma.vmOps = k.shmemOps;
    return 0;
  },
});

/**
 * `shmem_file_setup()`: a new tmpfs file of `size` bytes.
 */
export function shmemFileSetup(k: Kernel, name: string, size: number, anonShared = false): ShmemFile {
  const f = new AddressSpace(k.nextId++, name, size, anonShared, new SpinLock(k.locks, 'i_mmap_lock'), SHMEM_FILE_OPS);
  k.files.set(f.id, f);
  return f;
}

/**
 * `shmem_getpage()` for a fault: the page at `pgoff`, allocated zeroed and
 * added to the page cache if absent. Returns the pfn with a reference for
 * the caller, 0 on OOM, or -1 beyond end of file.
 */
export function* shmemGetpage(k: Kernel, f: AddressSpace, pgoff: number, out?: { major: boolean }): KGen<number> {
  if (pgoff >= Math.ceil(f.size / PAGE_SIZE)) return -1;
  let pfn = f.findPage(pgoff);
  if (pfn === 0) {
    pfn = yield* allocPage(k);
    if (pfn === 0) return 0;
    // raced with another fault that instantiated the page while we allocated
    const other = f.findPage(pgoff);
    if (other !== 0) {
      putPage(k, pfn);
      getPage(k, other);
      return other;
    }
    if (pgoff >= Math.ceil(f.size / PAGE_SIZE)) {
      // truncated meanwhile
      putPage(k, pfn);
      return -1;
    }
    const p = k.pages;
    const slot = f.swapSlot(pgoff);
    if (slot !== 0) {
      // swap in: the slot's contents come back, the file drops the slot
      p.token[pfn] = k.swap.data[slot]!;
      f.setSwap(pgoff, 0);
      swapFree(k, slot);
      k.vm.pswpin++;
      k.charge(k.costs.swapIo);
      if (out !== undefined) out.major = true;
    } else {
      k.charge(k.costs.clearPage);
      p.token[pfn] = 0;
    }
    p.flags[pfn]! |= PG_uptodate | PG_dirty;
    p.mapping[pfn] = f.id;
    p.index[pfn] = pgoff;
    f.setPage(pgoff, pfn);
    k.vm.nr_file_pages++;
    lruCacheAdd(k, pfn, false);
  }
  getPage(k, pfn);
  return pfn;
}

/**
 * `shmem_writepage()` for reclaim: move an unmapped tmpfs page out to a
 * swap slot the file keeps, and drop it from the page cache (the model
 * writes synchronously instead of passing through the swap cache). The
 * caller frees the page. Returns false when swap is full.
 */
export function shmemWritepage(k: Kernel, pfn: number): boolean {
  const p = k.pages;
  const f = k.files.get(p.mapping[pfn]!);
  if (f === undefined) throw new Error(`shmem_writepage: page ${pfn} has no file`);
  const slot = getSwapPage(k);
  if (slot === 0) return false;
  const pgoff = p.index[pfn]!;
  k.swap.data[slot] = p.token[pfn]!;
  f.setSwap(pgoff, slot);
  f.setPage(pgoff, 0);
  k.vm.nr_file_pages--;
  k.vm.pswpout++;
  k.charge(k.costs.swapIo);
  p.flags[pfn]! &= ~PG_dirty;
  putPage(k, pfn);
  return true;
}

/**
 * The kernel's shmem `vm_operations_struct` bound to a kernel.
 * @see mm/shmem.c shmem_vm_ops
 */
export function createShmemVmOps(k: Kernel): VmOperations {
  // the answer for a cached page: __do_fault reads it at once, so one record serves every fault
  const found: VmFaultResult = { pfn: 0, ret: VM_FAULT_MINOR };
  // frozen: the touch's fault runs take a VMA with these operations for one whose ->fault is this
  return Object.freeze({
    name: 'shmem',
    fault(vma: Vma, pgoff: number): KPath<VmFaultResult> {
      // a cached page (shmem_getpage's first lookup) is answered at once, without a generator
      const f = vma.vmFile!;
      const cached = shmemCachedPage(f, pgoff);
      if (cached !== 0) {
        getPage(k, cached);
        found.pfn = cached;
        return found;
      }
      return shmemFaultGetpage(k, f, pgoff);
    },
  });
}

/** `PAGE_SIZE` as a module constant for the fault path (optimized code checks an imported binding at every use). */
const PAGE = PAGE_SIZE;

/**
 * `shmem_fault()`'s first step, `shmem_getpage()`'s lookup of page
 * `pgoff` of `f` in the page cache: the page (no reference taken), or 0
 * when it is not cached or lies beyond the end of the file (what the rest
 * of `shmem_getpage` then handles).
 * @see mm/shmem.c shmem_getpage (its find_lock_page)
 */
export function shmemCachedPage(f: AddressSpace, pgoff: number): number {
  return pgoff < Math.ceil(f.size / PAGE) ? f.findPage(pgoff) : 0;
}

/** `shmem_fault()` for a page not in the page cache: `shmem_getpage`, which may allocate (and sleep) or swap in. */
function* shmemFaultGetpage(k: Kernel, f: AddressSpace, pgoff: number): KGen<VmFaultResult> {
  const io = { major: false };
  const pfn = yield* shmemGetpage(k, f, pgoff, io);
  if (pfn < 0) return { pfn: 0, ret: VM_FAULT_SIGBUS };
  if (pfn === 0) return { pfn: 0, ret: VM_FAULT_OOM };
  return { pfn, ret: io.major ? VM_FAULT_MAJOR : VM_FAULT_MINOR };
}

/** The `vm_ops` for a mapping of a file (every file is tmpfs for now). */
export function shmemVmOps(k: Kernel): VmOperations {
  return k.shmemOps;
}

/**
 * `shmem_zero_setup()`: back a shared anonymous mapping with a new tmpfs
 * object (`dev/zero`) of the mapping's size.
 */
export function shmemZeroSetup(k: Kernel, vma: Vma): void {
  const f = shmemFileSetup(k, 'dev/zero', vma.vmEnd - vma.vmStart, true);
  vma.vmFile = f;
  vma.vmOps = k.shmemOps;
}

/**
 * `truncate_inode_pages()` on the last reference to an unlinked file:
 * drop every page-cache page. Called when the file is unlinked and no VMA
 * maps it any more.
 */
export function shmemRelease(k: Kernel, f: AddressSpace): void {
  if (!f.unlinked || f.mapped || f.refs > 0) return;
  if (f.fileOps.release !== undefined) {
    // a feature's file type drops what it holds
    f.fileOps.release(k, f);
    k.files.delete(f.id);
    return;
  }
  if (f.device !== null) {
    deviceRelease(k, f);
    return;
  }
  if (f.xipBase !== 0) {
    // the image keeps its pages
    k.files.delete(f.id);
    return;
  }
  if (f.huge) {
    hugetlbfsTruncatePages(k, f, 0);
    k.files.delete(f.id);
    return;
  }
  const pages = f.pages;
  for (let i = 0; i < pages.length; i++) {
    const pfn = pages[i]!;
    if (pfn === 0) continue;
    if (k.pages.mapcount[pfn] !== 0) throw new Error(`releasing ${f.name}: page ${i} is still mapped`);
    f.setPage(i, 0);
    k.vm.nr_file_pages--;
    k.pages.mapping[pfn] = 0;
    putPage(k, pfn);
  }
  const swap = f.swap;
  if (swap !== null) {
    for (let i = 0; i < swap.length; i++) {
      if (swap[i] !== 0) {
        swapFree(k, swap[i]!);
        f.setSwap(i, 0);
      }
    }
  }
  k.files.delete(f.id);
}
