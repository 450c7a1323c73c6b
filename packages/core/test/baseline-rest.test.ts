/**
 * Scenario tests of the rest of the 2.6.24 baseline: reclaim and swap,
 * get_user_pages pins, mlock, truncation and invalidation, the ptrace
 * forced write, nonlinear mappings, hugetlb (fork, munmap, PMD sharing),
 * driver mappings (PFNMAP and the linearity rule, vm_insert_page,
 * ->nopfn), XIP, and rmap unmapping a page from every process. Every
 * kernel runs the invariant checker and the data oracle at every
 * operation boundary.
 */
import { describe, expect, it } from 'vitest';
import {
  _PAGE_FILE,
  _PAGE_SWP,
  buildKernel,
  EFAULT,
  EINVAL,
  MAP_PRIVATE,
  MAP_SHARED,
  PROT_READ,
  SIGBUS,
  SIGKILL,
  VM_INSERTPAGE,
  VM_IO,
  VM_NONLINEAR,
  VM_PFNMAP,
  VM_SHARED,
} from '../src/index.js';
import {
  expectNoViolations,
  forked,
  GiB,
  mapAt,
  MiB,
  mmOf,
  P,
  PRESSURE,
  pressure,
  pteAt,
  R,
  readOk,
  RW,
  shutdown,
  kernel,
  vmaAt,
  vmstat,
  writeOk,
} from './rest-helpers.js';

describe('swap', () => {
  it('swap-out then fault-in keeps data (anonymous memory larger than RAM)', () => {
    const k = kernel();
    const t = k.spawn();
    const size = 40 * MiB; // RAM is 32 MiB
    mapAt(k, t, R, size);
    // known values on the first 64 pages, written first (so reclaimed first)
    const vals: number[] = [];
    for (let i = 0; i < 64; i++) {
      vals.push(0x5a000000 + i);
      writeOk(k, t, R + i * P, vals[i]!);
    }
    expect(k.touch(t, R + 64 * P, size - 64 * P, true)).toBe(0);
    expect(vmstat(k, 'pswpout')).toBeGreaterThan(0);
    // the first pages went out to swap: swap entries in the PTEs
    expect(pteAt(k, t, R)?.flags).toBe(_PAGE_SWP);
    const majBefore = vmstat(k, 'pgmajfault');
    const inBefore = vmstat(k, 'pswpin');
    for (let i = 0; i < 64; i++) expect(readOk(k, t, R + i * P)).toBe(vals[i]);
    expect(vmstat(k, 'pswpin')).toBeGreaterThan(inBefore);
    expect(vmstat(k, 'pgmajfault')).toBeGreaterThan(majBefore);
    // every other page reads back what touch wrote (the oracle checks each read)
    expect(k.touch(t, R, size, false)).toBe(0);
    expect(vmstat(k, 'oom_kill')).toBe(0);
    expectNoViolations(k);
    shutdown(k);
    expect(k.swap.inuse).toBe(0);
  });
});

describe('get_user_pages pins under reclaim', () => {
  it('a pinned page is never freed and keeps its data; reclaim unmaps it; put_page releases it', () => {
    const k = kernel();
    const t = k.spawn();
    mapAt(k, t, R, 16 * P);
    writeOk(k, t, R + 3 * P, 0xfeed0003);
    const pins = k.getUserPages(t, R + 3 * P, 1, true);
    if (typeof pins === 'number') throw new Error(`gup failed: ${pins}`);
    expect(pins.length).toBe(1);
    const pfn = pins[0]!;
    expect(pteAt(k, t, R + 3 * P)?.val).toBe(pfn);
    expect(k.pages.pinned[pfn]).toBe(1);
    const refBefore = k.pages.count[pfn]!;
    pressure(k, t, PRESSURE, 40 * MiB);
    expect(vmstat(k, 'pswpout')).toBeGreaterThan(0);
    // never freed while pinned, data intact
    expect(k.mem.isAllocated(pfn)).toBe(true);
    expect(k.tokenOf(pfn)).toBe(0xfeed0003);
    expect(k.pages.pinned[pfn]).toBe(1);
    // reclaim unmapped it (2.6.24 does not look at the raised count before
    // try_to_unmap): the PTE is a swap entry, the page sits in the swap cache
    const pte = pteAt(k, t, R + 3 * P);
    expect(pte?.flags).toBe(_PAGE_SWP);
    expect(k.swap.cache[pte!.val]).toBe(pfn);
    expect(k.pages.mapcount[pfn]).toBe(0);
    expect(refBefore).toBe(2); // the PTE's and the pin's
    expect(k.pages.count[pfn]).toBe(2); // the swap cache's and the pin's
    k.putUserPages(pins);
    expect(k.pages.pinned[pfn]).toBe(0);
    // the fault finds it in the swap cache: same frame, same data, no I/O
    const maj = vmstat(k, 'pgmajfault');
    expect(readOk(k, t, R + 3 * P)).toBe(0xfeed0003);
    expect(vmstat(k, 'pgmajfault')).toBe(maj);
    expect(pteAt(k, t, R + 3 * P)?.val).toBe(pfn);
    expectNoViolations(k);
    shutdown(k);
  });
});

