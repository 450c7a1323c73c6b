import { describe, expect, it, vi } from 'vitest';
import { mmlab } from './helpers.js';
import { freeBeforeFlush } from '@mmlab/core/testing';

// The command line registers no test-only feature: build every explored
// kernel with the mutation instead, to see a failing exploration end to end.
vi.mock('@mmlab/workloads', async (importOriginal) => {
  const orig = await importOriginal<typeof import('@mmlab/workloads')>();
  return {
    ...orig,
    exploreScenario: (options: Parameters<typeof orig.exploreScenario>[0]) =>
      orig.exploreScenario({ ...options, features: [{ feature: freeBeforeFlush }] }),
  };
});

describe('mmlab explore on a kernel with a race', () => {
  it('prints the failing seed, its interleaving and the command that reproduces it; exit 1', async () => {
    const r = await mmlab(['explore', '--scenario', 'munmap-vs-access', '--seeds', '500']);
    expect(r.code).toBe(1);
    const lines = r.out.trimEnd().split('\n');
    const m = /^seed (\d+) fails: tlb: cpu \d+: access at 0x[0-9a-f]+ through a TLB entry to frame \d+, freed/.exec(lines[1]!);
    expect(m).not.toBeNull();
    const seed = m![1]!;
    const il = lines.find((l) => l.startsWith('interleaving'));
    expect(il).toMatch(/^interleaving \(\d+ steps\): c\d+( [ci]\d+)+$/);
    expect(lines).toContain(`reproduce: mmlab explore --scenario munmap-vs-access --seed ${seed} --seeds 1`);
    expect(r.out).toMatch(new RegExp(`seeds run ${seed}, checks`));

    const again = await mmlab(['explore', '--scenario', 'munmap-vs-access', '--seed', seed, '--seeds', '1']);
    expect(again.code).toBe(1);
    expect(again.out.split('\n')[1]).toBe(lines[1]);
    expect(again.out.split('\n').find((l) => l.startsWith('interleaving'))).toBe(il);

    const json = await mmlab(['explore', '--scenario', 'munmap-vs-access', '--seed', seed, '--seeds', '1', '--json']);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.out) as { failure: { seed: number; violations: { check: string }[]; interleaving: string } };
    expect(report.failure.seed).toBe(Number(seed));
    expect(report.failure.violations[0]!.check).toBe('tlb');
    expect(`interleaving (${report.failure.interleaving.split(' ').length} steps): ${report.failure.interleaving}`).toBe(il);
  });
});
