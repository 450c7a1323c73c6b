/**
 * The core's page-table sharing primitives are enough: a test-only feature
 * (`test-share-pte`, in share-pte-feature.ts) shares PTE tables between
 * processes mapping one tmpfs file through the seams alone, and fork,
 * munmap, mprotect, mremap, truncate, a forced COW, reclaim and exit keep
 * the checker and the oracle clean, with `nr_page_table_pages` counting a
 * shared table once.
 */
import { describe, expect, it } from 'vitest';
import {
  _PAGE_ACCESSED,
  buildKernel,
  type BuildOptions,
  type Kernel,
  type KGen,
  lookupPteTable,
  MADV_DONTNEED,
  MAP_SHARED,
  MREMAP_FIXED,
  MREMAP_MAYMOVE,
  pageReferenced,
  PMD_SIZE,
  PROT_READ,
  runSync,
  SIGBUS,
  SIGSEGV,
  type Task,
  VM_WRITE,
} from '../src/index.js';
import { sharedPteTables, sharePte, sharePteCounters } from './share-pte-feature.js';
import { formatViolations, GiB, MiB, mapAt, mmOf, forked, P, pressure, PRESSURE, pteAt, R, readOk, RW, shutdown, vmaAt, writeOk } from './rest-helpers.js';
import { tlbEntries } from './helpers.js';

/** The file: 4 MiB, two PTE tables' worth. */
const FILE = 4 * MiB;
/** Where A maps it (2 MiB-aligned). */
const RA = R;
/** Where B maps it: another 1 GiB (its own PUD entry), 2 MiB-aligned. */
const RB = R + GiB;

function kernelWith(share: boolean, opts: BuildOptions = {}): Kernel {
  return buildKernel({ memBytes: 64 * MiB, check: true, ...(share ? { features: [sharePte] } : {}), ...opts });
}

/** No violation recorded so far, and none now. */
function clean(k: Kernel): void {
  expect(k.invariants.violations.length, formatViolations(k.invariants.violations)).toBe(0);
  const now = k.check();
  expect(now.length, formatViolations(now)).toBe(0);
}

/** The PTE table mapping `addr` in the task's mm (0 when none). */
function table(k: Kernel, t: Task, addr: number): number {
  return lookupPteTable(k, mmOf(t), addr);
}

/** `nr_page_table_pages`. */
function nrPt(k: Kernel): number {
  return k.vm.nr_page_table_pages;
}

/** The RSS figures of a task: [file, anon, nr_ptes]. */
function figures(t: Task): [number, number, number] {
  const mm = mmOf(t);
  return [mm.fileRss, mm.anonRss, mm.nrPtes];
}

/** A and B map the file MAP_SHARED read-write at RA and RB; A writes every page. */
function twoMappers(share: boolean, opts: BuildOptions = {}) {
  const k = kernelWith(share, opts);
  const f = k.shmemCreate('shared', FILE);
  const a = k.spawn();
  const b = k.spawn();
  mapAt(k, a, RA, FILE, RW, MAP_SHARED, f);
  mapAt(k, b, RB, FILE, RW, MAP_SHARED, f);
  expect(k.touch(a, RA, FILE, true)).toBe(0);
  clean(k);
  return { k, f, a, b };
}

