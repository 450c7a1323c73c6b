/**
 * With the feature on, hugetlb's page-table paths run through the VMA's
 * table of operations; everything user space sees, every vmstat counter,
 * the page-table figures and the simulated time are those of the baseline.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  EINVAL,
  MADV_DONTNEED,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_PRIVATE,
  MAP_SHARED,
  MREMAP_MAYMOVE,
  PAGE_SIZE,
  PROT_READ,
  PROT_WRITE,
  type Kernel,
  type ShmemFile,
  type Task,
} from '@mmlab/core';
import { hugetlbPagetableOps, pagetableOps, hasPtOp, ptOp, PT_OP_NAMES } from '../src/index.js';
import { BASE, GiB, H, MiB, counters, expectEquivalent, forkOf, kernelWith, readInto, type Seen } from './helpers.js';

const RW = PROT_READ | PROT_WRITE;
const SHARED = MAP_SHARED | MAP_FIXED;
const PRIVATE = MAP_PRIVATE | MAP_FIXED;

describe('hugetlb scenarios give the same results with the feature off and on', () => {
  it('fault: shared and private mappings of a hugetlbfs file', () => {
    const k = expectEquivalent({ memBytes: 128 * MiB, hugePages: 16 }, (k, seen) => {
      const f = k.hugetlbfsCreate('f');
      const t = k.spawn();
      seen.push(k.mmap(t, BASE, 4 * H, RW, SHARED, f));
      seen.push(k.mmap(t, BASE + 8 * H, 2 * H, RW, PRIVATE, f));
      for (let i = 0; i < 4; i++) seen.push(k.write(t, BASE + i * H + 3 * PAGE_SIZE, 0x1000 + i));
      seen.push(k.write(t, BASE + 8 * H, 0x2000));
      for (let i = 0; i < 4; i++) readInto(k, t, BASE + i * H + 3 * PAGE_SIZE, seen);
      readInto(k, t, BASE + 9 * H, seen);
      seen.push(k.metrics().meminfo.HugePages_Free ?? -1);
      k.exit(t);
      k.shmemUnlink(f);
    });
    const c = counters(k);
    expect(c.fault).toBeGreaterThan(0);
    expect(c.op_calls).toBe(c.fault! + c.copy_vma! + c.pin_pages! + c.unmap_page_range! + c.change_protection! + c.free_pgtable_range!);
    expect(k.metrics().seams).toEqual({ fileMmap: ['hugetlb-pagetable-ops (wrap)'], specialVmaOps: ['hugetlb-pagetable-ops (replace)'] });
  });

  it('fork with COW, then munmap (unaligned refused) and exit', () => {
    const k = expectEquivalent({ memBytes: 128 * MiB, hugePages: 16 }, (k, seen) => {
      const f = k.hugetlbfsCreate('f');
      const t = k.spawn();
      seen.push(k.mmap(t, BASE, 2 * H, RW, PRIVATE, f));
      seen.push(k.write(t, BASE, 0x11), k.write(t, BASE + H + 5 * PAGE_SIZE, 0x12));
      const c = forkOf(k, t, seen);
      if (c === null) return;
      seen.push(k.write(c, BASE, 0x21));
      readInto(k, t, BASE, seen);
      readInto(k, c, BASE, seen);
      readInto(k, c, BASE + H + 5 * PAGE_SIZE, seen);
      seen.push(k.write(t, BASE + H + 5 * PAGE_SIZE, 0x13));
      readInto(k, c, BASE + H + 5 * PAGE_SIZE, seen);
      seen.push(k.munmap(c, BASE + PAGE_SIZE, PAGE_SIZE), k.munmap(c, BASE + H / 2, H));
      seen.push(k.munmap(c, BASE, H));
      readInto(k, c, BASE, seen);
      readInto(k, c, BASE + H, seen);
      seen.push(k.metrics().meminfo.HugePages_Free ?? -1);
      k.exit(c);
      k.exit(t);
      k.shmemUnlink(f);
    });
    const c = counters(k);
    expect(c.copy_vma).toBeGreaterThan(0);
    expect(c.unmap_page_range).toBeGreaterThan(0);
    expect(c.free_pgtable_range).toBeGreaterThan(0);
  });

  it('mprotect: read-only, a write faults, back to read-write; a split copies the pointer', () => {
    const k = expectEquivalent({ memBytes: 128 * MiB, hugePages: 16 }, (k, seen) => {
      const f = k.hugetlbfsCreate('f');
      const t = k.spawn();
      seen.push(k.mmap(t, BASE, 4 * H, RW, SHARED, f));
      seen.push(k.write(t, BASE + H, 0x31));
      seen.push(k.mprotect(t, BASE + H, H, PROT_READ));
      seen.push(k.mprotect(t, BASE, PAGE_SIZE, PROT_READ));
      seen.push(k.write(t, BASE + H, 0x32));
      readInto(k, t, BASE + H, seen);
      seen.push(k.write(t, BASE + 2 * H, 0x33));
      seen.push(k.mprotect(t, BASE + H, H, RW));
      seen.push(k.write(t, BASE + H, 0x34));
      readInto(k, t, BASE + H, seen);
      seen.push(t.mm!.vmas.length);
      if (k.features.length > 0) {
        // every part of the split VMA carries hugetlb's table
        for (const v of t.mm!.vmas) if (v.vmFile === f) seen.push(pagetableOps(k, v) === hugetlbPagetableOps ? 'hugetlb' : 'none');
      } else {
        for (const v of t.mm!.vmas) if (v.vmFile === f) seen.push('hugetlb');
      }
      k.exit(t);
      k.shmemUnlink(f);
    });
    expect(counters(k).change_protection).toBeGreaterThan(0);
  });

  it('get_user_pages through direct I/O and access_process_vm; mremap and MADV_DONTNEED refused', () => {
    const k = expectEquivalent({ memBytes: 128 * MiB, hugePages: 16 }, (k, seen) => {
      const f = k.hugetlbfsCreate('f');
      const t = k.spawn();
      seen.push(k.mmap(t, BASE, 2 * H, RW, SHARED, f));
      seen.push(k.mmap(t, BASE + 4 * H, 2 * H, RW, PRIVATE, f));
      seen.push(k.directIo(t, BASE + 3 * PAGE_SIZE, 16, true));
      seen.push(k.directIo(t, BASE + 4 * H + H - 2 * PAGE_SIZE, 8, false));
      readInto(k, t, BASE + 3 * PAGE_SIZE, seen);
      seen.push(k.accessProcessVm(t, BASE + H + PAGE_SIZE, 0x77));
      seen.push(k.accessProcessVm(t, BASE + H + PAGE_SIZE));
      seen.push(k.mremap(t, BASE, 2 * H, 4 * H, MREMAP_MAYMOVE));
      seen.push(k.madvise(t, BASE, H, MADV_DONTNEED));
      k.exit(t);
      k.shmemUnlink(f);
    });
    expect(counters(k).pin_pages).toBeGreaterThan(0);
    expect(EINVAL).toBeGreaterThan(0);
  });

  it('ftruncate of a mapped file: the cut-off part is unmapped, a later access gets SIGBUS', () => {
    expectEquivalent({ memBytes: 128 * MiB, hugePages: 16 }, (k, seen) => {
      const f = k.hugetlbfsCreate('f', 4 * H);
      const t = k.spawn();
      seen.push(k.mmap(t, BASE, 4 * H, RW, SHARED, f));
      const c = forkOf(k, t, seen);
      for (let i = 0; i < 4; i++) seen.push(k.write(t, BASE + i * H, 0x40 + i));
      seen.push(k.ftruncate(f, 2 * H));
      for (let i = 0; i < 4; i++) readInto(k, t, BASE + i * H, seen);
      if (c !== null) readInto(k, c, BASE + 3 * H, seen);
      seen.push(k.metrics().meminfo.HugePages_Free ?? -1);
      if (c !== null) k.exit(c);
      k.exit(t);
      k.shmemUnlink(f);
    });
  });

  it('PMD sharing across processes mapping an aligned GiB, and fork of a sharer', () => {
    const k = expectEquivalent({ memBytes: 3 * GiB, hugePages: 512 }, (k, seen) => {
      const sga = k.hugetlbfsCreate('sga', GiB);
      const procs = [k.spawn(), k.spawn(), k.spawn()];
      for (const p of procs) seen.push(k.mmap(p, BASE, GiB, RW, SHARED, sga));
      seen.push(k.write(procs[0]!, BASE, 0x51), k.write(procs[0]!, BASE + 100 * H, 0x52));
      for (const p of procs.slice(1)) readInto(k, p, BASE + 100 * H, seen);
      const child = forkOf(k, procs[1]!, seen);
      if (child !== null) readInto(k, child, BASE, seen);
      seen.push(k.metrics().pagetables.pmd, k.vm.mmlab_huge_pmd_share);
      seen.push(k.mprotect(procs[2]!, BASE, H, PROT_READ));
      seen.push(k.metrics().pagetables.pmd);
      for (const p of [procs[0]!, procs[2]!]) k.exit(p);
      if (child !== null) k.exit(child);
      readInto(k, procs[1]!, BASE, seen);
      k.exit(procs[1]!);
      k.shmemUnlink(sga);
    });
    expect(counters(k).fault).toBeGreaterThan(0);
  });

  it('reclaim pressure alongside: anonymous memory swapped out while hugetlb mappings fault, fork and unmap', () => {
    const k = expectEquivalent({ memBytes: 64 * MiB, hugePages: 8 }, (k, seen) => {
      const f = k.hugetlbfsCreate('f');
      const t = k.spawn();
      seen.push(k.mmap(t, BASE, 4 * H, RW, SHARED, f));
      seen.push(k.write(t, BASE, 0x61));
      const anon = k.mmap(t, 0, 64 * MiB, RW, MAP_PRIVATE | MAP_ANONYMOUS);
      seen.push(anon);
      seen.push(k.touch(t, anon, 64 * MiB, true));
      const c = forkOf(k, t, seen);
      seen.push(k.write(t, BASE + 3 * H, 0x62));
      if (c !== null) {
        readInto(k, c, BASE + 3 * H, seen);
        seen.push(k.touch(c, anon, 32 * MiB, true));
      }
      readInto(k, t, BASE, seen);
      readInto(k, t, anon + 5 * PAGE_SIZE, seen);
      seen.push(k.vm.pswpout > 0 ? 'swapped' : 'not swapped');
      seen.push(k.munmap(t, BASE, 2 * H));
      if (c !== null) k.exit(c);
      k.exit(t);
      k.shmemUnlink(f);
    });
    expect(k.vm.pswpout).toBeGreaterThan(0);
    expect(counters(k).fault).toBeGreaterThan(0);
  });
});

describe('the helpers of the series', () => {
  it('has_pt_op and pt_op read the VMA table; without the feature no VMA has one', () => {
    const k = kernelWith(true, { memBytes: 64 * MiB, hugePages: 4 });
    const f = k.hugetlbfsCreate('f');
    const t = k.spawn();
    expect(k.mmap(t, BASE, H, RW, SHARED, f)).toBe(BASE);
    const anon = k.mmap(t, 0, MiB, RW, MAP_PRIVATE | MAP_ANONYMOUS);
    const hv = t.mm!.vmas.find((v) => v.vmStart === BASE)!;
    const av = t.mm!.vmas.find((v) => v.vmStart === anon)!;
    for (const op of PT_OP_NAMES) {
      expect(hasPtOp(k, hv, op)).toBe(true);
      expect(hasPtOp(k, av, op)).toBe(false);
    }
    expect(ptOp(k, hv, 'fault')).toBe(hugetlbPagetableOps.fault);
    expect(() => ptOp(k, av, 'fault')).toThrow("has no 'fault' operation");
    const plain = kernelWith(false);
    const pt = plain.spawn();
    const a = plain.mmap(pt, 0, MiB, RW, MAP_PRIVATE | MAP_ANONYMOUS);
    const v = pt.mm!.vmas.find((x) => x.vmStart === a)!;
    expect(hasPtOp(plain, v, 'fault')).toBe(false);
    expect(() => pagetableOps(plain, v)).toThrow("pagetableOps needs the feature 'hugetlb-pagetable-ops'");
    k.exit(t);
    k.shmemUnlink(f);
    k.finish();
    expect(k.invariants.violations).toEqual([]);
  });

  it('counts one pointer per VMA: fork and split copy it', () => {
    const k = kernelWith(true, { memBytes: 64 * MiB, hugePages: 8 });
    const f = k.hugetlbfsCreate('f');
    const t = k.spawn();
    k.mmap(t, BASE, 4 * H, RW, SHARED, f);
    expect(k.write(t, BASE, 1)).toBe(0);
    const before = counters(k).vmas!;
    expect(k.mprotect(t, BASE + H, H, PROT_READ)).toBe(0); // two splits: two new VMAs
    expect(counters(k).vmas).toBe(before + 2);
    const c = k.fork(t) as Task;
    const n = c.mm!.vmas.filter((v) => v.vmFile === f).length;
    expect(n).toBe(3);
    expect(counters(k).vma_bytes).toBe(8 * counters(k).vmas!);
    for (const v of c.mm!.vmas) if (v.vmFile === f) expect(pagetableOps(k, v)).toBe(hugetlbPagetableOps);
    k.exit(c);
    k.exit(t);
    k.shmemUnlink(f);
    k.finish();
    expect(k.invariants.violations).toEqual([]);
  });
});

/** One step of a random sequence. */
type Step =
  | { op: 'mmap'; task: number; slot: number; shared: boolean; pages: number; prot: number }
  | { op: 'touch'; task: number; slot: number; page: number; write: boolean }
  | { op: 'fork'; task: number }
  | { op: 'munmap'; task: number; slot: number; page: number; pages: number; unaligned: boolean }
  | { op: 'mprotect'; task: number; slot: number; page: number; pages: number; prot: number }
  | { op: 'dio'; task: number; slot: number; page: number; n: number; toMemory: boolean }
  | { op: 'truncate'; pages: number }
  | { op: 'mremap'; task: number; slot: number }
  | { op: 'exit'; task: number };

