/**
 * Extension plumbing: what a feature may declare besides seams — counters
 * and gauges, invariant and oracle checks, references on frames, per-VMA
 * and per-mm slots, a machine `configure` step, file types, named costs —
 * and composition you can see (wrap or replace per seam, clashes refused,
 * the chain reported). Every feature here is test-only.
 */
import { describe, expect, it } from 'vitest';
import {
  awaitPath,
  _PAGE_PRESENT,
  baseTlbGather,
  buildKernel,
  defineFeature,
  ENODEV,
  EINVAL,
  type Feature,
  type FileType,
  getPage,
  type Kernel,
  KernelConfigError,
  MAP_PRIVATE,
  MAP_SHARED,
  type MergeRule,
  type MmSlot,
  MREMAP_FIXED,
  MREMAP_MAYMOVE,
  NOPFN_SIGBUS,
  PROT_READ,
  putPage,
  pteIndex,
  shmemGetpage,
  type SlotRule,
  type Task,
  type Vma,
  VM_FAULT_MINOR,
  VM_FAULT_OOM,
  VM_FAULT_SIGBUS,
  VM_IO,
  VM_PFNMAP,
  VM_RESERVED,
  type VmaSlot,
  isCowMapping,
} from '../src/index.js';
import { countTables } from './fixtures/count-tables.js';
import { expectClean, forked, kernel, mapAt, MiB, mmOf, P, R, RW } from './helpers.js';

const thread = { subject: '(test)', author: 'tests', date: '2025-01' };

/** The pfn the PTE at `address` of table `pte` maps, or 0. */
function mappedPfn(k: Kernel, pte: number, address: number): number {
  const a = k.tables.arr(pte);
  const b = k.tables.base(pte) + pteIndex(address) * 2;
  return (a[b]! & _PAGE_PRESENT) !== 0 ? a[b + 1]! : 0;
}

/** The VMA of `t` containing `addr`. */
function vmaAt(t: Task, addr: number): Vma {
  const v = mmOf(t).vmas.find((x) => x.vmStart <= addr && addr < x.vmEnd);
  if (v === undefined) throw new Error(`no VMA at ${addr}`);
  return v;
}