describe('get_user_pages pins across exit', () => {
  it('a pinned page outlives its process with its data until put_page frees it', () => {
    const k = kernel();
    const t = k.spawn();
    mapAt(k, t, R, 4 * P);
    writeOk(k, t, R + P, 0x0dead001);
    const pins = k.getUserPages(t, R + P, 1, true);
    if (typeof pins === 'number') throw new Error(`gup failed: ${pins}`);
    const pfn = pins[0]!;
    k.exit(t);
    expect(k.mem.isAllocated(pfn)).toBe(true);
    expect(k.pages.count[pfn]).toBe(1);
    expect(k.pages.mapcount[pfn]).toBe(0);
    expect(k.tokenOf(pfn)).toBe(0x0dead001);
    k.putUserPages(pins);
    expect(k.mem.isAllocated(pfn)).toBe(false);
    expectNoViolations(k);
    shutdown(k);
  });
});

describe('OOM', () => {
  it('without swap, anonymous memory beyond RAM ends in an OOM kill reported as SIGKILL', () => {
    const k = kernel({ swapBytes: 0 });
    const t = k.spawn();
    mapAt(k, t, R, 40 * MiB);
    expect(k.touch(t, R, 40 * MiB, true)).toBe(SIGKILL);
    expect(vmstat(k, 'oom_kill')).toBe(1);
    expect(vmstat(k, 'pswpout')).toBe(0);
    // out_of_memory at the pages_min watermark: the reserve stays free
    expect(k.mem.nrFree).toBe(k.pagesMin);
    expectNoViolations(k);
    shutdown(k);
    expect(k.mem.nrFree).toBeGreaterThan(7000);
  });
});

describe('mlock', () => {
  it('mlocked pages stay resident under memory pressure', () => {
    const k = kernel();
    const t = k.spawn();
    const n = 64;
    mapAt(k, t, R, n * P);
    for (let i = 0; i < n; i++) writeOk(k, t, R + i * P, 0x10c0000 + i);
    expect(k.mlock(t, R, n * P)).toBe(0);
    const frames = Array.from({ length: n }, (_, i) => pteAt(k, t, R + i * P)!.val);
    pressure(k, t, PRESSURE, 40 * MiB);
    expect(vmstat(k, 'pswpout')).toBeGreaterThan(0);
    for (let i = 0; i < n; i++) {
      const pte = pteAt(k, t, R + i * P)!;
      expect(pte.flags & _PAGE_SWP).toBe(0);
      expect(pte.val).toBe(frames[i]);
    }
    const maj = vmstat(k, 'pgmajfault');
    const swpin = vmstat(k, 'pswpin');
    for (let i = 0; i < n; i++) expect(readOk(k, t, R + i * P)).toBe(0x10c0000 + i);
    expect(vmstat(k, 'pgmajfault')).toBe(maj);
    expect(vmstat(k, 'pswpin')).toBe(swpin);
    expect(k.munlock(t, R, n * P)).toBe(0);
    expectNoViolations(k);
    shutdown(k);
  });
});

