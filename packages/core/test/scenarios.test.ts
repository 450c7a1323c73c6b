/**
 * Scenario tests: each asserts the answer the 2.6.24 kernel gives, with the
 * invariant checker and the data-integrity oracle run at every operation
 * boundary (`check: true`).
 */
import { describe, expect, it } from 'vitest';
import {
  _PAGE_PRESENT,
  _PAGE_PROTNONE,
  _PAGE_RW,
  alignUp,
  buildKernel,
  FREE_PTE_NR,
  type Kernel,
  MADV_DONTNEED,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_LOCKED,
  MAP_POPULATE,
  MAP_PRIVATE,
  MAP_SHARED,
  MREMAP_FIXED,
  MREMAP_MAYMOVE,
  PG_allocated,
  type Placement,
  PMD_SIZE,
  PROT_NONE,
  PROT_READ,
  PUD_SIZE,
  SIGBUS,
  SIGSEGV,
  TASK_SIZE,
  TASK_UNMAPPED_BASE,
  TLB_WRITE,
  VM_ACCOUNT,
  VM_GROWSDOWN,
  VM_WRITE,
  zapBlockSize,
} from '../src/index.js';
import { ANON, expectClean, forked, kernel, mapAt, MiB, mmOf, P, pfnAt, pteAt, R, RW, spans, tlbEntries } from './helpers.js';

describe('COW after fork', () => {
  it('copies on the first write of each side and reuses the page for the last writer', () => {
    const k = kernel();
    const p = k.spawn();
    const a = k.mmap(p, 0, 4 * P, RW, ANON);
    expect(a).toBe(TASK_UNMAPPED_BASE);
    for (let i = 0; i < 4; i++) expect(k.write(p, a + i * P, 0x100 + i)).toBe(0);
    expect(k.vm.mmlab_anon_fault).toBe(4);
    const orig = [0, 1, 2, 3].map((i) => pfnAt(k, p, a + i * P));

    const c = forked(k, p);
    expect(k.vm.mmlab_fork_pte_copied).toBe(4);
    for (let i = 0; i < 4; i++) {
      // both sides map the same page, write-protected, mapped twice
      expect(pfnAt(k, c, a + i * P)).toBe(orig[i]);
      expect(pteAt(k, p, a + i * P)!.flags & _PAGE_RW).toBe(0);
      expect(pteAt(k, c, a + i * P)!.flags & _PAGE_RW).toBe(0);
      expect(k.pages.mapcount[orig[i]!]).toBe(2);
      expect(k.pages.count[orig[i]!]).toBe(2);
    }
    expect(mmOf(c).anonRss).toBe(4);

    // The parent's TLB was flushed at fork: its write faults and copies.
    expect(k.write(p, a, 0x1f0)).toBe(0);
    expect(k.vm.mmlab_cow_fault).toBe(1);
    expect(k.read(c, a).value).toBe(0x100);

    // The child copies pages 1..3: three new pages.
    const alloc0 = k.vm.pgalloc_normal;
    for (let i = 1; i < 4; i++) expect(k.write(c, a + i * P, 0x200 + i)).toBe(0);
    expect(k.vm.mmlab_cow_fault).toBe(4);
    expect(k.vm.pgalloc_normal - alloc0).toBe(3);
    for (let i = 1; i < 4; i++) {
      expect(pfnAt(k, c, a + i * P)).not.toBe(orig[i]);
      expect(pfnAt(k, p, a + i * P)).toBe(orig[i]);
      expect(k.pages.mapcount[orig[i]!]).toBe(1);
    }

    // Page 0's old frame is now the child's alone: its write reuses it.
    expect(k.vm.mmlab_wp_reuse).toBe(0);
    expect(k.write(c, a, 0x200)).toBe(0);
    expect(k.vm.mmlab_wp_reuse).toBe(1);
    expect(pfnAt(k, c, a)).toBe(orig[0]);
    // and page 1's old frame is the parent's alone.
    expect(k.write(p, a + P, 0x1f1)).toBe(0);
    expect(k.vm.mmlab_wp_reuse).toBe(2);
    expect(pfnAt(k, p, a + P)).toBe(orig[1]);
    expect(k.vm.mmlab_cow_fault).toBe(4);
    expect(k.vm.pgalloc_normal - alloc0).toBe(3);

    expect([0, 1, 2, 3].map((i) => k.read(p, a + i * P))).toEqual([0x1f0, 0x1f1, 0x102, 0x103].map((value) => ({ sig: 0, value })));
    expect([0, 1, 2, 3].map((i) => k.read(c, a + i * P))).toEqual([0x200, 0x201, 0x202, 0x203].map((value) => ({ sig: 0, value })));
    expect(mmOf(p).anonRss).toBe(4);
    expect(mmOf(c).anonRss).toBe(4);
    expect(k.vm.nr_anon_pages).toBe(8);
    expectClean(k);
  });
});

describe('munmap', () => {
  it('of the middle of a VMA leaves two, with the right vm_pgoff', () => {
    const k = kernel();
    const t = k.spawn();
    const f = k.shmemCreate('file', 16 * P);
    const a = k.mmap(t, 0, 16 * P, RW, MAP_SHARED, f, 0);
    expect(a).toBe(TASK_UNMAPPED_BASE);
    for (let i = 0; i < 16; i++) expect(k.write(t, a + i * P, 0x10 + i)).toBe(0);
    const ptes = k.vm.nr_page_table_pages;

    expect(k.munmap(t, a + 4 * P, 4 * P)).toBe(0);
    expect(spans(t)).toEqual([
      [a, a + 4 * P, 0],
      [a + 8 * P, a + 16 * P, 8],
    ]);
    expect(mmOf(t).totalVm).toBe(12);
    expect(mmOf(t).fileRss).toBe(12);
    expect(k.vm.nr_page_table_pages).toBe(ptes);
    expect(k.touch(t, a + 4 * P, 4 * P, false)).toBe(SIGSEGV);
    for (const i of [0, 1, 2, 3, 8, 9, 15]) expect(k.read(t, a + i * P)).toEqual({ sig: 0, value: 0x10 + i });
    expect(f.iMmap.length).toBe(2);

    // Anonymous: the next mmap lands in the first hole big enough, after the file.
    const b = k.mmap(t, 0, 16 * P, RW, ANON);
    expect(b).toBe(a + 16 * P);
    expect(k.touch(t, b, 16 * P, true)).toBe(0);
    expect(k.munmap(t, b + 4 * P, 4 * P)).toBe(0);
    expect(spans(t).slice(2)).toEqual([
      [b, b + 4 * P, b / P],
      [b + 8 * P, b + 16 * P, b / P + 8],
    ]);
    expect(mmOf(t).anonRss).toBe(12);
    // both halves keep the anon_vma
    const [lo, hi] = mmOf(t).vmas.slice(2);
    expect(lo!.anonVma).not.toBeNull();
    expect(hi!.anonVma).toBe(lo!.anonVma);
    expectClean(k);
  });
});

