/**
 * A test-only kernel mutation (not a test file): the TLB gather frees its
 * pages BEFORE flushing the TLB, so another CPU can still reach a freed
 * frame through its TLB between the free and the IPI. `munmap-vs-access`
 * must find it; with the guard in place the same seeds find nothing.
 */
import { defineFeature, flushTlbMm, freePageAndSwapCache, ipiWait, type Kernel, type KGen } from '@mmlab/core';

/** The gather frees its pages before the TLB flush (flush → free reversed). */
export const freeBeforeFlush = defineFeature({
  name: 'test-free-before-flush',
  summary: 'test-only: tlb_flush_mmu frees the gathered pages before flushing the TLB',
  thread: { subject: 'test-only mutation', author: 'mmlab tests', date: '2008-01' },
  options: {},
  install(k) {
    k.seamTable.wrap('test-free-before-flush', 'tlbGather', (prev) => ({
      ...prev,
      *flush(kk: Kernel, tlb): KGen<void> {
        if (!tlb.needFlush) return;
        tlb.needFlush = false;
        if (!tlb.fast) {
          for (let i = 0; i < tlb.nr; i++) freePageAndSwapCache(kk, tlb.pages[i]!);
          tlb.nr = 0;
        }
        if (flushTlbMm(kk, tlb.mm!)) yield* ipiWait(kk);
      },
      *finish(kk: Kernel, tlb): KGen<void> {
        yield* this.flush(kk, tlb);
        tlb.active = false;
        tlb.mm = null;
        kk.preemptEnable();
      },
    }));
  },
});