describe('truncate and invalidate', () => {
  /** A shared writer A and a private mapper B of an 8-page tmpfs file; B COWs pages 1 and 6. */
  function setup() {
    const k = kernel();
    const f = k.shmemCreate('data', 8 * P);
    const a = k.spawn();
    const b = k.spawn();
    mapAt(k, a, R, 8 * P, RW, MAP_SHARED, f);
    mapAt(k, b, R, 8 * P, RW, MAP_PRIVATE, f);
    for (let i = 0; i < 8; i++) writeOk(k, a, R + i * P, 0xf11e0000 + i);
    for (let i = 0; i < 8; i++) expect(readOk(k, b, R + i * P)).toBe(0xf11e0000 + i);
    const cow = k.vm.mmlab_cow_fault;
    writeOk(k, b, R + P, 0xb0b00001);
    writeOk(k, b, R + 6 * P, 0xb0b00006);
    expect(k.vm.mmlab_cow_fault).toBe(cow + 2);
    expect(mmOf(b).anonRss).toBe(2);
    expect(mmOf(b).fileRss).toBe(6);
    return { k, f, a, b };
  }

  it('ftruncate unmaps shared pages beyond EOF and, with even_cows, private COWed copies there too', () => {
    const { k, f, a, b } = setup();
    const cowBelow = pteAt(k, b, R + P)!.val;
    expect(k.ftruncate(f, 4 * P)).toBe(0);
    expect(f.nrpages).toBe(4);
    // every mapping of offsets 4..7 is gone, the private COW copy at 6 included
    for (let i = 4; i < 8; i++) {
      expect(pteAt(k, a, R + i * P)).toEqual({ flags: 0, val: 0 });
      expect(pteAt(k, b, R + i * P)).toEqual({ flags: 0, val: 0 });
    }
    expect(mmOf(b).anonRss).toBe(1);
    const sigbus = k.vm.mmlab_sigbus;
    expect(k.read(a, R + 5 * P).sig).toBe(SIGBUS);
    expect(k.write(a, R + 7 * P, 1)).toBe(SIGBUS);
    expect(k.read(b, R + 6 * P).sig).toBe(SIGBUS);
    expect(k.read(b, R + 4 * P).sig).toBe(SIGBUS);
    expect(k.vm.mmlab_sigbus).toBe(sigbus + 4);
    // below EOF: the private COW page survives with its data, the rest reads the file
    expect(pteAt(k, b, R + P)?.val).toBe(cowBelow);
    expect(readOk(k, b, R + P)).toBe(0xb0b00001);
    expect(readOk(k, b, R + 2 * P)).toBe(0xf11e0002);
    expect(readOk(k, a, R + P)).toBe(0xf11e0001);
    // growing the file again gives zeroed pages, not the old data
    expect(k.ftruncate(f, 8 * P)).toBe(0);
    expect(readOk(k, a, R + 5 * P)).toBe(0);
    expect(readOk(k, b, R + 6 * P)).toBe(0);
    expectNoViolations(k);
    shutdown(k);
  });

  it('invalidate (even_cows 0) keeps private COWed pages and unmaps page-cache pages, which re-fault', () => {
    const { k, f, a, b } = setup();
    const cow1 = pteAt(k, b, R + P)!.val;
    const cow6 = pteAt(k, b, R + 6 * P)!.val;
    const cached = Array.from({ length: 8 }, (_, i) => f.findPage(i));
    k.invalidateMapping(f, 0, 0);
    for (let i = 0; i < 8; i++) expect(pteAt(k, a, R + i * P)).toEqual({ flags: 0, val: 0 });
    expect(pteAt(k, b, R + P)?.val).toBe(cow1);
    expect(pteAt(k, b, R + 6 * P)?.val).toBe(cow6);
    expect(pteAt(k, b, R + 2 * P)).toEqual({ flags: 0, val: 0 });
    expect(mmOf(a).fileRss).toBe(0);
    expect(mmOf(b).fileRss).toBe(0);
    expect(mmOf(b).anonRss).toBe(2);
    // the page cache itself stays
    expect(Array.from({ length: 8 }, (_, i) => f.findPage(i))).toEqual(cached);
    const faults = k.vm.pgfault;
    for (let i = 0; i < 8; i++) expect(readOk(k, a, R + i * P)).toBe(0xf11e0000 + i);
    expect(k.vm.pgfault).toBe(faults + 8);
    expect(readOk(k, b, R + P)).toBe(0xb0b00001);
    expect(readOk(k, b, R + 6 * P)).toBe(0xb0b00006);
    expect(readOk(k, b, R + 2 * P)).toBe(0xf11e0002);
    expect(k.vm.pgfault).toBe(faults + 9);
    expectNoViolations(k);
    shutdown(k);
  });
});

