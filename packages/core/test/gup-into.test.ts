/**
 * `Kernel.getUserPagesInto`: get_user_pages into the caller's array (the
 * kernel's `pages` argument), with the checker and the data oracle on;
 * `make_pages_present` (no array) pins nothing. That it gives what
 * `getUserPages` gives, on every path, is in hot-loop-equivalence.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { EFAULT, getUserPages, PROT_READ } from '../src/index.js';
import { expectNoViolations, kernel, mapAt, mmOf, P, pteAt, R, shutdown, writeOk } from './rest-helpers.js';

describe('get_user_pages into the caller’s array', () => {
  it('pins across adjacent VMAs, stops at a gap or a refusing VMA with the count, fails at a hole, and put_page releases', () => {
    const k = kernel();
    const t = k.spawn();
    mapAt(k, t, R, 4 * P);
    mapAt(k, t, R + 4 * P, 4 * P, PROT_READ);
    for (let i = 0; i < 4; i++) writeOk(k, t, R + i * P, 0xabc0 + i);
    const out = new Int32Array(10).fill(-7);
    // a read crosses into the read-only VMA (faulting it in) and stops at the hole after it
    expect(k.getUserPagesInto(t, R, out, false)).toBe(8);
    expect(out[8]).toBe(-7);
    for (let i = 0; i < 8; i++) expect(out[i]).toBe(pteAt(k, t, R + i * P)?.val);
    for (let i = 0; i < 4; i++) {
      expect(k.pages.pinned[out[i]!]).toBe(1);
      expect(k.tokenOf(out[i]!)).toBe(0xabc0 + i);
    }
    expect(k.getUserPagesInto(t, R + 8 * P, new Int32Array(2), false)).toBe(-EFAULT);
    // a write stops at the read-only VMA
    const w = new Int32Array(6);
    expect(k.getUserPagesInto(t, R + 2 * P, w, true)).toBe(2);
    expect(Array.from(w.subarray(0, 2))).toEqual([out[2], out[3]]);
    expect(k.pages.pinned[out[2]!]).toBe(2);
    k.putUserPages(w.subarray(0, 2));
    k.putUserPages(out.subarray(0, 8));
    for (let i = 0; i < 4; i++) expect(k.pages.pinned[out[i]!]).toBe(0);
    expectNoViolations(k);
    shutdown(k);
  });

  it('make_pages_present (mlock) faults the pages in without a reference', () => {
    const k = kernel();
    const t = k.spawn();
    mapAt(k, t, R, 8 * P);
    expect(k.mlock(t, R, 8 * P)).toBe(0);
    for (let i = 0; i < 8; i++) {
      const pfn = pteAt(k, t, R + i * P)?.val ?? 0;
      expect(pfn).toBeGreaterThan(0);
      expect(k.pages.pinned[pfn]).toBe(0);
      expect(k.pages.count[pfn]).toBe(1);
    }
    expectNoViolations(k);
    shutdown(k);
  });

  it('the walk refuses a typed array without room for the pages asked', () => {
    const k = kernel();
    const t = k.spawn();
    mapAt(k, t, R, 4 * P);
    expect(() => getUserPages(k, mmOf(t), R, 4, false, false, new Int32Array(2)).next()).toThrow(RangeError);
    shutdown(k);
  });
});
