/**
 * `struct mm_struct`, `struct vm_area_struct`, `struct anon_vma` and the
 * VMA flag, protection and mmap constants of 2.6.24.
 * @module
 */
import type { AddressSpace } from '../fs/address-space.js';
import type { RwSem, SpinLock } from '../sched/lock.js';
import type { KPath } from '../sched/run.js';

/** `VM_READ`. */
export const VM_READ = 0x1;
/** `VM_WRITE`. */
export const VM_WRITE = 0x2;
/** `VM_EXEC`. */
export const VM_EXEC = 0x4;
/** `VM_SHARED`. */
export const VM_SHARED = 0x8;
/** `VM_MAYREAD`. */
export const VM_MAYREAD = 0x10;
/** `VM_MAYWRITE`. */
export const VM_MAYWRITE = 0x20;
/** `VM_MAYEXEC`. */
export const VM_MAYEXEC = 0x40;
/** `VM_MAYSHARE`. */
export const VM_MAYSHARE = 0x80;
/** `VM_GROWSDOWN`: a stack. */
export const VM_GROWSDOWN = 0x100;
/** `VM_PFNMAP`: raw pfns, no struct page semantics. */
export const VM_PFNMAP = 0x400;
/** `VM_DENYWRITE`. */
export const VM_DENYWRITE = 0x800;
/** `VM_LOCKED`: mlocked. */
export const VM_LOCKED = 0x2000;
/** `VM_IO`. */
export const VM_IO = 0x4000;
/** `VM_DONTCOPY`: not inherited by fork (MADV_DONTFORK). */
export const VM_DONTCOPY = 0x20000;
/** `VM_DONTEXPAND`. */
export const VM_DONTEXPAND = 0x40000;
/** `VM_RESERVED`. */
export const VM_RESERVED = 0x80000;
/** `VM_ACCOUNT`. */
export const VM_ACCOUNT = 0x100000;
/** `VM_HUGETLB`. */
export const VM_HUGETLB = 0x400000;
/** `VM_NONLINEAR`: remap_file_pages. */
export const VM_NONLINEAR = 0x800000;
/** `VM_INSERTPAGE`: vm_insert_page was used. */
export const VM_INSERTPAGE = 0x2000000;
/** `VM_CAN_NONLINEAR`: the file supports remap_file_pages (set by `shmem_mmap`). */
export const VM_CAN_NONLINEAR = 0x8000000;
/**
 * `VM_MIXEDMAP`: a mapping of both struct-page pages and raw pfns (2.6.25's
 * value). Reserved for a feature: the 2.6.24 baseline never sets it.
 */
export const VM_MIXEDMAP = 0x10000000;
/** `VM_SPECIAL`: never merged (`VM_IO | VM_DONTEXPAND | VM_RESERVED | VM_PFNMAP`). */
export const VM_SPECIAL = VM_IO | VM_DONTEXPAND | VM_RESERVED | VM_PFNMAP;

/** `PROT_NONE`. */
export const PROT_NONE = 0;
/** `PROT_READ`. */
export const PROT_READ = 1;
/** `PROT_WRITE`. */
export const PROT_WRITE = 2;
/** `PROT_EXEC`. */
export const PROT_EXEC = 4;

/** `MAP_SHARED`. */
export const MAP_SHARED = 0x01;
/** `MAP_PRIVATE`. */
export const MAP_PRIVATE = 0x02;
/** `MAP_TYPE` mask. */
export const MAP_TYPE = 0x0f;
/** `MAP_FIXED`. */
export const MAP_FIXED = 0x10;
/** `MAP_ANONYMOUS`. */
export const MAP_ANONYMOUS = 0x20;
/** `MAP_GROWSDOWN`. */
export const MAP_GROWSDOWN = 0x100;
/** `MAP_DENYWRITE` (ignored, as by the kernel for user calls). */
export const MAP_DENYWRITE = 0x800;
/** `MAP_LOCKED`. */
export const MAP_LOCKED = 0x2000;
/** `MAP_NORESERVE`. */
export const MAP_NORESERVE = 0x4000;
/** `MAP_POPULATE`. */
export const MAP_POPULATE = 0x8000;

/** `MREMAP_MAYMOVE`. */
export const MREMAP_MAYMOVE = 1;
/** `MREMAP_FIXED`. */
export const MREMAP_FIXED = 2;

/** `MADV_NORMAL`. */
export const MADV_NORMAL = 0;
/** `MADV_DONTNEED`. */
export const MADV_DONTNEED = 4;

/** `sysctl_max_map_count` default. */
export const DEFAULT_MAX_MAP_COUNT = 65530;

/** `struct anon_vma`: the VMAs whose anonymous pages share it. */
export class AnonVma {
  /** Id stored in `page->mapping` of its pages. */
  readonly id: number;
  /** VMAs linked to it (`anon_vma->head`). */
  readonly vmas: Vma[] = [];
  /** `anon_vma->lock`. */
  readonly lock: SpinLock;
  constructor(id: number, lock: SpinLock) {
    this.id = id;
    this.lock = lock;
  }
}

