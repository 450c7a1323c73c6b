/**
 * Character devices whose `mmap` maps memory the way 2.6.24 drivers did:
 *
 * - `pfnmap`: device memory (no `struct page`) with `remap_pfn_range` at
 *   mmap time (a frame buffer, /dev/mem);
 * - `insertpage`: kernel pages the driver allocated, inserted one by one
 *   with `vm_insert_page` (VM_INSERTPAGE);
 * - `nopfn`: device memory inserted lazily from the `->nopfn` fault
 *   handler (the spufs / mspec style).
 * @module
 */
import { EINVAL, ENOMEM } from '../errno.js';
import { PG_driver } from '../mem/page.js';
import { PAGE_SIZE } from '../pgtable/entry.js';
import type { Kernel } from '../kernel/kernel.js';
import { SpinLock } from '../sched/lock.js';
import type { KGen } from '../sched/run.js';
import { allocPage, putPage } from '../mm/page-ref.js';
import { NOPFN_SIGBUS, remapPfnRange, vmInsertPage } from '../mm/pfnmap.js';
import { type Vma, VM_IO, VM_PFNMAP, VM_RESERVED, isCowMapping } from '../mm/types.js';
import { AddressSpace, type FileOperations } from './address-space.js';

/** How a device maps its memory. */
export type DeviceKind = 'pfnmap' | 'insertpage' | 'nopfn';

/** A device's side of its file. */
export interface DeviceInfo {
  /** Mapping style. */
  readonly kind: DeviceKind;
  /** First pfn of its device memory (pfnmap, nopfn). */
  readonly basePfn: number;
  /** Its kernel pages (insertpage), one per page of the device. */
  readonly pages: Int32Array | null;
}

/** The drivers' `file_operations`: mmap is {@link deviceMmap}. */
export const DEVICE_FILE_OPS: FileOperations = Object.freeze({
  name: 'device',
  *mmap(k: Kernel, _file: AddressSpace, vma: Vma): KGen<number> {
    return yield* deviceMmap(k, vma);
  },
});

/** Create a device of `size` bytes. Returns its file, or -ENOMEM. */
export function* deviceCreate(k: Kernel, name: string, size: number, kind: DeviceKind): KGen<AddressSpace | number> {
  const nr = Math.ceil(size / PAGE_SIZE);
  const f = new AddressSpace(k.nextId++, name, nr * PAGE_SIZE, false, new SpinLock(k.locks, 'i_mmap_lock'), DEVICE_FILE_OPS);
  let pages: Int32Array | null = null;
  let basePfn = 0;
  if (kind === 'insertpage') {
    pages = new Int32Array(nr);
    for (let i = 0; i < nr; i++) {
      const pfn = yield* allocPage(k);
      if (pfn === 0) {
        for (let j = 0; j < i; j++) putPage(k, pages[j]!);
        return -ENOMEM;
      }
      k.pages.flags[pfn]! |= PG_driver;
      k.pages.token[pfn] = 0;
      pages[i] = pfn;
    }
  } else {
    basePfn = k.iomem.alloc(name, nr);
  }
  f.device = { kind, basePfn, pages };
  k.files.set(f.id, f);
  return f;
}

/** The device's `f_op->mmap`. Returns 0 or a negative errno. */
export function* deviceMmap(k: Kernel, vma: Vma): KGen<number> {
  const f = vma.vmFile!;
  const dev = f.device!;
  const nr = (vma.vmEnd - vma.vmStart) / PAGE_SIZE;
  if (vma.vmPgoff + nr > f.size / PAGE_SIZE) return -EINVAL;
  switch (dev.kind) {
    case 'pfnmap':
      return yield* remapPfnRange(k, vma, vma.vmStart, dev.basePfn + vma.vmPgoff, vma.vmEnd - vma.vmStart, vma.vmPageProt);
    case 'insertpage': {
      for (let i = 0; i < nr; i++) {
        const r = yield* vmInsertPage(k, vma, vma.vmStart + i * PAGE_SIZE, dev.pages![vma.vmPgoff + i]!);
        if (r !== 0) return r;
      }
      return 0;
    }
    case 'nopfn': {
      if (isCowMapping(vma.vmFlags)) return -EINVAL;
      vma.vmFlags |= VM_IO | VM_RESERVED | VM_PFNMAP;
      const base = dev.basePfn;
      vma.vmOps = {
        name: `${f.name} nopfn`,
        nopfn(v: Vma, addr: number): number {
          const pgoff = (addr - v.vmStart) / PAGE_SIZE + v.vmPgoff;
          return pgoff < f.size / PAGE_SIZE ? base + pgoff : NOPFN_SIGBUS;
        },
      };
      return 0;
    }
  }
}

/** The device goes away with its last mapping: the driver frees its pages. */
export function deviceRelease(k: Kernel, f: AddressSpace): void {
  const pages = f.device?.pages ?? null;
  if (pages !== null) {
    for (const pfn of pages) {
      k.pages.flags[pfn]! &= ~PG_driver;
      putPage(k, pfn);
    }
  }
  k.files.delete(f.id);
}