describe('ptrace forced write', () => {
  it('access_process_vm writes into a COW copy in a read-only shared mapping and gives the VMA an anon_vma', () => {
    const k = kernel();
    const f = k.shmemCreate('text', 4 * P);
    const traced = k.spawn();
    const other = k.spawn();
    mapAt(k, traced, R, 4 * P, PROT_READ, MAP_SHARED, f);
    mapAt(k, other, R, 4 * P, RW, MAP_SHARED, f);
    writeOk(k, other, R + P, 0x01d01d01);
    expect(readOk(k, traced, R + P)).toBe(0x01d01d01);
    const vma = vmaAt(traced, R);
    expect(vma.vmFlags & VM_SHARED).toBe(VM_SHARED);
    expect(vma.anonVma).toBeNull();
    const filePage = f.findPage(1);
    const cow = k.vm.mmlab_cow_fault;
    expect(k.accessProcessVm(traced, R + P, 0x0badc0de)).toBe(0x0badc0de);
    expect(k.vm.mmlab_cow_fault).toBe(cow + 1);
    // the traced task sees the poked value in its private copy...
    expect(readOk(k, traced, R + P)).toBe(0x0badc0de);
    expect(k.accessProcessVm(traced, R + P)).toBe(0x0badc0de);
    const copy = pteAt(k, traced, R + P)!.val;
    expect(copy).not.toBe(filePage);
    expect(mmOf(traced).anonRss).toBe(1);
    // ...the file page is unchanged, and another process still reads the file
    expect(f.findPage(1)).toBe(filePage);
    expect(k.tokenOf(filePage)).toBe(0x01d01d01);
    expect(readOk(k, other, R + P)).toBe(0x01d01d01);
    // an anonymous page in a VM_SHARED VMA: the VMA got an anon_vma (Hugh Dickins' case)
    expect(vmaAt(traced, R).vmFlags & VM_SHARED).toBe(VM_SHARED);
    expect(vmaAt(traced, R).anonVma).not.toBeNull();
    expect(mmOf(traced).vmas.some((v) => v.anonVma !== null && (v.vmFlags & VM_SHARED) !== 0)).toBe(true);
    // a later write by the owner of the shared mapping does not reach the copy
    writeOk(k, other, R + P, 0x02d02d02);
    expect(readOk(k, traced, R + P)).toBe(0x0badc0de);
    expect(readOk(k, traced, R + 2 * P)).toBe(0);
    expectNoViolations(k);
    shutdown(k);
  });
});

describe('nonlinear mappings', () => {
  it('remap_file_pages: faults show the remapped pages, fork keeps them, reclaim brings them back right', () => {
    const k = kernel();
    const n = 16;
    const f = k.shmemCreate('db', n * P);
    const t = k.spawn();
    mapAt(k, t, R, n * P, RW, MAP_SHARED, f);
    for (let i = 0; i < n; i++) writeOk(k, t, R + i * P, 0xd8000000 + i);
    // show file pages 12..15 at the first four pages, lazily (MAP_NONBLOCK)
    expect(k.remapFilePages(t, R, 4 * P, 12, 0x10000)).toBe(0);
    const vma = vmaAt(t, R);
    expect(vma.vmFlags & VM_NONLINEAR).toBe(VM_NONLINEAR);
    expect(f.iMmapNonlinear).toContain(vma);
    expect(f.iMmap).not.toContain(vma);
    for (let i = 0; i < 4; i++) expect(pteAt(k, t, R + i * P)).toEqual({ flags: _PAGE_FILE, val: 12 + i });
    const faults = k.vm.pgfault;
    for (let i = 0; i < 4; i++) expect(readOk(k, t, R + i * P)).toBe(0xd8000000 + 12 + i);
    expect(k.vm.pgfault).toBe(faults + 4);
    expect(pteAt(k, t, R)?.val).toBe(f.findPage(12));
    // the rest of the VMA is still linear
    expect(readOk(k, t, R + 5 * P)).toBe(0xd8000005);
    // a write through the nonlinear page lands in file page 13
    writeOk(k, t, R + P, 0x13131313);
    expect(k.tokenOf(f.findPage(13))).toBe(0x13131313);
    // remapping with the populate default
    expect(k.remapFilePages(t, R + 8 * P, 2 * P, 0)).toBe(0);
    expect(pteAt(k, t, R + 8 * P)?.val).toBe(f.findPage(0));
    // fork copies the nonlinear VMA's PTEs (2.6.24 copies VM_NONLINEAR ranges)
    const copied = k.vm.mmlab_fork_pte_copied;
    const c = forked(k, t);
    expect(k.vm.mmlab_fork_pte_copied).toBeGreaterThan(copied);
    expect(vmaAt(c, R).vmFlags & VM_NONLINEAR).toBe(VM_NONLINEAR);
    expect(readOk(k, c, R)).toBe(0xd800000c);
    expect(readOk(k, c, R + P)).toBe(0x13131313);
    expect(readOk(k, c, R + 9 * P)).toBe(0xd8000001);
    // memory pressure from a third process: the file pages go to swap
    const hog = k.spawn();
    pressure(k, hog, PRESSURE, 40 * MiB);
    expect(f.nrswapped).toBeGreaterThan(0);
    const fileptes = [t, c].flatMap((x) => Array.from({ length: n }, (_, i) => pteAt(k, x, R + i * P)!)).filter((p) => p.flags === _PAGE_FILE);
    expect(fileptes.length).toBeGreaterThan(0);
    // and come back with the data each address showed
    // file page 13 was written through the nonlinear address R + P; R + 13P shows it linearly
    const want = (i: number): number => (i === 1 || i === 13 ? 0x13131313 : i < 4 ? 0xd8000000 + 12 + i : i === 8 || i === 9 ? 0xd8000000 + i - 8 : 0xd8000000 + i);
    const swpin = vmstat(k, 'pswpin');
    for (const x of [t, c]) for (let i = 0; i < n; i++) expect(readOk(k, x, R + i * P)).toBe(want(i));
    expect(vmstat(k, 'pswpin')).toBeGreaterThan(swpin);
    expectNoViolations(k);
    shutdown(k);
  });
});