describe('mprotect', () => {
  it('of the middle splits into three, and back re-merges into one', () => {
    const k = kernel();
    const t = k.spawn();
    const b = k.mmap(t, 0, 16 * P, RW, ANON);
    for (let i = 0; i < 16; i++) expect(k.write(t, b + i * P, 0x40 + i)).toBe(0);

    expect(k.mprotect(t, b + 4 * P, 4 * P, PROT_READ)).toBe(0);
    expect(spans(t)).toEqual([
      [b, b + 4 * P, b / P],
      [b + 4 * P, b + 8 * P, b / P + 4],
      [b + 8 * P, b + 16 * P, b / P + 8],
    ]);
    const [v0, v1, v2] = mmOf(t).vmas;
    expect(v1!.vmFlags & VM_WRITE).toBe(0);
    expect(v0!.vmFlags & VM_WRITE).toBe(VM_WRITE);
    expect(v2!.vmFlags).toBe(v0!.vmFlags);
    expect(k.vm.mmlab_mprotect_pte).toBe(4);
    expect(pteAt(k, t, b + 5 * P)!.flags & _PAGE_RW).toBe(0);
    expect(k.touch(t, b + 4 * P, P, true)).toBe(SIGSEGV);
    expect(k.read(t, b + 5 * P)).toEqual({ sig: 0, value: 0x45 });
    expect(k.write(t, b + 8 * P, 0x99)).toBe(0);

    expect(k.mprotect(t, b + 4 * P, 4 * P, RW)).toBe(0);
    expect(spans(t)).toEqual([[b, b + 16 * P, b / P]]);
    expect(mmOf(t).mapCount).toBe(1);
    expect(k.vm.mmlab_mprotect_pte).toBe(8);

    // PAGE_COPY: the re-enabled PTEs stay read-only, so the first write to
    // each of the four reuses its page in do_wp_page; the others were never
    // write-protected.
    const reuse = k.vm.mmlab_wp_reuse;
    const faults = k.vm.pgfault;
    expect(k.touch(t, b, 16 * P, true)).toBe(0);
    expect(k.vm.mmlab_wp_reuse - reuse).toBe(4);
    expect(k.vm.pgfault - faults).toBe(4);
    expect(k.vm.mmlab_cow_fault).toBe(0);
    expectClean(k);
  });

  it('making a private mapping writable adds VM_ACCOUNT, so it merges with a writable neighbour', () => {
    const k = kernel();
    const t = k.spawn();
    mapAt(k, t, R, 4 * P, PROT_READ);
    mapAt(k, t, R + 4 * P, 4 * P, RW);
    expect(mmOf(t).mapCount).toBe(2);
    expect(mmOf(t).vmas[1]!.vmFlags & VM_ACCOUNT).toBe(VM_ACCOUNT);
    expect(k.mprotect(t, R, 4 * P, RW)).toBe(0);
    // mprotect_fixup: newflags |= VM_ACCOUNT for a private mapping turning writable
    expect(mmOf(t).vmas[0]!.vmFlags & VM_ACCOUNT).toBe(VM_ACCOUNT);
    expect(spans(t)).toEqual([[R, R + 8 * P, R / P]]);
    expectClean(k);
  });

  it('to PROT_NONE makes the pages inaccessible but keeps them; back restores the data', () => {
    const k = kernel();
    const t = k.spawn();
    const a = k.mmap(t, 0, 4 * P, RW, ANON);
    for (let i = 0; i < 4; i++) expect(k.write(t, a + i * P, 0x70 + i)).toBe(0);
    const sigsegv = k.vm.mmlab_sigsegv;

    expect(k.mprotect(t, a, 4 * P, PROT_NONE)).toBe(0);
    const pte = pteAt(k, t, a + P)!;
    expect(pte.flags & _PAGE_PRESENT).toBe(0);
    expect(pte.flags & _PAGE_PROTNONE).toBe(_PAGE_PROTNONE);
    expect(mmOf(t).anonRss).toBe(4);
    expect(k.read(t, a + P).sig).toBe(SIGSEGV);
    expect(k.touch(t, a, P, true)).toBe(SIGSEGV);
    expect(k.vm.mmlab_sigsegv - sigsegv).toBe(2);

    expect(k.mprotect(t, a, 4 * P, RW)).toBe(0);
    for (let i = 0; i < 4; i++) expect(k.read(t, a + i * P)).toEqual({ sig: 0, value: 0x70 + i });
    expect(k.write(t, a, 0x7f)).toBe(0);
    expect(k.read(t, a).value).toBe(0x7f);
    expectClean(k);
  });
});

