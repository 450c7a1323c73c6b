/**
 * `xip-guests` and `oltp-dio` on the baseline kernel: the struct pages
 * each guest spends on a shared XIP image, summed over the guests, and
 * the OLTP direct-I/O load's throughput and mmap_sem figures.
 */
import { describe, expect, it } from 'vitest';
import { runWorkload } from '../src/index.js';

const MiB = 2 ** 20;

describe('xip-guests', () => {
  it('sums the memmap of the image over the guests: with 8 guests it costs more than the 8m image', async () => {
    const r = await runWorkload({ workload: 'xip-guests:guests=8:image=8m:procs=1', check: true });
    expect(r.invariants?.violations).toEqual([]);
    const w = r.metrics.workload!;
    expect(w.guests).toBe(8);
    expect(w.image_bytes).toBe(8 * MiB);
    // 2.6.24 gives the image's memory section (128 MiB) a memmap: 56 bytes per 4k page, per guest
    expect(w.image_memmap_bytes).toBe(8 * ((32768 * 56) / 4096) * 4096);
    expect(w.image_memmap_bytes).toBeGreaterThan(w.image_bytes!);
    // every guest maps the whole image (one process) and COWs 16 pages of it
    expect(w.file_rss_bytes).toBe(8 * 8 * MiB);
    expect(w.anon_bytes).toBe(8 * 16 * 4096);
    expect(r.config.memBytes).toBeGreaterThan(32 * MiB);
  });

  it('one guest is the run itself; a guest kernel runs like the first', async () => {
    const one = await runWorkload({ workload: 'xip-guests:guests=1:image=1m' });
    const two = await runWorkload({ workload: 'xip-guests:guests=2:image=1m' });
    expect(two.metrics.workload!.memmap_bytes).toBe(2 * one.metrics.workload!.memmap_bytes!);
    expect(two.metrics.vmstat).toEqual(one.metrics.vmstat);
  });
});

describe('oltp-dio', () => {
  it('reports throughput and the mmap_sem figures; pins 64 pages per transaction', async () => {
    const r = await runWorkload({ workload: 'oltp-dio:procs=2:cpus=4:txns=8:pool=512k', mode: 'timed', check: true });
    expect(r.invariants?.violations).toEqual([]);
    expect(r.config.cpus).toBe(4);
    const w = r.metrics.workload!;
    expect(w.transactions).toBe(16);
    expect(w.throughput).toBeGreaterThan(0);
    expect(w.throughput).toBe(Math.round((16 / w.elapsed_ns!) * 1e9));
    expect(w.mmap_sem_share_pct).toBeGreaterThanOrEqual(0);
    expect(r.metrics.locks.mmap_sem?.acquisitions).toBeGreaterThan(16);
  });

  it('--cpus wins over the cpus parameter; a pool under 64 pages is refused', async () => {
    const r = await runWorkload({ workload: 'oltp-dio:procs=1:cpus=4:txns=1:pool=256k', cpus: 2 });
    expect(r.config.cpus).toBe(2);
    await expect(runWorkload({ workload: 'oltp-dio:procs=1:txns=1:pool=128k' })).rejects.toThrow('oltp-dio: pool must hold at least 64 pages, got 32');
  });
});
