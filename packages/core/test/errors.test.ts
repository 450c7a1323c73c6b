/**
 * Bad input returns the kernel's errors and leaves the model consistent;
 * bad configurations are refused with an error naming the problem.
 */
import { describe, expect, it } from 'vitest';
import {
  buildKernel,
  EACCES,
  EBADF,
  EFAULT,
  EINVAL,
  ENOMEM,
  type Kernel,
  KernelConfigError,
  listMachines,
  MADV_DONTNEED,
  MADV_NORMAL,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_PRIVATE,
  MAP_SHARED,
  MREMAP_FIXED,
  MREMAP_MAYMOVE,
  PROT_EXEC,
  PROT_READ,
  PROT_WRITE,
  type Task,
  TASK_SIZE,
  TASK_UNMAPPED_BASE,
  VM_MAYWRITE,
  VM_WRITE,
} from '../src/index.js';
import { ANON, expectClean, kernel, mapAt, MiB, mmOf, P, R, RW, spans } from './helpers.js';

/** A kernel with one task holding a written 8-page anonymous VMA at R. */
function setup(): { k: Kernel; t: Task } {
  const k = kernel();
  const t = k.spawn();
  mapAt(k, t, R, 8 * P);
  expect(k.touch(t, R, 8 * P, true)).toBe(0);
  return { k, t };
}

/** The call returned `ret`, and the address space and checker are as before. */
function expectUnchanged(k: Kernel, t: Task, before: ReturnType<typeof spans>, ret: number, errno: number): void {
  expect(ret).toBe(-errno);
  expect(spans(t)).toEqual(before);
  expect(k.check()).toEqual([]);
}

describe('munmap errors', () => {
  it('unaligned address, zero length or a range beyond TASK_SIZE is EINVAL', () => {
    const { k, t } = setup();
    const before = spans(t);
    expectUnchanged(k, t, before, k.munmap(t, R + 1, P), EINVAL);
    expectUnchanged(k, t, before, k.munmap(t, R + 100, 8 * P), EINVAL);
    expectUnchanged(k, t, before, k.munmap(t, R, 0), EINVAL);
    expectUnchanged(k, t, before, k.munmap(t, TASK_SIZE - P, 2 * P), EINVAL);
    expectUnchanged(k, t, before, k.munmap(t, -P, P), EINVAL);
    // an unaligned length is rounded up; an unmapped range is no error
    expect(k.munmap(t, R + 2 * P, 1)).toBe(0);
    expect(spans(t)).toEqual([
      [R, R + 2 * P, R / P],
      [R + 3 * P, R + 8 * P, R / P + 3],
    ]);
    expect(k.munmap(t, R + 64 * P, 4 * P)).toBe(0);
    expect(mmOf(t).anonRss).toBe(7);
    expectClean(k);
  });
});

describe('mprotect errors', () => {
  it('unaligned start or unknown prot bits is EINVAL', () => {
    const { k, t } = setup();
    const before = spans(t);
    expectUnchanged(k, t, before, k.mprotect(t, R + 1, P, PROT_READ), EINVAL);
    expectUnchanged(k, t, before, k.mprotect(t, R, P, 0x10), EINVAL);
    expectUnchanged(k, t, before, k.mprotect(t, R, P, PROT_READ | 0x100), EINVAL);
    expect(k.mprotect(t, R, 0, PROT_READ)).toBe(0);
    expect(spans(t)).toEqual(before);
    expectClean(k);
  });

  it('an unmapped range is ENOMEM; a hole stops it after changing what came before', () => {
    const { k, t } = setup();
    const before = spans(t);
    expectUnchanged(k, t, before, k.mprotect(t, R + 64 * P, P, PROT_READ), ENOMEM);
    expectUnchanged(k, t, before, k.mprotect(t, R - P, 2 * P, PROT_READ), ENOMEM);
    mapAt(k, t, R + 10 * P, 4 * P);
    // [R, R+8P) mapped, hole [R+8P, R+10P), [R+10P, R+14P) mapped
    expect(k.mprotect(t, R + 4 * P, 8 * P, PROT_READ)).toBe(-ENOMEM);
    const vmas = mmOf(t).vmas;
    expect(spans(t)).toEqual([
      [R, R + 4 * P, R / P],
      [R + 4 * P, R + 8 * P, R / P + 4],
      [R + 10 * P, R + 14 * P, (R + 10 * P) / P],
    ]);
    expect(vmas[1]!.vmFlags & VM_WRITE).toBe(0);
    expect(vmas[2]!.vmFlags & VM_WRITE).toBe(VM_WRITE);
    expect(k.write(t, R + 4 * P, 1)).toBe(11);
    expectClean(k);
  });

  it('PROT_WRITE on a shared mapping without VM_MAYWRITE is EACCES', () => {
    // The kernel clears VM_MAYWRITE for a MAP_SHARED mapping of a file opened
    // read-only; the model's API has no file modes, so the flag is cleared by
    // hand as do_mmap_pgoff would have.
    const k = kernel();
    const t = k.spawn();
    const f = k.shmemCreate('ro', 4 * P);
    const a = k.mmap(t, 0, 4 * P, PROT_READ, MAP_SHARED, f, 0);
    expect(k.touch(t, a, 4 * P, false)).toBe(0);
    const vma = mmOf(t).vmas[0]!;
    vma.vmFlags &= ~VM_MAYWRITE;
    const before = spans(t);
    expectUnchanged(k, t, before, k.mprotect(t, a, 4 * P, PROT_READ | PROT_WRITE), EACCES);
    expect(vma.vmFlags & VM_WRITE).toBe(0);
    expect(k.touch(t, a, P, true)).toBe(11);
    // read and exec stay allowed (VM_MAYREAD, VM_MAYEXEC)
    expect(k.mprotect(t, a, 4 * P, PROT_READ | PROT_EXEC)).toBe(0);
    expectClean(k);
  });
});

