/**
 * Random operation sequences (fast-check) on a process whose anonymous
 * memory a KVM-like guest maps and whose shared tmpfs mapping a GRU-like
 * context references, with the checker (the coherence check included) and
 * the oracle on after every operation, in every combination of variant and
 * release placement: no violation, and nothing leaks at the end.
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
} from '@mmlab/core';
import { GruContext, KvmGuest, mmuNotifiers, NAME } from '../src/index.js';

const MiB = 2 ** 20;
const P = PAGE_SIZE;
const ANON = 2 ** 40;
const FILE = 2 ** 40 + 64 * MiB;
const SIZE = 2 * MiB;
const NPAGES = SIZE / P;

type Op =
  | { kind: 'guest' | 'gru'; at: number; pages: number; write: boolean }
  | { kind: 'munmap' | 'madvise' | 'mprotect' | 'mremap'; at: number; pages: number }
  | { kind: 'fork' }
  | { kind: 'truncate'; pages: number }
  | { kind: 'pressure'; mib: number };

const at = fc.nat(NPAGES - 1);
const pages = fc.integer({ min: 1, max: 300 });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('guest' as const), at, pages, write: fc.boolean() }),
  fc.record({ kind: fc.constant('gru' as const), at, pages, write: fc.boolean() }),
  fc.record({ kind: fc.constantFrom('munmap' as const, 'madvise' as const, 'mprotect' as const, 'mremap' as const), at, pages }),
  fc.record({ kind: fc.constant('fork' as const) }),
  fc.record({ kind: fc.constant('truncate' as const), pages: fc.nat(NPAGES) }),
  fc.record({ kind: fc.constant('pressure' as const), mib: fc.integer({ min: 4, max: 12 }) }),
);

function clip(a: number, n: number): number {
  return Math.min(n, NPAGES - a);
}

function run(k: Kernel, ops: readonly Op[]): void {
  const t = k.spawn();
  const file = k.shmemCreate('f', SIZE);
  const map = (): void => {
    k.mmap(t, ANON, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED);
  };
  map();
  k.mmap(t, FILE, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, file);
  const kvm = new KvmGuest(k, t.mm!, ANON, SIZE);
  const gru = new GruContext(k, t.mm!, FILE, SIZE);
  KvmGuest.run(k, t, kvm.attach(k));
  GruContext.run(k, t, gru.attach(k));
  for (const o of ops) {
    switch (o.kind) {
      case 'guest':
        KvmGuest.run(k, t, kvm.accessRange(k, o.at, clip(o.at, o.pages), o.write));
        break;
      case 'gru':
        GruContext.run(k, t, gru.accessRange(k, o.at, clip(o.at, o.pages), o.write));
        break;
      case 'munmap':
        k.munmap(t, ANON + o.at * P, clip(o.at, o.pages) * P);
        break;
      case 'madvise':
        k.madvise(t, ANON + o.at * P, clip(o.at, o.pages) * P, MADV_DONTNEED);
        break;
      case 'mprotect':
        k.mprotect(t, ANON + o.at * P, clip(o.at, o.pages) * P, PROT_READ);
        break;
      case 'mremap':
        // move part of the guest's memory away and back: move_ptes clears each PTE
        k.mremap(t, ANON + o.at * P, clip(o.at, o.pages) * P, clip(o.at, o.pages) * P, 3, ANON + 16 * MiB);
        k.munmap(t, ANON + 16 * MiB, clip(o.at, o.pages) * P);
        break;
      case 'fork': {
        const child = k.fork(t);
        if (typeof child !== 'number') {
          k.touch(child, FILE, P, true);
          k.exit(child);
        }
        break;
      }
      case 'truncate':
        k.ftruncate(file, o.pages * P);
        k.ftruncate(file, SIZE);
        break;
      case 'pressure': {
        const h = k.spawn();
        const a = k.mmap(h, 0, o.mib * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
        if (a > 0) k.touch(h, a, o.mib * MiB, true);
        k.exit(h);
        break;
      }
    }
    // whatever was unmapped or made read-only comes back, so later accesses have somewhere to go
    if (o.kind === 'munmap' || o.kind === 'mremap' || o.kind === 'mprotect') map();
  }
  KvmGuest.run(k, t, kvm.detach(k));
  k.exit(t);
  k.finish();
}

describe('random sequences with a KVM guest and a GRU context: the checker finds nothing', () => {
  for (const variant of ['v6', 'range'] as const) {
    for (const release of ['after-unmap', 'before-unmap'] as const) {
      it(`${variant}, release ${release}`, () => {
        fc.assert(
          fc.property(fc.array(op, { minLength: 1, maxLength: 14 }), fc.nat(1000), (ops, seed) => {
            const k = buildKernel({
              cpus: 2,
              seed,
              memBytes: 16 * MiB,
              swapBytes: 64 * MiB,
              check: true,
              features: [{ feature: mmuNotifiers, options: { variant, release } }],
            });
            run(k, ops);
            expect(k.invariants.violations).toEqual([]);
            const c = k.metrics().feature?.[NAME] ?? {};
            expect(c.registered).toBe(2);
          }),
          { numRuns: 12, seed: 2008 },
        );
      });
    }
  }
});
