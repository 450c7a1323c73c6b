/**
 * Reclaim's cost follows the pages it reclaims, and the OOM comes as soon
 * as nothing is reclaimable (2.6.24's `zone->pages_scanned` and
 * all-unreclaimable rule). Counted in pages scanned, never in host time.
 */
import { describe, expect, it } from 'vitest';
import { buildKernel, type Kernel, LRU_ACTIVE, LRU_INACTIVE, SIGKILL, ZONE_UNRECLAIMABLE_SCANS, zoneReclaimable } from '../src/index.js';
import { expectNoViolations, GiB, mapAt, MiB, R, shutdown, kernel, vmstat } from './rest-helpers.js';

/** Pages reclaim looked at: the inactive list's scans plus the active list's. */
function scanned(k: Kernel): number {
  return vmstat(k, 'pgscan_direct') + vmstat(k, 'pgrefill');
}

/** Pages on the LRU lists. */
function lruPages(k: Kernel): number {
  return k.lru.nr[LRU_ACTIVE] + k.lru.nr[LRU_INACTIVE];
}

/** One process writes `bytes` of anonymous memory on a machine of `mem` RAM and `swap` swap; its signal. */
function touchRun(mem: number, swap: number, bytes: number): { k: Kernel; sig: number } {
  const k = buildKernel({ memBytes: mem, swapBytes: swap, check: false });
  const t = k.spawn();
  mapAt(k, t, R, bytes);
  return { k, sig: k.touch(t, R, bytes, true) };
}

describe('reclaim scales with the pages it reclaims', () => {
  it('pages scanned per page reclaimed stay bounded, whatever the size of memory', () => {
    const ratios: number[] = [];
    for (const mb of [16, 32, 64]) {
      // RAM plus half of it again: everything fits in RAM + swap
      const { k, sig } = touchRun(mb * MiB, mb * MiB, 1.5 * mb * MiB);
      expect(sig).toBe(0);
      const steal = vmstat(k, 'pgsteal_direct');
      expect(steal).toBeGreaterThan((mb * MiB) / 4096 / 4);
      expect(vmstat(k, 'oom_kill')).toBe(0);
      ratios.push(scanned(k) / steal);
    }
    for (const r of ratios) expect(r).toBeLessThan(8);
    // doubling memory twice does not make a reclaimed page dearer
    expect(ratios[2]!).toBeLessThan(ratios[0]! * 1.5);
  });

  it('running out of RAM and swap costs a scan linear in memory, not quadratic', () => {
    const scans: number[] = [];
    for (const mb of [16, 64]) {
      const { k, sig } = touchRun(mb * MiB, mb * MiB, 4 * mb * MiB);
      expect(sig).toBe(SIGKILL);
      expect(vmstat(k, 'oom_kill')).toBe(1);
      scans.push(scanned(k));
    }
    // 4 × the memory: about 4 × the scanning (the old rescans of the whole
    // zone for every page of the reserve made it 16 ×)
    expect(scans[1]! / scans[0]!).toBeLessThan(5);
    expect(scans[1]! / scans[0]!).toBeGreaterThan(3);
  });
});

describe('the OOM comes as soon as nothing is reclaimable', () => {
  it('without swap: a few passes over the LRU, then out_of_memory with the pages_min reserve left', () => {
    const k = kernel({ memBytes: 32 * MiB, swapBytes: 0 });
    const t = k.spawn();
    mapAt(k, t, R, 64 * MiB);
    expect(k.touch(t, R, 64 * MiB, true)).toBe(SIGKILL);
    expect(vmstat(k, 'oom_kill')).toBe(1);
    expect(vmstat(k, 'pgsteal_direct')).toBe(0);
    // the allocation failed at the watermark: the reserve is still free
    expect(k.mem.nrFree).toBe(k.pagesMin);
    // nothing reclaimable: the zone was marked after about six passes over
    // its LRU; one more pass at DEF_PRIORITY at most, then the OOM
    expect(k.allUnreclaimable).toBe(true);
    const lru = (32 * MiB) / 4096;
    expect(scanned(k)).toBeGreaterThanOrEqual(lru * ZONE_UNRECLAIMABLE_SCANS - lru);
    expect(scanned(k)).toBeLessThan(lru * (ZONE_UNRECLAIMABLE_SCANS + 2));
    expect(k.pagesScanned).toBeGreaterThanOrEqual(lruPages(k) * ZONE_UNRECLAIMABLE_SCANS);
    expectNoViolations(k);
    shutdown(k);
  });

  it('pinned memory is not reclaimable either: pages held by get_user_pages end in the OOM', () => {
    const k = buildKernel({ memBytes: 16 * MiB, swapBytes: 16 * MiB, check: false });
    const t = k.spawn();
    const pinnedBytes = 15 * MiB;
    mapAt(k, t, R, pinnedBytes);
    const pins = k.getUserPages(t, R, pinnedBytes / 4096, true);
    expect(typeof pins).not.toBe('number');
    mapAt(k, t, R + GiB, 8 * MiB);
    expect(k.touch(t, R + GiB, 8 * MiB, true)).toBe(SIGKILL);
    expect(vmstat(k, 'oom_kill')).toBe(1);
    expect(k.allUnreclaimable).toBe(true);
    // the new pages swap out until swap is full (pinned pages take swap
    // slots too: reclaim unmaps them but cannot free them); from the last
    // page freed to the OOM, reclaim scanned the LRU six times over and
    // at most one pass more
    const lru = lruPages(k);
    expect(k.pagesScanned).toBeGreaterThanOrEqual(lru * ZONE_UNRECLAIMABLE_SCANS);
    expect(k.pagesScanned).toBeLessThan(lru * (ZONE_UNRECLAIMABLE_SCANS + 2));
    k.putUserPages(pins as number[]);
  });

  it('a page freed makes the zone reclaimable again', () => {
    const k = buildKernel({ memBytes: 16 * MiB, swapBytes: 0, check: false });
    const a = k.spawn();
    mapAt(k, a, R, 32 * MiB);
    expect(k.touch(a, R, 32 * MiB, true)).toBe(SIGKILL);
    expect(k.allUnreclaimable).toBe(true);
    expect(zoneReclaimable(k)).toBe(false);
    k.exit(a);
    // exit freed the pages: pages_scanned is 0 again and the mark is gone
    // (the LRU is empty now, so there is still nothing to reclaim)
    expect(zoneReclaimable(k)).toBe(false);
    expect(k.allUnreclaimable).toBe(false);
    expect(k.pagesScanned).toBe(0);
    // a second process gets the memory back and is killed the same way
    const b = k.spawn();
    mapAt(k, b, R, 32 * MiB);
    expect(k.touch(b, R, 32 * MiB, true)).toBe(SIGKILL);
    expect(vmstat(k, 'oom_kill')).toBe(2);
    expect(k.mem.nrFree).toBe(k.pagesMin);
  });
});