describe('mremap errors', () => {
  it('bad flags, unaligned addresses, zero new length, bad MREMAP_FIXED use are EINVAL', () => {
    const { k, t } = setup();
    const before = spans(t);
    expectUnchanged(k, t, before, k.mremap(t, R, 8 * P, 16 * P, 4), EINVAL);
    expectUnchanged(k, t, before, k.mremap(t, R + 1, 8 * P, 16 * P, MREMAP_MAYMOVE), EINVAL);
    expectUnchanged(k, t, before, k.mremap(t, R, 8 * P, 0, MREMAP_MAYMOVE), EINVAL);
    // MREMAP_FIXED needs MREMAP_MAYMOVE, an aligned target inside user space, no overlap
    expectUnchanged(k, t, before, k.mremap(t, R, 8 * P, 8 * P, MREMAP_FIXED, R + 64 * P), EINVAL);
    expectUnchanged(k, t, before, k.mremap(t, R, 8 * P, 8 * P, MREMAP_FIXED | MREMAP_MAYMOVE, R + 64 * P + 1), EINVAL);
    expectUnchanged(k, t, before, k.mremap(t, R, 8 * P, 8 * P, MREMAP_FIXED | MREMAP_MAYMOVE, TASK_SIZE - 4 * P), EINVAL);
    expectUnchanged(k, t, before, k.mremap(t, R, 8 * P, 8 * P, MREMAP_FIXED | MREMAP_MAYMOVE, R + 4 * P), EINVAL);
    expectUnchanged(k, t, before, k.mremap(t, R, 8 * P, 8 * P, MREMAP_FIXED | MREMAP_MAYMOVE, R - 4 * P), EINVAL);
    expectClean(k);
  });

  it('an unmapped source or one spanning two VMAs is EFAULT', () => {
    const { k, t } = setup();
    mapAt(k, t, R + 8 * P, 4 * P, PROT_READ);
    const before = spans(t);
    expectUnchanged(k, t, before, k.mremap(t, R + 64 * P, 4 * P, 8 * P, MREMAP_MAYMOVE), EFAULT);
    expectUnchanged(k, t, before, k.mremap(t, R - 4 * P, 4 * P, 8 * P, MREMAP_MAYMOVE), EFAULT);
    expectUnchanged(k, t, before, k.mremap(t, R, 12 * P, 16 * P, MREMAP_MAYMOVE), EFAULT);
    expectClean(k);
  });

  it('growth blocked by the next VMA without MREMAP_MAYMOVE is ENOMEM', () => {
    const { k, t } = setup();
    mapAt(k, t, R + 8 * P, 4 * P, PROT_READ);
    const before = spans(t);
    expectUnchanged(k, t, before, k.mremap(t, R, 8 * P, 9 * P, 0), ENOMEM);
    // a part of a VMA cannot grow in place either
    expectUnchanged(k, t, before, k.mremap(t, R, 4 * P, 6 * P, 0), ENOMEM);
    expect(mmOf(t).anonRss).toBe(8);
    expectClean(k);
  });
});

