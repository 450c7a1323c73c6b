/**
 * Scenarios from the thread, with the checker and the data oracle on after
 * every operation: sharing at fault and at fork, the unshare points Hugh
 * Dickins listed, zap and exit dropping a share, truncation and reclaim
 * reaching every sharer, and the two TLB hazards of the review.
 */
import { describe, expect, it } from 'vitest';
import {
  _PAGE_ACCESSED,
  type Kernel,
  lookupPteTable,
  MADV_DONTNEED,
  MAP_PRIVATE,
  MREMAP_FIXED,
  MREMAP_MAYMOVE,
  pageReferenced,
  PMD_SIZE,
  PROT_READ,
  runSync,
  SIGBUS,
  SIGSEGV,
  type Task,
} from '@mmlab/core';
import { NAME, shareCounters, sharedTables } from '../src/index.js';
import {
  clean,
  figures,
  forked,
  formatViolations,
  GiB,
  kernelWith,
  mapAt,
  mapShared,
  MiB,
  mmOf,
  P,
  PRESSURE,
  pteAt,
  R,
  readOk,
  RW,
  shutdown,
  tlbEntries,
  vmaAt,
  writeOk,
} from './helpers.js';

/** The file: 4 MiB, two PTE tables' worth. */
const FILE = 4 * MiB;
/** Where A maps it. */
const RA = R;
/** Where B maps it: another 1 GiB (its own PUD entry). */
const RB = R + GiB;

function table(k: Kernel, t: Task, addr: number): number {
  return lookupPteTable(k, mmOf(t), addr);
}

/** A and B map the file MAP_SHARED read-write at RA and RB; A writes every page. */
function twoMappers(share: boolean, extra: Record<string, boolean> = {}) {
  const k = kernelWith(share ? 'pte' : null, {}, extra);
  const f = k.shmemCreate('shared', FILE);
  const a = k.spawn();
  const b = k.spawn();
  mapShared(k, a, RA, f);
  mapShared(k, b, RB, f);
  expect(k.touch(a, RA, FILE, true)).toBe(0);
  clean(k);
  return { k, f, a, b };
}

