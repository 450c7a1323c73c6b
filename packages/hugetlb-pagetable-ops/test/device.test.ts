/**
 * The series' character device: huge pages from the pool without
 * hugetlbfs, reached only through the device's table of operations. Each
 * scenario runs with the checker on, on every machine profile.
 */
import { describe, expect, it } from 'vitest';
import {
  EINVAL,
  KernelConfigError,
  MAP_PRIVATE,
  MAP_SHARED,
  PAGE_SIZE,
  PROT_READ,
  PROT_WRITE,
  SIGSEGV,
  listMachines,
  type Kernel,
  type Task,
} from '@mmlab/core';
import { hugepagesDeviceCreate, hugepagesDeviceOps, pagetableOps } from '../src/index.js';
import { H, MiB, counters, kernelWith } from './helpers.js';

const RW = PROT_READ | PROT_WRITE;

function free(k: Kernel): number {
  return k.metrics().meminfo.HugePages_Free ?? -1;
}

function done(k: Kernel): void {
  k.finish();
  expect(k.invariants.violations).toEqual([]);
  expect(k.invariants.checks).toBeGreaterThan(0);
}

describe('without the feature', () => {
  it('creating the device fails, naming the feature it needs', () => {
    const k = kernelWith(false, { hugePages: 4 });
    expect(() => hugepagesDeviceCreate(k, 'hugepages0', 4 * H)).toThrow(KernelConfigError);
    expect(() => hugepagesDeviceCreate(k, 'hugepages0', 4 * H)).toThrow("hugepages device 'hugepages0' needs the feature 'hugetlb-pagetable-ops'");
  });

  it('with the feature, a size that is not whole huge pages is refused', () => {
    const k = kernelWith(true, { hugePages: 4 });
    expect(() => hugepagesDeviceCreate(k, 'hp', H + PAGE_SIZE)).toThrow('hugepages device size must be a positive multiple of 2 MiB');
  });
});

