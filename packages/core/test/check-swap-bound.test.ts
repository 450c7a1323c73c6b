/**
 * The whole-machine check scans swap slots only up to the device's
 * high-water mark (`SwapInfo.highWater`: one past the highest slot ever
 * given a count or a swap-cache page) and the highest slot a PTE or a
 * file names: beyond both, every slot is as the device came. The bound
 * must not hide what the scan finds below it, nor a reference beyond it.
 */
import { describe, expect, it } from 'vitest';
import { buildKernel, checkKernel, type Kernel, lookupPteTable, pteIndex, type Task } from '../src/index.js';
import { MiB, P, PRESSURE, R, mapAt, mmOf, pressure, pteAt, writeOk } from './rest-helpers.js';

/** A process whose 64 pages were written, then mostly swapped out by another's pressure. */
function swapped(): { k: Kernel; t: Task } {
  const k = buildKernel({ memBytes: 16 * MiB, swapBytes: 64 * MiB, check: true });
  const t = k.spawn();
  mapAt(k, t, R, 64 * P);
  for (let i = 0; i < 64; i++) writeOk(k, t, R + i * P, 0x5100 + i);
  pressure(k, k.spawn(), PRESSURE, 24 * MiB);
  return { k, t };
}

/** The slot of the first swapped-out page of `t` (its PTE holds a swap entry). */
function firstSwapSlot(k: Kernel, t: Task): { addr: number; slot: number } {
  for (let i = 0; i < 64; i++) {
    const w = pteAt(k, t, R + i * P);
    if (w !== null && w.flags !== 0 && (w.flags & 1) === 0) return { addr: R + i * P, slot: w.val };
  }
  throw new Error('no page was swapped out');
}

describe('the swap-slot scan of the whole-machine check', () => {
  it('the high-water mark covers every slot in use, and a clean machine stays clean', () => {
    const { k } = swapped();
    const si = k.swap;
    expect(si.inuse).toBeGreaterThan(0);
    expect(si.highWater).toBeGreaterThan(1);
    expect(si.highWater).toBeLessThanOrEqual(si.nrSlots);
    for (let slot = si.highWater; slot < si.nrSlots; slot++) {
      if (si.map[slot] !== 0 || si.cache[slot] !== 0) throw new Error(`slot ${slot} in use beyond the high-water mark ${si.highWater}`);
    }
    expect(checkKernel(k)).toEqual([]);
  });

  it('a swap count off by one below the mark is found', () => {
    const { k, t } = swapped();
    const { slot } = firstSwapSlot(k, t);
    expect(slot).toBeLessThan(k.swap.highWater);
    k.swap.map[slot]!++;
    expect(checkKernel(k).map((v) => v.check)).toContain('swap');
  });

  it('a swap entry naming a slot beyond the mark is found', () => {
    const { k, t } = swapped();
    const { addr } = firstSwapSlot(k, t);
    const beyond = k.swap.highWater + 5;
    expect(beyond).toBeLessThan(k.swap.nrSlots);
    const tbl = lookupPteTable(k, mmOf(t), addr);
    k.tables.arr(tbl)[k.tables.base(tbl) + pteIndex(addr) * 2 + 1] = beyond;
    const found = checkKernel(k);
    expect(found.map((v) => v.check)).toContain('swap');
    expect(found.some((v) => v.message.includes(String(beyond)))).toBe(true);
  });
});
