import { describe, expect, it } from 'vitest';
import { HPAGE_SIZE, KernelConfigError } from '@mmlab/core';
import { SpecError, bindWorkload, defineWorkload, resolveWorkload, runWorkload } from '../src/index.js';

const MiB = 2 ** 20;
const GiB = 2 ** 30;

describe('hugetlb-shm', () => {
  it('shares one PMD table per covered GiB among all processes, clean under the checker', async () => {
    const r = await runWorkload({ workload: 'hugetlb-shm:procs=3:size=1g', check: true });
    const v = r.metrics.vmstat;
    expect(r.workload.spec).toBe('hugetlb-shm:procs=3:size=1g');
    // The workload sized the pool itself; the default 4g holds it.
    expect(r.config).toMatchObject({ memBytes: 4 * GiB, hugePages: GiB / HPAGE_SIZE });
    expect(r).not.toHaveProperty('result');
    // One PGD and one PUD per process, one PMD table for the shared GiB, no PTE tables.
    expect(r.metrics.pagetables).toEqual({ pgd: 3, pud: 3, pmd: 1, pte: 0 });
    // Each process counts its PUD and the (shared) PMD table: 8 kB, not 8 kB plus 4 kB per 2 MiB.
    expect(r.metrics.procs.map((p) => p.VmPTE_kB)).toEqual([8, 8, 8]);
    // Processes 1 and 2 each share the PMD table of the one GiB; only process 0 faults.
    expect(v.mmlab_huge_pmd_share).toBe(2);
    expect(v.mmlab_huge_fault).toBe(GiB / HPAGE_SIZE);
    expect(r.hugePages).toEqual({ total: 512, snapshot: { free: 0, rsvd: 0 }, end: { free: 512, rsvd: 0 } });
    expect(r.metrics.meminfo.HugePages_Total).toBe(512);
    // meminfo is the snapshot's: every huge page in use then
    expect(r.metrics.meminfo.HugePages_Free).toBe(0);
    expect(r.metrics.meminfo.HugePages_Rsvd).toBe(0);
    expect(r.invariants?.checks).toBeGreaterThan(0);
    expect(r.invariants?.violations).toEqual([]);
  });

  it('shares only fully covered GiBs: a 2 MiB tail gets a PMD table per process', async () => {
    const r = await runWorkload({ workload: 'hugetlb-shm:procs=3:size=1026m' });
    expect(r.config.hugePages).toBe(513);
    expect(r.metrics.pagetables).toEqual({ pgd: 3, pud: 3, pmd: 1 + 3, pte: 0 });
    expect(r.metrics.vmstat.mmlab_huge_pmd_share).toBe(2);
    expect(r.metrics.procs.map((p) => p.VmPTE_kB)).toEqual([12, 12, 12]);
    expect(r.hugePages?.end).toEqual({ free: 513, rsvd: 0 });
  });

  it('reports ENOMEM from a pool too small as its result, not a crash', async () => {
    const r = await runWorkload({ workload: 'hugetlb-shm:procs=3:size=1g', hugePages: 0, check: true });
    expect(r.config.hugePages).toBe(0);
    expect(r.result).toEqual({ errno: 'ENOMEM', oom: false, step: 'process 0: mmap 1g hugetlbfs at 512g' });
    expect(r).not.toHaveProperty('hugePages');
    expect(r.metrics.procs).toHaveLength(1);
    expect(r.invariants?.violations).toEqual([]);

    const half = await runWorkload({ workload: 'hugetlb-shm:procs=2:size=1g', hugePages: 256 });
    expect(half.result).toMatchObject({ errno: 'ENOMEM', oom: false });
    expect(half.hugePages).toEqual({ total: 256, snapshot: { free: 256, rsvd: 0 }, end: { free: 256, rsvd: 0 } });
  });

  it('gives byte-identical JSON for one seed', async () => {
    const opts = { workload: 'hugetlb-shm:procs=2:size=4m', check: true, seed: 3 };
    expect(JSON.stringify(await runWorkload(opts))).toBe(JSON.stringify(await runWorkload(opts)));
  });

  it('wants a size in whole huge pages', async () => {
    await expect(resolveWorkload('hugetlb-shm:size=3m')).rejects.toThrow(SpecError);
    await expect(resolveWorkload('hugetlb-shm:size=3m')).rejects.toThrow(/'size' must be a multiple of 2m \(got 3m\)/);
    await expect(resolveWorkload('hugetlb-shm:size=1m')).rejects.toThrow(/at least 2m/);
  });

  it('asks for twice its size of memory when the machine default cannot hold the pool', async () => {
    const w = await resolveWorkload('hugetlb-shm:size=3g');
    const machine = { memBytes: 4 * GiB } as Parameters<NonNullable<typeof w.requires>>[0]['machine'];
    expect(w.requires?.({ machine })).toEqual({ hugePages: 1536, memBytes: 6 * GiB });
    expect((await resolveWorkload('hugetlb-shm:size=2g')).requires?.({ machine })).toEqual({ hugePages: 1024 });
  });
});

describe('kernel requirements', () => {
  const needy = bindWorkload(
    defineWorkload({
      name: 'needy',
      summary: 'needs 8 huge pages and 64m of memory',
      params: {},
      requires: () => ({ hugePages: 8, memBytes: 64 * MiB }),
      run: () => undefined,
    }),
    new Map()
  );

  it('size the pool and the memory when the options do not', async () => {
    const r = await runWorkload({ workload: needy });
    expect(r.config).toMatchObject({ hugePages: 8, memBytes: 64 * MiB });
    expect(r.hugePages).toEqual({ total: 8, snapshot: { free: 8, rsvd: 0 }, end: { free: 8, rsvd: 0 } });
  });

  it('give way to the options: the pool drops the required memory, memBytes keeps the pool', async () => {
    expect((await runWorkload({ workload: needy, hugePages: 2 })).config).toMatchObject({
      hugePages: 2,
      memBytes: 4 * GiB,
    });
    expect((await runWorkload({ workload: needy, memBytes: 32 * MiB })).config).toMatchObject({
      hugePages: 8,
      memBytes: 32 * MiB,
    });
  });

  it('name the workload when the given memory cannot hold the required pool', async () => {
    const run = runWorkload({ workload: needy, memBytes: 16 * MiB });
    await expect(run).rejects.toThrow(KernelConfigError);
    await expect(runWorkload({ workload: needy, memBytes: 16 * MiB })).rejects.toThrow(
      /^needy needs a pool of 8 huge pages, which this memory cannot hold/
    );
    // Other refusals pass through unchanged.
    await expect(runWorkload({ workload: needy, memBytes: 1024 })).rejects.toThrow(/^memory size must be/);
  });
});
