// The tlb-shootdown feature cut down to one JavaScript file for the command
// line: a plain object in place of defineFeature, so it imports nothing and
// runs from any folder (its path is relative to the working directory).
export default {
  name: 'tlb-shootdown',
  summary: 'counts TLB flushes and delays each one by DELAYNS',
  options: {
    delayNs: { type: 'int', default: 0, min: 0, max: 100000, doc: 'simulated ns added to each flush' },
  },
  install(k, { delayNs }) {
    const counters = k.defineCounters('tlb-shootdown', { flushes: 'TLB flushes through the flushTlb seam' });
    const delay = k.defineCost('tlb-shootdown', 'delay', 'extra time charged for each TLB flush', delayNs);
    k.seamTable.wrap('tlb-shootdown', 'flushTlb', (prev) => (kk, kind, mm, start, end, reason) => {
      counters.flushes++;
      kk.chargeCost(delay);
      return prev(kk, kind, mm, start, end, reason);
    });
  },
};
