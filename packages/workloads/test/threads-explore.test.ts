import { describe, expect, it } from 'vitest';
import { freeBeforeFlush } from '@mmlab/core/testing';
import {
  SpecError,
  exploreScenario,
  listScenarios,
  resolveScenario,
  runWorkload,
  runWorkloadTraced,
  type RunMode,
  type RunOptions,
} from '../src/index.js';

const small = 'threads-fault:threads=4:size=4m';

describe('threads-fault', () => {
  it('contends in timed mode and takes less simulated time than run sequentially', async () => {
    const timed = await runWorkload({ workload: small, mode: 'timed', cpus: 4 });
    const seq = await runWorkload({ workload: small, mode: 'sequential', cpus: 4 });
    expect(timed.config).toMatchObject({ mode: 'timed', cpus: 4 });
    for (const cls of ['mmap_sem', 'page_table_lock', 'ptl']) {
      const s = timed.metrics.locks[cls]!;
      expect(s.acquisitions, cls).toBeGreaterThan(0);
      expect(s.contentions, cls).toBeGreaterThanOrEqual(0);
      expect(s.wait_ns, cls).toBeGreaterThanOrEqual(0);
    }
    // one fault per page, each under mmap_sem (read) and the page's PTE lock
    expect(timed.metrics.vmstat.mmlab_anon_fault).toBe(1024);
    expect(timed.metrics.locks.mmap_sem!.acquisitions).toBeGreaterThanOrEqual(1024);
    expect(timed.metrics.procs).toHaveLength(4);
    expect(timed.metrics.procs.every((p) => p.RssAnon_kB === 4096)).toBe(true);
    expect(timed.metrics.sim.ns).toBeLessThan(seq.metrics.sim.ns);
    expect(timed.metrics.sim.cpus).toHaveLength(4);
    expect(timed.metrics.sim.cpus.every((c) => c.busy_ns > 0)).toBe(true);
  });

  it('runs clean under the checker in every mode', async () => {
    for (const mode of ['sequential', 'timed', 'explore'] as const) {
      const r = await runWorkload({ workload: 'threads-fault:threads=3:size=256k', mode, cpus: 3, check: true });
      expect(r.invariants?.violations, mode).toEqual([]);
      expect(r.invariants?.checks, mode).toBeGreaterThan(0);
      expect(r.metrics.vmstat.mmlab_anon_fault, mode).toBe(64);
    }
  });
});

describe('determinism', () => {
  it.each(['sequential', 'timed', 'explore'] as const)('%s: same seed, same report and trace', async (mode: RunMode) => {
    const opts: RunOptions = { workload: 'threads-fault:threads=4:size=1m', mode, cpus: 4, seed: 9, traceEvents: 100_000 };
    const a = await runWorkloadTraced(opts);
    const b = await runWorkloadTraced(opts);
    expect(JSON.stringify(a.report)).toBe(JSON.stringify(b.report));
    expect(JSON.stringify(a.trace)).toBe(JSON.stringify(b.trace));
    expect(a.trace?.traceEvents.length).toBeGreaterThan(4);
    expect(a.report.host).toBeUndefined();
  });

  it('gives no trace unless asked', async () => {
    const r = await runWorkloadTraced({ workload: 'anon-touch:size=64k' });
    expect(r.trace).toBeNull();
  });
});

describe('exploreScenario', () => {
  it('lists the scenarios and refuses an unknown one, naming the known', () => {
    expect(listScenarios().map((s) => s.name)).toEqual([
      'munmap-vs-access',
      'fault-race',
      'fork-vs-write',
      'mprotect-vs-write',
      'reclaim-vs-fault',
    ]);
    expect(() => resolveScenario('nope')).toThrow(SpecError);
    expect(() => exploreScenario({ scenario: 'nope' })).toThrow(/unknown scenario 'nope' \(known: munmap-vs-access, fault-race/);
    expect(() => exploreScenario({ scenario: 'fault-race', seeds: 0 })).toThrow(/seeds must be/);
  });

  it.each(listScenarios().map((s) => s.name))('%s: no violation on the correct kernel', (name) => {
    const seeds = name === 'reclaim-vs-fault' ? 10 : 30;
    const r = exploreScenario({ scenario: name, seeds });
    expect(r.failure).toBeNull();
    expect(r.seedsRun).toBe(seeds);
    expect(r.checks).toBeGreaterThan(seeds);
    expect(r.steps).toBeGreaterThan(0);
    expect(r.host).toBeUndefined();
    expect(Object.keys(r)).toEqual(['scenario', 'features', 'config', 'seedsRun', 'checks', 'steps', 'failure']);
  });

  it('pct strategy runs too', () => {
    const r = exploreScenario({ scenario: 'munmap-vs-access', seeds: 30, strategy: 'pct' });
    expect(r.failure).toBeNull();
    expect(r.config).toMatchObject({ strategy: 'pct', pctDepth: 3, cpus: 2 });
  });

  it('finds the gather freeing before the flush, and the seed reproduces it exactly', () => {
    const features = [{ feature: freeBeforeFlush }];
    const found = exploreScenario({ scenario: 'munmap-vs-access', seeds: 500, features });
    const f = found.failure;
    expect(f).not.toBeNull();
    expect(f!.violations.map((v) => v.check)).toContain('tlb');
    expect(f!.interleaving).toMatch(/^(?:[ci]\d+)(?: [ci]\d+)*$/);
    expect(f!.steps).toBe(f!.interleaving.split(' ').length);
    expect(found.seedsRun).toBe(f!.seed);
    const again = exploreScenario({ scenario: 'munmap-vs-access', seeds: 1, firstSeed: f!.seed, features });
    expect(again.failure).toEqual(f);
    // the same seeds on the correct kernel find nothing
    const clean = exploreScenario({ scenario: 'munmap-vs-access', seeds: found.seedsRun });
    expect(clean.failure).toBeNull();
    expect(found.features).toEqual([{ name: 'mutation-free-before-flush', options: {} }]);
  });
});