describe('mmap errors', () => {
  it('zero length, bad prot, unknown flags and a bad MAP type are EINVAL', () => {
    const k = kernel();
    const t = k.spawn();
    expect(k.mmap(t, 0, 0, RW, ANON)).toBe(-EINVAL);
    expect(k.mmap(t, 0, P, 0x10, ANON)).toBe(-EINVAL);
    expect(k.mmap(t, 0, P, RW, ANON | 0x40000000)).toBe(-EINVAL);
    expect(k.mmap(t, 0, P, RW, MAP_ANONYMOUS)).toBe(-EINVAL);
    expect(k.mmap(t, 0, P, RW, MAP_SHARED | MAP_PRIVATE | MAP_ANONYMOUS)).toBe(-EINVAL);
    expect(k.mmap(t, 0, P, RW, 0x04 | MAP_ANONYMOUS)).toBe(-EINVAL);
    expect(k.mmap(t, 0, P, RW, ANON, null, 100)).toBe(-EINVAL);
    // MAP_FIXED at an unaligned address
    expect(k.mmap(t, R + 1, P, RW, ANON | MAP_FIXED)).toBe(-EINVAL);
    expect(mmOf(t).mapCount).toBe(0);
    expect(k.liveMms()[0]!.freeAreaCache).toBe(TASK_UNMAPPED_BASE);
    expectClean(k);
  });

  it('MAP_FIXED beyond TASK_SIZE, or more than user space, is ENOMEM', () => {
    const k = kernel();
    const t = k.spawn();
    expect(k.mmap(t, TASK_SIZE, P, RW, ANON | MAP_FIXED)).toBe(-ENOMEM);
    expect(k.mmap(t, TASK_SIZE - P, 2 * P, RW, ANON | MAP_FIXED)).toBe(-ENOMEM);
    expect(k.mmap(t, 0, TASK_SIZE + P, RW, ANON)).toBe(-ENOMEM);
    // the last page of user space is fine
    expect(k.mmap(t, TASK_SIZE - P, P, RW, ANON | MAP_FIXED)).toBe(TASK_SIZE - P);
    expect(mmOf(t).mapCount).toBe(1);
    expectClean(k);
  });

  it('an unknown or unlinked file is EBADF; unaligned offset is checked first', () => {
    const k = kernel();
    const other = buildKernel({ memBytes: 16 * MiB });
    const foreign = other.shmemCreate('elsewhere', P);
    const t = k.spawn();
    const gone = k.shmemCreate('gone', 4 * P);
    k.shmemUnlink(gone);
    expect(k.files.has(gone.id)).toBe(false);
    expect(k.mmap(t, 0, P, RW, MAP_SHARED, gone, 0)).toBe(-EBADF);
    expect(k.mmap(t, 0, P, RW, MAP_PRIVATE, gone, 0)).toBe(-EBADF);
    // a file of another kernel is unknown here
    expect(k.files.has(foreign.id)).toBe(false);
    expect(k.mmap(t, 0, P, RW, MAP_SHARED, foreign, 0)).toBe(-EBADF);
    expect(k.mmap(t, 0, P, RW, MAP_SHARED, gone, 1)).toBe(-EINVAL);
    // with MAP_ANONYMOUS the file is ignored, as the kernel ignores fd
    expect(k.mmap(t, 0, P, RW, MAP_SHARED | MAP_ANONYMOUS, gone, 0)).toBe(TASK_UNMAPPED_BASE);
    expect(mmOf(t).mapCount).toBe(1);
    expectClean(k);
  });

  it('an unlinked file stays mappable while mapped, and goes with its last mapping', () => {
    const k = kernel();
    const t = k.spawn();
    const f = k.shmemCreate('tmp', 4 * P);
    const a = k.mmap(t, 0, 4 * P, RW, MAP_SHARED, f, 0);
    expect(k.touch(t, a, 4 * P, true)).toBe(0);
    k.shmemUnlink(f);
    expect(k.files.has(f.id)).toBe(true);
    const b = k.mmap(t, 0, 4 * P, PROT_READ, MAP_SHARED, f, 0);
    expect(b).toBeGreaterThan(0);
    expect(k.munmap(t, a, 4 * P)).toBe(0);
    expect(k.vm.nr_file_pages).toBe(4);
    expect(k.munmap(t, b, 4 * P)).toBe(0);
    expect(k.files.has(f.id)).toBe(false);
    expect(k.vm.nr_file_pages).toBe(0);
    expect(k.mmap(t, 0, P, RW, MAP_SHARED, f, 0)).toBe(-EBADF);
    expectClean(k);
  });
});

