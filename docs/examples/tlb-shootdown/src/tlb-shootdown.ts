/**
 * The `tlb-shootdown` feature: it wraps the `flushTlb` seam to count the
 * kernel's TLB flushes (how many sent an IPI to another CPU, how many made
 * the caller wait for the acknowledgements) and to charge a named cost for
 * each one counted. It can also make every shootdown IPI slower by
 * changing the machine before the kernel is built.
 * @module
 */
// #region head
import { defineFeature } from '@mmlab/core';

/** The feature's name, which also owns its seam link, counters, cost and check. */
export const NAME = 'tlb-shootdown';

/** Counts TLB flushes through the `flushTlb` seam and delays each one it counts. */
export const tlbShootdown = defineFeature({
  name: NAME,
  summary: 'counts TLB flushes and shootdowns, and delays each counted flush by DELAYNS',
  thread: { subject: '(example) writing a feature package', author: 'mmlab docs', date: '2025-01' },
  options: {
    delayNs: { type: 'int', default: 0, min: 0, max: 100_000, doc: 'simulated ns added to each counted flush' },
    count: { type: 'enum', default: 'all', values: ['all', 'remote'], doc: 'count every flush, or only those that sent an IPI' },
    slowIpi: { type: 'boolean', default: false, doc: 'double the cost of a shootdown IPI to each target CPU' },
  },
  // #endregion head
  // #region configure
  configure(machine, { slowIpi }) {
    // runs before the kernel is made: machine.costs is this kernel's own copy
    if (slowIpi) machine.costs.ipiPerTarget *= 2;
  },
  // #endregion configure
  // #region install
  install(k, { delayNs, count }) {
    const counters = k.defineCounters(NAME, {
      flushes: 'TLB flushes counted (all, or only shootdowns with count=remote)',
      remote: 'counted flushes that sent a shootdown IPI to another CPU',
      waited: 'counted flushes whose caller had to wait for IPI acknowledgements',
    });
    const delay = k.defineCost(NAME, 'delay', 'extra time charged for each counted TLB flush', delayNs);
    k.defineGauge(NAME, 'delay_ns', 'simulated ns the delay added', () => delay.charged * delay.ns);
    // #endregion install
    // #region wrap
    k.seamTable.wrap(NAME, 'flushTlb', (prev) => (kk, kind, mm, start, end, reason) => {
      const sent = kk.vm.nr_tlb_remote_flush;
      const mustWait = prev(kk, kind, mm, start, end, reason);
      const remote = kk.vm.nr_tlb_remote_flush !== sent;
      if (count === 'all' || remote) {
        counters.flushes++;
        if (remote) counters.remote++;
        if (mustWait) counters.waited++;
        kk.chargeCost(delay);
      }
      return mustWait;
    });
    // #endregion wrap
    // #region check
    k.addInvariantCheck(NAME, 'acks-complete', function* (kk) {
      // at an operation boundary every shootdown has been taken and acknowledged
      for (const cpu of kk.cpus) {
        if (cpu.pendingIpis.length > 0) yield `cpu ${cpu.id}: ${cpu.pendingIpis.length} shootdown IPI(s) never taken`;
        if (cpu.ipiAcksPending > 0) yield `cpu ${cpu.id}: still waits for ${cpu.ipiAcksPending} acknowledgement(s)`;
      }
    });
    // #endregion check
  },
});
