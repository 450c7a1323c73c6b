/**
 * `update_mmu_cache()`'s note (`Tlb.noteSet`): a page-cache fault run by
 * the baseline `__do_fault` (or an anonymous one by the baseline
 * `do_anonymous_page`) in the sequential mode notes the PTE it set,
 * and the faulting access's retry takes it instead of walking again. The
 * note is not left where something else than the core's baseline ran (a
 * wrapped `doFault` or `anonFault`, the interleaving modes), is not taken after a fault
 * that went on as a generator (a feature's special VMA operations), and
 * taking it changes nothing simulated.
 */
import { describe, expect, it } from 'vitest';
import {
  buildKernel,
  type BuildOptions,
  defineFeature,
  genericFaultPath,
  genericVmaOps,
  type Kernel,
  lookupPteTable,
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  MAP_SHARED,
  PAGE_SIZE,
  PROT_READ,
  PROT_WRITE,
  type SpecialVmaOps,
  type Task,
} from '../src/index.js';

const PAGES = 40;

/** A tmpfs file of PAGES cached pages, mapped read-only and shared at a fresh address. */
function cachedFile(build: BuildOptions): { k: Kernel; t: Task; addr: number } {
  const k = buildKernel({ check: false, memBytes: 64 * 2 ** 20, ...build });
  const t = k.spawn();
  const size = PAGES * PAGE_SIZE;
  const file = k.shmemCreate('f', size);
  const w = k.mmap(t, 0, size, PROT_READ | PROT_WRITE, MAP_SHARED, file, 0);
  expect(k.touch(t, w, size, true)).toBe(0);
  expect(k.munmap(t, w, size)).toBe(0);
  const addr = k.mmap(t, 0, size, PROT_READ, MAP_SHARED, file, 0);
  expect(addr).toBeGreaterThan(0);
  return { k, t, addr };
}

/** Special operations for every shared file VMA that run the generic fault at once (nothing else). */
const plainSpecial = defineFeature({
  name: 'plain-special',
  summary: 'Test fixture: shared file VMAs take special operations that defer to the generic paths',
  thread: { subject: '(test fixture for update_mmu_cache)', author: 'mmlab tests', date: '2026-11' },
  options: {},
  install(k) {
    const ops: SpecialVmaOps = { ...genericVmaOps, name: 'plain-special', fault: genericFaultPath };
    k.seamTable.wrap('plain-special', 'specialVmaOps', (prev) => (vma) => prev(vma) ?? (vma.vmFile !== null ? ops : null));
  },
});

/** A `doFault` wrapper that changes nothing. */
const wrappedDoFault = defineFeature({
  name: 'wrapped-do-fault',
  summary: 'Test fixture: __do_fault wrapped without a change',
  thread: { subject: '(test fixture for update_mmu_cache)', author: 'mmlab tests', date: '2026-11' },
  options: {},
  install(k) {
    k.seamTable.wrap('wrapped-do-fault', 'doFault', (prev) => (kk, mm, vma, address, pte, pgoff, write, origFlags, origValue) => prev(kk, mm, vma, address, pte, pgoff, write, origFlags, origValue));
  },
});

/** What reading the file's pages left: clocks, counters, lock figures, the PTEs and the TLB. */
function readAll(build: BuildOptions): { note: number; expected: number; outcome: unknown } {
  const { k, t, addr } = cachedFile(build);
  expect(k.touch(t, addr, PAGES * PAGE_SIZE, false)).toBe(0);
  const last = addr + (PAGES - 1) * PAGE_SIZE;
  const mm = t.mm!;
  const pte = lookupPteTable(k, mm, last);
  const a = k.tables.arr(pte);
  const b = k.tables.base(pte);
  const tlb = k.cpu.tlb;
  const outcome = {
    clocks: k.cpus.map((c) => [c.clock, c.busyNs, c.maxNonpreemptNs]),
    vm: JSON.stringify(k.vm),
    locks: k.locks.toJSON(),
    ptes: Array.from(a.subarray(b, b + 1024)),
    tlb: [tlb.vpn, tlb.mmId, tlb.pfn, tlb.perm, tlb.gen].map((x) => Array.from(x)),
  };
  return { note: tlb.setPte, expected: pte, outcome };
}

describe('update_mmu_cache notes the PTE a page-cache fault set', () => {
  it('notes it after the baseline __do_fault, in the sequential mode', () => {
    const r = readAll({});
    expect(r.note).toBe(r.expected);
  });

  it('leaves no note after a wrapped __do_fault, and the retry that walks again ends the same', () => {
    const base = readAll({});
    const r = readAll({ features: [wrappedDoFault] });
    expect(r.note).toBe(-1);
    expect(r.outcome).toEqual(base.outcome);
  });

  it('ends the same after special operations (their fault goes on as a generator: the retry walks again)', () => {
    expect(readAll({ features: [plainSpecial] }).outcome).toEqual(readAll({}).outcome);
  });

  it('notes it after the baseline do_anonymous_page, and not after a wrapped one', () => {
    for (const wrapped of [false, true]) {
      const features = wrapped
        ? [
            defineFeature({
              name: 'wrapped-anon-fault',
              summary: 'Test fixture: do_anonymous_page wrapped without a change',
              thread: { subject: '(test fixture for update_mmu_cache)', author: 'mmlab tests', date: '2026-11' },
              options: {},
              install(k) {
                k.seamTable.wrap('wrapped-anon-fault', 'anonFault', (prev) => (kk, mm, vma, address, pte) => prev(kk, mm, vma, address, pte));
              },
            }),
          ]
        : [];
      const k = buildKernel({ check: false, memBytes: 64 * 2 ** 20, features });
      const t = k.spawn();
      const addr = k.mmap(t, 0, PAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
      expect(k.touch(t, addr, PAGES * PAGE_SIZE, true)).toBe(0);
      expect(k.cpu.tlb.setPte).toBe(wrapped ? -1 : lookupPteTable(k, t.mm!, addr));
    }
  });

  it('leaves no note in the timed mode', () => {
    expect(readAll({ mode: 'timed' }).note).toBe(-1);
  });
});