describe('hugetlb', () => {
  const H = 2 * MiB;

  it('fork of a private hugetlb mapping COWs; munmap returns huge pages to the pool; unaligned munmap is -EINVAL', () => {
    const k = kernel({ memBytes: 64 * MiB, hugePages: 8 });
    const hf = k.hugetlbfsCreate('huge');
    const t = k.spawn();
    const free0 = k.metrics().meminfo.HugePages_Free;
    expect(free0).toBe(8);
    mapAt(k, t, R, 2 * H, RW, MAP_PRIVATE, hf);
    writeOk(k, t, R, 0x11110000);
    writeOk(k, t, R + H + 5 * P, 0x11115005);
    expect(k.metrics().meminfo.HugePages_Free).toBe(6);
    expect(k.vm.mmlab_huge_fault).toBe(2);
    const c = forked(k, t);
    // both huge PTEs copied and write-protected, nothing allocated
    expect(k.metrics().meminfo.HugePages_Free).toBe(6);
    const cow = k.vm.mmlab_cow_fault;
    writeOk(k, c, R, 0x22220000);
    expect(k.vm.mmlab_cow_fault).toBe(cow + 1);
    expect(k.metrics().meminfo.HugePages_Free).toBe(5);
    expect(readOk(k, t, R)).toBe(0x11110000);
    expect(readOk(k, c, R)).toBe(0x22220000);
    expect(readOk(k, c, R + H + 5 * P)).toBe(0x11115005);
    // the parent writes its still-shared page: a COW again (count is 2)
    writeOk(k, t, R + H + 5 * P, 0x3333);
    expect(k.vm.mmlab_cow_fault).toBe(cow + 2);
    expect(k.metrics().meminfo.HugePages_Free).toBe(4);
    expect(readOk(k, c, R + H + 5 * P)).toBe(0x11115005);
    // the child's next write to its own copy reuses it
    writeOk(k, c, R + P, 0x2222);
    expect(k.vm.mmlab_cow_fault).toBe(cow + 2);
    // munmap must cover whole huge pages
    expect(k.munmap(c, R + P, P)).toBe(-EINVAL);
    expect(k.munmap(c, R, P)).toBe(-EINVAL);
    expect(k.munmap(c, R + H / 2, H)).toBe(-EINVAL);
    expect(k.mprotect(c, R, P, PROT_READ)).toBe(-EINVAL);
    expect(mmOf(c).vmas.length).toBe(1);
    expect(k.munmap(c, R, 2 * H)).toBe(0);
    expect(k.metrics().meminfo.HugePages_Free).toBe(6);
    expect(k.munmap(t, R, H)).toBe(0);
    expect(k.metrics().meminfo.HugePages_Free).toBe(7);
    expect(readOk(k, t, R + H + 5 * P)).toBe(0x3333);
    k.exit(t);
    expect(k.metrics().meminfo.HugePages_Free).toBe(8);
    expectNoViolations(k);
    shutdown(k);
  });

  it('PMD sharing: processes mapping an aligned GiB of a hugetlbfs file share one PMD table; fork skips the shared entries', () => {
    const k = buildKernel({ memBytes: 3 * GiB, hugePages: 512, check: true });
    const sga = k.hugetlbfsCreate('sga', GiB);
    const G = 2 ** 40; // 1 GiB aligned
    const n = 3;
    const procs = Array.from({ length: n }, () => k.spawn());
    for (const p of procs) mapAt(k, p, G, GiB, RW, MAP_SHARED, sga);
    expect(k.metrics().meminfo.HugePages_Rsvd).toBe(512);
    writeOk(k, procs[0]!, G, 0x5a5a0000);
    writeOk(k, procs[0]!, G + 100 * H, 0x5a5a0100);
    expect(k.metrics().pagetables.pmd).toBe(1);
    for (const p of procs.slice(1)) {
      expect(readOk(k, p, G)).toBe(0x5a5a0000);
      expect(readOk(k, p, G + 100 * H)).toBe(0x5a5a0100);
    }
    expect(k.metrics().pagetables.pmd).toBe(1);
    expect(k.vm.mmlab_huge_pmd_share).toBe(n - 1);
    for (const p of procs) expect(mmOf(p).nrPmds).toBe(1);
    // a page faulted through one sharer is mapped for all (one table)
    writeOk(k, procs[2]!, G + 7 * H, 0x77);
    const faults = k.vm.mmlab_huge_fault;
    expect(readOk(k, procs[1]!, G + 7 * H)).toBe(0x77);
    expect(k.vm.mmlab_huge_fault).toBe(faults);
    // fork of a sharer: the child shares the table too, no entry is copied
    const copied = k.vm.mmlab_fork_pte_copied;
    const child = forked(k, procs[1]!);
    expect(k.vm.mmlab_fork_pte_copied).toBe(copied);
    expect(k.vm.mmlab_huge_pmd_share).toBe(n);
    expect(k.metrics().pagetables.pmd).toBe(1);
    expect(readOk(k, child, G + 100 * H)).toBe(0x5a5a0100);
    // exits keep the table until the last sharer goes
    for (const p of [procs[0]!, child, procs[2]!]) {
      k.exit(p);
      expect(k.metrics().pagetables.pmd).toBe(1);
    }
    expect(readOk(k, procs[1]!, G + 7 * H)).toBe(0x77);
    k.exit(procs[1]!);
    expect(k.metrics().pagetables.pmd).toBe(0);
    // the file keeps its three huge pages until it is unlinked
    expect(sga.nrpages).toBe(3);
    k.shmemUnlink(sga);
    expect(k.metrics().meminfo.HugePages_Free).toBe(512);
    expect(k.metrics().meminfo.HugePages_Rsvd).toBe(0);
    expectNoViolations(k);
    shutdown(k);
  });
});

