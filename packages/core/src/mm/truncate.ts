/**
 * Truncation and invalidation of a file's mappings.
 *
 * `unmap_mapping_range` zaps the file's pages from every VMA in `i_mmap`
 * over a range of file offsets. With `even_cows` (truncation, as
 * `vmtruncate` passes it) private COWed copies beyond the new end go too;
 * without it (invalidation) only page-cache pages are unmapped and private
 * COWed pages survive. Swap entries are left alone either way, as the
 * kernel's `zap_details` path does. Each VMA's zap is bracketed by the
 * `rangeBegin`/`rangeEnd` events (reason `truncate`), with `i_mmap_lock`
 * held.
 * @see mm/memory.c unmap_mapping_range, vmtruncate; mm/truncate.c truncate_inode_pages; mm/shmem.c shmem_truncate_range
 * @module
 */
import { PAGE_SIZE } from '../pgtable/entry.js';
import type { KGen } from '../sched/run.js';
import { spinLock } from '../sched/lock.js';
import type { Kernel } from '../kernel/kernel.js';
import type { AddressSpace } from '../fs/address-space.js';
import { putPage } from './page-ref.js';
import { hugetlbfsTruncatePages } from '../fs/hugetlbfs.js';
import { swapFree } from './swapfile.js';
import { zapPageRange } from './madvise.js';
import type { ZapDetails } from './zap.js';

/**
 * `unmap_mapping_range()`: unmap file offsets [holebegin, holebegin +
 * holelen) (bytes; `holelen` 0 means to the end) from every mapping.
 * @see mm/memory.c unmap_mapping_range
 */
export function* unmapMappingRange(k: Kernel, mapping: AddressSpace, holebegin: number, holelen: number, evenCows: boolean): KGen<void> {
  const hba = Math.floor(holebegin / PAGE_SIZE);
  const hlen = Math.ceil(holelen / PAGE_SIZE);
  const details: ZapDetails = {
    checkMapping: evenCows ? 0 : mapping.id,
    nonlinear: false,
    firstIndex: hba,
    lastIndex: hlen === 0 ? Number.MAX_SAFE_INTEGER : hba + hlen - 1,
  };
  // i_mmap_lock is held across the walk (the kernel breaks it when contended)
  yield* spinLock(k, mapping.iMmapLock);
  for (const vma of mapping.iMmap.slice()) {
    const vba = vma.vmPgoff;
    const vea = vba + (vma.vmEnd - vma.vmStart) / PAGE_SIZE - 1;
    if (vea < details.firstIndex || vba > details.lastIndex) continue;
    const zba = Math.max(details.firstIndex, vba);
    const zea = Math.min(details.lastIndex, vea);
    const start = (zba - vba) * PAGE_SIZE + vma.vmStart;
    const end = start + (zea - zba + 1) * PAGE_SIZE;
    yield* k.seams.rangeBegin(k, vma.mm, start, end, 'truncate');
    yield* zapPageRange(k, vma, start, end - start, details);
    yield* k.seams.rangeEnd(k, vma.mm, start, end, 'truncate');
  }
  // unmap_mapping_range_list: every nonlinear VMA whole, each page's index checked
  for (const vma of mapping.iMmapNonlinear.slice()) {
    yield* k.seams.rangeBegin(k, vma.mm, vma.vmStart, vma.vmEnd, 'truncate');
    yield* zapPageRange(k, vma, vma.vmStart, vma.vmEnd - vma.vmStart, { ...details, nonlinear: true });
    yield* k.seams.rangeEnd(k, vma.mm, vma.vmStart, vma.vmEnd, 'truncate');
  }
  mapping.iMmapLock.unlock(k);
}

/**
 * `truncate_inode_pages()` plus `shmem_truncate_range()`: drop the page
 * cache pages and swapped-out tmpfs pages from offset `lstart` (bytes) on.
 * @see mm/truncate.c truncate_inode_pages; mm/shmem.c shmem_truncate_range
 */
export function* truncateInodePages(k: Kernel, mapping: AddressSpace, lstart: number): KGen<void> {
  const start = Math.ceil(lstart / PAGE_SIZE);
  const pages = mapping.pages;
  for (let i = start; i < pages.length; i++) {
    const pfn = pages[i]!;
    if (pfn === 0) continue;
    if (k.pages.mapcount[pfn]! > 0) yield* unmapMappingRange(k, mapping, i * PAGE_SIZE, PAGE_SIZE, false);
    mapping.setPage(i, 0);
    k.vm.nr_file_pages--;
    // remove_from_page_cache: a pinned page lives on with no mapping
    k.pages.mapping[pfn] = 0;
    putPage(k, pfn);
  }
  const swap = mapping.swap;
  if (swap !== null) {
    for (let i = start; i < swap.length; i++) {
      const slot = swap[i]!;
      if (slot === 0) continue;
      mapping.setSwap(i, 0);
      swapFree(k, slot);
    }
  }
}

/**
 * `vmtruncate()` for a tmpfs file: set the size; when shrinking, unmap
 * every mapping of the cut-off part (private COWed copies included) and
 * drop its pages. Accesses beyond the end then get SIGBUS.
 * @see mm/memory.c vmtruncate
 */
export function* vmtruncate(k: Kernel, mapping: AddressSpace, size: number): KGen<void> {
  const old = mapping.size;
  mapping.size = size;
  if (size >= old) return;
  if (mapping.huge) {
    // hugetlbfs_truncate: whole huge pages only
    const hsize = 2 * 1024 * 1024;
    const first = Math.ceil(size / hsize);
    yield* unmapMappingRange(k, mapping, first * hsize, 0, true);
    hugetlbfsTruncatePages(k, mapping, first);
    return;
  }
  yield* unmapMappingRange(k, mapping, size + PAGE_SIZE - 1, 0, true);
  yield* truncateInodePages(k, mapping, size);
}
