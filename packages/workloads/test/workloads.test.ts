import { describe, expect, it } from 'vitest';
import { PAGE_SIZE } from '@mmlab/core';
import { runWorkload, type RunReport } from '../src/index.js';

const MiB = 2 ** 20;

function perProc(report: RunReport, key: 'VmPTE_kB' | 'RssAnon_kB' | 'RssFile_kB'): number[] {
  return report.metrics.procs.map((p) => p[key]);
}

describe('shm-procs', () => {
  it('32 processes x 256m: 129 PTE tables each in the 2.6.24 layout, 128 aligned', async () => {
    const legacy = await runWorkload({ workload: 'shm-procs:procs=32:size=256m', placement: 'legacy' });
    const aligned = await runWorkload({ workload: 'shm-procs:procs=32:size=256m', placement: 'aligned' });
    expect(legacy.config.placement).toBe('legacy');
    expect(aligned.config.placement).toBe('aligned');

    expect(legacy.metrics.vmstat.nr_page_table_pages).toBe(129 * 32);
    expect(aligned.metrics.vmstat.nr_page_table_pages).toBe(128 * 32);
    expect(legacy.metrics.meminfo.PageTables).toBe(129 * 32 * 4);
    expect(legacy.metrics.pagetables).toEqual({ pgd: 32, pud: 32, pmd: 32, pte: 129 * 32 });

    // Today's VmPTE counts PTE + PMD + PUD tables: (129 + 1 + 1) x 4 kB.
    const t = legacy.metrics.pagetables;
    const fromTables = ((t.pte + t.pmd + t.pud) / 32) * 4;
    expect(fromTables).toBe(524);
    expect(perProc(legacy, 'VmPTE_kB')).toEqual(Array<number>(32).fill(524));
    expect(perProc(aligned, 'VmPTE_kB')).toEqual(Array<number>(32).fill((128 + 1 + 1) * 4));
    expect(perProc(legacy, 'RssFile_kB')).toEqual(Array<number>(32).fill(256 * 1024));

    // Every process read every page of the one file: one page cache, 32 mappings.
    expect(legacy.metrics.vmstat.pgfault).toBe(32 * ((256 * MiB) / PAGE_SIZE));
    expect(legacy.metrics.vmstat.nr_file_pages).toBe((256 * MiB) / PAGE_SIZE);
    expect(legacy.metrics.peak.nr_page_table_pages).toBe(129 * 32);
  });

  it('runs clean under the checker at small size', async () => {
    const r = await runWorkload({ workload: 'shm-procs:procs=3:size=3m', check: true });
    expect(r.invariants?.checks).toBeGreaterThan(0);
    expect(r.invariants?.violations).toEqual([]);
    expect(r.metrics.procs).toHaveLength(3);
  });
});

describe('oltp-sga', () => {
  it('attaches the segment 1 GiB-aligned in every process; page tables grow with the processes', async () => {
    const two = await runWorkload({ workload: 'oltp-sga:procs=2:sga=8m:window=16k', check: true });
    const four = await runWorkload({ workload: 'oltp-sga:procs=4:sga=8m:window=16k', check: true });
    expect(two.invariants?.violations).toEqual([]);
    expect(four.invariants?.violations).toEqual([]);
    // 8m at 512 GiB: 4 PTE tables per process
    expect(two.metrics.vmstat.nr_page_table_pages).toBe(2 * 4);
    expect(four.metrics.vmstat.nr_page_table_pages).toBe(4 * 4);
    // the startup writes every page; then each other process faults 4 pages in each 2 MiB
    expect(four.metrics.vmstat.pgfault).toBe((8 * MiB) / PAGE_SIZE + 3 * 4 * 4);
    expect(perProc(four, 'RssFile_kB')).toEqual([8 * 1024, 4 * 16, 4 * 16, 4 * 16]);
  });

  it('reads at seeded offsets: one seed, one report', async () => {
    const a = await runWorkload({ workload: 'oltp-sga:procs=3:sga=8m', seed: 7 });
    const b = await runWorkload({ workload: 'oltp-sga:procs=3:sga=8m', seed: 7 });
    expect(JSON.stringify(a.metrics)).toBe(JSON.stringify(b.metrics));
  });
});