describe('shared PTE tables through the seams (test-share-pte)', () => {
  it('without the feature each process has its own tables: nr_page_table_pages counts them per process', () => {
    const { k, a, b } = twoMappers(false);
    expect(nrPt(k)).toBe(2);
    expect(k.touch(b, RB, FILE, false)).toBe(0);
    clean(k);
    expect(nrPt(k)).toBe(4);
    expect(figures(a)).toEqual([1024, 0, 2]);
    expect(figures(b)).toEqual([1024, 0, 2]);
    expect(table(k, a, RA)).not.toBe(table(k, b, RB));
    expect(k.pages.count[table(k, b, RB)]).toBe(1);
    shutdown(k);
  });

  it('shares at fault and fork, unshares for munmap, mprotect and exit, truncates through the shared table', () => {
    const { k, f, a, b } = twoMappers(true);
    const c = sharePteCounters(k);
    const t1 = table(k, a, RA);
    const t2 = table(k, a, RA + PMD_SIZE);
    expect(nrPt(k)).toBe(2);
    expect(figures(a)).toEqual([1024, 0, 2]);

    // B's first fault in each 2 MiB takes A's table, with every page A mapped there
    const faults = k.vm.pgfault;
    expect(readOk(k, b, RB)).toBe(k.tokenOf(f.findPage(0)));
    clean(k);
    expect(table(k, b, RB)).toBe(t1);
    expect(k.pages.count[t1]).toBe(2);
    expect(figures(b)).toEqual([512, 0, 1]);
    expect(k.touch(b, RB, FILE, false)).toBe(0);
    clean(k);
    expect(k.vm.pgfault - faults).toBe(2); // one fault per table, the rest are TLB fills
    expect(table(k, b, RB + PMD_SIZE)).toBe(t2);
    expect(nrPt(k)).toBe(2); // each shared table counted once
    expect(figures(a)).toEqual([1024, 0, 2]); // VmPTE of each sharer counts the tables it reaches
    expect(figures(b)).toEqual([1024, 0, 2]);
    expect(c.share_fault).toBe(2);
    expect(sharedPteTables(k).get(t1)).toEqual(new Map([[mmOf(a).id, RA], [mmOf(b).id, RB]]));

    // one table, one view: A's writes are B's reads and back (the oracle checks every read)
    writeOk(k, a, RA + 5 * P, 0xa0000005);
    expect(readOk(k, b, RB + 5 * P)).toBe(0xa0000005);
    writeOk(k, b, RB + 600 * P, 0xb0000600);
    expect(readOk(k, a, RA + 600 * P)).toBe(0xb0000600);
    clean(k);

    // fork of A: the child points at the same tables
    const child = forked(k, a);
    clean(k);
    expect(c.share_fork).toBe(2);
    expect(table(k, child, RA)).toBe(t1);
    expect(table(k, child, RA + PMD_SIZE)).toBe(t2);
    expect(k.pages.count[t1]).toBe(3);
    expect(nrPt(k)).toBe(2);
    expect(figures(child)).toEqual([1024, 0, 2]);
    expect(readOk(k, child, RA + 600 * P)).toBe(0xb0000600);
    writeOk(k, child, RA + 9 * P, 0xc0000009);
    expect(readOk(k, b, RB + 9 * P)).toBe(0xc0000009);
    clean(k);

    // munmap of B's upper half: B drops its share of t2; A and the child keep it
    expect(k.munmap(b, RB + PMD_SIZE, PMD_SIZE)).toBe(0);
    clean(k);
    expect(table(k, b, RB + PMD_SIZE)).toBe(0);
    expect(k.pages.count[t2]).toBe(2);
    expect(figures(b)).toEqual([512, 0, 1]);
    expect(nrPt(k)).toBe(2);
    expect(readOk(k, a, RA + 600 * P)).toBe(0xb0000600);

    // mprotect of B's lower half read-only: B gets a private copy first; A still writes through t1
    expect(k.mprotect(b, RB, PMD_SIZE, PROT_READ)).toBe(0);
    clean(k);
    const bPrivate = table(k, b, RB);
    expect(bPrivate).not.toBe(t1);
    expect(k.pages.count[bPrivate]).toBe(1);
    expect(k.pages.count[t1]).toBe(2); // A and the child
    expect(c.unshare_copy).toBe(1);
    expect(c.unshare_copy_ptes).toBe(512);
    expect(nrPt(k)).toBe(3);
    expect(figures(b)).toEqual([512, 0, 1]);
    expect(figures(a)).toEqual([1024, 0, 2]);
    writeOk(k, a, RA + 7 * P, 0xa0000007);
    expect(readOk(k, b, RB + 7 * P)).toBe(0xa0000007);
    expect(k.write(b, RB + 7 * P, 1)).toBe(SIGSEGV);
    expect(readOk(k, child, RA + 7 * P)).toBe(0xa0000007);
    clean(k);

    // truncate to 1 MiB: the zap through A's VMA clears the shared tables' PTEs for A and the
    // child at once (and flushes both TLBs); B's private table is zapped through B's VMA
    const tlbBefore = tlbEntries(k, mmOf(child).id, RA + MiB, RA + FILE);
    expect(tlbBefore).toBeGreaterThan(0);
    expect(k.ftruncate(f, MiB)).toBe(0);
    clean(k);
    expect(tlbEntries(k, mmOf(child).id, RA + MiB, RA + FILE)).toBe(0);
    expect(c.flush_sharers).toBeGreaterThan(0);
    expect(figures(a)).toEqual([256, 0, 2]);
    expect(figures(child)).toEqual([256, 0, 2]);
    expect(figures(b)).toEqual([256, 0, 1]);
    expect(nrPt(k)).toBe(3); // truncation frees pages, not tables
    expect(k.pages.count[t1]).toBe(2);
    expect(k.read(a, RA + MiB).sig).toBe(SIGBUS);
    expect(k.read(child, RA + 3 * MiB).sig).toBe(SIGBUS);
    expect(k.read(b, RB + MiB + P).sig).toBe(SIGBUS);
    expect(readOk(k, b, RB + 7 * P)).toBe(0xa0000007);
    expect(readOk(k, child, RA + 5 * P)).toBe(0xa0000005);
    clean(k);

    // exit of A: its shares go, the child keeps both tables (now private to it)
    k.exit(a);
    clean(k);
    expect(k.pages.count[t1]).toBe(1);
    expect(k.pages.count[t2]).toBe(1);
    expect(sharedPteTables(k).size).toBe(0);
    expect(nrPt(k)).toBe(3);
    expect(figures(child)).toEqual([256, 0, 2]);
    k.exit(b);
    clean(k);
    expect(nrPt(k)).toBe(2);
    k.exit(child);
    clean(k);
    expect(nrPt(k)).toBe(0);
    expect(c.unshare_zap).toBe(3); // B's t2, A's t1 and t2
    shutdown(k);
  });

  it("a forced COW (Linus' strange ptrace case) unshares first; the i_mmap search skips a VMA with an anon_vma", () => {
    const k = kernelWith(true);
    const f = k.shmemCreate('text', FILE);
    const w = k.spawn();
    const a = k.spawn();
    const b = k.spawn();
    mapAt(k, w, R, FILE, RW, MAP_SHARED, f);
    expect(k.touch(w, R, FILE, true)).toBe(0);
    // read-only mappers share with each other, not with the writer (other protection)
    mapAt(k, a, RA + GiB, FILE, PROT_READ, MAP_SHARED, f);
    mapAt(k, b, RB + GiB, FILE, PROT_READ, MAP_SHARED, f);
    expect(k.touch(a, RA + GiB, FILE, false)).toBe(0);
    expect(readOk(k, b, RB + GiB)).toBe(k.tokenOf(f.findPage(0)));
    clean(k);
    const t1 = table(k, a, RA + GiB);
    expect(table(k, b, RB + GiB)).toBe(t1);
    expect(table(k, w, R)).not.toBe(t1);
    expect(nrPt(k)).toBe(4); // W's two, A's two (one of them B's too)
    expect(figures(b)).toEqual([512, 0, 1]);

    // ptrace pokes B's read-only shared mapping: an anonymous page lands in B's VMA
    const file1 = f.findPage(1);
    expect(k.accessProcessVm(b, RB + GiB + P, 0x0badc0de)).toBe(0x0badc0de);
    clean(k);
    expect(vmaAt(b, RB + GiB).anonVma).not.toBeNull();
    expect(table(k, b, RB + GiB)).not.toBe(t1);
    expect(k.pages.count[t1]).toBe(1);
    expect(figures(b)).toEqual([511, 1, 1]);
    expect(nrPt(k)).toBe(5);
    expect(readOk(k, b, RB + GiB + P)).toBe(0x0badc0de);
    expect(readOk(k, a, RA + GiB + P)).toBe(k.tokenOf(file1));
    // B's VMA has an anon_vma now: its next table is private
    expect(readOk(k, b, RB + GiB + PMD_SIZE)).toBe(k.tokenOf(f.findPage(512)));
    clean(k);
    expect(table(k, b, RB + GiB + PMD_SIZE)).not.toBe(table(k, a, RA + GiB + PMD_SIZE));
    expect(nrPt(k)).toBe(6);

    // a new read-only mapper D, once A is gone: B (same protection, has the tables) is skipped
    k.exit(a);
    const d = k.spawn();
    mapAt(k, d, RA + 2 * GiB, FILE, PROT_READ, MAP_SHARED, f);
    expect(k.touch(d, RA + 2 * GiB, FILE, false)).toBe(0);
    clean(k);
    expect(k.pages.count[table(k, d, RA + 2 * GiB)]).toBe(1);
    expect(k.pages.count[table(k, d, RA + 2 * GiB + PMD_SIZE)]).toBe(1);
    expect(readOk(k, d, RA + 2 * GiB + P)).toBe(k.tokenOf(file1));
    expect(sharePteCounters(k).share_fault).toBe(1);
    shutdown(k);
  });

  it('mremap move of a sharer gives it private tables first; the data moves, the other sharer keeps its view', () => {
    const { k, f, a, b } = twoMappers(true);
    expect(k.touch(b, RB, FILE, false)).toBe(0);
    const t1 = table(k, a, RA);
    expect(table(k, b, RB)).toBe(t1);
    writeOk(k, a, RA + 3 * P, 0xa0000003);
    const to = RB + 2 * GiB;
    expect(k.mremap(b, RB, FILE, FILE, MREMAP_MAYMOVE | MREMAP_FIXED, to)).toBe(to);
    clean(k);
    expect(k.pages.count[t1]).toBe(1);
    expect(table(k, b, RB)).toBe(0);
    expect(k.pages.count[table(k, b, to)]).toBe(1);
    expect(nrPt(k)).toBe(4);
    expect(figures(b)).toEqual([1024, 0, 2]);
    expect(sharePteCounters(k).unshare_copy).toBe(2);
    expect(readOk(k, b, to + 3 * P)).toBe(0xa0000003);
    writeOk(k, a, RA + 1000 * P, 0xa0001000);
    expect(readOk(k, b, to + 1000 * P)).toBe(0xa0001000);
    expect(k.pages.token[f.findPage(1000)]).toBe(0xa0001000);
    clean(k);
    shutdown(k);
  });

  it('remap_file_pages makes a sharer nonlinear: it gets private tables first, the other sharer is untouched', () => {
    const { k, f, a, b } = twoMappers(true);
    expect(k.touch(b, RB, FILE, false)).toBe(0);
    const t1 = table(k, a, RA);
    const t2 = table(k, a, RA + PMD_SIZE);
    expect(k.remapFilePages(b, RB, P, 700)).toBe(0);
    clean(k);
    expect(k.pages.count[t1]).toBe(1);
    expect(k.pages.count[t2]).toBe(1);
    expect(nrPt(k)).toBe(4);
    expect(readOk(k, b, RB)).toBe(k.tokenOf(f.findPage(700)));
    expect(readOk(k, a, RA)).toBe(k.tokenOf(f.findPage(0)));
    // a new mapper finds A's tables, never B's nonlinear VMA
    const c = k.spawn();
    mapAt(k, c, RB + GiB, FILE, RW, MAP_SHARED, f);
    expect(k.touch(c, RB + GiB, FILE, false)).toBe(0);
    expect(table(k, c, RB + GiB)).toBe(t1);
    expect(k.ftruncate(f, 3 * MiB)).toBe(0);
    clean(k);
    expect(figures(c)).toEqual([768, 0, 2]);
    expect(figures(a)).toEqual([768, 0, 2]);
    shutdown(k);
  });

  it('munmap through the middle of a shared table copies it first; MADV_DONTNEED drops the share and re-faults', () => {
    const { k, a, b } = twoMappers(true);
    expect(k.touch(b, RB, FILE, false)).toBe(0);
    const t1 = table(k, a, RA);
    const t2 = table(k, a, RA + PMD_SIZE);
    // a split inside t1 (not on a 2 MiB boundary)
    expect(k.munmap(b, RB + MiB, P)).toBe(0);
    clean(k);
    expect(table(k, b, RB)).not.toBe(t1);
    expect(k.pages.count[t1]).toBe(1);
    expect(table(k, b, RB + PMD_SIZE)).toBe(t2);
    expect(figures(b)).toEqual([1023, 0, 2]);
    expect(nrPt(k)).toBe(3);
    // MADV_DONTNEED on part of t2 in B: B's share goes, its next access shares again
    expect(k.madvise(b, RB + PMD_SIZE, 8 * P, MADV_DONTNEED)).toBe(0);
    clean(k);
    expect(table(k, b, RB + PMD_SIZE)).toBe(0);
    expect(figures(b)).toEqual([511, 0, 1]);
    expect(figures(a)).toEqual([1024, 0, 2]);
    expect(readOk(k, b, RB + PMD_SIZE + 100 * P)).toBe(readOk(k, a, RA + PMD_SIZE + 100 * P));
    expect(table(k, b, RB + PMD_SIZE)).toBe(t2);
    expect(figures(b)).toEqual([1023, 0, 2]);
    clean(k);
    shutdown(k);
  });

  it('reclaim unmaps pages of a shared table once for all sharers; the data comes back from swap', () => {
    const k = kernelWith(true, { memBytes: 32 * MiB });
    const f = k.shmemCreate('shared', FILE);
    const a = k.spawn();
    const b = k.spawn();
    const hog = k.spawn();
    mapAt(k, a, RA, FILE, RW, MAP_SHARED, f);
    mapAt(k, b, RB, FILE, RW, MAP_SHARED, f);
    for (let i = 0; i < 1024; i += 16) writeOk(k, a, RA + i * P, 0x5a000000 + i);
    expect(k.touch(b, RB, FILE, false)).toBe(0);
    clean(k);
    const t1 = table(k, a, RA);
    expect(table(k, b, RB)).toBe(t1);
    // page_referenced meets the table through both VMAs: one young PTE, counted once
    const page = f.findPage(16);
    expect(runSync(pageReferenced(k, page))).toBe(1);
    expect(runSync(pageReferenced(k, page))).toBe(0);
    clean(k);
    pressure(k, hog, PRESSURE, 40 * MiB);
    clean(k);
    expect(f.nrswapped).toBeGreaterThan(0);
    expect(mmOf(a).fileRss).toBe(mmOf(b).fileRss);
    expect(mmOf(a).fileRss).toBeLessThan(1024);
    expect(k.pages.count[t1]).toBe(2);
    for (let i = 0; i < 1024; i += 16) expect(readOk(k, b, RB + i * P)).toBe(0x5a000000 + i);
    for (let i = 0; i < 1024; i += 16) expect(readOk(k, a, RA + i * P)).toBe(0x5a000000 + i);
    clean(k);
    shutdown(k);
  });

  it('page_referenced meets a shared table through every sharer: the PTE counts once, and the countdown stops early', () => {
    const { k, f, a, b } = twoMappers(true);
    expect(k.touch(b, RB, FILE, false)).toBe(0);
    // D maps the file read-only: its own table (other protection), after A and B in i_mmap
    const d = k.spawn();
    mapAt(k, d, RB + GiB, FILE, PROT_READ, MAP_SHARED, f);
    expect(k.touch(d, RB + GiB, FILE, false)).toBe(0);
    clean(k);
    const page = f.findPage(3);
    expect(k.pages.mapcount[page]).toBe(2); // the shared table's PTE and D's
    const young = (t: Task, addr: number): boolean => (pteAt(k, t, addr)!.flags & _PAGE_ACCESSED) !== 0;
    expect([young(a, RA + 3 * P), young(d, RB + GiB + 3 * P)]).toEqual([true, true]);
    // A's VMA: the shared PTE, young (1); B's VMA: the same PTE again, now old, and the mapcount
    // countdown reaches 0 there, so D's young PTE is never looked at (2 young PTEs, 1 counted)
    expect(runSync(pageReferenced(k, page))).toBe(1);
    expect([young(a, RA + 3 * P), young(d, RB + GiB + 3 * P)]).toEqual([false, true]);
    clean(k);
    shutdown(k);
  });

  it('hazard: without sending flushes to every sharer, truncation leaves the other sharer a TLB entry to a freed page', () => {
    const { k, f, b } = twoMappers(true, { features: [{ feature: sharePte, options: { flushSharers: false } }] });
    expect(k.touch(b, RB, FILE, false)).toBe(0);
    clean(k);
    expect(k.ftruncate(f, MiB)).toBe(0);
    const v = k.invariants.violations;
    expect(v.some((x) => x.check === 'tlb' && x.message.includes(`of mm ${mmOf(b).id}`)), formatViolations(v)).toBe(true);
  });

  it("hazard: without Hugh Dickins' flush before unsharing, the unsharing mm keeps TLB entries with no table behind them", () => {
    const { k, b } = twoMappers(true, { features: [{ feature: sharePte, options: { unshareFlush: false } }] });
    expect(k.touch(b, RB, FILE, false)).toBe(0);
    clean(k);
    // the upper half: B's PMD table stays (the lower half still uses it), so no table free flushes B
    expect(k.munmap(b, RB + PMD_SIZE, PMD_SIZE)).toBe(0);
    const v = k.invariants.violations;
    expect(v.some((x) => x.check === 'tlb' && x.message.includes(`of mm ${mmOf(b).id}`)), formatViolations(v)).toBe(true);
  });
});

