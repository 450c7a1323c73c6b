/**
 * Random operation sequences (fast-check) on two processes and a thread,
 * with the checker and the data oracle on after every operation, on a
 * kernel with the in-place gather, PREEMPT on or off: no violation, and
 * the same free memory and page-table count as the baseline kernel.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildKernel,
  type Kernel,
  MADV_DONTNEED,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_PRIVATE,
  MAP_SHARED,
  PAGE_SIZE,
  PROT_READ,
  PROT_WRITE,
  type Task,
} from '@mmlab/core';
import { mmuGatherInplace, NAME } from '../src/index.js';

const MiB = 2 ** 20;
const P = PAGE_SIZE;
const R = 2 ** 40;
/** The arena the operations work in: 8 MiB (four PTE tables). */
const ARENA = 8 * MiB;

type Op =
  | { kind: 'map'; who: number; at: number; pages: number; file: boolean }
  | { kind: 'touch'; who: number; at: number; pages: number; write: boolean }
  | { kind: 'munmap'; who: number; at: number; pages: number }
  | { kind: 'madvise'; who: number; at: number; pages: number }
  | { kind: 'fork'; who: number }
  | { kind: 'exit'; who: number }
  | { kind: 'truncate'; pages: number };

const who = fc.nat(2);
const at = fc.nat(ARENA / P - 1);
const pages = fc.integer({ min: 1, max: 1200 });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('map' as const), who, at, pages, file: fc.boolean() }),
  fc.record({ kind: fc.constant('touch' as const), who, at, pages, write: fc.boolean() }),
  fc.record({ kind: fc.constant('touch' as const), who, at, pages, write: fc.boolean() }),
  fc.record({ kind: fc.constant('munmap' as const), who, at, pages }),
  fc.record({ kind: fc.constant('madvise' as const), who, at, pages }),
  fc.record({ kind: fc.constant('fork' as const), who }),
  fc.record({ kind: fc.constant('exit' as const), who }),
  fc.record({ kind: fc.constant('truncate' as const), pages: fc.nat(ARENA / P) }),
);

function clip(a: number, n: number): number {
  return Math.min(n, ARENA / P - a);
}

function run(k: Kernel, ops: readonly Op[]): void {
  const file = k.shmemCreate('f', ARENA);
  const first = k.spawn();
  const tasks: (Task | null)[] = [first, k.clone(first), null];
  const live = (i: number): Task | null => tasks[i] ?? tasks.find((t) => t !== null) ?? null;
  for (const o of ops) {
    if (o.kind === 'truncate') {
      k.ftruncate(file, o.pages * P);
      continue;
    }
    const t = live(o.who);
    if (t === null) return;
    switch (o.kind) {
      case 'map':
        k.mmap(t, R + o.at * P, clip(o.at, o.pages) * P, PROT_READ | PROT_WRITE, (o.file ? MAP_SHARED : MAP_PRIVATE | MAP_ANONYMOUS) | MAP_FIXED, o.file ? file : null, o.file ? o.at * P : 0);
        break;
      case 'touch':
        k.touch(t, R + o.at * P, clip(o.at, o.pages) * P, o.write);
        break;
      case 'munmap':
        k.munmap(t, R + o.at * P, clip(o.at, o.pages) * P);
        break;
      case 'madvise':
        k.madvise(t, R + o.at * P, clip(o.at, o.pages) * P, MADV_DONTNEED);
        break;
      case 'fork': {
        const c = k.fork(t);
        if (typeof c !== 'number') {
          const slot = tasks.indexOf(null);
          if (slot >= 0) tasks[slot] = c;
          else k.exit(c);
        }
        break;
      }
      case 'exit':
        k.exit(t);
        tasks[tasks.indexOf(t)] = null;
        break;
    }
  }
  for (const t of tasks) if (t !== null) k.exit(t);
  k.finish();
}

describe('mmu-gather-inplace: random operation sequences', () => {
  it('no violation, and the same end state as the baseline', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 25 }), fc.boolean(), (ops, preempt) => {
        const plain = buildKernel({ cpus: 2, memBytes: 64 * MiB, check: true, config: { preempt } });
        run(plain, ops);
        const k = buildKernel({ cpus: 2, memBytes: 64 * MiB, check: true, config: { preempt }, features: [mmuGatherInplace] });
        run(k, ops);
        expect(k.invariants.violations).toEqual(plain.invariants.violations);
        expect(k.invariants.violations).toEqual([]);
        expect(k.mem.nrFree).toBe(plain.mem.nrFree);
        expect(k.vm.mmlab_gather_flush).toBeLessThanOrEqual(plain.vm.mmlab_gather_flush);
        const c = k.metrics().feature?.[NAME] ?? {};
        expect(c.walk_entries).toBeGreaterThanOrEqual(c.pages_in_place ?? 0);
      }),
      { numRuns: 150, seed: 20060317 },
    );
  });
});