describe('mremap', () => {
  it('MREMAP_MAYMOVE moves tables and data when the VMA cannot grow in place', () => {
    const k = kernel();
    const t = k.spawn();
    const a = k.mmap(t, 0, 8 * P, RW, ANON);
    for (let i = 0; i < 8; i++) expect(k.write(t, a + i * P, 0x500 + i)).toBe(0);
    // A read-only neighbour (flags differ, so it does not merge) blocks growth.
    const blocker = k.mmap(t, 0, P, PROT_READ, ANON);
    expect(blocker).toBe(a + 8 * P);
    const anonVma = mmOf(t).vmas[0]!.anonVma;
    const flushOne = k.vm.nr_tlb_local_flush_one;

    const n = k.mremap(t, a, 8 * P, 16 * P, MREMAP_MAYMOVE);
    expect(n).toBe(a + 9 * P);
    expect(k.vm.mmlab_mremap_pte).toBe(8);
    // 2.6.24 move_ptes: ptep_clear_flush per moved PTE
    expect(k.vm.nr_tlb_local_flush_one - flushOne).toBe(8);
    // the moved VMA keeps its anon_vma and page offsets
    expect(spans(t)).toEqual([
      [a + 8 * P, a + 9 * P, (a + 8 * P) / P],
      [n, n + 16 * P, a / P],
    ]);
    expect(mmOf(t).vmas[1]!.anonVma).toBe(anonVma);
    expect(mmOf(t).anonRss).toBe(8);
    for (let i = 0; i < 8; i++) expect(k.read(t, n + i * P)).toEqual({ sig: 0, value: 0x500 + i });
    expect(k.read(t, n + 12 * P)).toEqual({ sig: 0, value: 0 });
    expect(k.touch(t, a, P, false)).toBe(SIGSEGV);
    expect(k.touch(t, a + 7 * P, P, true)).toBe(SIGSEGV);
    expectClean(k);
  });

  it('a move accounts the new length in total_vm (move_vma)', () => {
    const k = kernel();
    const t = k.spawn();
    mapAt(k, t, R, 8 * P);
    mapAt(k, t, R + 8 * P, P, PROT_READ);
    expect(mmOf(t).totalVm).toBe(9);
    const n = k.mremap(t, R, 8 * P, 16 * P, MREMAP_MAYMOVE);
    expect(n).toBeGreaterThan(0);
    expect(n).not.toBe(R);
    // 1 page of the neighbour + 16 of the moved VMA, as VmSize would show
    expect(mmOf(t).totalVm).toBe(17);
    expect(k.metrics().procs[0]!.VmSize_kB).toBe(17 * 4);
    expectClean(k);
  });

  it('MREMAP_FIXED to another 2 MiB region allocates the new PTE table and frees the old one', () => {
    const k = kernel();
    const t = k.spawn();
    mapAt(k, t, R, 8 * P);
    for (let i = 0; i < 8; i++) expect(k.write(t, R + i * P, 0x600 + i)).toBe(0);
    expect(k.ptLive).toEqual([1, 1, 1, 1]);
    const oldTable = pteAt(k, t, R) !== null;
    expect(oldTable).toBe(true);

    const dst = R + 2 * PMD_SIZE;
    expect(k.mremap(t, R, 8 * P, 8 * P, MREMAP_MAYMOVE | MREMAP_FIXED, dst)).toBe(dst);
    expect(k.vm.mmlab_mremap_pte).toBe(8);
    expect(pteAt(k, t, R)).toBeNull();
    expect(pteAt(k, t, dst)).not.toBeNull();
    // one PTE table freed, one allocated; the PMD table is shared by both
    expect(k.ptLive).toEqual([1, 1, 1, 1]);
    expect(k.vm.nr_page_table_pages).toBe(1);
    expect(spans(t)).toEqual([[dst, dst + 8 * P, R / P]]);
    for (let i = 0; i < 8; i++) expect(k.read(t, dst + i * P)).toEqual({ sig: 0, value: 0x600 + i });
    expect(k.read(t, R).sig).toBe(SIGSEGV);
    expectClean(k);
  });

  it('MREMAP_FIXED onto a mapped range replaces its data', () => {
    const k = kernel();
    const t = k.spawn();
    mapAt(k, t, R, 8 * P);
    for (let i = 0; i < 8; i++) expect(k.write(t, R + i * P, 0x700 + i)).toBe(0);
    mapAt(k, t, R + 64 * P, 4 * P);
    expect(k.write(t, R + 64 * P, 0x7f0)).toBe(0);
    expect(k.mremap(t, R + 64 * P, 4 * P, 4 * P, MREMAP_MAYMOVE | MREMAP_FIXED, R)).toBe(R);
    expect(spans(t)).toEqual([
      [R, R + 4 * P, (R + 64 * P) / P],
      [R + 4 * P, R + 8 * P, R / P + 4],
    ]);
    // do_munmap(new_addr, new_len) dropped [R, R+4P); the moved VMA brings one page
    expect(mmOf(t).anonRss).toBe(5);
    expect(k.read(t, R)).toEqual({ sig: 0, value: 0x7f0 });
    expect(k.read(t, R + P)).toEqual({ sig: 0, value: 0 });
    expect(k.read(t, R + 4 * P)).toEqual({ sig: 0, value: 0x704 });
    expectClean(k);
  });

  it('expands in place when the next VMA leaves room', () => {
    const k = kernel();
    const t = k.spawn();
    const a = k.mmap(t, 0, 4 * P, RW, ANON);
    for (let i = 0; i < 4; i++) expect(k.write(t, a + i * P, 0x800 + i)).toBe(0);
    const pfns = [0, 1, 2, 3].map((i) => pfnAt(k, t, a + i * P));

    expect(k.mremap(t, a, 4 * P, 12 * P, 0)).toBe(a);
    expect(spans(t)).toEqual([[a, a + 12 * P, a / P]]);
    expect(mmOf(t).totalVm).toBe(12);
    expect(k.vm.mmlab_mremap_pte).toBe(0);
    expect([0, 1, 2, 3].map((i) => pfnAt(k, t, a + i * P))).toEqual(pfns);
    for (let i = 0; i < 4; i++) expect(k.read(t, a + i * P).value).toBe(0x800 + i);
    expect(k.read(t, a + 11 * P)).toEqual({ sig: 0, value: 0 });
    expect(k.write(t, a + 11 * P, 0x8ff)).toBe(0);

    // shrinking always works in place and unmaps the tail
    expect(k.mremap(t, a, 12 * P, 2 * P, 0)).toBe(a);
    expect(spans(t)).toEqual([[a, a + 2 * P, a / P]]);
    expect(mmOf(t).anonRss).toBe(2);
    expect(k.read(t, a + 2 * P).sig).toBe(SIGSEGV);
    expectClean(k);
  });
});