describe('counters and gauges', () => {
  const counted = new WeakMap<Kernel, { anon_faults: number; tables: number }>();
  let level = 0;
  const countFaults = defineFeature({
    name: 'count-faults',
    summary: 'test: counts anonymous faults and PTE tables',
    thread,
    options: {},
    install(k) {
      const c = k.defineCounters('count-faults', {
        anon_faults: 'anonymous faults resolved through the anonFault seam',
        tables: 'PTE tables allocated',
      });
      counted.set(k, c);
      k.defineGauge('count-faults', 'level', 'a level the test sets', () => level);
      k.defineGauge('count-faults', 'mms', 'live mms', () => k.liveMms().length);
      // the fault seams answer at once or with a generator: a wrapper that only counts passes either on
      k.seamTable.wrap('count-faults', 'anonFault', (prev) => (kk, mm, vma, address, pte) => {
        c.anon_faults++;
        return prev(kk, mm, vma, address, pte);
      });
      k.seamTable.wrap('count-faults', 'pgtableAlloc', (prev) =>
        function* (kk, mm, lvl, addr) {
          const pfn = yield* awaitPath(prev(kk, mm, lvl, addr));
          if (pfn !== 0 && lvl === 0) c.tables++;
          return pfn;
        },
      );
    },
  });

  it('appear in the metrics with their descriptions, as the feature counts them', () => {
    const k = kernel({ features: [countFaults] });
    const t = k.spawn();
    mapAt(k, t, R, 8 * P);
    const before = k.vm.mmlab_anon_fault;
    expect(k.touch(t, R, 8 * P, true)).toBe(0);
    expect(counted.get(k)!.anon_faults).toBe(8);
    expect(k.vm.mmlab_anon_fault - before).toBe(8);
    const m = k.metrics();
    expect(m.feature).toEqual({ 'count-faults': { anon_faults: 8, tables: 1, level: 0, mms: 1 } });
    expect(m.featureDocs?.['count-faults']).toEqual({
      anon_faults: 'anonymous faults resolved through the anonFault seam',
      tables: 'PTE tables allocated',
      level: 'a level the test sets',
      mms: 'live mms',
    });
    expect(m.seams).toEqual({ anonFault: ['count-faults (wrap)'], pgtableAlloc: ['count-faults (wrap)'] });
    // and in the JSON a report prints
    const json = JSON.parse(JSON.stringify(m)) as { feature: Record<string, Record<string, number>> };
    expect(json.feature['count-faults']!.anon_faults).toBe(8);
    expectClean(k);
  });

  it('gauges are sampled at the snapshot; counters are read at the end', () => {
    const k = kernel({ features: [countFaults] });
    const t = k.spawn();
    level = 5;
    mapAt(k, t, R, 4 * P);
    expect(k.touch(t, R, 4 * P, true)).toBe(0);
    k.snapshot();
    level = 9;
    const c = k.spawn();
    mapAt(k, c, R, 2 * P);
    expect(k.touch(c, R, 2 * P, true)).toBe(0);
    expect(k.metrics().feature?.['count-faults']).toEqual({ anon_faults: 6, tables: 2, level: 5, mms: 1 });
    level = 0;
  });

  it('a kernel without features reports none of it', () => {
    const k = kernel();
    const t = k.spawn();
    mapAt(k, t, R, P);
    expect(k.touch(t, R, P, true)).toBe(0);
    const m = k.metrics();
    expect(Object.keys(m)).toEqual(['vmstat', 'peak', 'meminfo', 'pagetables', 'procs', 'sim', 'locks']);
  });

  it('refuses bad names, multi-line descriptions and a counter declared twice', () => {
    const k = kernel();
    expect(() => k.defineCounters('x', { BadName: 'doc' })).toThrow(/counter 'BadName': names are lower-case words joined by '_'/);
    expect(() => k.defineCounters('x', { a: 'two\nlines' })).toThrow(/the description must be one non-empty line/);
    expect(() => k.defineCounters('Bad', { a: 'doc' })).toThrow(/feature name 'Bad'/);
    k.defineCounters('x', { a: 'doc' });
    expect(() => {
      k.defineGauge('x', 'a', 'doc', () => 0);
    }).toThrow(/feature 'x' counter 'a' is declared twice/);
  });
});

describe('checker and oracle hooks', () => {
  it('a feature check runs at every boundary and reports under <feature>:<name>', () => {
    let broken = false;
    let runs = 0;
    const selfCheck = defineFeature({
      name: 'self-check',
      summary: 'test: a check that fails when told',
      thread,
      options: {},
      install(k) {
        k.addInvariantCheck('self-check', 'consistent', () => {
          runs++;
          return broken ? ['the feature is in a bad state'] : [];
        });
      },
    });
    const k = kernel({ features: [selfCheck] });
    const t = k.spawn();
    mapAt(k, t, R, P);
    expect(runs).toBeGreaterThanOrEqual(2);
    expect(k.invariants.violations).toEqual([]);
    broken = true;
    expect(k.touch(t, R, P, true)).toBe(0);
    expect(k.invariants.violations).toEqual([{ check: 'self-check:consistent', message: 'the feature is in a bad state', op: 'write' }]);
    expect(k.check()).toEqual([{ check: 'self-check:consistent', message: 'the feature is in a bad state' }]);
    expect(() => {
      k.addInvariantCheck('self-check', 'consistent', () => []);
    }).toThrow(/added twice/);
  });

  it('an oracle check compares a secondary view of memory with what the oracle expects', () => {
    // a toy secondary MMU: caches the data of each page at its first fault, never invalidated
    const cache = new Map<number, number>();
    const staleShadow = defineFeature({
      name: 'stale-shadow',
      summary: 'test: a secondary cache of page contents without invalidation',
      thread,
      options: {},
      install(k) {
        k.seamTable.wrap('stale-shadow', 'anonFault', (prev) =>
          function* (kk, mm, vma, address, pte) {
            const r = yield* awaitPath(prev(kk, mm, vma, address, pte));
            const pfn = mappedPfn(kk, pte, address);
            if (pfn !== 0) cache.set(address, kk.tokenOf(pfn));
            return r;
          },
        );
        k.addOracleCheck('stale-shadow', 'shadow-data', (kk, expected) => {
          const out: string[] = [];
          const mm = kk.liveMms()[0];
          if (mm === undefined) return out;
          for (const [addr, tok] of cache) if (expected(mm, addr) !== tok) out.push(`shadow of 0x${addr.toString(16)} is stale`);
          return out;
        });
      },
    });
    const k = kernel({ features: [staleShadow] });
    const t = k.spawn();
    mapAt(k, t, R, 2 * P);
    expect(k.touch(t, R, 2 * P, false)).toBe(0);
    expect(cache.size).toBe(2);
    expect(k.invariants.violations).toEqual([]);
    expect(k.write(t, R + P, 77)).toBe(0);
    expect(k.invariants.violations).toEqual([{ check: 'stale-shadow:shadow-data', message: `shadow of 0x${(R + P).toString(16)} is stale`, op: 'write' }]);
  });
});

