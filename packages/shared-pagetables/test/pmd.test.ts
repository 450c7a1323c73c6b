/**
 * PMD sharing (`level=pmd`): a shareable VMA that spans an aligned 1 GiB
 * shares its PMD table, and with it every PTE table below; PTE tables
 * installed later below a shared PMD table count in every sharer. And
 * hugetlb's own PMD sharing (2.6.20) keeps working next to the feature
 * with the one share count, the table page's refcount.
 */
import { describe, expect, it } from 'vitest';
import { HPAGE_SIZE, lookupPmdTable, lookupPteTable, MAP_SHARED, PROT_READ, type Task } from '@mmlab/core';
import { NAME, shareCounters, sharedTables } from '../src/index.js';
import { clean, figures, forked, GiB, kernelWith, mapAt, MiB, mmOf, P, R, readOk, RW, shutdown, writeOk } from './helpers.js';

const RA = R;
const RB = R + 4 * GiB;

describe('shared-pagetables (level=pmd)', () => {
  it('shares the PMD table of a 1 GiB mapping at the first fault; later PTE tables below it count in both mms', () => {
    const k = kernelWith('pmd');
    const f = k.shmemCreate('sga', GiB);
    const a = k.spawn();
    const b = k.spawn();
    mapAt(k, a, RA, GiB, RW, MAP_SHARED, f);
    mapAt(k, b, RB, GiB, RW, MAP_SHARED, f);
    writeOk(k, a, RA, 0xa0);
    writeOk(k, a, RA + 100 * MiB, 0xa1);
    clean(k);
    const pmd = lookupPmdTable(k, mmOf(a), RA);
    const faults = k.vm.pgfault;
    expect(readOk(k, b, RB + 100 * MiB)).toBe(0xa1);
    expect(k.vm.pgfault - faults).toBe(1);
    expect(lookupPmdTable(k, mmOf(b), RB)).toBe(pmd);
    expect(k.pages.count[pmd]).toBe(2);
    expect(readOk(k, b, RB)).toBe(0xa0);
    expect(k.vm.pgfault - faults).toBe(1); // already mapped through A's PTE table
    expect(figures(b)).toEqual([2, 0, 2]);
    clean(k);
    // B faults in a new 2 MiB: the PTE table goes below the shared PMD table, A sees it too
    writeOk(k, b, RB + 300 * MiB, 0xb3);
    clean(k);
    expect(readOk(k, a, RA + 300 * MiB)).toBe(0xb3);
    expect(figures(a)).toEqual([3, 0, 3]);
    expect(figures(b)).toEqual([3, 0, 3]);
    expect(k.vm.nr_page_table_pages).toBe(3);
    expect(shareCounters(k).pte_below_shared).toBe(1);
    expect(lookupPteTable(k, mmOf(a), RA + 300 * MiB)).toBe(lookupPteTable(k, mmOf(b), RB + 300 * MiB));

    // fork shares the PMD table too
    const child = forked(k, a);
    clean(k);
    expect(k.pages.count[pmd]).toBe(3);
    expect(shareCounters(k).share_fork).toBe(1);
    expect(readOk(k, child, RA + 300 * MiB)).toBe(0xb3);

    // mprotect in B: B drops its share of the PMD table and re-faults through private tables
    expect(k.mprotect(b, RB, 2 * MiB, PROT_READ)).toBe(0);
    clean(k);
    expect(lookupPmdTable(k, mmOf(b), RB)).not.toBe(pmd);
    expect(k.pages.count[pmd]).toBe(2);
    expect(readOk(k, b, RB + 300 * MiB)).toBe(0xb3);
    expect(readOk(k, b, RB)).toBe(0xa0);
    clean(k);

    // truncation through the shared PMD table reaches A and the child
    expect(k.ftruncate(f, 200 * MiB)).toBe(0);
    clean(k);
    expect(figures(child)).toEqual([2, 0, 3]);
    expect(k.read(a, RA + 300 * MiB).sig).not.toBe(0);
    k.exit(a);
    clean(k);
    expect(k.pages.count[pmd]).toBe(1);
    expect(sharedTables(k).size).toBe(0);
    shutdown(k);
  });

  it('a mapping smaller than 1 GiB shares nothing at level=pmd', () => {
    const k = kernelWith('pmd');
    const f = k.shmemCreate('small', 64 * MiB);
    const ts: Task[] = [k.spawn(), k.spawn()];
    ts.forEach((t, i) => {
      mapAt(k, t, R + i * GiB, 64 * MiB, RW, MAP_SHARED, f);
      expect(k.touch(t, R + i * GiB, 64 * MiB, false)).toBe(0);
    });
    clean(k);
    expect(shareCounters(k).share_fault).toBe(0);
    expect(k.vm.nr_page_table_pages).toBe(64);
    shutdown(k);
  });

  it('munmap of part of a PMD-shared range and MADV_DONTNEED drop the share; the data stays', () => {
    const k = kernelWith('pmd');
    const f = k.shmemCreate('sga', GiB);
    const a = k.spawn();
    const b = k.spawn();
    mapAt(k, a, RA, GiB, RW, MAP_SHARED, f);
    mapAt(k, b, RB, GiB, RW, MAP_SHARED, f);
    for (let i = 0; i < 8; i++) writeOk(k, a, RA + i * 64 * MiB, 0x100 + i);
    for (let i = 0; i < 8; i++) expect(readOk(k, b, RB + i * 64 * MiB + P)).toBe(k.tokenOf(f.findPage((i * 64 * MiB) / P + 1)));
    clean(k);
    expect(shareCounters(k).share_fault).toBe(1);
    expect(k.munmap(b, RB + 512 * MiB, 4 * MiB)).toBe(0);
    clean(k);
    expect(k.pages.count[lookupPmdTable(k, mmOf(a), RA)]).toBe(1);
    for (let i = 0; i < 8; i++) if (i !== 4) expect(readOk(k, b, RB + i * 64 * MiB)).toBe(0x100 + i);
    clean(k);
    shutdown(k);
  });
});