describe('driver mappings', () => {
  it('PFNMAP COW follows the linearity rule', () => {
    const k = kernel();
    const n = 16;
    const dev = k.deviceCreate('fb', n * P, 'pfnmap');
    const base = dev.device!.basePfn;
    expect(k.mem.pfnValid(base)).toBe(false);
    // the device's contents, written through a shared mapping
    const w = k.spawn();
    mapAt(k, w, R, n * P, RW, MAP_SHARED, dev);
    for (let i = 0; i < n; i++) writeOk(k, w, R + i * P, 0xdef00000 + i);
    expect(k.tokenOf(base + 3)).toBe(0xdef00003);
    const t = k.spawn();
    mapAt(k, t, R, n * P, RW, MAP_PRIVATE, dev);
    const vma = vmaAt(t, R);
    expect(vma.vmFlags & (VM_PFNMAP | VM_IO)).toBe(VM_PFNMAP | VM_IO);
    // remap_pfn_range gave the COW mapping vm_pgoff = first pfn, and mapped every page at mmap time
    expect(vma.vmPgoff).toBe(base);
    for (let i = 0; i < n; i++) expect(pteAt(k, t, R + i * P)?.val).toBe(base + i);
    expect(mmOf(t).anonRss + mmOf(t).fileRss).toBe(0);
    expect(readOk(k, t, R + 3 * P)).toBe(0xdef00003);
    // a write COWs the raw pfn into an anonymous page
    const cow = k.vm.mmlab_cow_fault;
    writeOk(k, t, R + 3 * P, 0xc0c0c0c3);
    expect(k.vm.mmlab_cow_fault).toBe(cow + 1);
    expect(mmOf(t).anonRss).toBe(1);
    expect(vma.anonVma).not.toBeNull();
    const copy = pteAt(k, t, R + 3 * P)!.val;
    expect(copy).not.toBe(base + 3);
    expect(k.mem.pfnValid(copy)).toBe(true);
    // vm_normal_page: 0 for linear raw pfns, the page for the COWed copy
    const f = pteAt(k, t, R + 3 * P)!.flags;
    expect(k.seams.vmNormalPage(k, vma, R + 3 * P, f, copy)).toBe(copy);
    expect(k.seams.vmNormalPage(k, vma, R + 4 * P, f, base + 4)).toBe(0);
    expect(k.seams.vmNormalPage(k, vma, R, f, base)).toBe(0);
    // the device itself is unchanged
    expect(k.tokenOf(base + 3)).toBe(0xdef00003);
    expect(readOk(k, w, R + 3 * P)).toBe(0xdef00003);
    expect(readOk(k, t, R + 3 * P)).toBe(0xc0c0c0c3);
    // fork copies every PFNMAP PTE (2.6.24 copies VM_PFNMAP ranges)
    const copied = k.vm.mmlab_fork_pte_copied;
    const c = forked(k, t);
    expect(k.vm.mmlab_fork_pte_copied).toBe(copied + n);
    expect(pteAt(k, c, R + 5 * P)?.val).toBe(base + 5);
    expect(pteAt(k, c, R + 3 * P)?.val).toBe(copy);
    expect(k.pages.mapcount[copy]).toBe(2);
    expect(readOk(k, c, R + 3 * P)).toBe(0xc0c0c0c3);
    expect(readOk(k, c, R + 5 * P)).toBe(0xdef00005);
    writeOk(k, c, R + 3 * P, 0xc1);
    expect(readOk(k, t, R + 3 * P)).toBe(0xc0c0c0c3);
    // get_user_pages refuses VM_PFNMAP / VM_IO
    expect(k.getUserPages(t, R, 1, false)).toBe(-EFAULT);
    expect(k.getUserPages(t, R + 3 * P, 1, false)).toBe(-EFAULT);
    expect(k.getUserPages(w, R, 1, true)).toBe(-EFAULT);
    expect(k.directIo(t, R, 2, true)).toBe(-EFAULT);
    // a shared mapping is not COW: its write went to the device
    expect(vmaAt(w, R).vmPgoff).toBe(0);
    expectNoViolations(k);
    shutdown(k);
  });

  it('vm_insert_page and ->nopfn devices are mapped, read and written', () => {
    const k = kernel();
    const ip = k.deviceCreate('ring', 4 * P, 'insertpage');
    const np = k.deviceCreate('spu', 4 * P, 'nopfn');
    const a = k.spawn();
    const b = k.spawn();
    // vm_insert_page: the driver's pages are inserted at mmap time
    mapAt(k, a, R, 4 * P, RW, MAP_SHARED, ip);
    expect(vmaAt(a, R).vmFlags & VM_INSERTPAGE).toBe(VM_INSERTPAGE);
    expect(mmOf(a).fileRss).toBe(4);
    const drv = ip.device!.pages!;
    for (let i = 0; i < 4; i++) expect(pteAt(k, a, R + i * P)?.val).toBe(drv[i]);
    writeOk(k, a, R + 2 * P, 0x1e5e0002);
    expect(k.tokenOf(drv[2]!)).toBe(0x1e5e0002);
    mapAt(k, b, R, 4 * P, RW, MAP_SHARED, ip);
    expect(readOk(k, b, R + 2 * P)).toBe(0x1e5e0002);
    expect(k.pages.mapcount[drv[2]!]).toBe(2);
    // fork copies VM_INSERTPAGE ranges
    const copied = k.vm.mmlab_fork_pte_copied;
    const c = forked(k, a);
    expect(k.vm.mmlab_fork_pte_copied).toBe(copied + 4);
    expect(readOk(k, c, R + 2 * P)).toBe(0x1e5e0002);
    k.exit(c);
    // ->nopfn: raw pfns inserted at fault time; a private mapping is refused
    expect(k.mmap(a, R + 16 * P, 4 * P, RW, MAP_PRIVATE | 0x10, np)).toBe(-EINVAL);
    mapAt(k, a, R + 16 * P, 4 * P, RW, MAP_SHARED, np);
    expect(vmaAt(a, R + 16 * P).vmFlags & (VM_PFNMAP | VM_IO)).toBe(VM_PFNMAP | VM_IO);
    expect(pteAt(k, a, R + 17 * P)).toEqual({ flags: 0, val: 0 });
    writeOk(k, a, R + 17 * P, 0x0f0f0001);
    const base = np.device!.basePfn;
    expect(pteAt(k, a, R + 17 * P)?.val).toBe(base + 1);
    expect(k.tokenOf(base + 1)).toBe(0x0f0f0001);
    expect(mmOf(a).anonRss).toBe(0);
    expect(mmOf(a).fileRss).toBe(4);
    mapAt(k, b, R + 16 * P, 4 * P, PROT_READ, MAP_SHARED, np);
    expect(readOk(k, b, R + 17 * P)).toBe(0x0f0f0001);
    expect(readOk(k, b, R + 18 * P)).toBe(0);
    expect(k.getUserPages(b, R + 17 * P, 1, false)).toBe(-EFAULT);
    expectNoViolations(k);
    shutdown(k);
  });

  it('XIP: files in an image covered by struct pages, mapped shared and private', () => {
    const base = buildKernel({ memBytes: 32 * MiB, check: true });
    const ramMemmap = Math.ceil(((32 * MiB) / P) * 56 / 4096);
    expect(ramMemmap).toBe(112);
    expect(base.vm.nr_memmap_pages).toBe(ramMemmap);
    // 2.6.24 get_xip_page needs struct page for the image: whole 128 MiB sections of memmap
    const perSection = (32768 * 56) / 4096;
    expect(perSection).toBe(448);
    for (const [xipBytes, sections] of [
      [8 * MiB, 1],
      [128 * MiB, 1],
      [129 * MiB, 2],
    ] as const) {
      const kx = buildKernel({ memBytes: 32 * MiB, xipBytes, check: true });
      expect(kx.vm.nr_memmap_pages).toBe(ramMemmap + sections * perSection);
      expect(kx.metrics().meminfo.Memmap).toBe((ramMemmap + sections * perSection) * 4);
    }
    const k = kernel({ xipBytes: 8 * MiB });
    const x = k.xipFileCreate('lib.so', 8 * P);
    const pfn0 = x.xipBase;
    expect(pfn0).toBeGreaterThanOrEqual(k.mem.nrFrames);
    expect(k.mem.pfnValid(pfn0)).toBe(true);
    const a = k.spawn();
    const b = k.spawn();
    mapAt(k, a, R, 8 * P, RW, MAP_SHARED, x);
    mapAt(k, b, R, 8 * P, RW, MAP_PRIVATE, x);
    expect(readOk(k, a, R + P)).toBe(0);
    expect(pteAt(k, a, R + P)?.val).toBe(pfn0 + 1);
    writeOk(k, a, R + P, 0x71900001);
    // the write went straight into the image
    expect(k.tokenOf(pfn0 + 1)).toBe(0x71900001);
    expect(readOk(k, b, R + P)).toBe(0x71900001);
    expect(pteAt(k, b, R + P)?.val).toBe(pfn0 + 1);
    // a private write copies the image page
    const cow = k.vm.mmlab_cow_fault;
    writeOk(k, b, R + P, 0xb0000001);
    expect(k.vm.mmlab_cow_fault).toBe(cow + 1);
    expect(pteAt(k, b, R + P)?.val).toBeLessThan(k.mem.nrFrames);
    expect(readOk(k, a, R + P)).toBe(0x71900001);
    expect(readOk(k, b, R + P)).toBe(0xb0000001);
    expect(mmOf(a).fileRss).toBe(1);
    expect(mmOf(b).anonRss).toBe(1);
    // beyond the file: SIGBUS
    mapAt(k, a, R + 16 * P, 16 * P, PROT_READ, MAP_SHARED, x);
    expect(k.read(a, R + 24 * P).sig).toBe(SIGBUS);
    expectNoViolations(k);
    shutdown(k);
    shutdown(base);
  });
});