describe('frame references a feature holds', () => {
  const held = new WeakMap<Kernel, number[]>();
  /** Takes a reference on every anonymous page at its first fault (a secondary MMU mapping it). */
  const pinning = (declare: boolean): Feature =>
    defineFeature({
      name: declare ? 'shadow-mmu' : 'shadow-mmu-undeclared',
      summary: 'test: a secondary MMU holding page references',
      thread,
      options: {},
      install(k) {
        const pfns: number[] = [];
        held.set(k, pfns);
        k.seamTable.wrap(declare ? 'shadow-mmu' : 'shadow-mmu-undeclared', 'anonFault', (prev) =>
          function* (kk, mm, vma, address, pte) {
            const r = yield* awaitPath(prev(kk, mm, vma, address, pte));
            const pfn = mappedPfn(kk, pte, address);
            if (pfn !== 0) {
              getPage(kk, pfn);
              pfns.push(pfn);
            }
            return r;
          },
        );
        if (declare) k.addFrameRefs('shadow-mmu', (_kk, add) => {
          for (const pfn of pfns) add(pfn, 1);
        });
      },
    });
  const release = (k: Kernel): void => {
    const pfns = held.get(k)!;
    for (const pfn of pfns.splice(0)) putPage(k, pfn);
  };

  it('declared: the checker counts them, the pages outlive munmap, and release frees them', () => {
    const k = kernel({ features: [pinning(true)] });
    const t = k.spawn();
    mapAt(k, t, R, 4 * P);
    expect(k.touch(t, R, 4 * P, true)).toBe(0);
    const pfns = [...held.get(k)!];
    expect(pfns).toHaveLength(4);
    for (const pfn of pfns) expect(k.pages.count[pfn]).toBe(2);
    const free = k.mem.nrFree;
    expect(k.munmap(t, R, 4 * P)).toBe(0);
    // the tables went; the pages stay for the secondary MMU
    expect(k.mem.nrFree - free).toBe(3);
    expectClean(k);
    release(k);
    expect(k.mem.nrFree - free).toBe(7);
    k.exit(t);
    k.finish();
    expectClean(k);
  });

  it('undeclared: the checker reports the refcounts it cannot explain', () => {
    const k = kernel({ features: [pinning(false)] });
    const t = k.spawn();
    mapAt(k, t, R, 2 * P);
    expect(k.touch(t, R, 2 * P, true)).toBe(0);
    const checks = k.invariants.violations.map((v) => v.check);
    expect(checks).toContain('refcount');
    expect(k.invariants.violations[0]!.message).toMatch(/refcount 2, expected 1 \(1 mappings \+ 0 page cache \+ 0 swap cache \+ 0 pins\)/);
  });

  it('declared but never released: finish reports the leak', () => {
    const k = kernel({ features: [pinning(true)] });
    const t = k.spawn();
    mapAt(k, t, R, 2 * P);
    expect(k.touch(t, R, 2 * P, true)).toBe(0);
    k.exit(t);
    expect(k.invariants.violations).toEqual([]);
    k.finish();
    const leaks = k.invariants.violations.filter((v) => v.check === 'leak').map((v) => v.message);
    expect(leaks.some((m) => /feature 'shadow-mmu' still holds 1 references on frame \d+ after every mm exited/.test(m))).toBe(true);
    expect(leaks.some((m) => /frames in use after every mm exited/.test(m))).toBe(true);
  });
});