describe('shared-pagetables (level=pte)', () => {
  it('without the feature each process builds its own PTE tables', () => {
    const { k, a, b } = twoMappers(false);
    expect(k.touch(b, RB, FILE, false)).toBe(0);
    clean(k);
    expect(k.vm.nr_page_table_pages).toBe(4);
    expect(table(k, a, RA)).not.toBe(table(k, b, RB));
    shutdown(k);
  });

  it('shares at fault (one fault per table) and at fork; zap, mprotect, truncate and exit keep every view right', () => {
    const { k, f, a, b } = twoMappers(true);
    const c = shareCounters(k);
    const t1 = table(k, a, RA);
    const t2 = table(k, a, RA + PMD_SIZE);
    const faults = k.vm.pgfault;
    expect(k.touch(b, RB, FILE, false)).toBe(0);
    clean(k);
    expect(k.vm.pgfault - faults).toBe(2);
    expect(table(k, b, RB)).toBe(t1);
    expect(table(k, b, RB + PMD_SIZE)).toBe(t2);
    expect(k.pages.count[t1]).toBe(2);
    expect(k.vm.nr_page_table_pages).toBe(2);
    expect(figures(b)).toEqual([1024, 0, 2]);
    expect(c.share_fault).toBe(2);
    expect(sharedTables(k).get(t1)).toEqual(new Map([[mmOf(a).id, RA], [mmOf(b).id, RB]]));
    expect(k.metrics().feature?.[NAME]?.shared_tables).toBe(2);

    writeOk(k, a, RA + 5 * P, 0xa0000005);
    expect(readOk(k, b, RB + 5 * P)).toBe(0xa0000005);

    const child = forked(k, a);
    clean(k);
    expect(c.share_fork).toBe(2);
    expect(table(k, child, RA)).toBe(t1);
    expect(k.pages.count[t1]).toBe(3);
    writeOk(k, child, RA + 9 * P, 0xc0000009);
    expect(readOk(k, child, RA + 600 * P)).toBe(readOk(k, a, RA + 600 * P));
    expect(readOk(k, b, RB + 9 * P)).toBe(0xc0000009);

    // munmap of B's upper half drops B's share of t2; A and the child keep it
    expect(k.munmap(b, RB + PMD_SIZE, PMD_SIZE)).toBe(0);
    clean(k);
    expect(k.pages.count[t2]).toBe(2);
    expect(figures(b)).toEqual([512, 0, 1]);

    // VM_WRITE goes: B gets a private copy first, A still writes through t1
    expect(k.mprotect(b, RB, PMD_SIZE, PROT_READ)).toBe(0);
    clean(k);
    expect(table(k, b, RB)).not.toBe(t1);
    expect(c.unshare_copy).toBe(1);
    expect(c.unshare_copy_ptes).toBe(512);
    writeOk(k, a, RA + 7 * P, 0xa0000007);
    expect(readOk(k, b, RB + 7 * P)).toBe(0xa0000007);
    expect(k.write(b, RB + 7 * P, 1)).toBe(SIGSEGV);

    // truncation clears the shared tables' PTEs for A and the child at once, flushing both
    expect(tlbEntries(k, mmOf(child).id, RA + MiB, RA + FILE)).toBeGreaterThan(0);
    expect(k.ftruncate(f, MiB)).toBe(0);
    clean(k);
    expect(tlbEntries(k, mmOf(child).id, RA + MiB, RA + FILE)).toBe(0);
    expect(c.flush_sharers).toBeGreaterThan(0);
    expect(figures(a)).toEqual([256, 0, 2]);
    expect(figures(child)).toEqual([256, 0, 2]);
    expect(k.read(child, RA + 3 * MiB).sig).toBe(SIGBUS);

    k.exit(a);
    clean(k);
    expect(k.pages.count[t1]).toBe(1);
    expect(sharedTables(k).size).toBe(0);
    shutdown(k);
  });

  it('read-only private file mappings share too; a forced write unshares first and the i_mmap search skips the VMA with an anon_vma', () => {
    const k = kernelWith('pte');
    const f = k.shmemCreate('text', FILE);
    const w = k.spawn();
    mapShared(k, w, R, f);
    expect(k.touch(w, R, FILE, true)).toBe(0);
    const a = k.spawn();
    const b = k.spawn();
    mapAt(k, a, RA + GiB, FILE, PROT_READ, MAP_PRIVATE, f);
    mapAt(k, b, RB + GiB, FILE, PROT_READ, MAP_PRIVATE, f);
    expect(k.touch(a, RA + GiB, FILE, false)).toBe(0);
    expect(k.touch(b, RB + GiB, FILE, false)).toBe(0);
    clean(k);
    const t1 = table(k, a, RA + GiB);
    expect(table(k, b, RB + GiB)).toBe(t1);
    expect(table(k, w, R)).not.toBe(t1); // other flags (shared, writable)

    // ptrace pokes B's text: a COW page lands in B's VMA, B's tables go private first
    const file1 = f.findPage(1);
    expect(k.accessProcessVm(b, RB + GiB + P, 0x0badc0de)).toBe(0x0badc0de);
    clean(k);
    expect(vmaAt(b, RB + GiB).anonVma).not.toBeNull();
    expect(table(k, b, RB + GiB)).not.toBe(t1);
    expect(figures(b)).toEqual([1023, 1, 2]);
    expect(readOk(k, b, RB + GiB + P)).toBe(0x0badc0de);
    expect(readOk(k, a, RA + GiB + P)).toBe(k.tokenOf(file1));

    // a new reader once A is gone: B (has the tables, but an anon_vma) is skipped
    k.exit(a);
    const d = k.spawn();
    mapAt(k, d, RA + 2 * GiB, FILE, PROT_READ, MAP_PRIVATE, f);
    expect(k.touch(d, RA + 2 * GiB, FILE, false)).toBe(0);
    clean(k);
    expect(k.pages.count[table(k, d, RA + 2 * GiB)]).toBe(1);
    shutdown(k);
  });

  it('mremap move and remap_file_pages give the mm private tables first; the other sharer keeps its view', () => {
    const { k, f, a, b } = twoMappers(true);
    expect(k.touch(b, RB, FILE, false)).toBe(0);
    const t1 = table(k, a, RA);
    writeOk(k, a, RA + 3 * P, 0xa0000003);
    const to = RB + 2 * GiB;
    expect(k.mremap(b, RB, FILE, FILE, MREMAP_MAYMOVE | MREMAP_FIXED, to)).toBe(to);
    clean(k);
    expect(k.pages.count[t1]).toBe(1);
    expect(readOk(k, b, to + 3 * P)).toBe(0xa0000003);
    // a third mapper shares with A, then goes nonlinear
    const c = k.spawn();
    mapShared(k, c, RB, f);
    expect(k.touch(c, RB, FILE, false)).toBe(0);
    expect(table(k, c, RB)).toBe(t1);
    expect(k.remapFilePages(c, RB, P, 700)).toBe(0);
    clean(k);
    expect(k.pages.count[t1]).toBe(1);
    expect(readOk(k, c, RB)).toBe(k.tokenOf(f.findPage(700)));
    expect(readOk(k, a, RA)).toBe(k.tokenOf(f.findPage(0)));
    shutdown(k);
  });

  it('MADV_DONTNEED drops the share (the next access shares again); munmap through a table copies it first', () => {
    const { k, a, b } = twoMappers(true);
    expect(k.touch(b, RB, FILE, false)).toBe(0);
    const t1 = table(k, a, RA);
    const t2 = table(k, a, RA + PMD_SIZE);
    expect(k.munmap(b, RB + MiB, P)).toBe(0);
    clean(k);
    expect(table(k, b, RB)).not.toBe(t1);
    expect(table(k, b, RB + PMD_SIZE)).toBe(t2);
    expect(k.madvise(b, RB + PMD_SIZE, 8 * P, MADV_DONTNEED)).toBe(0);
    clean(k);
    expect(table(k, b, RB + PMD_SIZE)).toBe(0);
    expect(readOk(k, b, RB + PMD_SIZE + 100 * P)).toBe(readOk(k, a, RA + PMD_SIZE + 100 * P));
    expect(table(k, b, RB + PMD_SIZE)).toBe(t2);
    clean(k);
    shutdown(k);
  });
});

