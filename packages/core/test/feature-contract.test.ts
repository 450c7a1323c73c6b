/**
 * The Feature contract: validation of feature sets, seam overrides and
 * their owners, and a feature that changes the kernel's behaviour (a table
 * allocation limit) without breaking its invariants.
 */
import { describe, expect, it } from 'vitest';
import {
  buildKernel,
  defineFeature,
  ENOMEM,
  type Feature,
  type FeatureRequest,
  KernelConfigError,
  MAP_SHARED,
  PMD_SIZE,
  PUD_SIZE,
  resolveFeatures,
  SIGKILL,
} from '../src/index.js';
import { countTables, tableCounts } from './fixtures/count-tables.js';
import { ANON, expectClean, forked, kernel, mapAt, mmOf, P, R, RW } from './helpers.js';

const thread = { subject: '(test)', author: 'tests', date: '2025-01' };
const tinyA = defineFeature({ name: 'tiny-a', summary: 'a', thread, options: {}, conflicts: ['tiny-b'], install: () => undefined });
const tinyB = defineFeature({ name: 'tiny-b', summary: 'b', thread, options: {}, install: () => undefined });
const needsCounter = defineFeature({ name: 'needs-counter', summary: 'c', thread, options: {}, requires: ['count-tables'], install: () => undefined });
const counter: Feature = countTables;
const registry: readonly Feature[] = [counter, tinyA, tinyB, needsCounter];

describe('feature-set validation', () => {
  const bad: [string, FeatureRequest[], RegExp][] = [
    ['an unknown name', [{ name: 'nope' }], /unknown feature 'nope' \(known: count-tables, tiny-a, tiny-b, needs-counter\)/],
    ['an unknown option', [{ name: 'count-tables', options: { levle: 'pte' } }], /feature 'count-tables' has no option 'levle' \(options: level, limit\)/],
    ['a bad enum value', [{ feature: counter, options: { level: 'pgd' } }], /feature 'count-tables': bad value for option 'level': expected one of pte, pmd, pud, all, got "pgd"/],
    ['a negative int', [{ feature: counter, options: { limit: -1 } }], /bad value for option 'limit': -1 is below the minimum 0/],
    ['a fractional int', [{ feature: counter, options: { limit: 1.5 } }], /bad value for option 'limit': expected an integer, got 1.5/],
    ['a non-numeric string', [{ name: 'count-tables', options: { limit: 'lots' } }], /expected an integer, got "lots"/],
    ['a duplicate', [counter, { name: 'count-tables' }], /feature 'count-tables' given twice/],
    ['a missing requirement', [needsCounter], /feature 'needs-counter' requires 'count-tables', which is not in the set/],
    ['a conflict', [tinyB, tinyA], /features 'tiny-a' and 'tiny-b' conflict/],
  ];
  it.each(bad)('refuses %s, naming it', (_what, features, message) => {
    expect(() => resolveFeatures(features, registry)).toThrow(KernelConfigError);
    expect(() => resolveFeatures(features, registry)).toThrow(message);
    expect(() => buildKernel({ memBytes: 16 * 1024 * 1024, features, registry })).toThrow(message);
  });

  it('an unknown name with an empty registry says so', () => {
    expect(() => resolveFeatures([{ name: 'nope' }])).toThrow(/unknown feature 'nope' \(known: none\)/);
  });

  it('fills in defaults and coerces command-line strings', () => {
    expect(resolveFeatures([counter]).map((r) => r.options)).toEqual([{ level: 'all', limit: 0 }]);
    const r = resolveFeatures([{ name: 'count-tables', options: { level: 'pmd', limit: '3' } }, needsCounter, tinyA], registry);
    expect(r.map((x) => x.feature.name)).toEqual(['count-tables', 'needs-counter', 'tiny-a']);
    expect(r[0]!.options).toEqual({ level: 'pmd', limit: 3 });
  });

  it('defineFeature refuses a bad name or a bad default', () => {
    expect(() => defineFeature({ name: 'Bad_Name', summary: '', thread, options: {}, install: () => undefined })).toThrow(/feature name 'Bad_Name'/);
    expect(() =>
      defineFeature({
        name: 'bad-default',
        summary: '',
        thread,
        options: { n: { type: 'int', default: 5, max: 3, doc: '' } },
        install: () => undefined,
      }),
    ).toThrow(/feature 'bad-default': default of option 'n' is invalid: 5 is above the maximum 3/);
    expect(Object.isFrozen(countTables)).toBe(true);
    expect(countTables.kind).toBe('mmlab-feature');
  });
});