describe('per-VMA and per-mm slots', () => {
  interface Slots {
    k: Kernel;
    slot: VmaSlot<string>;
    mmSlot: MmSlot<number>;
  }
  let n = 0;
  /** A kernel with a feature declaring one VMA slot and one mm slot with these rules. */
  function withSlots(vma: { split?: SlotRule<string, Vma>; merge?: MergeRule<string>; fork?: SlotRule<string, Vma>; mremap?: SlotRule<string, Vma> }, mmFork: SlotRule<number, unknown> = 'copy'): Slots {
    const name = `slots-${++n}`;
    let slot: VmaSlot<string> | null = null;
    let mmSlot: MmSlot<number> | null = null;
    const f = defineFeature({
      name,
      summary: 'test: extension slots',
      thread,
      options: {},
      install(k) {
        slot = k.vmaSlot<string>(name, 'tag', { split: 'copy', merge: 'keep', fork: 'copy', mremap: 'copy', ...vma });
        mmSlot = k.mmSlot<number>(name, 'gen', { fork: mmFork });
      },
    });
    const k = kernel({ features: [f] });
    return { k, slot: slot!, mmSlot: mmSlot! };
  }
  const tags = (s: Slots, t: Task): (string | undefined)[] => mmOf(t).vmas.map((v) => s.slot.get(v));

  it.each<[string, SlotRule<string, Vma>, (string | undefined)[]]>([
    ['copy', 'copy', ['A', 'A', 'A']],
    ['drop', 'drop', [undefined, 'A', undefined]],
    ['a function', (v) => `${v}'`, ["A'", 'A', "A'"]],
  ])('split_vma (mprotect of the middle) applies the split rule: %s', (_what, split, want) => {
    const s = withSlots({ split });
    const t = s.k.spawn();
    mapAt(s.k, t, R, 8 * P);
    s.slot.set(vmaAt(t, R), 'A');
    expect(s.k.mprotect(t, R + 2 * P, 2 * P, PROT_READ)).toBe(0);
    expect(mmOf(t).vmas).toHaveLength(3);
    expect(tags(s, t)).toEqual(want);
    expectClean(s.k);
  });

  it.each<[string, MergeRule<string>, (string | undefined)[]]>([
    ['keep', 'keep', ['A']],
    ['drop', 'drop', [undefined]],
    ['a function', (kept, other) => `${kept ?? '-'}+${other ?? 'new'}`, ['A+new']],
  ])('vma_merge of an adjacent mmap applies the merge rule: %s', (_what, merge, want) => {
    const s = withSlots({ merge });
    const t = s.k.spawn();
    mapAt(s.k, t, R, 4 * P);
    s.slot.set(vmaAt(t, R), 'A');
    mapAt(s.k, t, R + 4 * P, 4 * P);
    expect(mmOf(t).vmas).toHaveLength(1);
    expect(tags(s, t)).toEqual(want);
    expectClean(s.k);
  });

  it('vma_merge by mprotect combines the values of the VMAs it joins', () => {
    const s = withSlots({ merge: (kept, other) => `${kept ?? '-'}+${other ?? '-'}` });
    const t = s.k.spawn();
    mapAt(s.k, t, R, 4 * P);
    mapAt(s.k, t, R + 4 * P, 4 * P, PROT_READ);
    mapAt(s.k, t, R + 8 * P, 4 * P);
    s.slot.set(vmaAt(t, R), 'A');
    s.slot.set(vmaAt(t, R + 4 * P), 'B');
    s.slot.set(vmaAt(t, R + 8 * P), 'C');
    // the middle becomes writable: all three merge into the first
    expect(s.k.mprotect(t, R + 4 * P, 4 * P, RW)).toBe(0);
    expect(mmOf(t).vmas).toHaveLength(1);
    expect(tags(s, t)).toEqual(['A+B+C']);
    expectClean(s.k);
  });

  it.each<[string, SlotRule<string, Vma>, SlotRule<number, unknown>, string | undefined, number | undefined]>([
    ['copy', 'copy', 'copy', 'A', 7],
    ['drop', 'drop', 'drop', undefined, undefined],
    ['a function', (v) => `child of ${v}`, (g) => g + 1, 'child of A', 8],
  ])('dup_mmap applies the fork rules of VMA and mm slots: %s', (_what, fork, mmFork, wantVma, wantMm) => {
    const s = withSlots({ fork }, mmFork);
    const p = s.k.spawn();
    mapAt(s.k, p, R, 4 * P);
    expect(s.k.touch(p, R, 4 * P, true)).toBe(0);
    s.slot.set(vmaAt(p, R), 'A');
    s.mmSlot.set(mmOf(p), 7);
    const c = forked(s.k, p);
    expect(s.slot.get(vmaAt(c, R))).toBe(wantVma);
    expect(s.mmSlot.get(mmOf(c))).toBe(wantMm);
    // the parent keeps its own
    expect(s.slot.get(vmaAt(p, R))).toBe('A');
    expect(s.mmSlot.get(mmOf(p))).toBe(7);
    expectClean(s.k);
  });

  it.each<[string, SlotRule<string, Vma>, string | undefined]>([
    ['copy', 'copy', 'A'],
    ['drop', 'drop', undefined],
    ['a function', (v) => `moved ${v}`, 'moved A'],
  ])('mremap (move) applies the mremap rule: %s', (_what, mremap, want) => {
    const s = withSlots({ mremap });
    const t = s.k.spawn();
    mapAt(s.k, t, R, 4 * P);
    expect(s.k.touch(t, R, 4 * P, true)).toBe(0);
    s.slot.set(vmaAt(t, R), 'A');
    const to = R + 64 * P;
    expect(s.k.mremap(t, R, 4 * P, 4 * P, MREMAP_MAYMOVE | MREMAP_FIXED, to)).toBe(to);
    expect(mmOf(t).vmas).toHaveLength(1);
    expect(s.slot.get(vmaAt(t, to))).toBe(want);
    expectClean(s.k);
  });

  it('mremap next to a VMA it merges with: the merge rule meets the moved value', () => {
    const s = withSlots({ mremap: (v) => `moved ${v}`, merge: (kept, other) => `${kept ?? '-'}+${other ?? '-'}` });
    const t = s.k.spawn();
    mapAt(s.k, t, R, 4 * P);
    mapAt(s.k, t, R + 64 * P, 4 * P);
    s.slot.set(vmaAt(t, R), 'A');
    s.slot.set(vmaAt(t, R + 64 * P), 'C');
    expect(s.k.mremap(t, R, 4 * P, 4 * P, MREMAP_MAYMOVE | MREMAP_FIXED, R + 68 * P)).toBe(R + 68 * P);
    expect(mmOf(t).vmas).toHaveLength(1);
    expect(tags(s, t)).toEqual(['C+moved A']);
    expectClean(s.k);
  });

  it('a slot declared twice is refused; a kernel without slots keeps ext empty', () => {
    const s = withSlots({});
    expect(() => s.k.vmaSlot(s.slot.feature, 'tag', { split: 'copy', merge: 'keep', fork: 'copy', mremap: 'copy' })).toThrow(/VMA slot 'tag' of feature 'slots-\d+' is declared twice/);
    const k = kernel();
    const t = k.spawn();
    mapAt(k, t, R, 4 * P);
    expect(k.mprotect(t, R, P, PROT_READ)).toBe(0);
    const c = forked(k, t);
    for (const v of [...mmOf(t).vmas, ...mmOf(c).vmas]) expect(v.ext).toBeNull();
    expect(mmOf(c).ext).toBeNull();
  });
});