describe('free_pgtables', () => {
  it('frees exactly the tables wholly inside the gap between the neighbours', () => {
    const k = kernel();
    const t = k.spawn();
    const M = PMD_SIZE;
    // regions r0..r3 = [R + i*M, R + (i+1)*M)
    mapAt(k, t, R, 4 * P); // V1 in r0
    mapAt(k, t, R + M - 4 * P, 2 * M + 8 * P); // V2: tail of r0, r1, r2, head of r3
    mapAt(k, t, R + 3 * M + 8 * P, 4 * P); // V3 in r3
    expect(mmOf(t).mapCount).toBe(3);
    expect(k.touch(t, R, 4 * P, true)).toBe(0);
    expect(k.touch(t, R + 3 * M + 8 * P, 4 * P, true)).toBe(0);
    for (const addr of [R + M - 4 * P, R + M + 100 * P, R + 2 * M + 7 * P, R + 3 * M + 3 * P]) {
      expect(k.write(t, addr, 1)).toBe(0);
    }
    expect(k.vm.nr_page_table_pages).toBe(4);
    const r0 = pteAt(k, t, R) !== null;
    expect(r0).toBe(true);

    expect(k.munmap(t, R + M - 4 * P, 2 * M + 8 * P)).toBe(0);
    // r0 is shared with V1 and r3 with V3: they stay; r1 and r2 go.
    expect(k.vm.nr_page_table_pages).toBe(2);
    expect(mmOf(t).nrPtes).toBe(2);
    expect(pteAt(k, t, R)).not.toBeNull();
    expect(pteAt(k, t, R + M)).toBeNull();
    expect(pteAt(k, t, R + 2 * M)).toBeNull();
    expect(pteAt(k, t, R + 3 * M)).not.toBeNull();
    expect(k.ptLive).toEqual([2, 1, 1, 1]);
    expect(mmOf(t).anonRss).toBe(8);
    expectClean(k);
  });

  it('frees the PMD table too when its whole 1 GiB span is in the gap', () => {
    const k = kernel();
    const t = k.spawn();
    mapAt(k, t, R, 4 * P);
    mapAt(k, t, R + PUD_SIZE, 4 * P, PROT_READ);
    mapAt(k, t, R + 2 * PUD_SIZE + PMD_SIZE, 4 * P);
    for (const addr of [R, R + PUD_SIZE, R + 2 * PUD_SIZE + PMD_SIZE]) expect(k.touch(t, addr, 4 * P, false)).toBe(0);
    expect(k.ptLive).toEqual([3, 3, 1, 1]);

    expect(k.munmap(t, R + PUD_SIZE, 4 * P)).toBe(0);
    expect(k.ptLive).toEqual([2, 2, 1, 1]);
    expect(mmOf(t).nrPmds).toBe(2);
    expect(k.vm.nr_page_table_pages).toBe(2);
    // the last VMA has no upper neighbour: everything up to the top may go,
    // but the PUD table still maps the first two
    expect(k.munmap(t, R + 2 * PUD_SIZE + PMD_SIZE, 4 * P)).toBe(0);
    expect(k.ptLive).toEqual([1, 1, 1, 1]);
    expect(k.munmap(t, R, 4 * P)).toBe(0);
    expect(k.ptLive).toEqual([0, 0, 0, 1]);
    expectClean(k);
  });
});

describe('madvise(MADV_DONTNEED)', () => {
  it('drops the pages but keeps the page tables; anonymous memory reads back as zero', () => {
    const k = kernel();
    const t = k.spawn();
    mapAt(k, t, R + PMD_SIZE - 8 * P, 16 * P); // spans two PTE tables
    for (let i = 0; i < 16; i++) expect(k.write(t, R + PMD_SIZE + (i - 8) * P, 0x900 + i)).toBe(0);
    expect(k.vm.nr_page_table_pages).toBe(2);
    expect(mmOf(t).anonRss).toBe(16);
    const free0 = k.mem.nrFree;

    expect(k.madvise(t, R + PMD_SIZE - 8 * P, 16 * P, MADV_DONTNEED)).toBe(0);
    expect(k.vm.nr_page_table_pages).toBe(2);
    expect(mmOf(t).nrPtes).toBe(2);
    expect(k.ptLive).toEqual([2, 1, 1, 1]);
    expect(mmOf(t).anonRss).toBe(0);
    expect(k.vm.nr_anon_pages).toBe(0);
    expect(k.mem.nrFree - free0).toBe(16);
    expect(spans(t)).toEqual([[R + PMD_SIZE - 8 * P, R + PMD_SIZE + 8 * P, (R + PMD_SIZE - 8 * P) / P]]);

    const anon0 = k.vm.mmlab_anon_fault;
    for (let i = 0; i < 16; i++) expect(k.read(t, R + PMD_SIZE + (i - 8) * P)).toEqual({ sig: 0, value: 0 });
    expect(k.vm.mmlab_anon_fault - anon0).toBe(16);
    expectClean(k);
  });

  it('on a private file mapping brings back the file data', () => {
    const k = kernel();
    const t = k.spawn();
    const f = k.shmemCreate('data', 4 * P);
    const s = k.mmap(t, 0, 4 * P, RW, MAP_SHARED, f, 0);
    for (let i = 0; i < 4; i++) expect(k.write(t, s + i * P, 0xf00 + i)).toBe(0);
    const q = k.mmap(t, 0, 4 * P, RW, MAP_PRIVATE, f, 0);
    expect(k.write(t, q + P, 0xbad)).toBe(0);
    expect(k.read(t, q + P).value).toBe(0xbad);
    expect(k.madvise(t, q, 4 * P, MADV_DONTNEED)).toBe(0);
    expect(k.read(t, q + P)).toEqual({ sig: 0, value: 0xf01 });
    expectClean(k);
  });
});