describe('madvise errors', () => {
  it('unknown advice or unaligned start is EINVAL; an unmapped part is ENOMEM after advising the rest', () => {
    const { k, t } = setup();
    const before = spans(t);
    expectUnchanged(k, t, before, k.madvise(t, R, P, 99), EINVAL);
    expectUnchanged(k, t, before, k.madvise(t, R + 1, P, MADV_DONTNEED), EINVAL);
    expectUnchanged(k, t, before, k.madvise(t, R + 64 * P, P, MADV_DONTNEED), ENOMEM);
    expect(k.madvise(t, R, 8 * P, MADV_NORMAL)).toBe(0);
    expect(mmOf(t).anonRss).toBe(8);
    expect(k.madvise(t, R + 4 * P, 8 * P, MADV_DONTNEED)).toBe(-ENOMEM);
    expect(mmOf(t).anonRss).toBe(4);
    expect(k.madvise(t, R, 0, MADV_DONTNEED)).toBe(0);
    expectClean(k);
  });

  it('the pages advised before an ENOMEM read back as zero', () => {
    const { k, t } = setup();
    expect(k.write(t, R + 5 * P, 0x55)).toBe(0);
    expect(k.madvise(t, R + 4 * P, 8 * P, MADV_DONTNEED)).toBe(-ENOMEM);
    expect(mmOf(t).anonRss).toBe(4);
    // sys_madvise zapped [R+4P, R+8P) before it met the hole
    expect(k.read(t, R + 5 * P)).toEqual({ sig: 0, value: 0 });
    expectClean(k);
  });
});

describe('buildKernel refuses bad configurations', () => {
  const cases: [string, Parameters<typeof buildKernel>[0], RegExp][] = [
    ['unknown machine', { machine: 'vax-11/780' }, /unknown machine 'vax-11\/780' \(known: x86-64, /],
    ['zero cpus', { cpus: 0 }, /cpus must be an integer from 1 to 256, got 0/],
    ['fractional cpus', { cpus: 1.5 }, /cpus must be an integer/],
    ['too many cpus', { cpus: 257 }, /cpus .*got 257/],
    ['tiny memory', { memBytes: MiB }, /memory size must be a multiple of 4 KiB and at least 16 MiB, got 1048576/],
    ['unaligned memory', { memBytes: 16 * MiB + 1 }, /memory size must be a multiple of 4 KiB/],
    ['NaN memory', { memBytes: Number.NaN }, /memory size/],
    ['huge memory', { memBytes: 128 * 1024 * MiB }, /above the model's 64 GiB limit/],
    ['bad placement', { placement: 'random' as 'legacy' }, /placement must be legacy or aligned, got 'random'/],
  ];
  it.each(cases)('%s', (_name, opts, message) => {
    expect(() => buildKernel(opts)).toThrow(KernelConfigError);
    expect(() => buildKernel(opts)).toThrow(message);
  });

  it('an unknown machine lists every known profile', () => {
    expect(() => buildKernel({ machine: 'pdp-11' })).toThrow(`unknown machine 'pdp-11' (known: ${listMachines().join(', ')})`);
  });

  it('accepts the named profiles and applies overrides', () => {
    const k = buildKernel({ machine: 'x86-64-today', memBytes: 32 * MiB });
    expect(k.cpus.length).toBe(2);
    expect(k.placement).toBe('aligned');
    expect(k.mem.structPageSize).toBe(64);
    expect(k.vm.nr_memmap_pages).toBe((32 * MiB / P) * 64 / P);
    const l = buildKernel({ memBytes: 32 * MiB, cpus: 3, placement: 'aligned' });
    expect(l.cpus.length).toBe(3);
    expect(l.profile.cpus).toBe(3);
    expect(l.placement).toBe('aligned');
    expect(l.config.preempt).toBe(false);
  });

  it('shmemCreate refuses a negative or fractional size', () => {
    const k = kernel();
    expect(() => k.shmemCreate('neg', -1)).toThrow(KernelConfigError);
    expect(() => k.shmemCreate('frac', 1.5)).toThrow(/file size must be a non-negative integer/);
  });
});