describe('configure: a feature changes the machine before memory is laid out', () => {
  /** An XIP image mapped by pfn: no memmap for it, and a file type whose faults insert image pfns. */
  let xipType: FileType | null = null;
  const base = new Map<number, number>();
  const xipNoMemmap = defineFeature({
    name: 'xip-pfn',
    summary: 'test: an XIP image without struct page, mapped by pfn',
    thread,
    options: { megs: { type: 'int', default: 4, min: 1, doc: 'image size in MiB' } },
    configure(machine, opts) {
      machine.xipBytes = opts.megs * MiB;
      machine.xipMemmap = false;
      machine.memBytes = 32 * MiB;
      machine.costs.tlbFlushOne = 999;
    },
    install(k) {
      let next = 0;
      const faults = k.defineCounters('xip-pfn', { nopfn: 'image pages inserted at fault' });
      xipType = k.registerFileType('xip-pfn', 'xip-pfn', {
        name: 'xip-pfn',
        setup(kk, file) {
          // the file's pages are the next part of the image
          base.set(file.id, kk.mem.xipBase + next);
          next += Math.ceil(file.size / P);
        },
        // eslint-disable-next-line require-yield -- the test's f_op->mmap never sleeps
        *mmap(_kk, file, vma) {
          if (isCowMapping(vma.vmFlags)) return -EINVAL;
          vma.vmFlags |= VM_IO | VM_RESERVED | VM_PFNMAP;
          const b = base.get(file.id)!;
          vma.vmOps = {
            name: 'xip-pfn',
            nopfn(v, addr) {
              const pgoff = (addr - v.vmStart) / P + v.vmPgoff;
              faults.nopfn++;
              return pgoff < file.size / P ? b + pgoff : NOPFN_SIGBUS;
            },
          };
          return 0;
        },
      });
    },
  });

  it('the machine is the configured one; the image has no memmap; the baseline XIP refuses it', () => {
    const withMemmap = buildKernel({ memBytes: 32 * MiB, xipBytes: 4 * MiB, check: true });
    const k = buildKernel({ features: [xipNoMemmap], check: true });
    expect(k.mem.nrFrames).toBe(8192);
    expect(k.mem.xipFrames).toBe(1024);
    expect(k.mem.pfnValid(k.mem.xipBase)).toBe(false);
    expect(withMemmap.mem.pfnValid(withMemmap.mem.xipBase)).toBe(true);
    // a whole 128 MiB section of struct pages saved
    expect(withMemmap.mem.nrMemmapPages - k.mem.nrMemmapPages).toBe((32768 * 56) / 4096);
    expect(k.vm.nr_memmap_pages).toBe(k.mem.nrMemmapPages);
    expect(k.costs.tlbFlushOne).toBe(999);
    expect(withMemmap.costs.tlbFlushOne).not.toBe(999);
    expect(() => k.xipFileCreate('lib', 8 * P)).toThrow(/XIP image has no memmap/);
    expect(withMemmap.xipFileCreate('lib', 8 * P).xipBase).toBe(withMemmap.mem.xipBase);
  });

  it('the feature file type maps image pfns at fault; data round-trips through the image', () => {
    const k = buildKernel({ features: [xipNoMemmap], check: true });
    const f = k.fileCreate(xipType!, 'rom', 8 * P);
    const t = k.spawn();
    expect(k.mmap(t, 0, 8 * P, RW, MAP_SHARED, f)).toBeGreaterThan(0);
    const addr = mmOf(t).vmas[0]!.vmStart;
    expect(k.write(t, addr + 3 * P, 0x1234)).toBe(0);
    expect(k.read(t, addr + 3 * P)).toEqual({ sig: 0, value: 0x1234 });
    expect(k.iomem.tokenOf(k.mem.xipBase + 3)).toBe(0x1234);
    expect(k.metrics().feature?.['xip-pfn']?.nopfn).toBe(1);
    // a private mapping is refused by the type's mmap
    expect(k.mmap(t, 0, P, PROT_READ, MAP_PRIVATE, f)).toBe(-EINVAL);
    expectClean(k);
    k.exit(t);
    k.shmemUnlink(f);
    k.finish();
    expectClean(k);
  });

  it('a configured machine is checked like the options', () => {
    const tooSmall = defineFeature({
      name: 'too-small',
      summary: 'test: configures an impossible machine',
      thread,
      options: {},
      configure(machine) {
        machine.memBytes = 1000;
      },
      install: () => undefined,
    });
    expect(() => buildKernel({ features: [tooSmall] })).toThrow(/memory size must be a multiple of 4 KiB and at least 16 MiB, got 1000/);
  });
});