describe('count-tables: a feature wrapping the page-table seams', () => {
  it('installs into the seams and records itself as their owner', () => {
    const k = kernel({ features: [countTables] });
    expect(k.features.map((f) => [f.feature.name, f.options])).toEqual([['count-tables', { level: 'all', limit: 0 }]]);
    expect(k.seamTable.owners).toEqual({ pgtableAlloc: ['count-tables'], pgtableFree: ['count-tables'] });
    const plain = kernel();
    expect(plain.seamTable.owners).toEqual({});
  });

  it('counts exactly the tables the kernel allocates and frees, per level', () => {
    const k = kernel({ features: [{ name: 'count-tables' }], registry });
    const c = tableCounts(k);
    const live = (): number[] => [c.alloc[0] - c.free[0], c.alloc[1] - c.free[1], c.alloc[2] - c.free[2]];
    const p = k.spawn();
    const f = k.shmemCreate('f', 8 * P);
    mapAt(k, p, R, 4 * PMD_SIZE);
    mapAt(k, p, R + 3 * PUD_SIZE, 8 * P, RW, MAP_SHARED, f);
    const a = k.mmap(p, 0, 16 * P, RW, ANON);
    for (const addr of [R, R + PMD_SIZE + 5 * P, R + 3 * PMD_SIZE, R + 3 * PUD_SIZE, a]) expect(k.touch(p, addr, 4 * P, true)).toBe(0);
    expect(k.ptLive).toEqual([5, 3, 2, 1]);
    expect(c.alloc).toEqual([5, 3, 2]);
    const ch = forked(k, p);
    // the child copies the anonymous VMAs' tables (4 PTE, 2 PMD, 2 PUD), not the shared file's
    expect(c.alloc).toEqual([9, 5, 4]);
    expect(live()).toEqual(k.ptLive.slice(0, 3));
    expect(live()[0]).toBe(k.vm.nr_page_table_pages);
    expect(k.munmap(p, R + PMD_SIZE, PMD_SIZE)).toBe(0);
    expect(c.free).toEqual([1, 0, 0]);
    expect(k.touch(ch, R + 3 * PUD_SIZE, 8 * P, false)).toBe(0);
    expect(live()).toEqual(k.ptLive.slice(0, 3));
    k.exit(p);
    k.exit(ch);
    expect(c.alloc).toEqual(c.free);
    k.finish();
    expectClean(k);
  });

  it('level=pte counts PTE tables only', () => {
    const k = kernel({ features: [{ feature: counter, options: { level: 'pte' } }] });
    const t = k.spawn();
    mapAt(k, t, R, 3 * PMD_SIZE);
    expect(k.touch(t, R, 3 * PMD_SIZE, false)).toBe(0);
    expect(tableCounts(k).alloc).toEqual([3, 0, 0]);
    expect(k.vm.nr_page_table_pages).toBe(3);
    expectClean(k);
  });

  it('a table allocation limit makes faults end in SIGKILL (OOM), not a crash', () => {
    const k = kernel({ features: [{ feature: counter, options: { level: 'pte', limit: 2 } }] });
    const c = tableCounts(k);
    const t = k.spawn();
    mapAt(k, t, R, 4 * PMD_SIZE);
    expect(k.write(t, R, 1)).toBe(0);
    expect(k.write(t, R + PMD_SIZE, 2)).toBe(0);
    const faults = k.vm.pgfault;
    expect(k.touch(t, R + 2 * PMD_SIZE, P, true)).toBe(SIGKILL);
    expect(k.read(t, R + 3 * PMD_SIZE).sig).toBe(SIGKILL);
    expect(k.vm.pgfault - faults).toBe(2);
    expect(c.refused).toBe(2);
    expect(k.ptLive).toEqual([2, 1, 1, 1]);
    expect(mmOf(t).anonRss).toBe(2);
    // pages under existing tables still work
    expect(k.write(t, R + 9 * P, 3)).toBe(0);
    expect(k.read(t, R).value).toBe(1);
    expectClean(k);
    k.exit(t);
    k.finish();
    expectClean(k);
  });

  it('a limit hit while fork copies tables fails fork with ENOMEM and tears the child down', () => {
    const k = kernel({ features: [{ feature: counter, options: { level: 'pte', limit: 3 } }] });
    const p = k.spawn();
    mapAt(k, p, R, 2 * PMD_SIZE);
    expect(k.write(p, R, 1)).toBe(0);
    expect(k.write(p, R + PMD_SIZE, 2)).toBe(0);
    const free = k.mem.nrFree;
    expect(k.fork(p)).toBe(-ENOMEM);
    expect(k.liveMms()).toHaveLength(1);
    expect(k.mem.nrFree).toBe(free);
    expect(k.ptLive).toEqual([2, 1, 1, 1]);
    for (const [i, v] of [1, 2].entries()) {
      const pfn = k.read(p, R + i * PMD_SIZE);
      expect(pfn).toEqual({ sig: 0, value: v });
    }
    // the parent's PTEs were write-protected by the partial copy; its writes reuse its pages
    expect(k.write(p, R, 7)).toBe(0);
    expect(k.vm.mmlab_cow_fault).toBe(0);
    expectClean(k);
  });
});
