import { describe, expect, it } from 'vitest';
import { defineFeature } from '@mmlab/core';
import { runWorkload } from '@mmlab/workloads';
import { toJson } from '../src/format/json.js';
import { formatRunReport } from '../src/format/run-report.js';

// A test-only feature: counts anonymous faults through the anonFault seam.
const countFaults = defineFeature({
  name: 'count-faults',
  summary: 'test: counts anonymous faults',
  thread: { subject: '(test)', author: 'tests', date: '2025-01' },
  options: {},
  install(k) {
    const c = k.defineCounters('count-faults', { anon_faults: 'anonymous faults seen by the seam' });
    k.defineGauge('count-faults', 'live_mms', 'live address spaces at the snapshot', () => k.liveMms().length);
    k.seamTable.wrap('count-faults', 'anonFault', (prev) => (kk, mm, vma, address, pte) => {
      c.anon_faults++;
      return prev(kk, mm, vma, address, pte);
    });
  },
});

describe('the run report with features', () => {
  it('shows the features counters and the chain of each seam they changed', async () => {
    const report = await runWorkload({ workload: 'anon-touch:size=64k', features: [{ feature: countFaults }], check: true });
    expect(report.metrics.feature).toEqual({ 'count-faults': { anon_faults: 16, live_mms: 1 } });
    expect(report.metrics.seams).toEqual({ anonFault: ['count-faults (wrap)'] });
    const text = formatRunReport(report);
    expect(text).toMatch(/\nfeature counters\s+value\s+what it counts\n-+ +-+ +-+\ncount-faults\.anon_faults\s+16\s+anonymous faults seen by the seam\n/);
    expect(text).toMatch(/\ncount-faults\.live_mms\s+1\s+live address spaces at the snapshot\n/);
    expect(text).toMatch(/\nseams\s+installed \(first to last\)\n-+ +-+\nanonFault\s+count-faults \(wrap\)\n/);
    const json = JSON.parse(toJson(report)) as { metrics: Record<string, unknown> };
    expect(Object.keys(json.metrics)).toEqual(['vmstat', 'peak', 'meminfo', 'pagetables', 'procs', 'sim', 'locks', 'feature', 'featureDocs', 'seams']);
    expect(json.metrics.featureDocs).toEqual({
      'count-faults': { anon_faults: 'anonymous faults seen by the seam', live_mms: 'live address spaces at the snapshot' },
    });
  });

  it('has neither section without features, and the same figures', async () => {
    const plain = await runWorkload({ workload: 'anon-touch:size=64k', check: true });
    const text = formatRunReport(plain);
    expect(text).not.toMatch(/feature counters|\nseams/);
    const withFeature = await runWorkload({ workload: 'anon-touch:size=64k', features: [{ feature: countFaults }], check: true });
    // a feature that only counts changes no figure of the kernel's
    expect(withFeature.metrics.vmstat).toEqual(plain.metrics.vmstat);
    expect(withFeature.metrics.sim).toEqual(plain.metrics.sim);
  });
});