describe('file types and character devices', () => {
  it('a registered device mmaps and faults through the feature, then goes away', () => {
    let faults = 0;
    let released = 0;
    let type: FileType | null = null;
    let silent: FileType | null = null;
    const dev = defineFeature({
      name: 'count-dev',
      summary: 'test: a tmpfs-like character device counting its faults',
      thread,
      options: {},
      install(k) {
        type = k.registerFileType('count-dev', 'count-dev', {
          name: 'count-dev',
          // eslint-disable-next-line require-yield -- the test's f_op->mmap never sleeps
          *mmap(kk, _file, vma) {
            vma.vmOps = {
              name: 'count-dev',
              *fault(v, pgoff) {
                faults++;
                const pfn = yield* shmemGetpage(kk, v.vmFile!, pgoff);
                if (pfn < 0) return { pfn: 0, ret: VM_FAULT_SIGBUS };
                if (pfn === 0) return { pfn: 0, ret: VM_FAULT_OOM };
                return { pfn, ret: VM_FAULT_MINOR };
              },
            };
            return 0;
          },
        });
        silent = k.registerFileType('count-dev', 'no-mmap', {
          name: 'no-mmap',
          // eslint-disable-next-line require-yield -- refuses at once
          *mmap() {
            return -ENODEV;
          },
          release() {
            released++;
          },
        });
      },
    });
    const k = kernel({ features: [dev] });
    expect(() => k.registerFileType('count-dev', 'count-dev', type!.ops)).toThrow(/registered twice/);
    const f = k.fileCreate(type!, 'dev0', 16 * P);
    expect(f.fileOps.name).toBe('count-dev');
    const a = k.spawn();
    const b = k.spawn();
    mapAt(k, a, R, 16 * P, RW, MAP_SHARED, f);
    mapAt(k, b, R, 16 * P, RW, MAP_SHARED, f);
    expect(k.touch(a, R, 16 * P, true)).toBe(0);
    expect(k.touch(b, R, 16 * P, false)).toBe(0);
    expect(faults).toBe(32);
    expect(k.read(b, R + 5 * P).value).toBe(k.read(a, R + 5 * P).value);
    expect(k.vm.nr_file_pages).toBe(16);
    expectClean(k);
    const g = k.fileCreate(silent!, 'dev1', P);
    expect(k.mmap(a, 0, P, PROT_READ, MAP_SHARED, g)).toBe(-ENODEV);
    expect(mmOf(a).vmas).toHaveLength(1);
    k.shmemUnlink(g);
    expect(released).toBe(1);
    expect(k.files.has(g.id)).toBe(false);
    k.exit(a);
    k.exit(b);
    k.shmemUnlink(f);
    expect(k.vm.nr_file_pages).toBe(0);
    k.finish();
    expectClean(k);
    const other = kernel();
    expect(() => other.fileCreate(type!, 'x', P)).toThrow(/file type 'count-dev' is not registered in this kernel/);
  });
});