describe.each(listMachines())('the hugepages device on %s', (machine) => {
  const opts = { machine, memBytes: 128 * MiB, hugePages: 16 };

  it('fault: a private mapping gets zeroed huge pages from the pool, a shared one keeps them in the device', () => {
    const k = kernelWith(true, opts);
    const dev = hugepagesDeviceCreate(k, 'hugepages0', 8 * H);
    const t = k.spawn();
    const p = k.mmap(t, 0, 4 * H, RW, MAP_PRIVATE, dev);
    expect(p % H).toBe(0);
    const s = k.mmap(t, 0, 2 * H, RW, MAP_SHARED, dev, 4 * H);
    expect(s % H).toBe(0);
    const vma = t.mm!.vmas.find((v) => v.vmStart === p)!;
    expect(pagetableOps(k, vma)).toBe(hugepagesDeviceOps);
    expect(k.read(t, p + 5 * PAGE_SIZE)).toEqual({ sig: 0, value: 0 });
    expect(k.write(t, p + H + 9 * PAGE_SIZE, 0xabc)).toBe(0);
    expect(k.read(t, p + H + 9 * PAGE_SIZE)).toEqual({ sig: 0, value: 0xabc });
    expect(k.write(t, s, 0xdef)).toBe(0);
    expect(free(k)).toBe(13);
    expect(dev.nrpages).toBe(1); // only the shared page is cached
    // another process sees the shared page, not the private ones
    const u = k.spawn();
    const s2 = k.mmap(u, 0, 2 * H, PROT_READ, MAP_SHARED, dev, 4 * H);
    expect(k.read(u, s2)).toEqual({ sig: 0, value: 0xdef });
    // beyond the device: -EINVAL at mmap
    expect(k.mmap(t, 0, 2 * H, RW, MAP_PRIVATE, dev, 8 * H)).toBe(-EINVAL);
    const c = counters(k);
    expect(c.device_maps).toBe(3);
    expect(c.fault).toBeGreaterThan(0);
    k.exit(u);
    k.exit(t);
    expect(free(k)).toBe(15);
    k.shmemUnlink(dev);
    expect(free(k)).toBe(16);
    done(k);
  });

  it('fork: the child copies the table pointer and the huge PTEs; a write breaks COW', () => {
    const k = kernelWith(true, opts);
    const dev = hugepagesDeviceCreate(k, 'hugepages0', 4 * H);
    const t = k.spawn();
    const p = k.mmap(t, 0, 2 * H, RW, MAP_PRIVATE, dev);
    expect(k.write(t, p, 0x11)).toBe(0);
    expect(k.write(t, p + H, 0x12)).toBe(0);
    const c = k.fork(t) as Task;
    expect(typeof c).toBe('object');
    const cv = c.mm!.vmas.find((v) => v.vmStart === p)!;
    expect(pagetableOps(k, cv)).toBe(hugepagesDeviceOps);
    expect(counters(k).copy_vma).toBeGreaterThan(0);
    expect(free(k)).toBe(14);
    expect(k.write(c, p, 0x21)).toBe(0);
    expect(free(k)).toBe(13);
    expect(k.read(t, p).value).toBe(0x11);
    expect(k.read(c, p).value).toBe(0x21);
    expect(k.read(c, p + H).value).toBe(0x12);
    k.exit(c);
    k.exit(t);
    expect(free(k)).toBe(16);
    k.shmemUnlink(dev);
    done(k);
  });

  it('munmap: whole huge pages only; the pages go back to the pool', () => {
    const k = kernelWith(true, opts);
    const dev = hugepagesDeviceCreate(k, 'hugepages0', 4 * H);
    const t = k.spawn();
    const p = k.mmap(t, 0, 4 * H, RW, MAP_PRIVATE, dev);
    for (let i = 0; i < 4; i++) expect(k.write(t, p + i * H, i)).toBe(0);
    expect(free(k)).toBe(12);
    expect(k.munmap(t, p + PAGE_SIZE, H)).toBe(-EINVAL);
    expect(k.munmap(t, p + H, 2 * H)).toBe(0);
    expect(free(k)).toBe(14);
    expect(k.read(t, p + H).sig).toBe(SIGSEGV);
    expect(k.read(t, p + 3 * H).value).toBe(3);
    expect(counters(k).unmap_page_range).toBeGreaterThan(0);
    expect(counters(k).free_pgtable_range).toBeGreaterThan(0);
    k.exit(t);
    expect(free(k)).toBe(16);
    k.shmemUnlink(dev);
    done(k);
  });

  it('mprotect: read-only huge pages refuse writes until made writable again', () => {
    const k = kernelWith(true, opts);
    const dev = hugepagesDeviceCreate(k, 'hugepages0', 4 * H);
    const t = k.spawn();
    const p = k.mmap(t, 0, 4 * H, RW, MAP_SHARED, dev);
    expect(k.write(t, p + H, 0x31)).toBe(0);
    expect(k.mprotect(t, p + H, H, PROT_READ)).toBe(0);
    expect(k.mprotect(t, p, PAGE_SIZE, PROT_READ)).toBe(-EINVAL);
    expect(k.write(t, p + H, 0x32)).toBe(SIGSEGV);
    expect(k.read(t, p + H).value).toBe(0x31);
    expect(k.mprotect(t, p + H, H, RW)).toBe(0);
    expect(k.write(t, p + H, 0x33)).toBe(0);
    expect(counters(k).change_protection).toBe(2);
    for (const v of t.mm!.vmas) if (v.vmFile === dev) expect(pagetableOps(k, v)).toBe(hugepagesDeviceOps);
    k.exit(t);
    k.shmemUnlink(dev);
    done(k);
  });

  it('get_user_pages: direct I/O and access_process_vm pin and fault through pin_pages', () => {
    const k = kernelWith(true, opts);
    const dev = hugepagesDeviceCreate(k, 'hugepages0', 4 * H);
    const t = k.spawn();
    const p = k.mmap(t, 0, 2 * H, RW, MAP_PRIVATE, dev);
    expect(k.directIo(t, p + H - 4 * PAGE_SIZE, 8, true)).toBe(8);
    expect(free(k)).toBe(14);
    expect(k.accessProcessVm(t, p + 3 * PAGE_SIZE, 0x44)).toBe(0x44);
    expect(k.read(t, p + 3 * PAGE_SIZE).value).toBe(0x44);
    expect(counters(k).pin_pages).toBeGreaterThan(0);
    k.exit(t);
    k.shmemUnlink(dev);
    done(k);
  });
});