describe('fork and page tables', () => {
  it('copies no PTEs of shared file or shared anonymous mappings; the child re-faults', () => {
    const k = kernel();
    const p = k.spawn();
    const f = k.shmemCreate('shm', 16 * P);
    const a = k.mmap(p, 0, 16 * P, RW, MAP_SHARED, f, 0);
    const z = k.mmap(p, 0, 8 * P, RW, MAP_SHARED | MAP_ANONYMOUS);
    for (let i = 0; i < 16; i++) expect(k.write(p, a + i * P, 0xa00 + i)).toBe(0);
    for (let i = 0; i < 8; i++) expect(k.write(p, z + i * P, 0xb00 + i)).toBe(0);

    const c = forked(k, p);
    expect(k.vm.mmlab_fork_pte_copied).toBe(0);
    expect(mmOf(c).nrPtes).toBe(0);
    expect(mmOf(c).nrPmds).toBe(0);
    expect(mmOf(c).fileRss).toBe(0);
    expect(mmOf(c).mapCount).toBe(2);
    expect(f.iMmap.length).toBe(2);

    const faults = k.vm.pgfault;
    const fileFaults = k.vm.mmlab_file_fault;
    const alloc0 = k.vm.pgalloc_normal;
    for (let i = 0; i < 16; i++) expect(k.read(c, a + i * P)).toEqual({ sig: 0, value: 0xa00 + i });
    for (let i = 0; i < 8; i++) expect(k.read(c, z + i * P)).toEqual({ sig: 0, value: 0xb00 + i });
    expect(k.vm.pgfault - faults).toBe(24);
    expect(k.vm.mmlab_file_fault - fileFaults).toBe(24);
    // only the child's tables were allocated: PUD, PMD, PTE
    expect(k.vm.pgalloc_normal - alloc0).toBe(3);
    expect(mmOf(c).nrPtes).toBe(1);
    expect(mmOf(c).fileRss).toBe(24);
    // still one page each, mapped twice
    expect(pfnAt(k, c, a)).toBe(pfnAt(k, p, a));
    expect(k.pages.mapcount[pfnAt(k, p, a)]).toBe(2);

    // shared: a write by either side is seen by the other
    expect(k.write(c, a + 3 * P, 0xc03)).toBe(0);
    expect(k.read(p, a + 3 * P).value).toBe(0xc03);
    expect(k.write(p, z, 0xd00)).toBe(0);
    expect(k.read(c, z).value).toBe(0xd00);
    expect(k.vm.mmlab_cow_fault).toBe(0);
    expectClean(k);
  });

  it('copies the PTEs of private VMAs that have an anon_vma, and only those', () => {
    const k = kernel();
    const p = k.spawn();
    const f = k.shmemCreate('lib', 8 * P);
    const anon = k.mmap(p, 0, 8 * P, RW, ANON);
    const untouched = k.mmap(p, 0, 8 * P, PROT_READ, ANON);
    const ro = k.mmap(p, 0, 8 * P, RW, MAP_PRIVATE, f, 0);
    const cowed = k.mmap(p, 0, 8 * P, RW, MAP_PRIVATE, f, 0);
    expect([anon, untouched, ro, cowed]).toEqual([0, 8, 16, 24].map((i) => TASK_UNMAPPED_BASE + i * P));
    expect(k.touch(p, anon, 8 * P, true)).toBe(0);
    expect(k.touch(p, ro, 8 * P, false)).toBe(0);
    expect(k.touch(p, cowed, 8 * P, false)).toBe(0);
    expect(k.write(p, cowed, 0xc0)).toBe(0);
    expect(mmOf(p).vmas.map((v) => v.anonVma !== null)).toEqual([true, false, false, true]);

    const c = forked(k, p);
    // 8 anonymous + 8 of the written private file mapping (7 page-cache, 1 anon)
    expect(k.vm.mmlab_fork_pte_copied).toBe(16);
    expect(mmOf(c).anonRss).toBe(9);
    expect(mmOf(c).fileRss).toBe(7);
    expect(pteAt(k, c, ro)!.pfn).toBe(0);
    expect(pfnAt(k, c, cowed + P)).toBe(pfnAt(k, p, cowed + P));

    // copied PTEs need no fault; the read-only private file mapping re-faults
    const faults = k.vm.pgfault;
    expect(k.touch(c, anon, 8 * P, false)).toBe(0);
    expect(k.touch(c, cowed, 8 * P, false)).toBe(0);
    expect(k.vm.pgfault - faults).toBe(0);
    expect(k.touch(c, ro, 8 * P, false)).toBe(0);
    expect(k.vm.pgfault - faults).toBe(8);
    expect(k.read(c, cowed).value).toBe(0xc0);
    expectClean(k);
  });

  it('anonymous read fault allocates a zeroed page (no zero page in 2.6.24)', () => {
    const k = kernel();
    const t = k.spawn();
    const a = k.mmap(t, 0, 4 * P, PROT_READ, ANON);
    expect(k.read(t, a)).toEqual({ sig: 0, value: 0 });
    expect(k.vm.pgalloc_normal).toBe(1 + 1 + 3); // PGD, page, PUD + PMD + PTE
    const alloc0 = k.vm.pgalloc_normal;
    const rss0 = k.metrics().procs[0]!.RssAnon_kB;
    expect(k.read(t, a + P)).toEqual({ sig: 0, value: 0 });
    expect(k.vm.pgalloc_normal - alloc0).toBe(1);
    expect(k.vm.mmlab_anon_fault).toBe(2);
    expect(k.metrics().procs[0]!.RssAnon_kB - rss0).toBe(4);
    expect(mmOf(t).anonRss).toBe(2);
    expect(k.vm.nr_anon_pages).toBe(2);
    expect(k.pages.mapcount[pfnAt(k, t, a)]).toBe(1);
    expect(pfnAt(k, t, a)).not.toBe(pfnAt(k, t, a + P));
    expectClean(k);
  });
});