describe('named costs', () => {
  const charging = (ns: number | Readonly<Record<string, number>>): Feature =>
    defineFeature({
      name: 'secondary-tlb',
      summary: 'test: a secondary TLB flushed at every anonymous fault',
      thread,
      options: {},
      install(k) {
        const flush = k.defineCost('secondary-tlb', 'secondaryTlbFlush', 'flushing the secondary TLB', ns);
        k.seamTable.wrap('secondary-tlb', 'anonFault', (prev) => (kk, mm, vma, address, pte) => {
          kk.chargeCost(flush);
          return prev(kk, mm, vma, address, pte);
        });
      },
    });
  const run = (f: Feature, machine = 'x86-64'): Kernel => {
    const k = buildKernel({ memBytes: 64 * MiB, cpus: 1, machine, features: [f] });
    const t = k.spawn();
    mapAt(k, t, R, 10 * P);
    expect(k.touch(t, R, 10 * P, true)).toBe(0);
    return k;
  };

  it('a charged cost shows in simulated time, with the running profile figure', () => {
    const byProfile = { 'x86-64': 1000, ppc64: 3000, default: 2000 };
    const free = run(charging(0));
    const paid = run(charging(byProfile));
    expect(paid.featureCosts.list).toEqual([{ feature: 'secondary-tlb', name: 'secondaryTlbFlush', doc: 'flushing the secondary TLB', ns: 1000, charged: 10 }]);
    expect(paid.simNs() - free.simNs()).toBe(10 * 1000);
    expect(run(charging(byProfile), 'ppc64').simNs() - run(charging(0), 'ppc64').simNs()).toBe(10 * 3000);
    expect(run(charging(byProfile), 's390').featureCosts.list[0]!.ns).toBe(2000);
    expect(() => run(charging({ 'x86-64': 5 }), 's390')).toThrow(/feature 'secondary-tlb' cost 'secondaryTlbFlush' has no figure for machine 's390' and no default/);
  });
});

