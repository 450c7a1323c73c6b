/**
 * The series' motivating example ("pagetable_ops: Hugetlb character device
 * example", Adam Litke, 2007-03-21): a character device, `/dev/hugepages`
 * style, whose mmap hands out huge pages from the pool without a hugetlbfs
 * mount. Its mmap installs the device's own table of page-table operations
 * in the VMA, and every page-table path reaches the mapping through that
 * table. A private mapping gets anonymous huge pages (one per faulted huge
 * page, copied on write after fork); a shared one keeps its huge pages in
 * the device's page cache until the device is released.
 *
 * Differences: the device makes no reservation at mmap (a fault finds the
 * pool empty and gets SIGBUS, as hugetlb did for private mappings), and its
 * VMAs keep the VM_HUGETLB flag, because what 2.6.24 still decides by that
 * flag outside the page-table paths (split_vma's 2 MiB alignment, madvise,
 * mprotect's accounting, get_unmapped_area's alignment by the file) is not
 * what the series turned into operations.
 * @module
 */
import {
  EINVAL,
  HPAGE_FRAMES,
  HPAGE_SIZE,
  HUGETLB_VM_OPS,
  KernelConfigError,
  PAGE_SIZE,
  VM_DONTEXPAND,
  VM_HUGETLB,
  VM_RESERVED,
  hugetlbfsTruncatePages,
  type FileType,
  type Kernel,
  type KGen,
  type ShmemFile,
  type Vma,
} from '@mmlab/core';
import { hugetlbPagetableOps, type PagetableOperations } from './pagetable-ops.js';
import { NAME, requireState, setPagetableOps, type PtOpsState } from './state.js';

/** The file type name of the device. */
export const HUGEPAGES_DEVICE = 'hugepages';

/**
 * The device's table of page-table operations: built from hugetlb's
 * page-table functions (the library the series left in mm/hugetlb.c), with
 * no hugetlbfs behind it.
 */
export const hugepagesDeviceOps: PagetableOperations = Object.freeze({ ...hugetlbPagetableOps, name: 'hugepages-device' });

/**
 * The device's `f_op->mmap`: whole huge pages within the device, marked
 * VM_HUGETLB | VM_RESERVED | VM_DONTEXPAND, with the device's table of
 * operations. Returns 0 or -EINVAL.
 */
function hugepagesMmap(k: Kernel, s: PtOpsState, file: ShmemFile, vma: Vma): number {
  if (vma.vmPgoff % HPAGE_FRAMES !== 0 || vma.vmStart % HPAGE_SIZE !== 0 || vma.vmEnd % HPAGE_SIZE !== 0) return -EINVAL;
  if (vma.vmPgoff + (vma.vmEnd - vma.vmStart) / PAGE_SIZE > file.size / PAGE_SIZE) return -EINVAL;
  vma.vmFlags |= VM_HUGETLB | VM_RESERVED | VM_DONTEXPAND;
  vma.vmOps = HUGETLB_VM_OPS;
  setPagetableOps(k, vma, hugepagesDeviceOps);
  s.counters.device_maps++;
  return 0;
}

/** Register the device's file type (at install). */
export function registerHugepagesDevice(k: Kernel, s: PtOpsState): FileType {
  return k.registerFileType(NAME, HUGEPAGES_DEVICE, {
    name: HUGEPAGES_DEVICE,
    // eslint-disable-next-line require-yield -- the device's mmap never sleeps, but f_op->mmap is a kernel path
    *mmap(kk: Kernel, file: ShmemFile, vma: Vma): KGen<number> {
      return hugepagesMmap(kk, s, file, vma);
    },
    setup(_kk: Kernel, file: ShmemFile): void {
      // the device's page cache holds huge pages, indexed in huge-page units
      file.huge = true;
    },
    release(kk: Kernel, file: ShmemFile): void {
      hugetlbfsTruncatePages(kk, file, 0);
    },
  });
}

/**
 * Create a hugepages character device of `size` bytes (a positive multiple
 * of 2 MiB); map it with `k.mmap`, shared or private.
 * @param k - a kernel built with the feature
 * @param name - the device's name
 * @param size - its size in bytes
 * @returns the device's file
 * @throws KernelConfigError "hugepages device 'NAME' needs the feature
 *   'hugetlb-pagetable-ops'" in a kernel built without the feature, or for a
 *   bad size
 */
export function hugepagesDeviceCreate(k: Kernel, name: string, size: number): ShmemFile {
  const s = requireState(k, `hugepages device '${name}'`);
  if (!Number.isSafeInteger(size) || size <= 0 || size % HPAGE_SIZE !== 0) {
    throw new KernelConfigError(`hugepages device size must be a positive multiple of 2 MiB, got ${size}`);
  }
  if (s.deviceType === null) throw new KernelConfigError(`hugepages device '${name}': the file type is not registered`);
  return k.fileCreate(s.deviceType, name, size);
}
