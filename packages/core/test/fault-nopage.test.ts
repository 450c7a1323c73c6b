/**
 * `VM_FAULT_NOPAGE`: a `->fault` that installs its PTE itself (here with
 * `vm_insert_page`, as a driver's handler would) returns no page, and
 * `__do_fault` is done. The pages are a test-only file type's own, held
 * by it until it is released.
 */
import { describe, expect, it } from 'vitest';
import {
  type AddressSpace,
  defineFeature,
  type Kernel,
  type KGen,
  MAP_SHARED,
  PAGE_SIZE,
  PG_driver,
  putPage,
  VM_FAULT_NOPAGE,
  VM_FAULT_SIGBUS,
  type Vma,
  type VmFaultResult,
  vmInsertPage,
} from '../src/index.js';
import { expectClean, kernel, mapAt, P, R, RW } from './helpers.js';

const NAME = 'test-nopage';
/** Each file's pages, by file id. */
const held = new Map<number, number[]>();

/** A file type whose `->fault` inserts the file's own page with `vm_insert_page` and returns `VM_FAULT_NOPAGE`. */
const nopageFiles = defineFeature({
  name: NAME,
  summary: 'test-only: a file type whose fault handler inserts its own pages',
  thread: { subject: 'test-only', author: 'mmlab tests', date: '2008-01' },
  options: {},
  install(k) {
    k.registerFileType(NAME, 'nopage-file', {
      name: 'nopage-file',
      setup(kk: Kernel, f: AddressSpace) {
        const pages: number[] = [];
        for (let i = 0; i < f.size / PAGE_SIZE; i++) {
          const pfn = kk.mem.allocPage();
          kk.pages.flags[pfn]! |= PG_driver;
          kk.pages.token[pfn] = 0;
          pages.push(pfn);
        }
        held.set(f.id, pages);
      },
      // eslint-disable-next-line require-yield -- f_op->mmap is a kernel path
      *mmap(kk: Kernel, f: AddressSpace, vma: Vma): KGen<number> {
        vma.vmOps = {
          name: 'nopage-file',
          *fault(v: Vma, pgoff: number): KGen<VmFaultResult> {
            const page = held.get(f.id)?.[pgoff];
            if (page === undefined) return { pfn: 0, ret: VM_FAULT_SIGBUS };
            const r = yield* vmInsertPage(kk, v, v.vmStart + (pgoff - v.vmPgoff) * PAGE_SIZE, page);
            return { pfn: 0, ret: r === 0 ? VM_FAULT_NOPAGE : VM_FAULT_SIGBUS };
          },
        };
        return 0;
      },
      release(kk: Kernel, f: AddressSpace) {
        for (const pfn of held.get(f.id) ?? []) {
          kk.pages.flags[pfn]! &= ~PG_driver;
          putPage(kk, pfn);
        }
        held.delete(f.id);
      },
    });
  },
});

describe('VM_FAULT_NOPAGE', () => {
  it('a handler that installed the PTE itself: the fault is done, reads, writes and gup see its page', () => {
    const k = kernel({ features: [nopageFiles] });
    const type = k.fileTypes.list[0]!;
    const f = k.fileCreate(type, 'dev', 4 * P);
    const t = k.spawn();
    mapAt(k, t, R, 4 * P, RW, MAP_SHARED, f);
    const pages = held.get(f.id)!;
    expect(k.write(t, R + P, 0x1234)).toBe(0);
    expect(k.pages.token[pages[1]!]).toBe(0x1234);
    expect(k.read(t, R + 2 * P)).toEqual({ sig: 0, value: 0 });
    expect(k.vm.mmlab_file_fault).toBe(0);
    expect(k.vm.pgfault).toBeGreaterThan(0);
    const pinned = k.getUserPages(t, R, 4, false);
    expect(pinned).toEqual(pages);
    k.putUserPages(pinned as number[]);
    expect(k.munmap(t, R, 4 * P)).toBe(0);
    k.shmemUnlink(f);
    k.exit(t);
    k.finish();
    expectClean(k);
  });
});