describe('composition you can see', () => {
  const log: string[] = [];
  const wrapper = (name: string): Feature =>
    defineFeature({
      name,
      summary: 'test: wraps anonFault',
      thread,
      options: {},
      install(k) {
        k.seamTable.wrap(name, 'anonFault', (prev) => (kk, mm, vma, address, pte) => {
          log.push(name);
          return prev(kk, mm, vma, address, pte);
        });
      },
    });
  const replacer = (name: string, conflicts: string[] = []): Feature =>
    defineFeature({
      name,
      summary: 'test: replaces the TLB gather (with the baseline one)',
      thread,
      options: {},
      conflicts,
      install(k) {
        k.seamTable.replace(name, 'tlbGather', baseTlbGather);
      },
    });
  const fault = (k: Kernel): void => {
    const t = k.spawn();
    mapAt(k, t, R, P);
    log.length = 0;
    expect(k.touch(t, R, P, true)).toBe(0);
  };

  it('wrap + wrap composes in either order; the chain shows the order', () => {
    const ab = kernel({ features: [wrapper('wrap-a'), wrapper('wrap-b')] });
    fault(ab);
    // the last installed is outermost
    expect(log).toEqual(['wrap-b', 'wrap-a']);
    expect(ab.metrics().seams).toEqual({ anonFault: ['wrap-a (wrap)', 'wrap-b (wrap)'] });
    const ba = kernel({ features: [wrapper('wrap-b'), wrapper('wrap-a')] });
    fault(ba);
    expect(log).toEqual(['wrap-a', 'wrap-b']);
    expect(ba.seamTable.chain.anonFault).toEqual([
      { owner: 'wrap-b', mode: 'wrap' },
      { owner: 'wrap-a', mode: 'wrap' },
    ]);
    expectClean(ab);
    expectClean(ba);
  });

  it('replace + replace is refused, naming the seam and both features', () => {
    expect(() => kernel({ features: [replacer('gather-a'), replacer('gather-b')] })).toThrow(KernelConfigError);
    expect(() => kernel({ features: [replacer('gather-a'), replacer('gather-b')] })).toThrow(
      "features 'gather-a' and 'gather-b' both replace seam 'tlbGather'; declare a conflict or make one wrap",
    );
  });

  it('replace + replace with a declared conflict is refused by the conflict', () => {
    expect(() => kernel({ features: [replacer('gather-a', ['gather-b']), replacer('gather-b')] })).toThrow("features 'gather-a' and 'gather-b' conflict");
  });

  it('a replace under a wrap composes; a replace over a wrap is refused', () => {
    const wrapsGather = defineFeature({
      name: 'spy-gather',
      summary: 'test: wraps the TLB gather',
      thread,
      options: {},
      install(k) {
        k.seamTable.wrap('spy-gather', 'tlbGather', (prev) => ({ ...prev }));
      },
    });
    const k = kernel({ features: [replacer('gather-a'), wrapsGather, countTables] });
    expect(k.metrics().seams).toEqual({
      tlbGather: ['gather-a (replace)', 'spy-gather (wrap)'],
      pgtableAlloc: ['count-tables (wrap)'],
      pgtableFree: ['count-tables (wrap)'],
    });
    fault(k);
    expectClean(k);
    expect(() => kernel({ features: [wrapsGather, replacer('gather-a')] })).toThrow(
      "feature 'gather-a' replaces seam 'tlbGather', discarding the wrap 'spy-gather' installed before it; list 'gather-a' before 'spy-gather' or make it wrap",
    );
  });
});
