/**
 * `page_check_address()` of 2.6.24 makes a quick check before it takes
 * the PTE lock: an entry that is not present (none, or a swap entry)
 * returns NULL with the lock untouched. Only a present entry has its
 * lock taken and its pfn compared. So an rmap walk over an anon_vma whose
 * VMAs hold none or swap entries at the page's address takes the PTE
 * lock of the one VMA that maps the page, and no other, with or without
 * direct reclaim's walk memo.
 */
import { describe, expect, it } from 'vitest';
import {
  _PAGE_SWP,
  buildKernel,
  type Kernel,
  MADV_DONTNEED,
  pageCheckAddress,
  pageReferenced,
  PG_swapcache,
  ptePresent,
  rmapWalkMemoBegin,
  rmapWalkMemoEnd,
  runSync,
  SWAP_SUCCESS,
  type Task,
  tryToUnmap,
} from '../src/index.js';
import { MiB, P, PRESSURE, R, mapAt, pressure, pteAt, readOk, vmaAt, writeOk } from './rest-helpers.js';

/** Children forked from the parent: with it, more VMAs than the memo's minimum. */
const CHILDREN = 11;

/** What a PTE holds at the walked address. */
type Kind = 'none' | 'swap' | 'present';

/** The kind of the PTE of `t` at `addr`. */
function kindAt(k: Kernel, t: Task, addr: number): Kind {
  const w = pteAt(k, t, addr);
  if (w === null || (w.flags === 0 && w.val === 0)) return 'none';
  if (ptePresent(w.flags)) return 'present';
  expect(w.flags & _PAGE_SWP).not.toBe(0);
  return 'swap';
}

/**
 * A parent writes a page and forks {@link CHILDREN} children (one
 * anon_vma, the parent's VMA first, the children's in fork order). The
 * first four children drop the page (none PTEs); pressure swaps it out of
 * the others (swap entries); the last child reads it back, so it alone
 * maps the page, from the last VMA of the list. Returns the kernel and
 * the page.
 */
function lastOfManyMaps(): { k: Kernel; page: number; tasks: Task[] } {
  const k = buildKernel({ memBytes: 16 * MiB, swapBytes: 64 * MiB });
  const parent = k.spawn();
  mapAt(k, parent, R, 4 * P);
  for (let i = 0; i < 4; i++) writeOk(k, parent, R + i * P, 0x7100 + i);
  const children: Task[] = [];
  for (let i = 0; i < CHILDREN; i++) {
    const c = k.fork(parent);
    if (typeof c === 'number') throw new Error(`fork failed: ${c}`);
    children.push(c);
  }
  for (const c of children.slice(0, 4)) expect(k.madvise(c, R, P, MADV_DONTNEED)).toBe(0);
  pressure(k, k.spawn(), PRESSURE, 24 * MiB);
  const last = children[CHILDREN - 1]!;
  expect(readOk(k, last, R)).toBe(0x7100);
  const tasks = [parent, ...children];
  const kinds = tasks.map((t) => kindAt(k, t, R));
  expect(kinds).toEqual(['swap', 'none', 'none', 'none', 'none', 'swap', 'swap', 'swap', 'swap', 'swap', 'swap', 'present']);
  const page = pteAt(k, last, R)!.val;
  expect(k.pages.mapcount[page]).toBe(1);
  expect(k.pages.flags[page]! & PG_swapcache).not.toBe(0);
  return { k, page, tasks };
}

/** Run `walk` (with direct reclaim's walk memo when `memo`); its result and the `ptl` acquisitions it made. */
function ptlTaken<T>(k: Kernel, memo: boolean, walk: () => T): [T, number] {
  const before = k.ptl.stat.acquisitions;
  const prev = memo ? rmapWalkMemoBegin(k) : null;
  try {
    return [walk(), k.ptl.stat.acquisitions - before];
  } finally {
    if (memo) rmapWalkMemoEnd(prev);
  }
}

describe('page_check_address: the quick check before the PTE lock', () => {
  it('returns NULL for a none or swap entry without the lock, and the locked PTE for the mapping', () => {
    const { k, page, tasks } = lastOfManyMaps();
    for (const [t, mapped] of [[tasks[0]!, false], [tasks[1]!, false], [tasks[tasks.length - 1]!, true]] as const) {
      const [loc, taken] = ptlTaken(k, false, () => runSync(pageCheckAddress(k, page, vmaAt(t, R), R)));
      expect([loc !== null, taken]).toEqual([mapped, mapped ? 1 : 0]);
      if (loc !== null) k.ptl.unlock(k, loc.pte);
    }
  });

  for (const memo of [false, true]) {
    const how = memo ? 'with the walk memo' : 'without the walk memo';

    it(`page_referenced takes the PTE lock of the present entry only (${how})`, () => {
      const { k, page } = lastOfManyMaps();
      // twice: the memo's second walk knows the one mapping (the first also counts PG_referenced of the swap-in)
      expect(ptlTaken(k, memo, () => runSync(pageReferenced(k, page)))).toEqual([2, 1]);
      expect(ptlTaken(k, memo, () => runSync(pageReferenced(k, page)))).toEqual([0, 1]);
    });

    it(`try_to_unmap takes the PTE lock of the present entry only (${how})`, () => {
      const { k, page, tasks } = lastOfManyMaps();
      // the read made it young: page_referenced ages it first, as shrink_page_list would
      expect(ptlTaken(k, memo, () => runSync(pageReferenced(k, page)))).toEqual([2, 1]);
      expect(ptlTaken(k, memo, () => runSync(tryToUnmap(k, page)))).toEqual([SWAP_SUCCESS, 1]);
      expect(k.pages.mapcount[page]).toBe(0);
      expect(kindAt(k, tasks[tasks.length - 1]!, R)).toBe('swap');
    });
  }
});
