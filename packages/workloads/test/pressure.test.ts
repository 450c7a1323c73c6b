import { describe, expect, it } from 'vitest';
import { KernelConfigError, PAGE_SIZE } from '@mmlab/core';
import { bindWorkload, defineWorkload, runWorkload, type RunOptions } from '../src/index.js';

const MiB = 2 ** 20;

describe('swap-pressure', () => {
  const opts: RunOptions = {
    workload: 'swap-pressure:size=48m',
    memBytes: 32 * MiB,
    check: true,
    seed: 11,
  };

  it('swaps out and back in with 48m of data in 32m of RAM, and loses nothing', async () => {
    const r = await runWorkload(opts);
    const v = r.metrics.vmstat;
    expect(r.config).toMatchObject({ memBytes: 32 * MiB, swapBytes: 64 * MiB });
    expect(r).not.toHaveProperty('result');
    expect(v.pswpout).toBeGreaterThan(0);
    expect(v.pswpin).toBeGreaterThan(0);
    expect(v.pgmajfault).toBeGreaterThan(0);
    expect(v.allocstall).toBeGreaterThan(0);
    expect(v.oom_kill).toBe(0);
    // 48 batches written, 48 read back: the oracle ran at each of them.
    expect(r.invariants?.checks).toBeGreaterThanOrEqual(96);
    expect(r.invariants?.violations).toEqual([]);
    // One anonymous fault per page on the way out; the re-reads of swapped pages are major faults.
    expect(v.mmlab_anon_fault).toBe((48 * MiB) / PAGE_SIZE);
    expect(v.pgmajfault).toBe(v.pswpin);
  });

  it('gives byte-identical JSON for one seed', async () => {
    const a = JSON.stringify(await runWorkload(opts));
    const b = JSON.stringify(await runWorkload(opts));
    expect(a).toBe(b);
  });

  it('does not swap when the data fits', async () => {
    const r = await runWorkload({ workload: 'swap-pressure:size=8m', memBytes: 64 * MiB, check: true });
    expect(r.metrics.vmstat.pswpout).toBe(0);
    expect(r.metrics.vmstat.pgmajfault).toBe(0);
    expect(r.invariants?.violations).toEqual([]);
  });

  it('reports an OOM kill as its result when RAM and swap are too small', async () => {
    const r = await runWorkload({
      workload: 'swap-pressure:size=64m',
      memBytes: 32 * MiB,
      swapBytes: 8 * MiB,
      check: true,
    });
    expect(r.result).toEqual({ signal: 'SIGKILL', oom: true, step: expect.stringMatching(/^write at \+\d+m$/) as unknown });
    expect(Object.keys(r)).toEqual(['workload', 'features', 'seed', 'config', 'result', 'metrics', 'invariants']);
    expect(r.metrics.vmstat.oom_kill).toBeGreaterThan(0);
    expect(r.metrics.vmstat.pswpout).toBeGreaterThan(0);
    // The snapshot was taken when the kill stopped the process, which then exited cleanly.
    expect(r.metrics.procs).toHaveLength(1);
    expect(r.invariants?.violations).toEqual([]);
  });

  it('passes impossible sizes to the core, which refuses them', async () => {
    await expect(runWorkload({ workload: 'swap-pressure:size=1m', memBytes: 1024 })).rejects.toThrow(
      KernelConfigError
    );
  });
});

describe('dio', () => {
  it('pins, moves and releases 64 pages per call, clean under the checker', async () => {
    const r = await runWorkload({ workload: 'dio:procs=2:size=4m', memBytes: 64 * MiB, check: true });
    const pages = (4 * MiB) / PAGE_SIZE;
    expect(r.workload.spec).toBe('dio:procs=2:size=4m:passes=2');
    expect(r.result).toEqual({
      figures: {
        gup_calls: 2 * 2 * (pages / 64),
        gup_pages: 2 * 2 * pages,
        pages_to_memory: 2 * pages,
        pages_from_memory: 2 * pages,
      },
    });
    expect(r.metrics.vmstat.mmlab_anon_fault).toBe(2 * pages);
    expect(r.metrics.procs).toHaveLength(2);
    expect(r.invariants?.violations).toEqual([]);
  });

  it('keeps pinned data intact while reclaim swaps the buffers', async () => {
    const r = await runWorkload({ workload: 'dio:procs=2:size=24m:passes=3', memBytes: 32 * MiB, check: true });
    const v = r.metrics.vmstat;
    expect(v.pswpout).toBeGreaterThan(0);
    expect(v.pswpin).toBeGreaterThan(0);
    expect(r.result?.figures?.gup_pages).toBe(3 * 2 * ((24 * MiB) / PAGE_SIZE));
    expect(r.result?.figures?.pages_to_memory).toBe(2 * 2 * ((24 * MiB) / PAGE_SIZE));
    expect(r.invariants?.violations).toEqual([]);
  });

  it('reports running out of memory and swap as an OOM result', async () => {
    const r = await runWorkload({
      workload: 'dio:procs=2:size=24m:passes=1',
      memBytes: 32 * MiB,
      swapBytes: 0,
      check: true,
    });
    expect(r.result?.oom).toBe(true);
    expect(r.result?.signal ?? r.result?.errno).toMatch(/^(SIGKILL|ENOMEM)$/);
    expect(r.invariants?.violations).toEqual([]);
  });
});

describe('the workload context', () => {
  it('lets a workload count figures and stop with a result', async () => {
    const w = defineWorkload({
      name: 'stopper',
      summary: 'counts, then stops',
      params: {},
      run(ctx) {
        const k = ctx.kernel;
        k.spawn();
        ctx.count('widgets', 3);
        ctx.count('widgets');
        ctx.stop('step two', { errno: -ctx.core.ENOMEM });
      },
    });
    const r = await runWorkload({ workload: bindWorkload(w, new Map()), check: true });
    expect(r.result).toEqual({ errno: 'ENOMEM', oom: true, step: 'step two', figures: { widgets: 4 } });
    expect(r.invariants?.violations).toEqual([]);
  });
});
