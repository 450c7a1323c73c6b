/**
 * The two users of VM_MIXEDMAP the series was written for, as file types:
 *
 * - `xip`: an execute-in-place file on an image without struct pages (an
 *   s390 DCSS, NVRAM). `xip_file_mmap` makes the VMA VM_MIXEDMAP and
 *   `xip_file_fault` inserts the image's raw pfn with `vm_insert_mixed`,
 *   returning `VM_FAULT_NOPAGE`; a write to a private mapping then breaks
 *   COW in `do_wp_page`, which copies from the raw pfn into a normal
 *   anonymous page.
 * - `mixed-dev`: a device whose memory is partly RAM (refcounted pages
 *   the driver owns) and partly device memory without struct pages, as in
 *   Jared Hulbert's filesystem that moves pages between RAM and NVRAM:
 *   even pages are RAM, odd pages device memory, all inserted with
 *   `vm_insert_mixed` at fault time.
 * @see mm/filemap_xip.c xip_file_mmap, xip_file_fault (2.6.25)
 * @module
 */
import {
  type AddressSpace,
  ENOMEM,
  type FileType,
  type Kernel,
  KernelConfigError,
  type KGen,
  PAGE_SIZE,
  PG_driver,
  putPage,
  type Vma,
  VM_FAULT_NOPAGE,
  VM_FAULT_OOM,
  VM_FAULT_SIGBUS,
  type VmFaultResult,
  VM_MIXEDMAP,
} from '@mmlab/core';
import { vmInsertMixed } from './insert.js';

/** Name of the XIP file type on an image without struct pages. */
export const XIP_FILE_TYPE = 'xip';
/** Name of the RAM-and-device-memory file type. */
export const MIXED_DEV_FILE_TYPE = 'mixed-dev';

/** What the file types count. */
export interface MixedFileCounters {
  /** Faults that inserted an XIP image pfn. */
  xip_faults: number;
  /** Faults that inserted a page of a `mixed-dev` file. */
  mixed_dev_faults: number;
}

/**
 * A `->fault` that maps the pfn `pfnAt(pgoff)` of file `f` with
 * `vm_insert_mixed` and returns `VM_FAULT_NOPAGE` (also when a racing
 * fault mapped it first); SIGBUS beyond the file, OOM when no page table
 * could be allocated. Each successful insertion calls `counted`.
 */
function mixedFault(k: Kernel, f: AddressSpace, pfnAt: (pgoff: number) => number, counted: () => void): (vma: Vma, pgoff: number) => KGen<VmFaultResult> {
  return function* (vma: Vma, pgoff: number): KGen<VmFaultResult> {
    if (pgoff >= f.size / PAGE_SIZE) return { pfn: 0, ret: VM_FAULT_SIGBUS };
    const r = yield* vmInsertMixed(k, vma, vma.vmStart + (pgoff - vma.vmPgoff) * PAGE_SIZE, pfnAt(pgoff));
    if (r === -ENOMEM) return { pfn: 0, ret: VM_FAULT_OOM };
    k.charge(k.costs.fileFaultRest);
    if (r === 0) counted();
    return { pfn: 0, ret: VM_FAULT_NOPAGE };
  };
}

/**
 * Register the `xip` file type of feature `owner`: each file takes the
 * next part of the XIP image (refused, naming the sizes, when the image
 * is full); its mmap is the series' `xip_file_mmap`. The image keeps its
 * contents when a file goes.
 * @see mm/filemap_xip.c xip_file_mmap, xip_file_fault
 */
export function registerXipFileType(k: Kernel, owner: string, counters: MixedFileCounters): FileType {
  return k.registerFileType(owner, XIP_FILE_TYPE, {
    name: 'xip-mixedmap',
    setup(kk: Kernel, f: AddressSpace) {
      const nr = Math.ceil(f.size / PAGE_SIZE);
      if (kk.xipNext + nr > kk.mem.xipFrames) {
        throw new KernelConfigError(`XIP image of ${kk.mem.xipFrames} pages has no room for ${f.name} (${nr} pages; build the kernel with a larger xipBytes)`);
      }
      f.xipBase = kk.mem.xipBase + kk.xipNext;
      kk.xipNext += nr;
    },
    // eslint-disable-next-line require-yield -- xip_file_mmap never sleeps, but f_op->mmap is a kernel path
    *mmap(kk: Kernel, f: AddressSpace, vma: Vma): KGen<number> {
      // (VM_CAN_NONLINEAR is left out: ->fault is told no address, so a nonlinear fault could not be placed)
      vma.vmFlags |= VM_MIXEDMAP;
      vma.vmOps = {
        name: 'xip-mixedmap',
        fault: mixedFault(kk, f, (pgoff) => f.xipBase + pgoff, () => counters.xip_faults++),
      };
      return 0;
    },
    release() {
      // the image keeps its contents
    },
  });
}

/**
 * Register the `mixed-dev` file type of feature `owner`: a file of N
 * pages owns a RAM page (a driver's page, refcounted) for each even page
 * offset and a page of device memory (no struct page) for each odd one;
 * the RAM pages go back when the file does.
 */
export function registerMixedDevFileType(k: Kernel, owner: string, counters: MixedFileCounters): FileType {
  const frames = new Map<number, Int32Array>();
  return k.registerFileType(owner, MIXED_DEV_FILE_TYPE, {
    name: 'mixed-dev',
    setup(kk: Kernel, f: AddressSpace) {
      const nr = Math.ceil(f.size / PAGE_SIZE);
      const pfns = new Int32Array(nr);
      const dev = kk.iomem.alloc(f.name, Math.max(1, nr));
      for (let i = 0; i < nr; i++) {
        if (i % 2 === 1) {
          pfns[i] = dev + i;
          continue;
        }
        const pfn = kk.mem.allocPage();
        if (pfn === 0) {
          for (let j = 0; j < i; j += 2) putPage(kk, pfns[j]!);
          throw new KernelConfigError(`out of memory creating ${f.name}`);
        }
        kk.pages.flags[pfn]! |= PG_driver;
        kk.pages.token[pfn] = 0;
        pfns[i] = pfn;
      }
      frames.set(f.id, pfns);
    },
    // eslint-disable-next-line require-yield -- the driver's mmap never sleeps, but f_op->mmap is a kernel path
    *mmap(kk: Kernel, f: AddressSpace, vma: Vma): KGen<number> {
      const pfns = frames.get(f.id)!;
      vma.vmFlags |= VM_MIXEDMAP;
      vma.vmOps = {
        name: 'mixed-dev',
        fault: mixedFault(kk, f, (pgoff) => pfns[pgoff]!, () => counters.mixed_dev_faults++),
      };
      return 0;
    },
    release(kk: Kernel, f: AddressSpace) {
      const pfns = frames.get(f.id);
      if (pfns === undefined) return;
      for (let i = 0; i < pfns.length; i += 2) {
        kk.pages.flags[pfns[i]!]! &= ~PG_driver;
        putPage(kk, pfns[i]!);
      }
      frames.delete(f.id);
    },
  });
}
