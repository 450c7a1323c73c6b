/**
 * The CLI knows `mmu-notifiers` and the workloads that drive its
 * secondary MMUs: a KVM-like guest swaps only with notifiers, Jack
 * Steiner's two GRU effects show on their own and together, pinning
 * without notifiers is not coherent across COW, and the feature runs clean
 * next to the in-place gather.
 */
import { describe, expect, it } from 'vitest';
import { mmlab } from './helpers.js';

interface Report {
  features: { name: string }[];
  result?: { figures?: Record<string, number> };
  metrics: { vmstat: Record<string, number>; feature?: Record<string, Record<string, number>> };
  invariants?: { checks: number; violations: { check: string; message: string }[] };
}

async function run(workload: string, features: string[], extra: string[] = []): Promise<Report> {
  const args = ['run', '--workload', workload, '--check', '--json', ...extra];
  if (features.length > 0) args.push('--features', features.join(','));
  const r = await mmlab(args);
  expect(r.err).toBe('');
  return JSON.parse(r.out) as Report;
}

const KVM = ['kvm-guest:guest=8m:host=12m', [], ['--mem', '16m', '--swap', '24m']] as const;

describe('mmlab run --workload kvm-guest', () => {
  it('without notifiers the guest stays in RAM; with them its pages are swapped out, and read back intact', async () => {
    const base = await run(KVM[0], [], [...KVM[2]]);
    const notif = await run(KVM[0], ['mmu-notifiers'], [...KVM[2]]);
    expect(base.invariants?.violations).toEqual([]);
    expect(notif.invariants?.violations).toEqual([]);
    expect(base.result?.figures?.guest_swapped_out).toBe(0);
    expect(notif.result?.figures?.guest_swapped_out).toBeGreaterThan(0);
    const c = notif.metrics.feature?.['mmu-notifiers'];
    expect(c?.invalidate_page).toBeGreaterThan(0);
    expect(c?.age_page).toBeGreaterThan(0);
  });

  it('runs clean with the range variant and next to mmu-gather-inplace', async () => {
    const r = await run(KVM[0], ['mmu-gather-inplace', 'mmu-notifiers:variant=range:release=before-unmap'], [...KVM[2], '--preempt']);
    expect(r.invariants?.violations).toEqual([]);
    expect(r.result?.figures?.guest_swapped_out).toBeGreaterThan(0);
  });
});

describe('mmlab run --workload gru', () => {
  const OPTIONS = ['', ':release=before-unmap', ':variant=range', ':variant=range:release=before-unmap'] as const;

  it.each(['gru:procs=2:size=1m:unmaps=4', 'gru:procs=3:size=2m:unmaps=16:cow=64'])(
    "%s: release before unmap and range callouts each cut the GRU's invalidates, together most",
    async (workload) => {
      const n: number[] = [];
      for (const o of OPTIONS) {
        const r = await run(workload, [`mmu-notifiers${o}`], ['--mem', '16m']);
        expect(r.invariants?.violations).toEqual([]);
        n.push(r.metrics.feature?.['mmu-notifiers']?.gru_tlb_invalidates ?? 0);
      }
      const [v6, before, range, both] = n as [number, number, number, number];
      expect(before).toBeLessThan(v6);
      expect(range).toBeLessThan(v6);
      expect(both).toBeLessThan(before);
      expect(both).toBeLessThan(range);
    },
  );

  it('without notifiers a pinned GRU entry survives the copy of a COW break: the oracle sees the lost write', async () => {
    const base = await run('gru:procs=1:size=256k:unmaps=2:cow=8', [], ['--mem', '16m']);
    expect(base.invariants?.violations.some((v) => v.check === 'oracle')).toBe(true);
    const notif = await run('gru:procs=1:size=256k:unmaps=2:cow=8', ['mmu-notifiers'], ['--mem', '16m']);
    expect(notif.invariants?.violations).toEqual([]);
  });

  it('refuses a COW count larger than the second half, with one line', async () => {
    const r = await mmlab(['run', '--workload', 'gru:procs=1:size=64k:unmaps=2:cow=9']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/gru: COW 9 is more than the 8 pages of the second half/);
  });
});