describe('anon-touch', () => {
  it('takes one anonymous fault per page', async () => {
    const size = 3 * MiB;
    const pages = size / PAGE_SIZE;
    const r = await runWorkload({ workload: `anon-touch:size=${size}`, check: true });
    expect(r.metrics.vmstat.pgfault).toBe(pages);
    expect(r.metrics.vmstat.mmlab_anon_fault).toBe(pages);
    expect(r.metrics.vmstat.nr_anon_pages).toBe(pages);
    expect(perProc(r, 'RssAnon_kB')).toEqual([size / 1024]);
    expect(r.invariants?.violations).toEqual([]);
  });
});

describe('fork-exit', () => {
  it('has every child copy every page on write', async () => {
    const procs = 3;
    const pages = MiB / PAGE_SIZE;
    const r = await runWorkload({ workload: `fork-exit:procs=${procs}:size=1m`, check: true });
    const v = r.metrics.vmstat;
    expect(v.mmlab_fork_pte_copied).toBe(procs * pages);
    expect(v.mmlab_cow_fault).toBe(procs * pages);
    expect(v.mmlab_wp_reuse).toBe(0);
    expect(v.pgfault).toBe((procs + 1) * pages);
    // At the snapshot the parent's pages and each child's copies are all mapped.
    expect(v.nr_anon_pages).toBe((procs + 1) * pages);
    expect(perProc(r, 'RssAnon_kB')).toEqual(Array<number>(procs + 1).fill(1024));
    expect(r.invariants?.violations).toEqual([]);
  });
});

describe('runWorkload reports', () => {
  it('are identical for one seed and carry no host timing unless asked', async () => {
    const opts = { workload: 'fork-exit:procs=2:size=256k', seed: 7, check: true } as const;
    const a = JSON.stringify(await runWorkload(opts));
    const b = JSON.stringify(await runWorkload(opts));
    expect(a).toBe(b);
    expect(JSON.parse(a)).not.toHaveProperty('host');
    const timed = await runWorkload({ ...opts, timings: true });
    expect(timed.host?.ms).toBeGreaterThanOrEqual(0);
  });

  it('list the report keys in a fixed order', async () => {
    const r = await runWorkload({ workload: 'anon-touch:size=64k', check: true });
    expect(Object.keys(r)).toEqual(['workload', 'features', 'seed', 'config', 'metrics', 'invariants']);
    expect(r.workload).toEqual({ name: 'anon-touch', spec: 'anon-touch:size=64k', params: { size: 65536 } });
    expect(r.config).toEqual({
      machine: 'x86-64',
      cpus: 8,
      mode: 'sequential',
      placement: 'legacy',
      preempt: false,
      check: true,
      memBytes: 4 * 2 ** 30,
      swapBytes: 8 * 2 ** 30,
      hugePages: 0,
    });
    expect(Object.keys(r.metrics)).toEqual(['vmstat', 'peak', 'meminfo', 'pagetables', 'procs', 'sim', 'locks']);
    const explore = await runWorkload({ workload: 'anon-touch:size=64k', mode: 'explore', strategy: 'pct', cpus: 2 });
    expect(explore.config).toMatchObject({ machine: 'x86-64', cpus: 2, mode: 'explore', strategy: 'pct' });
    expect(Object.keys(explore.config).slice(0, 4)).toEqual(['machine', 'cpus', 'mode', 'strategy']);
  });

  it('refuse an unknown machine', async () => {
    await expect(runWorkload({ workload: 'anon-touch:size=64k', machine: 'vax' })).rejects.toThrow(
      /unknown machine 'vax'/
    );
  });
});