/** What `->fault` returned. */
export interface VmFaultResult {
  /** The page found or allocated, with a reference for the caller; 0 on error or with `VM_FAULT_NOPAGE`. */
  pfn: number;
  /** `VM_FAULT_*` bits (0 on success). */
  ret: number;
}

/** `struct vm_operations_struct` (the part the model uses). */
export interface VmOperations {
  /** Name for reports (`shmem`, …). */
  readonly name: string;
  /**
   * `->fault`: find or create the page at file offset `pgoff`, locked and
   * with a reference for the caller. A handler that finds the page without
   * sleeping (a cached page) may answer at once instead of returning a
   * generator (a {@link KPath}).
   */
  fault?(vma: Vma, pgoff: number): KPath<VmFaultResult>;
  /** `->nopfn`: the raw pfn to map at `addr` (or NOPFN_OOM / NOPFN_SIGBUS). */
  nopfn?(vma: Vma, addr: number): number;
}

/** `struct vm_area_struct`. */
export class Vma {
  /** The mm it belongs to. */
  mm: MmStruct;
  /** `vm_start`. */
  vmStart: number;
  /** `vm_end` (exclusive). */
  vmEnd: number;
  /** `vm_flags`. */
  vmFlags: number;
  /** `vm_page_prot`: the protection bits of new PTEs. */
  vmPageProt: number;
  /** `vm_pgoff`: file offset in pages, or `vm_start >> PAGE_SHIFT` for anonymous memory. */
  vmPgoff: number;
  /** `vm_file->f_mapping`, or null for anonymous memory. */
  vmFile: AddressSpace | null;
  /** `anon_vma`. */
  anonVma: AnonVma | null;
  /** `vm_ops`. */
  vmOps: VmOperations | null;
  /**
   * Features' per-VMA values by slot index (as `vm_policy` and
   * `vm_private_data` hang off the kernel's VMA), or null while empty.
   * See `Kernel.vmaSlot`.
   */
  ext: unknown[] | null = null;

  constructor(mm: MmStruct, start: number, end: number, flags: number, prot: number, pgoff: number) {
    this.mm = mm;
    this.vmStart = start;
    this.vmEnd = end;
    this.vmFlags = flags;
    this.vmPageProt = prot;
    this.vmPgoff = pgoff;
    this.vmFile = null;
    this.anonVma = null;
    this.vmOps = null;
  }

  /** A copy (`*new = *vma`), same mm. */
  clone(): Vma {
    const v = new Vma(this.mm, this.vmStart, this.vmEnd, this.vmFlags, this.vmPageProt, this.vmPgoff);
    v.vmFile = this.vmFile;
    v.anonVma = this.anonVma;
    v.vmOps = this.vmOps;
    v.ext = this.ext === null ? null : this.ext.slice();
    return v;
  }
}

/**
 * `is_cow_mapping()`: private and may become writable.
 * @see mm/memory.c is_cow_mapping
 */
export function isCowMapping(flags: number): boolean {
  return (flags & (VM_SHARED | VM_MAYWRITE)) === VM_MAYWRITE;
}

/** `struct mm_struct`. */
export class MmStruct {
  /** Model id (tags TLB entries). */
  readonly id: number;
  /** pfn of the PGD page. */
  pgd: number;
  /** The VMAs, sorted by address (the kernel's list and rbtree). */
  readonly vmas: Vma[] = [];
  /** `mmap_cache`: the last VMA found. */
  mmapCache: Vma | null = null;
  /** `nr_ptes`: PTE tables. */
  nrPtes = 0;
  /** PMD tables (today's VmPTE counts them). */
  nrPmds = 0;
  /** PUD tables (today's VmPTE counts them). */
  nrPuds = 0;
  /** `anon_rss`. */
  anonRss = 0;
  /** `file_rss`. */
  fileRss = 0;
  /** `hiwater_rss`. */
  hiwaterRss = 0;
  /** `total_vm` in pages. */
  totalVm = 0;
  /** `locked_vm` in pages. */
  lockedVm = 0;
  /** `mmap_base`. */
  mmapBase: number;
  /** `free_area_cache`. */
  freeAreaCache: number;
  /** `cached_hole_size`. */
  cachedHoleSize = 0;
  /** `mm_users`. */
  users = 1;
  /** `cpu_vm_mask`: CPUs that may hold TLB entries of this mm. */
  readonly cpuVmMask: Uint8Array;
  /** `mmap_sem`. */
  readonly mmapSem: RwSem;
  /** `page_table_lock`. */
  readonly pageTableLock: SpinLock;
  /** Set once `exit_mmap` has torn it down. */
  dead = false;
  /** Features' per-mm values by slot index, or null while empty. See `Kernel.mmSlot`. */
  ext: unknown[] | null = null;

  constructor(id: number, pgd: number, nrCpus: number, mmapBase: number, mmapSem: RwSem, ptl: SpinLock) {
    this.id = id;
    this.pgd = pgd;
    this.cpuVmMask = new Uint8Array(nrCpus);
    this.mmapBase = mmapBase;
    this.freeAreaCache = mmapBase;
    this.mmapSem = mmapSem;
    this.pageTableLock = ptl;
  }

  /** `map_count`. */
  get mapCount(): number {
    return this.vmas.length;
  }
}
