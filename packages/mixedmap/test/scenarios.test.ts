/**
 * Scenarios for every `vm_normal_page` rule of the series, on x86-64 (the
 * PTE format has the special bit) and on the s390-like profile (it has
 * not, so the VM_MIXEDMAP / VM_PFNMAP rules apply), and COW in VM_PFNMAP
 * and VM_MIXEDMAP mappings. Every kernel runs the checker and the data
 * oracle at each operation boundary and ends with everything gone.
 */
import { describe, expect, it } from 'vitest';
import {
  _PAGE_PRESENT,
  _PAGE_SPECIAL,
  _PAGE_USER,
  buildKernel,
  EFAULT,
  type Kernel,
  MAP_PRIVATE,
  MAP_SHARED,
  PROT_READ,
  type Task,
  VM_MIXEDMAP,
  VM_PFNMAP,
} from '@mmlab/core';
import { mixedDevFileType, xipFileType } from '../src/index.js';
import { counters, expectClean, kernel, mapAt, MiB, P, PROFILES, pteAt, R, RW } from './helpers.js';

/** Every process exits, the kernel finishes, and nothing was violated or leaked. */
function shutdown(k: Kernel, ...tasks: Task[]): void {
  for (const t of tasks) k.exit(t);
  k.finish();
  expectClean(k);
}

/** What each profile's PTEs look like for a raw pfn: special where the bit exists and is in use. */
const bitOn = (machine: string, special = true): boolean => special && machine === 'x86-64';