describe('rmap', () => {
  it('reclaim of anonymous pages mapped by several processes unmaps them from all', () => {
    const k = kernel();
    const n = 256;
    const parent = k.spawn();
    mapAt(k, parent, R, n * P);
    for (let i = 0; i < 8; i++) writeOk(k, parent, R + i * P, 0xa0000000 + i);
    expect(k.touch(parent, R + 8 * P, (n - 8) * P, true)).toBe(0);
    const kids = [forked(k, parent), forked(k, parent), forked(k, parent)];
    const all = [parent, ...kids];
    // one child writes its own copy of page 1 (the others keep sharing the original)
    writeOk(k, kids[0]!, R + P, 0xc1c1c1c1);
    const shared = pteAt(k, parent, R)!.val;
    expect(k.pages.mapcount[shared]).toBe(4);
    expect(k.anonVmas.get(k.pages.mapping[shared]!)?.vmas.length).toBe(4);
    const hog = k.spawn();
    pressure(k, hog, PRESSURE, 40 * MiB);
    expect(vmstat(k, 'pswpout')).toBeGreaterThan(0);
    // try_to_unmap walked the anon_vma: page 0 is a swap entry in all four, the same slot
    const ptes = all.map((x) => pteAt(k, x, R)!);
    for (const p of ptes) expect(p.flags).toBe(_PAGE_SWP);
    const slot = ptes[0]!.val;
    for (const p of ptes) expect(p.val).toBe(slot);
    expect(k.swap.map[slot]).toBe(4);
    // written out and freed: the slot is no longer in the swap cache
    expect(k.swap.cache[slot]).toBe(0);
    expect(k.swap.data[slot]).toBe(0xa0000000);
    // every process reads its own data back
    const maj = vmstat(k, 'pgmajfault');
    for (const x of all) {
      expect(readOk(k, x, R)).toBe(0xa0000000);
      expect(readOk(k, x, R + P)).toBe(x === kids[0] ? 0xc1c1c1c1 : 0xa0000001);
      for (let i = 2; i < 8; i++) expect(readOk(k, x, R + i * P)).toBe(0xa0000000 + i);
      expect(k.touch(x, R, n * P, false)).toBe(0);
    }
    expect(vmstat(k, 'pgmajfault')).toBeGreaterThan(maj);
    // one read from swap served all four: the swap cache
    const page = pteAt(k, parent, R)!.val;
    for (const x of all) expect(pteAt(k, x, R)?.val).toBe(page);
    expect(k.pages.mapcount[page]).toBe(4);
    expectNoViolations(k);
    shutdown(k);
  });
});