const task = fc.nat(7);
const slot = fc.nat(3);
const page = fc.nat(3);
const prot = fc.constantFrom(PROT_READ, RW);
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ op: fc.constant('mmap' as const), task, slot, shared: fc.boolean(), pages: fc.integer({ min: 1, max: 4 }), prot }),
  { arbitrary: fc.record({ op: fc.constant('touch' as const), task, slot, page, write: fc.boolean() }), weight: 4 },
  fc.record({ op: fc.constant('fork' as const), task }),
  fc.record({ op: fc.constant('munmap' as const), task, slot, page, pages: fc.integer({ min: 1, max: 2 }), unaligned: fc.boolean() }),
  fc.record({ op: fc.constant('mprotect' as const), task, slot, page, pages: fc.integer({ min: 1, max: 2 }), prot }),
  fc.record({ op: fc.constant('dio' as const), task, slot, page, n: fc.integer({ min: 1, max: 600 }), toMemory: fc.boolean() }),
  fc.record({ op: fc.constant('truncate' as const), pages: fc.nat(16) }),
  fc.record({ op: fc.constant('mremap' as const), task, slot }),
  fc.record({ op: fc.constant('exit' as const), task }),
);

/** Run a random sequence on `k`: up to eight processes, four huge slots each, one hugetlbfs file. */
function runSteps(k: Kernel, steps: readonly Step[], seen: Seen): void {
  const f: ShmemFile = k.hugetlbfsCreate('rand');
  const tasks: Task[] = [k.spawn()];
  const at = (s: number, p: number): number => BASE + s * 8 * H + p * H;
  const pick = (i: number): Task | undefined => tasks[i % tasks.length];
  // the first process maps every slot: two shared, two private
  for (let sl = 0; sl < 4; sl++) seen.push(k.mmap(tasks[0]!, at(sl, 0), 4 * H, RW, sl < 2 ? SHARED : PRIVATE, f, sl * 4 * H));
  for (const s of steps) {
    if (s.op === 'truncate') {
      seen.push(k.ftruncate(f, s.pages * H));
      continue;
    }
    const t = pick(s.task);
    if (t === undefined) {
      tasks.push(k.spawn());
      continue;
    }
    switch (s.op) {
      case 'mmap':
        seen.push(k.mmap(t, at(s.slot, 0), s.pages * H, s.prot, s.shared ? SHARED : PRIVATE, f, s.slot * 4 * H));
        break;
      case 'touch':
        if (s.write) seen.push(k.write(t, at(s.slot, s.page) + 7 * PAGE_SIZE, 0x1000 * s.slot + s.page));
        else readInto(k, t, at(s.slot, s.page) + 7 * PAGE_SIZE, seen);
        break;
      case 'fork': {
        if (tasks.length >= 8) break;
        const c = forkOf(k, t, seen);
        if (c !== null) tasks.push(c);
        break;
      }
      case 'munmap':
        seen.push(k.munmap(t, at(s.slot, s.page) + (s.unaligned ? PAGE_SIZE : 0), s.pages * H));
        break;
      case 'mprotect':
        seen.push(k.mprotect(t, at(s.slot, s.page), s.pages * H, s.prot));
        break;
      case 'dio':
        seen.push(k.directIo(t, at(s.slot, s.page), s.n, s.toMemory));
        break;
      case 'mremap':
        seen.push(k.mremap(t, at(s.slot, 0), H, 2 * H, MREMAP_MAYMOVE));
        break;
      case 'exit':
        k.exit(t);
        tasks.splice(tasks.indexOf(t), 1);
        break;
    }
    seen.push(k.metrics().meminfo.HugePages_Free ?? -1);
  }
  for (const t of tasks) k.exit(t);
  k.shmemUnlink(f);
}

describe('random operation sequences', () => {
  it('give identical results, vmstat, page tables and time with the feature off and on', () => {
    const total: Record<string, number> = {};
    fc.assert(
      fc.property(fc.array(step, { minLength: 5, maxLength: 40, size: 'medium' }), (steps) => {
        const k = expectEquivalent({ memBytes: 96 * MiB, hugePages: 24 }, (kk, seen) => {
          runSteps(kk, steps, seen);
        });
        for (const [name, v] of Object.entries(counters(k))) total[name] = (total[name] ?? 0) + v;
      }),
      { numRuns: 100 },
    );
    // the sequences reached every operation of the table
    for (const name of ['fault', 'copy_vma', 'pin_pages', 'unmap_page_range', 'change_protection', 'free_pgtable_range']) {
      expect(total[name], name).toBeGreaterThan(0);
    }
  });
});