describe.each(PROFILES)('on %s', (machine) => {
  describe('vm_normal_page rules, asked directly', () => {
    it('with the bit: a special PTE has no page in any VMA, another PTE has its page; without: the VMA decides', () => {
      const k = kernel(machine);
      const t = k.spawn();
      const dev = k.fileCreate(mixedDevFileType(k)!, 'mix', 4 * P);
      const mixed = mapAt(k, t, R, 4 * P, RW, MAP_SHARED, dev);
      const anon = mapAt(k, t, R + 2 * MiB, P, RW, MAP_PRIVATE | 0x20);
      expect(mixed.vmFlags & VM_MIXEDMAP).toBe(VM_MIXEDMAP);
      const ram = 100;
      const raw = k.mem.nrFrames + 40_000;
      const vmNormalPage = (vma: typeof mixed, flags: number, pfn: number): number => k.seams.vmNormalPage(k, vma, vma.vmStart, flags, pfn);
      const present = _PAGE_PRESENT | _PAGE_USER;
      if (bitOn(machine)) {
        // pte_special: the bit alone decides, whatever the VMA or the pfn
        expect(vmNormalPage(mixed, present | _PAGE_SPECIAL, ram)).toBe(0);
        expect(vmNormalPage(anon, present | _PAGE_SPECIAL, ram)).toBe(0);
        expect(vmNormalPage(mixed, present, ram)).toBe(ram);
      } else {
        // VM_MIXEDMAP refcounts exactly the pfn_valid pfns
        expect(vmNormalPage(mixed, present, ram)).toBe(ram);
        expect(vmNormalPage(mixed, present, raw)).toBe(0);
        expect(k.mem.pfnValid(raw)).toBe(false);
      }
      // a normal VMA: its page (2.6.24's fast path)
      expect(vmNormalPage(anon, present, ram)).toBe(ram);
      expect(k.invariants.violations).toEqual([]);
      k.shmemUnlink(dev);
      shutdown(k, t);
    });

    it('VM_PFNMAP: the linearity rule tells raw pfns from COWed pages where the bit is missing', () => {
      const k = kernel(machine);
      const t = k.spawn();
      const fb = k.deviceCreate('fb', 4 * P, 'pfnmap');
      const vma = mapAt(k, t, R, 4 * P, RW, MAP_PRIVATE, fb);
      expect(vma.vmFlags & VM_PFNMAP).toBe(VM_PFNMAP);
      const base = vma.vmPgoff;
      const present = _PAGE_PRESENT | _PAGE_USER;
      // the raw pfn at its linear place: no page, with or without the bit
      expect(k.seams.vmNormalPage(k, vma, R + P, present | (bitOn(machine) ? _PAGE_SPECIAL : 0), base + 1)).toBe(0);
      // a RAM page where the raw pfn would be: a COWed page
      expect(k.seams.vmNormalPage(k, vma, R + P, present, 200)).toBe(200);
      shutdown(k, t);
    });
  });

  describe('pte_special on raw pfns', () => {
    it('remap_pfn_range and do_no_pfn write special PTEs where the profile has the bit', () => {
      const k = kernel(machine);
      const t = k.spawn();
      const fb = k.deviceCreate('fb', 4 * P, 'pfnmap');
      const spu = k.deviceCreate('spu', 4 * P, 'nopfn');
      mapAt(k, t, R, 4 * P, RW, MAP_SHARED, fb);
      mapAt(k, t, R + 2 * MiB, 4 * P, RW, MAP_SHARED, spu);
      expect(k.touch(t, R, 4 * P, true)).toBe(0);
      expect(k.touch(t, R + 2 * MiB, 4 * P, true)).toBe(0);
      for (const addr of [R, R + 3 * P, R + 2 * MiB, R + 2 * MiB + 3 * P]) {
        expect((pteAt(k, t, addr)!.flags & _PAGE_SPECIAL) !== 0, `0x${addr.toString(16)}`).toBe(bitOn(machine));
      }
      expect(counters(k).special_ptes).toBe(bitOn(machine) ? 8 : 0);
      expect(counters(k).pte_special).toBe(bitOn(machine) ? 1 : 0);
      // a raw pfn is never refcounted: no RSS for it
      expect(k.metrics().procs[0]!.RssFile_kB).toBe(0);
      shutdown(k, t);
    });

    it('special=false: no PTE carries the bit, the VMA rules apply', () => {
      const k = kernel(machine, { special: false });
      const t = k.spawn();
      mapAt(k, t, R, 4 * P, RW, MAP_SHARED, k.deviceCreate('fb', 4 * P, 'pfnmap'));
      expect(k.touch(t, R, 4 * P, false)).toBe(0);
      expect(pteAt(k, t, R)!.flags & _PAGE_SPECIAL).toBe(0);
      expect(counters(k).special_ptes).toBe(0);
      shutdown(k, t);
    });
  });

  describe('VM_MIXEDMAP: RAM and device memory in one mapping', () => {
    it('refcounts exactly the pfn_valid pages without the bit; with it, every inserted pfn is special', () => {
      const k = kernel(machine);
      const t = k.spawn();
      const dev = k.fileCreate(mixedDevFileType(k)!, 'mix', 4 * P);
      mapAt(k, t, R, 4 * P, RW, MAP_SHARED, dev);
      expect(k.touch(t, R, 4 * P, true)).toBe(0);
      const ram = pteAt(k, t, R)!;
      const nv = pteAt(k, t, R + P)!;
      expect(k.mem.pfnValid(ram.pfn)).toBe(true);
      expect(k.mem.pfnValid(nv.pfn)).toBe(false);
      if (bitOn(machine)) {
        // vm_insert_mixed with pte_special: insert_pfn for both, no reference, no RSS
        expect(ram.flags & _PAGE_SPECIAL).toBe(_PAGE_SPECIAL);
        expect(nv.flags & _PAGE_SPECIAL).toBe(_PAGE_SPECIAL);
        expect(k.pages.count[ram.pfn]).toBe(1);
        expect(k.pages.mapcount[ram.pfn]).toBe(0);
      } else {
        // insert_page for the RAM page: the driver's reference and the PTE's
        expect(k.pages.count[ram.pfn]).toBe(2);
        expect(k.pages.mapcount[ram.pfn]).toBe(1);
        expect(nv.flags & _PAGE_SPECIAL).toBe(0);
      }
      expect(counters(k).mixed_dev_faults).toBe(4);
      // RSS counts the refcounted pages only: the two RAM pages without the bit, nothing with it
      expect(k.metrics().procs[0]!.RssFile_kB).toBe(bitOn(machine) ? 0 : 8);
      // the data stays where it was written, RAM or device memory
      expect(k.write(t, R + P, 0xbeef)).toBe(0);
      expect(k.tokenOf(nv.pfn)).toBe(0xbeef);
      // fork of a VM_MIXEDMAP VMA without anon_vma: the child faults its own PTEs
      const c = k.fork(t);
      if (typeof c === 'number') throw new Error(`fork: ${c}`);
      expect(pteAt(k, c, R)).toBeNull();
      expect(k.read(c, R + P)).toEqual({ sig: 0, value: 0xbeef });
      expect(k.munmap(t, R, 4 * P)).toBe(0);
      k.shmemUnlink(dev);
      shutdown(k, c, t);
    });

    it('COW in a private VM_MIXEDMAP mapping: RAM and device pages are copied into anonymous pages', () => {
      const k = kernel(machine);
      const t = k.spawn();
      const dev = k.fileCreate(mixedDevFileType(k)!, 'mix', 4 * P);
      // the shared view writes the contents the private view starts from
      mapAt(k, t, R + 2 * MiB, 4 * P, RW, MAP_SHARED, dev);
      for (let i = 0; i < 4; i++) expect(k.write(t, R + 2 * MiB + i * P, 0x100 + i)).toBe(0);
      mapAt(k, t, R, 4 * P, RW, MAP_PRIVATE, dev);
      expect(k.touch(t, R, 4 * P, false)).toBe(0);
      const before = [0, 1].map((i) => pteAt(k, t, R + i * P)!.pfn);
      const cows = k.vm.mmlab_cow_fault;
      for (let i = 0; i < 4; i++) expect(k.write(t, R + i * P, 0x200 + i)).toBe(0);
      expect(k.vm.mmlab_cow_fault - cows).toBe(4);
      for (let i = 0; i < 4; i++) {
        const now = pteAt(k, t, R + i * P)!;
        expect(now.flags & _PAGE_SPECIAL).toBe(0);
        expect(k.pages.flags[now.pfn]! & (1 << 20)).not.toBe(0);
        // the device's copy is untouched
        expect(k.read(t, R + 2 * MiB + i * P)).toEqual({ sig: 0, value: 0x100 + i });
      }
      // the RAM page lost the private PTE's reference (if it had one)
      expect(k.pages.count[before[0]!]).toBe(bitOn(machine) ? 1 : 2);
      const c = k.fork(t);
      if (typeof c === 'number') throw new Error(`fork: ${c}`);
      expect(k.read(c, R + 3 * P)).toEqual({ sig: 0, value: 0x203 });
      expect(k.write(c, R + 3 * P, 0x999)).toBe(0);
      expect(k.read(t, R + 3 * P)).toEqual({ sig: 0, value: 0x203 });
      k.shmemUnlink(dev);
      shutdown(k, c, t);
    });
  });

  describe('COW in VM_PFNMAP', () => {
    it('a private remap_pfn_range mapping: writes COW into anonymous pages, fork and zap tell them from the raw pfns', () => {
      const k = kernel(machine);
      const t = k.spawn();
      const fb = k.deviceCreate('fb', 4 * P, 'pfnmap');
      mapAt(k, t, R, 4 * P, RW, MAP_PRIVATE, fb);
      expect(k.read(t, R)).toEqual({ sig: 0, value: 0 });
      const raw = pteAt(k, t, R + P)!;
      expect((raw.flags & _PAGE_SPECIAL) !== 0).toBe(bitOn(machine));
      expect(k.write(t, R + P, 0x77)).toBe(0);
      const cow = pteAt(k, t, R + P)!;
      expect(cow.pfn).not.toBe(raw.pfn);
      expect(cow.flags & _PAGE_SPECIAL).toBe(0);
      expect(k.seams.vmNormalPage(k, t.mm!.vmas.find((v) => v.vmStart === R)!, R + P, cow.flags, cow.pfn)).toBe(cow.pfn);
      // the device keeps its contents
      expect(k.tokenOf(raw.pfn)).toBe(0);
      const c = k.fork(t);
      if (typeof c === 'number') throw new Error(`fork: ${c}`);
      expect(k.read(c, R + P)).toEqual({ sig: 0, value: 0x77 });
      expect(k.pages.mapcount[cow.pfn]).toBe(2);
      expect(k.write(c, R + P, 0x78)).toBe(0);
      expect(k.read(t, R + P)).toEqual({ sig: 0, value: 0x77 });
      expect(k.munmap(t, R, 4 * P)).toBe(0);
      shutdown(k, c, t);
    });
  });

  describe('XIP without struct pages', () => {
    it('the image has no memmap; reads map its raw pfns through VM_MIXEDMAP; private writes COW', () => {
      const k = kernel(machine);
      const plain = buildKernel({ machine, memBytes: 32 * MiB, xipBytes: 4 * MiB });
      expect(k.mem.pfnValid(k.mem.xipBase)).toBe(false);
      expect(plain.vm.nr_memmap_pages - k.vm.nr_memmap_pages).toBe((32768 * 56) / 4096);
      expect(counters(k).xip_memmap_pages).toBe(0);
      const f = k.fileCreate(xipFileType(k)!, 'libc.so', 8 * P);
      const t = k.spawn();
      const text = mapAt(k, t, R, 8 * P, PROT_READ, MAP_PRIVATE, f);
      expect(text.vmFlags & VM_MIXEDMAP).toBe(VM_MIXEDMAP);
      expect(k.touch(t, R, 8 * P, false)).toBe(0);
      const pte = pteAt(k, t, R + 2 * P)!;
      expect(pte.pfn).toBe(k.mem.xipBase + 2);
      expect((pte.flags & _PAGE_SPECIAL) !== 0).toBe(bitOn(machine));
      expect(counters(k).xip_faults).toBe(8);
      expect(k.metrics().procs[0]!.RssFile_kB).toBe(0);
      // a writable private mapping of the same file (relocations): COW into anonymous pages
      const data = R + 2 * MiB;
      mapAt(k, t, data, 8 * P, RW, MAP_PRIVATE, f);
      expect(k.write(t, data + P, 0xabc)).toBe(0);
      const copy = pteAt(k, t, data + P)!;
      expect(k.mem.pfnValid(copy.pfn)).toBe(true);
      expect(k.read(t, R + P)).toEqual({ sig: 0, value: 0 });
      expect(k.tokenOf(k.mem.xipBase + 1)).toBe(0);
      // a shared writable mapping writes the image itself
      mapAt(k, t, data + 2 * MiB, 8 * P, RW, MAP_SHARED, f);
      expect(k.write(t, data + 2 * MiB + 5 * P, 0x55)).toBe(0);
      expect(k.tokenOf(k.mem.xipBase + 5)).toBe(0x55);
      expect(k.read(t, R + 5 * P)).toEqual({ sig: 0, value: 0x55 });
      // get_user_pages cannot pin a raw pfn: -EFAULT, not a fault loop
      expect(k.directIo(t, R, 1, false)).toBe(-EFAULT);
      expect(k.directIo(t, data + P, 1, false)).toBe(1);
      const c = k.fork(t);
      if (typeof c === 'number') throw new Error(`fork: ${c}`);
      expect(k.read(c, data + P)).toEqual({ sig: 0, value: 0xabc });
      expect(k.read(c, R + 5 * P)).toEqual({ sig: 0, value: 0x55 });
      shutdown(k, c, t);
    });

    it("xip=false keeps the core's XIP with its memmap; the feature registers no xip file type", () => {
      const k = kernel(machine, { xip: false });
      expect(xipFileType(k)).toBeNull();
      expect(k.mem.pfnValid(k.mem.xipBase)).toBe(true);
      expect(counters(k).xip_memmap_pages).toBeGreaterThan(0);
      const f = k.xipFileCreate('libc.so', 4 * P);
      const t = k.spawn();
      mapAt(k, t, R, 4 * P, PROT_READ, MAP_PRIVATE, f);
      expect(k.touch(t, R, 4 * P, false)).toBe(0);
      expect(k.pages.mapcount[f.xipBase]).toBe(1);
      shutdown(k, t);
    });

    it('a file larger than what is left of the image is refused, naming the sizes', () => {
      const k = kernel(machine);
      expect(() => k.fileCreate(xipFileType(k)!, 'big', 8 * MiB)).toThrow('XIP image of 1024 pages has no room for big (2048 pages; build the kernel with a larger xipBytes)');
    });
  });
});