describe('mmap', () => {
  it('MAP_POPULATE and MAP_LOCKED fault the pages in at mmap time (make_pages_present)', () => {
    const k = kernel();
    const t = k.spawn();
    const f = k.shmemCreate('f', 4 * P);
    const a = k.mmap(t, 0, 8 * P, RW, ANON | MAP_POPULATE);
    expect(a).toBe(TASK_UNMAPPED_BASE);
    expect(mmOf(t).anonRss).toBe(8);
    const s = k.mmap(t, 0, 4 * P, PROT_READ, MAP_SHARED | MAP_POPULATE, f, 0);
    expect(s).toBe(a + 8 * P);
    expect(mmOf(t).fileRss).toBe(4);
    expect(f.nrpages).toBe(4);
    const l = k.mmap(t, 0, 4 * P, RW, ANON | MAP_LOCKED);
    expect(l).toBe(s + 4 * P);
    expect(mmOf(t).anonRss).toBe(12);
    expect(mmOf(t).lockedVm).toBe(4);
    const faults = k.vm.pgfault;
    expect(k.touch(t, a, 16 * P, false)).toBe(0);
    expect(k.vm.pgfault).toBe(faults);
    expectClean(k);
  });
});

describe('mmap over an unlinked file', () => {
  it('MAP_FIXED over the last mapping of an unlinked file, mapping it again, keeps the file', () => {
    const k = kernel();
    const t = k.spawn();
    const f = k.shmemCreate('tmp', 4 * P);
    const a = k.mmap(t, 0, 4 * P, RW, MAP_SHARED, f, 0);
    expect(k.write(t, a, 0x33)).toBe(0);
    k.shmemUnlink(f);
    // the mapping keeps the unlinked file alive; mmap holds a reference to
    // the file across do_mmap_pgoff, so unmapping the old VMA does not free it
    expect(k.mmap(t, a, 4 * P, RW, MAP_SHARED | MAP_FIXED, f, 0)).toBe(a);
    expect(k.files.has(f.id)).toBe(true);
    expect(k.read(t, a)).toEqual({ sig: 0, value: 0x33 });
    expectClean(k);
    expect(k.munmap(t, a, 4 * P)).toBe(0);
    expect(k.files.has(f.id)).toBe(false);
    expect(k.vm.nr_file_pages).toBe(0);
    expectClean(k);
  });
});

describe('mmap private file, populated', () => {
  it('MAP_POPULATE of a writable private file mapping copies the pages at mmap time', () => {
    const k = kernel();
    const t = k.spawn();
    const f = k.shmemCreate('f', P);
    const s = k.mmap(t, 0, P, RW, MAP_SHARED, f, 0);
    expect(k.write(t, s, 0x11)).toBe(0);
    // make_pages_present faults with write=1 (VM_WRITE): a private copy now
    const q = k.mmap(t, 0, P, RW, MAP_PRIVATE | MAP_POPULATE, f, 0);
    expect(mmOf(t).anonRss).toBe(1);
    expect(k.write(t, s, 0x22)).toBe(0);
    // later writes through the shared mapping do not reach the private copy
    expect(k.read(t, q)).toEqual({ sig: 0, value: 0x11 });
    expectClean(k);
  });
});

describe('shm-procs: 32 processes each read a 256 MiB tmpfs file mapped MAP_SHARED', () => {
  function run(placement: Placement): Kernel {
    const k = buildKernel({ memBytes: 512 * MiB, placement, check: false });
    const f = k.shmemCreate('shm', 256 * MiB);
    const base = placement === 'legacy' ? TASK_UNMAPPED_BASE : alignUp(TASK_UNMAPPED_BASE, PMD_SIZE);
    const tasks = [];
    for (let i = 0; i < 32; i++) {
      const t = k.spawn();
      expect(k.mmap(t, 0, 256 * MiB, PROT_READ, MAP_SHARED, f, 0)).toBe(base);
      expect(k.touch(t, base, 256 * MiB, false)).toBe(0);
      tasks.push(t);
    }
    k.snapshot();
    for (const t of tasks) k.exit(t);
    expect(k.vm.nr_page_table_pages).toBe(0);
    expect(k.ptLive).toEqual([0, 0, 0, 0]);
    return k;
  }

  it('costs 129 PTE tables per process with 2.6.24 placement', () => {
    const m = run('legacy').metrics();
    expect(m.vmstat.nr_page_table_pages).toBe(32 * 129);
    expect(m.meminfo.PageTables).toBe(32 * 129 * 4);
    expect(m.pagetables).toEqual({ pgd: 32, pud: 32, pmd: 32, pte: 32 * 129 });
    expect(m.procs).toHaveLength(32);
    for (const p of m.procs) {
      expect(p.VmPTE_kB).toBe(524);
      expect(p.VmPTE_2624_kB).toBe(516);
      expect(p.RssFile_kB).toBe(256 * 1024);
      expect(p.RssAnon_kB).toBe(0);
    }
    expect(m.vmstat.nr_file_pages).toBe(65536);
    expect(m.vmstat.nr_mapped).toBe(65536);
  });

  it('costs 128 with 2 MiB-aligned placement (512 KiB of PTE tables, as today)', () => {
    const m = run('aligned').metrics();
    expect(m.vmstat.nr_page_table_pages).toBe(32 * 128);
    expect(m.meminfo.PageTables).toBe(16 * 1024);
    for (const p of m.procs) {
      expect(p.VmPTE_kB).toBe(520);
      expect(p.VmPTE_2624_kB).toBe(512);
    }
  });
});