describe('shared PTE tables with interleaved threads (explore mode)', () => {
  it('two threads of B fault into one 2 MiB while A writes and unmaps its upper half: every interleaving is clean', () => {
    for (const seed of [1, 2, 3, 4]) {
      const k = buildKernel({ mode: 'explore', cpus: 4, memBytes: 32 * MiB, check: true, seed, features: [sharePte] });
      const f = k.shmemCreate('shared', FILE);
      const a = k.spawn();
      const b = k.spawn();
      const b2 = k.clone(b);
      mapAt(k, a, RA, FILE, RW, MAP_SHARED, f);
      mapAt(k, b, RB, FILE, RW, MAP_SHARED, f);
      expect(k.touch(a, RA, FILE, true)).toBe(0);
      const [sa, sb, sb2] = [k.sys(a), k.sys(b), k.sys(b2)];
      k.runThreads([
        {
          task: b,
          program: (function* (): KGen<void> {
            yield* sb.read(RB);
            yield* sb.read(RB + PMD_SIZE);
          })(),
        },
        {
          task: b2,
          program: (function* (): KGen<void> {
            yield* sb2.read(RB + P);
            yield* sb2.read(RB + PMD_SIZE + P);
          })(),
        },
        {
          task: a,
          program: (function* (): KGen<void> {
            yield* sa.write(RA + 5 * P, 0xa5);
            yield* sa.munmap(RA + PMD_SIZE, PMD_SIZE);
          })(),
        },
      ]);
      clean(k);
      expect(table(k, b, RB)).toBe(table(k, a, RA));
      expect(readOk(k, b, RB + 5 * P)).toBe(0xa5);
      shutdown(k);
    }
  });
});