describe('reverse maps meet a shared table once per sharer', () => {
  /** N processes map the file and read page 3; returns the kernel and page 3's frame. */
  function readers(share: boolean, n: number) {
    const k = kernelWith(share ? 'pte' : null);
    const f = k.shmemCreate('shared', FILE);
    const ts: Task[] = [];
    for (let i = 0; i < n; i++) {
      const t = k.spawn();
      mapShared(k, t, R + i * GiB, f);
      expect(readOk(k, t, R + i * GiB + 3 * P)).toBe(k.tokenOf(f.findPage(3)));
      ts.push(t);
    }
    clean(k);
    return { k, f, ts, page: f.findPage(3) };
  }

  it('page_referenced counts one young PTE once, however many mms reach its table (the baseline counts one per mm)', () => {
    const base = readers(false, 3);
    expect(base.k.pages.mapcount[base.page]).toBe(3);
    expect(runSync(pageReferenced(base.k, base.page))).toBe(3);
    shutdown(base.k);
    const shared = readers(true, 3);
    expect(shared.k.pages.mapcount[shared.page]).toBe(1);
    expect(runSync(pageReferenced(shared.k, shared.page))).toBe(1);
    expect(runSync(pageReferenced(shared.k, shared.page))).toBe(0);
    const young = (t: Task, i: number): boolean => (pteAt(shared.k, t, R + i * GiB + 3 * P)!.flags & _PAGE_ACCESSED) !== 0;
    expect(shared.ts.map(young)).toEqual([false, false, false]);
    clean(shared.k);
    shutdown(shared.k);
  });

  it('try_to_unmap (reclaim) clears the PTE once and flushes the TLB of every sharing mm; the data comes back', () => {
    const k = kernelWith('pte', { memBytes: 32 * MiB });
    const f = k.shmemCreate('shared', FILE);
    const a = k.spawn();
    const b = k.spawn();
    const hog = k.spawn();
    mapShared(k, a, RA, f);
    mapShared(k, b, RB, f);
    for (let i = 0; i < 1024; i += 16) writeOk(k, a, RA + i * P, 0x5a000000 + i);
    expect(k.touch(b, RB, FILE, false)).toBe(0);
    clean(k);
    const t1 = table(k, a, RA);
    expect(table(k, b, RB)).toBe(t1);
    const flushes = shareCounters(k).flush_sharers;
    mapAt(k, hog, PRESSURE, 40 * MiB, RW, MAP_PRIVATE | 0x20, null);
    expect(k.touch(hog, PRESSURE, 40 * MiB, true)).toBe(0);
    clean(k); // every TLB entry of A and B still matches its PTE: the flushes reached both
    expect(f.nrswapped).toBeGreaterThan(0);
    expect(shareCounters(k).flush_sharers).toBeGreaterThan(flushes);
    expect(mmOf(a).fileRss).toBe(mmOf(b).fileRss);
    expect(k.pages.count[t1]).toBe(2);
    for (let i = 0; i < 1024; i += 16) expect(readOk(k, b, RB + i * P)).toBe(0x5a000000 + i);
    clean(k);
    shutdown(k);
  });
});

describe("Hugh Dickins' TLB hazards (the checker catches each when the rule is off)", () => {
  it('without flushing every sharer, truncation leaves the other sharer a TLB entry to a freed page', () => {
    const { k, f, b } = twoMappers(true, { flushSharers: false });
    expect(k.touch(b, RB, FILE, false)).toBe(0);
    clean(k);
    expect(k.ftruncate(f, MiB)).toBe(0);
    const v = k.invariants.violations;
    expect(v.some((x) => x.check === 'tlb' && x.message.includes(`of mm ${mmOf(b).id}`)), formatViolations(v)).toBe(true);
  });

  it('without the flush before the unsharing mm drops the lock, it keeps TLB entries with no table behind them', () => {
    const { k, b } = twoMappers(true, { unshareFlush: false });
    expect(k.touch(b, RB, FILE, false)).toBe(0);
    clean(k);
    expect(k.munmap(b, RB + PMD_SIZE, PMD_SIZE)).toBe(0);
    const v = k.invariants.violations;
    expect(v.some((x) => x.check === 'tlb' && x.message.includes(`of mm ${mmOf(b).id}`)), formatViolations(v)).toBe(true);
  });

  it('with both rules on the same operations are clean', () => {
    const { k, f, b } = twoMappers(true);
    expect(k.touch(b, RB, FILE, false)).toBe(0);
    expect(k.munmap(b, RB + PMD_SIZE, PMD_SIZE)).toBe(0);
    expect(k.ftruncate(f, MiB)).toBe(0);
    clean(k);
    shutdown(k);
  });
});