describe('exit and execve', () => {
  it('exit frees everything but the page cache; unlinking frees that too', () => {
    const k = kernel();
    const boot = k.vm.nr_free_pages;
    expect(boot).toBe(k.mem.nrFrames - 1 - k.mem.nrMemmapPages);
    const f = k.shmemCreate('f', 8 * P);
    const p = k.spawn();
    const a = k.mmap(p, 0, 32 * P, RW, ANON);
    const s = k.mmap(p, 0, 8 * P, RW, MAP_SHARED, f, 0);
    const q = k.mmap(p, 0, 8 * P, RW, MAP_PRIVATE, f, 0);
    const z = k.mmap(p, 0, 8 * P, RW, MAP_SHARED | MAP_ANONYMOUS);
    mapAt(k, p, R, 4 * P);
    for (const [addr, n] of [[a, 32], [s, 8], [q, 8], [z, 8], [R, 4]] as const) expect(k.touch(p, addr, n * P, true)).toBe(0);
    const c = forked(k, p);
    expect(k.touch(c, a, 16 * P, true)).toBe(0);
    const g = forked(k, c);
    expect(k.execve(g)).toBe(0);
    for (const t of [c, p, g]) k.exit(t);

    expect(k.liveMms()).toEqual([]);
    k.finish();
    expectClean(k);
    expect(k.ptLive).toEqual([0, 0, 0, 0]);
    expect(k.vm.nr_page_table_pages).toBe(0);
    expect(k.anonVmas.size).toBe(0);
    expect(k.vm.nr_anon_pages).toBe(0);
    expect(k.vm.nr_mapped).toBe(0);
    // the file keeps its 8 pages; dev/zero went with its last mapping
    expect(f.nrpages).toBe(8);
    expect(k.files.size).toBe(1);
    expect(k.vm.nr_free_pages).toBe(boot - 8);
    k.shmemUnlink(f);
    expect(k.vm.nr_free_pages).toBe(boot);
    expect(k.vm.nr_file_pages).toBe(0);
    expect(k.vm.pgalloc_normal).toBe(k.vm.pgfree);
    expectClean(k);
  });

  it('execve gives a fresh mm with a one-page stack at the top of user space', () => {
    const k = kernel();
    const t = k.spawn();
    const a = k.mmap(t, 0, 8 * P, RW, ANON);
    expect(k.touch(t, a, 8 * P, true)).toBe(0);
    const old = mmOf(t);

    expect(k.execve(t)).toBe(0);
    const mm = mmOf(t);
    expect(mm).not.toBe(old);
    expect(old.dead).toBe(true);
    expect(k.liveMms()).toEqual([mm]);
    expect(spans(t)).toEqual([[TASK_SIZE - P, TASK_SIZE, (TASK_SIZE - P) / P]]);
    expect(mm.vmas[0]!.vmFlags & VM_GROWSDOWN).toBe(VM_GROWSDOWN);
    expect(mm.anonRss).toBe(1);
    expect(k.ptLive).toEqual([1, 1, 1, 1]);
    expect(k.vm.nr_anon_pages).toBe(1);
    expect(k.read(t, TASK_SIZE - P).sig).toBe(0);
    expectClean(k);
  });

  it('the stack grows down by a page, but not across the address space (RLIMIT_STACK)', () => {
    const k = kernel();
    const t = k.spawn();
    const a = k.mmap(t, 0, 8 * P, RW, ANON);
    expect(k.execve(t)).toBe(0);
    // one page below the stack, next to the stack pointer: expand_stack
    expect(k.touch(t, TASK_SIZE - 2 * P, P, true)).toBe(0);
    expect(spans(t)).toEqual([[TASK_SIZE - 2 * P, TASK_SIZE, (TASK_SIZE - 2 * P) / P]]);
    // the old mapping's address is ~80 TiB below the stack: far beyond the
    // 8 MiB stack rlimit (and 64 KiB below sp), so it is SIGSEGV, not growth
    expect(k.touch(t, a, P, false)).toBe(SIGSEGV);
    expect(spans(t)).toEqual([[TASK_SIZE - 2 * P, TASK_SIZE, (TASK_SIZE - 2 * P) / P]]);
    expectClean(k);
  });
});

describe('signals', () => {
  it('SIGSEGV for an unmapped address and for a write to PROT_READ', () => {
    const k = kernel();
    const t = k.spawn();
    expect(k.touch(t, R, P, false)).toBe(SIGSEGV);
    expect(k.read(t, R)).toEqual({ sig: SIGSEGV, value: 0 });
    const a = k.mmap(t, 0, 2 * P, PROT_READ, ANON);
    expect(k.touch(t, a, 2 * P, true)).toBe(SIGSEGV);
    expect(k.write(t, a + P, 5)).toBe(SIGSEGV);
    expect(k.read(t, a + P)).toEqual({ sig: 0, value: 0 });
    // a write after a successful read still faults: the TLB entry is read-only
    expect(k.write(t, a + P, 5)).toBe(SIGSEGV);
    expect(k.touch(t, a + 2 * P, P, false)).toBe(SIGSEGV);
    expect(k.vm.mmlab_sigsegv).toBe(6);
    expectClean(k);
  });

  it('SIGBUS beyond the end of a tmpfs file, shared or private', () => {
    const k = kernel();
    const t = k.spawn();
    const f = k.shmemCreate('short', P);
    const s = k.mmap(t, 0, 2 * P, RW, MAP_SHARED, f, 0);
    expect(s).toBe(TASK_UNMAPPED_BASE);
    expect(k.touch(t, s, P, true)).toBe(0);
    expect(k.touch(t, s + P, P, false)).toBe(SIGBUS);
    expect(k.touch(t, s + P, P, true)).toBe(SIGBUS);
    const q = k.mmap(t, 0, 2 * P, RW, MAP_PRIVATE, f, 0);
    expect(k.touch(t, q + P, P, true)).toBe(SIGBUS);
    expect(k.touch(t, q, P, true)).toBe(0);
    const g = k.shmemCreate('tiny', 100);
    const h = k.mmap(t, 0, 2 * P, PROT_READ, MAP_SHARED, g, 0);
    expect(k.touch(t, h, P, false)).toBe(0);
    expect(k.touch(t, h + P, P, false)).toBe(SIGBUS);
    expect(k.vm.mmlab_sigbus).toBe(4);
    expect(f.nrpages).toBe(1);
    expectClean(k);
  });
});