describe('one share count with hugetlb PMD sharing', () => {
  it('hugetlb segments share PMD tables exactly as without the feature; the feature takes no hugetlb VMA', () => {
    const run = (withFeature: boolean) => {
      const k = kernelWith(withFeature ? 'pmd' : null, { hugePages: 512, memBytes: 2 * GiB });
      const h = k.hugetlbfsCreate('sga', GiB);
      for (let i = 0; i < 3; i++) {
        const t = k.spawn();
        mapAt(k, t, R + i * 2 * GiB, GiB, RW, MAP_SHARED, h);
        expect(k.touch(t, R + i * 2 * GiB, GiB, i === 0)).toBe(0);
      }
      clean(k);
      const m = k.metrics();
      shutdown(k);
      return m;
    };
    const base = run(false);
    const withPmd = run(true);
    expect(base.vmstat.mmlab_huge_pmd_share).toBe(2);
    expect(withPmd.vmstat.mmlab_huge_pmd_share).toBe(2);
    expect(withPmd.vmstat.mmlab_pgtable_share).toBe(base.vmstat.mmlab_pgtable_share);
    expect(withPmd.feature?.[NAME]?.share_fault).toBe(0);
    expect(withPmd.sim).toEqual(base.sim);
  });

  it('a hugetlb segment and a tmpfs segment, each 1 GiB, in the same processes: two kinds of shared PMD tables, one count each', () => {
    const k = kernelWith('pmd', { hugePages: 1024, memBytes: 4 * GiB });
    const h = k.hugetlbfsCreate('huge', GiB);
    const f = k.shmemCreate('sga', GiB);
    const ts = [k.spawn(), k.spawn()];
    ts.forEach((t, i) => {
      mapAt(k, t, R + i * 8 * GiB, GiB, RW, MAP_SHARED, h);
      mapAt(k, t, R + i * 8 * GiB + 2 * GiB, GiB, RW, MAP_SHARED, f);
      writeOk(k, t, R + i * 8 * GiB + 10 * HPAGE_SIZE, 0x700 + i);
      writeOk(k, t, R + i * 8 * GiB + 2 * GiB + 10 * P, 0x800 + i);
    });
    clean(k);
    const [a, b] = [mmOf(ts[0]!), mmOf(ts[1]!)];
    const hugePmd = lookupPmdTable(k, a, R);
    const filePmd = lookupPmdTable(k, a, R + 2 * GiB);
    expect(lookupPmdTable(k, b, R + 8 * GiB)).toBe(hugePmd);
    expect(lookupPmdTable(k, b, R + 10 * GiB)).toBe(filePmd);
    expect([k.pages.count[hugePmd], k.pages.count[filePmd]]).toEqual([2, 2]);
    expect([...sharedTables(k).keys()]).toEqual([filePmd]);
    expect(readOk(k, ts[0]!, R + 10 * HPAGE_SIZE)).toBe(0x701);
    expect(readOk(k, ts[0]!, R + 2 * GiB + 10 * P)).toBe(0x801);
    k.exit(ts[1]!);
    clean(k);
    expect([k.pages.count[hugePmd], k.pages.count[filePmd]]).toEqual([1, 1]);
    shutdown(k);
  });
});
