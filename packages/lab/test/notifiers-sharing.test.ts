/**
 * Two proposals together: `mmu-notifiers` with `shared-pagetables`. A PTE
 * cleared through a page table two processes share is gone for both, so
 * the callouts must reach the secondary MMU of the process that did not
 * make the change: truncation (a zap through the first sharer's VMA finds
 * the second's PTEs already gone) and reclaim (`try_to_unmap` clears the
 * shared PTE through the first VMA it meets). The coherence check and the
 * oracle run after every operation, in both orders of installation.
 */
import { describe, expect, it } from 'vitest';
import { buildKernel, MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE } from '@mmlab/core';
import { GruContext, mmuNotifiers } from '@mmlab/mmu-notifiers';
import { sharedPagetables } from '@mmlab/shared-pagetables';

const MiB = 2 ** 20;
const A = 2 ** 40;
const B = 2 ** 40 + 64 * MiB;

describe('mmu-notifiers with shared page tables: the callouts reach every sharer', () => {
  for (const variant of ['v6', 'range'] as const) {
    for (const change of ['truncate', 'reclaim'] as const) {
      for (const order of ['shared-pagetables first', 'mmu-notifiers first'] as const) {
        it(`${variant}, ${change}, ${order}`, () => {
          const notif = { feature: mmuNotifiers, options: { variant } };
          const k = buildKernel({
            cpus: 2,
            memBytes: 16 * MiB,
            swapBytes: 64 * MiB,
            check: true,
            features: order === 'shared-pagetables first' ? [sharedPagetables, notif] : [notif, sharedPagetables],
          });
          const file = k.shmemCreate('f', 2 * MiB);
          const a = k.spawn();
          const b = k.spawn();
          // the same file offsets at different addresses, 2 MiB aligned: one PTE table for both
          expect(k.mmap(a, A, 2 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, file)).toBe(A);
          expect(k.touch(a, A, 2 * MiB, true)).toBe(0);
          expect(k.mmap(b, B, 2 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, file)).toBe(B);
          expect(k.touch(b, B, 2 * MiB, false)).toBe(0);
          expect(k.metrics().feature?.['shared-pagetables']?.share_fault).toBe(1);
          const gru = new GruContext(k, b.mm!, B, 2 * MiB);
          GruContext.run(k, b, gru.attach(k));
          expect(GruContext.run(k, b, gru.accessRange(k, 0, 512, false))).toBe(0);
          if (change === 'truncate') {
            expect(k.ftruncate(file, MiB)).toBe(0);
            expect(gru.mapped).toBe(256);
          } else {
            const h = k.spawn();
            const x = k.mmap(h, 0, 20 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
            expect(k.touch(h, x, 20 * MiB, true)).toBe(0);
            expect(gru.mapped).toBeLessThan(512);
            k.exit(h);
          }
          expect(k.invariants.violations).toEqual([]);
          for (const t of [a, b]) k.exit(t);
          gru.close(k);
          k.finish();
          expect(k.invariants.violations).toEqual([]);
        });
      }
    }
  }
});