describe('TLB and mmu_gather', () => {
  it('munmap on a multi-CPU machine leaves no TLB entry of the range and counts the flush', () => {
    const k = kernel({ cpus: 8 });
    const t = k.spawn();
    const a = k.mmap(t, 0, 16 * P, RW, ANON);
    expect(k.touch(t, a, 16 * P, true)).toBe(0);
    const id = mmOf(t).id;
    expect(tlbEntries(k, id, a, a + 16 * P)).toBe(16);
    const local = k.vm.nr_tlb_local_flush_all;
    const gather = k.vm.mmlab_gather_flush;

    expect(k.munmap(t, a, 16 * P)).toBe(0);
    expect(tlbEntries(k, id, a, a + 16 * P)).toBe(0);
    expect(k.vm.mmlab_gather_flush - gather).toBe(1);
    expect(k.vm.nr_tlb_local_flush_all - local).toBe(1);
    // a single-threaded mm is loaded on one CPU only: no shootdown
    expect(k.vm.nr_tlb_remote_flush).toBe(0);
    expectClean(k);

    // the checker would have flagged a surviving entry
    const cpu = k.cpus[t.cpu]!;
    cpu.tlb.fill(id, a / P, 1 + k.mem.nrMemmapPages, TLB_WRITE);
    expect(k.check().map((v) => v.check)).toContain('tlb');
    cpu.tlb.flushAll();
    expect(k.check()).toEqual([]);
  });

  function spyGather(k: Kernel): { fast: boolean[]; freedAtOnce: number; deferred: number } {
    const rec = { fast: [] as boolean[], freedAtOnce: 0, deferred: 0 };
    k.seamTable.wrap('test-spy', 'tlbGather', (prev) => ({
      ...prev,
      begin(kk, mm, fullmm) {
        const g = prev.begin(kk, mm, fullmm);
        rec.fast.push(g.fast);
        return g;
      },
      removePage(kk, tlb, pfn, addr, pte) {
        const full = prev.removePage(kk, tlb, pfn, addr, pte);
        if ((kk.pages.flags[pfn]! & PG_allocated) === 0) rec.freedAtOnce++;
        else rec.deferred++;
        return full;
      },
    }));
    return rec;
  }

  it.each([
    [1, true, 16, 0],
    [2, false, 0, 16],
    [8, false, 0, 16],
  ])('cpus=%i: fast mode %s — pages freed at once %i, after the flush %i', (cpus, fast, atOnce, deferred) => {
    const k = kernel({ cpus });
    const rec = spyGather(k);
    const t = k.spawn();
    mapAt(k, t, R, 16 * P);
    expect(k.touch(t, R, 16 * P, true)).toBe(0);
    const free0 = k.mem.nrFree;
    const gather = k.vm.mmlab_gather_flush;
    expect(k.munmap(t, R, 16 * P)).toBe(0);
    expect(rec.fast).toEqual([fast]);
    expect(rec.freedAtOnce).toBe(atOnce);
    expect(rec.deferred).toBe(deferred);
    // flushes still happen in fast mode: one at tlb_finish_mmu
    expect(k.vm.mmlab_gather_flush - gather).toBe(1);
    // 16 pages + PTE, PMD and PUD tables
    expect(k.mem.nrFree - free0).toBe(19);
    expect(k.seamTable.owners.tlbGather).toEqual(['test-spy']);
    expectClean(k);
  });

  // munmap of 4096 present pages (8 full PTE tables, alone in its PUD):
  // unmap_vmas ends the gather after every ZAP_BLOCK_SIZE of work, and a
  // gather also flushes when FREE_PTE_NR pages are queued (not in fast
  // mode). After the last block a new gather takes the 8 PTE tables, the
  // PMD and the PUD table and flushes once more at tlb_finish_mmu.
  //   no PREEMPT: 1024-page blocks -> 4 blocks; per block 2 forced flushes
  //     (at 506 and 1012 pages) + 1 at the block end: 4*3 + 1 = 13;
  //     fast mode (1 CPU): 4*1 + 1 = 5
  //   PREEMPT: 8-page blocks -> 512 blocks, one flush each: 512 + 1 = 513.
  it.each([
    [false, 8, 13],
    [false, 1, 5],
    [true, 8, 513],
    [true, 1, 513],
  ])('munmap of 4096 pages with preempt=%s on %i CPUs flushes the gather %i times', (preempt, cpus, flushes) => {
    expect(zapBlockSize(true)).toBe(8 * P);
    expect(zapBlockSize(false)).toBe(1024 * P);
    expect(FREE_PTE_NR).toBe(506);
    const k = kernel({ cpus, config: { preempt } });
    expect(k.config.preempt).toBe(preempt);
    const t = k.spawn();
    mapAt(k, t, R, 4096 * P);
    expect(k.touch(t, R, 4096 * P, true)).toBe(0);
    expect(k.vm.nr_page_table_pages).toBe(8);
    const gather = k.vm.mmlab_gather_flush;
    const local = k.vm.nr_tlb_local_flush_all;
    const zapped = k.vm.mmlab_zap_pte;
    expect(k.munmap(t, R, 4096 * P)).toBe(0);
    expect(k.vm.mmlab_gather_flush - gather).toBe(flushes);
    expect(k.vm.nr_tlb_local_flush_all - local).toBe(flushes);
    expect(k.vm.mmlab_zap_pte - zapped).toBe(4096);
    expect(k.ptLive).toEqual([0, 0, 0, 1]);
    expectClean(k);
  });
});

describe('the checker and the oracle can fail', () => {
  it('a wrong mapcount is reported', () => {
    const k = kernel();
    const t = k.spawn();
    const a = k.mmap(t, 0, P, RW, ANON);
    expect(k.touch(t, a, P, true)).toBe(0);
    const pfn = pfnAt(k, t, a);
    k.pages.mapcount[pfn]!++;
    expect(k.check().map((v) => v.check)).toContain('mapcount');
    k.pages.mapcount[pfn]!--;
    expect(k.check()).toEqual([]);
  });

  it('corrupted data is reported by the oracle at the next boundary', () => {
    const k = kernel();
    const t = k.spawn();
    const a = k.mmap(t, 0, P, RW, ANON);
    expect(k.write(t, a, 0x1234)).toBe(0);
    k.pages.token[pfnAt(k, t, a)] = 0x4321;
    expect(k.read(t, a).value).toBe(0x4321);
    expect(k.invariants.violations.map((v) => v.check)).toContain('oracle');
  });
});
