/**
 * `struct address_space`: a file's page cache and its `i_mmap` list.
 *
 * The page cache maps a page offset to a pfn with a growable `Int32Array`
 * (the kernel's radix tree); `i_mmap` is a plain list of VMAs here (the
 * kernel's prio_tree; the reverse-map issue adds interval queries).
 * @module
 */
import { ENODEV } from '../errno.js';
import type { Kernel } from '../kernel/kernel.js';
import type { Vma } from '../mm/types.js';
import type { SpinLock } from '../sched/lock.js';
import type { KGen } from '../sched/run.js';
import type { DeviceInfo } from './drivers.js';

/**
 * `struct file_operations` (the part the model uses): how a file type or
 * a character device maps itself and goes away. tmpfs, hugetlbfs, the
 * device drivers and XIP have their own; a feature registers more with
 * {@link Kernel.registerFileType}.
 */
export interface FileOperations {
  /** Name for reports (`shmem`, `hugetlbfs`, …). */
  readonly name: string;
  /**
   * `f_op->mmap`, called by `mmap_region` with the new VMA (its
   * `vm_file` set, not yet linked): set `vm_ops` and flags, map what the
   * driver maps at mmap time. Returns 0 or a negative errno (the region is
   * then unmapped and the errno returned).
   */
  mmap(k: Kernel, file: AddressSpace, vma: Vma): KGen<number>;
  /**
   * The last reference to an unlinked file went (`iput`): drop what the
   * file holds. Without it, the file's page cache and swap are dropped as
   * tmpfs does.
   */
  release?(k: Kernel, file: AddressSpace): void;
}

/** A file whose `f_op` has no `mmap`: mmap fails with ENODEV, as `do_mmap_pgoff` does. */
export const NO_MMAP_FILE_OPS: FileOperations = Object.freeze({
  name: 'none',
  // eslint-disable-next-line require-yield -- f_op->mmap is a kernel path even when it refuses at once
  *mmap(): KGen<number> {
    return -ENODEV;
  },
});

/** A file's page cache and mappings. */
export class AddressSpace {
  /** Id stored in `page->mapping`. */
  readonly id: number;
  /** File name, for reports. */
  readonly name: string;
  /** `i_size` in bytes. */
  size: number;
  /** pfn per page offset; 0 when not cached. */
  pages: Int32Array;
  /** `nrpages`. */
  nrpages = 0;
  /** `i_mmap`: VMAs mapping this file. */
  readonly iMmap: Vma[] = [];
  /** `i_mmap_nonlinear`: VMAs remapped with remap_file_pages. */
  readonly iMmapNonlinear: Vma[] = [];
  /** `i_mmap_writable`: shared writable mappings. */
  iMmapWritable = 0;
  /** True for the backing object of a shared anonymous mapping (`dev/zero`). */
  readonly anonShared: boolean;
  /** Unlinked: its pages go when the last mapping does (`iput` → `truncate_inode_pages`). */
  unlinked: boolean;

  /** `i_mmap_lock`. */
  readonly iMmapLock: SpinLock;
  /** `f_op`: how the file maps itself. */
  readonly fileOps: FileOperations;

  constructor(id: number, name: string, size: number, anonShared: boolean, iMmapLock: SpinLock, fileOps: FileOperations = NO_MMAP_FILE_OPS) {
    this.iMmapLock = iMmapLock;
    this.fileOps = fileOps;
    this.id = id;
    this.name = name;
    this.size = size;
    this.anonShared = anonShared;
    this.unlinked = anonShared;
    this.pages = new Int32Array(Math.max(16, Math.ceil(size / 4096)));
  }

  /** With checking on: offsets whose page-cache page or swap slot changed since the checker last ran. */
  dirty: number[] | null = null;

  /** Swap slot per page offset of a tmpfs file's swapped-out pages (`shmem_swp_entry`), allocated on first use. */
  swap: Int32Array | null = null;

  /** The swap slot holding page `pgoff`, or 0. */
  swapSlot(pgoff: number): number {
    const s = this.swap;
    return s !== null && pgoff < s.length ? s[pgoff]! : 0;
  }

  /** Record (or clear, with 0) the swap slot of page `pgoff`. */
  setSwap(pgoff: number, slot: number): void {
    let s = this.swap;
    if (s === null || pgoff >= s.length) {
      if (slot === 0) return;
      let n = Math.max(16, s?.length ?? 0);
      while (n <= pgoff) n *= 2;
      const grown = new Int32Array(n);
      if (s !== null) grown.set(s);
      this.swap = s = grown;
    }
    const old = s[pgoff]!;
    this.dirty?.push(pgoff);
    if (old === 0 && slot !== 0) this.nrswapped++;
    else if (old !== 0 && slot === 0) this.nrswapped--;
    s[pgoff] = slot;
  }

  /** Open references (`f_count` beyond the mappings): an unlinked file stays while any is held. */
  refs = 0;
  /** Pages of this file out on swap. */
  nrswapped = 0;

  /** A device file: how its driver maps it. */
  device: DeviceInfo | null = null;
  /** An XIP file: the pfn of its first page in the XIP image (0 otherwise). */
  xipBase = 0;
  /** A hugetlbfs file: `pages` holds huge pages, indexed in huge-page units. */
  huge = false;
  /** hugetlbfs: huge indices reserved for shared mappings and not yet instantiated. */
  reserved: Set<number> | null = null;

  /** The frame holding 4 KiB file page `pgoff` (inside a huge page for hugetlbfs), or 0. */
  frameAt(pgoff: number): number {
    if (this.xipBase !== 0) return pgoff < this.size / 4096 ? this.xipBase + pgoff : 0;
    if (!this.huge) return this.findPage(pgoff);
    const head = this.findPage(Math.floor(pgoff / 512));
    return head === 0 ? 0 : head + (pgoff % 512);
  }

  /** `mapping_mapped()`: any VMA maps the file. */
  get mapped(): boolean {
    return this.iMmap.length > 0 || this.iMmapNonlinear.length > 0;
  }

  /** `find_get_page()` without the reference: the cached pfn at `pgoff`, or 0. */
  findPage(pgoff: number): number {
    return pgoff < this.pages.length ? this.pages[pgoff]! : 0;
  }

  /** `add_to_page_cache()` slot update (the reference is the caller's). */
  setPage(pgoff: number, pfn: number): void {
    if (pgoff >= this.pages.length) {
      let n = this.pages.length;
      while (n <= pgoff) n *= 2;
      const grown = new Int32Array(n);
      grown.set(this.pages);
      this.pages = grown;
    }
    const old = this.pages[pgoff]!;
    this.dirty?.push(pgoff);
    if (old === 0 && pfn !== 0) this.nrpages++;
    else if (old !== 0 && pfn === 0) this.nrpages--;
    this.pages[pgoff] = pfn;
  }
}