describe('shared PTE tables under random operation sequences', () => {
  // (SHARE_SEEDS=1,2,… runs other seeds. Seeds 104 and 611 fail without the feature too: after
  // mprotect back to writable and fork, a forced COW page in a VM_SHARED VMA is shared writable by
  // parent and child, as in 2.6.24, and the oracle expects private copies)
  const SEEDS = (process.env.SHARE_SEEDS ?? '1,2,3,4,5,6,7,8').split(',').map(Number);
  const totals = { share_fault: 0, share_fork: 0, unshare_zap: 0, unshare_copy: 0, flush_sharers: 0 };
  /** A small deterministic generator (mulberry32). */
  function rng(seed: number): (n: number) => number {
    let s = seed >>> 0;
    return (n) => {
      s = (s + 0x6d2b79f5) >>> 0;
      let t = s;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return (((t ^ (t >>> 14)) >>> 0) % n);
    };
  }

  for (const seed of SEEDS) {
    it(`seed ${seed}: fork, munmap, mprotect, madvise, mremap, truncate, forced writes and exits keep the checker and the oracle clean`, () => {
      const k = kernelWith(true);
      const f = k.shmemCreate('shared', FILE);
      const r = rng(seed);
      const slot = (i: number): number => R + i * GiB;
      let slots = 0;
      const live: Task[] = [];
      const ops: string[] = [];
      const mapFresh = (t: Task): void => {
        const at = slot(slots++);
        // mostly the whole file 2 MiB-aligned; sometimes its upper half, or a misaligned start
        const kind = r(4);
        if (kind === 0) mapAt(k, t, at + PMD_SIZE, PMD_SIZE, r(3) === 0 ? PROT_READ : RW, MAP_SHARED, f, PMD_SIZE);
        else if (kind === 1) mapAt(k, t, at + 16 * P, FILE, RW, MAP_SHARED, f);
        else mapAt(k, t, at, FILE, r(4) === 0 ? PROT_READ : RW, MAP_SHARED, f);
      };
      for (let i = 0; i < 3; i++) {
        const t = k.spawn();
        live.push(t);
        mapFresh(t);
      }
      let size = FILE;
      for (let step = 0; step < 150; step++) {
        const t = live[r(live.length)]!;
        const vmas = mmOf(t).vmas;
        const v = vmas.length > 0 ? vmas[r(vmas.length)]! : null;
        const pages = v === null ? 0 : (v.vmEnd - v.vmStart) / P;
        const start = v === null ? 0 : v.vmStart + r(pages) * P;
        const len = v === null ? 0 : Math.min(v.vmEnd - start, (r(4) === 0 ? 512 : 1 + r(600)) * P);
        const op = r(14);
        ops.push(`${op}@${t.pid}`);
        switch (op) {
          case 0:
          case 1:
          case 2:
            if (v !== null) k.touch(t, start, len, r(2) === 0 && (v.vmFlags & VM_WRITE) !== 0);
            break;
          case 3:
            if (live.length < 6) live.push(forked(k, t));
            break;
          case 4:
            if (v !== null) k.munmap(t, r(2) === 0 ? Math.floor(start / PMD_SIZE) * PMD_SIZE : start, r(2) === 0 ? PMD_SIZE : len);
            break;
          case 5:
            if (v !== null) k.mprotect(t, start, len, r(2) === 0 ? PROT_READ : RW);
            break;
          case 6:
            if (v !== null) k.madvise(t, start, len, MADV_DONTNEED);
            break;
          case 7:
            if (v !== null) k.mremap(t, v.vmStart, v.vmEnd - v.vmStart, v.vmEnd - v.vmStart, MREMAP_MAYMOVE | MREMAP_FIXED, slot(slots++) + (r(3) === 0 ? 8 * P : 0));
            break;
          case 8:
            size = r(3) === 0 ? FILE : r(FILE / P) * P;
            k.ftruncate(f, size);
            break;
          case 9:
            if (v !== null) k.accessProcessVm(t, start, 0xf0000000 + step);
            break;
          case 10:
            if (live.length > 1) {
              k.exit(t);
              live.splice(live.indexOf(t), 1);
            }
            break;
          case 11:
            mapFresh(t);
            break;
          case 12: {
            // the next part of the file right after a mapping of it: vma_merge extends it (vma_adjust)
            if (v === null) break;
            const off = (v.vmPgoff + (v.vmEnd - v.vmStart) / P) * P;
            const room = Math.min(PMD_SIZE, FILE - off);
            if (room <= 0 || vmas.some((x) => x.vmStart < v.vmEnd + room && x.vmEnd > v.vmEnd)) break;
            mapAt(k, t, v.vmEnd, room, (v.vmFlags & VM_WRITE) !== 0 ? RW : PROT_READ, MAP_SHARED, f, off);
            break;
          }
          default:
            if (v !== null) k.read(t, start);
        }
        expect(k.invariants.violations.length, `${ops.join(' ')}\n${formatViolations(k.invariants.violations)}`).toBe(0);
      }
      const c = sharePteCounters(k);
      for (const key of Object.keys(totals) as (keyof typeof totals)[]) totals[key] += c[key];
      shutdown(k);
    });
  }

  it('the sequences above shared at fault and at fork, dropped shares, copied tables and sent flushes to sharers', () => {
    expect(totals.share_fault).toBeGreaterThan(0);
    expect(totals.share_fork).toBeGreaterThan(0);
    expect(totals.unshare_zap).toBeGreaterThan(0);
    expect(totals.unshare_copy).toBeGreaterThan(0);
    expect(totals.flush_sharers).toBeGreaterThan(0);
  });
});
