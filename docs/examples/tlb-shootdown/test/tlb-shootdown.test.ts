// #region setup
import { describe, expect, it } from 'vitest';
import {
  baseFlushTlb,
  buildKernel,
  defineFeature,
  type Kernel,
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  PROT_READ,
  PROT_WRITE,
} from '@mmlab/core';
import { tlbShootdown } from '../src/index.js';

const MiB = 1024 * 1024;
/** A small machine: four CPUs, so that flushes have other CPUs to shoot down. */
const machine = { cpus: 4, memBytes: 64 * MiB };

/**
 * A process writes 1 MiB, a thread on another CPU writes it too, a child
 * forked from the process copies it on write, then everything is unmapped
 * and exits: COW faults, page flushes, gather flushes and shootdowns.
 */
function run(k: Kernel): void {
  const parent = k.spawn();
  const addr = k.mmap(parent, 0, MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  expect(addr).toBeGreaterThan(0);
  expect(k.touch(parent, addr, MiB, true)).toBe(0);
  const thread = k.clone(parent);
  expect(k.touch(thread, addr, MiB, true)).toBe(0);
  const child = k.fork(parent);
  if (typeof child === 'number') throw new Error(`fork failed: ${child}`);
  expect(k.touch(child, addr, MiB, true)).toBe(0);
  expect(k.munmap(parent, addr, MiB)).toBe(0);
  for (const t of [child, thread, parent]) k.exit(t);
  k.finish();
}
// #endregion setup

describe('tlb-shootdown', () => {
  // #region counts
  it('counts flushes and delays each one, with the checker on', () => {
    const plain = buildKernel({ ...machine, check: true });
    run(plain);
    const k = buildKernel({ ...machine, check: true, features: [{ feature: tlbShootdown, options: { delayNs: 500 } }] });
    run(k);

    expect(k.invariants.violations).toEqual([]);
    expect(k.invariants.checks).toBeGreaterThan(0);
    const counted = k.metrics().feature?.['tlb-shootdown'];
    expect(counted?.flushes).toBeGreaterThan(0);
    expect(counted?.remote).toBeGreaterThan(0);
    expect(counted?.delay_ns).toBe((counted?.flushes ?? 0) * 500);
    // the wrap adds time and nothing else
    expect(k.simNs()).toBeGreaterThan(plain.simNs());
    expect(k.vm.nr_tlb_remote_flush).toBe(plain.vm.nr_tlb_remote_flush);
  });
  // #endregion counts

  it('counts only shootdowns with count=remote, and waits for acks in the timed mode', () => {
    const k = buildKernel({ ...machine, check: true, mode: 'timed', features: [{ feature: tlbShootdown, options: { count: 'remote' } }] });
    run(k);
    expect(k.invariants.violations).toEqual([]);
    const counted = k.metrics().feature?.['tlb-shootdown'];
    expect(counted?.flushes).toBe(k.vm.nr_tlb_remote_flush);
    expect(counted?.remote).toBe(counted?.flushes);
    expect(counted?.waited).toBe(counted?.flushes);
  });

  it('makes shootdown IPIs slower with slowIpi (configure)', () => {
    const plain = buildKernel(machine);
    const slow = buildKernel({ ...machine, features: [{ feature: tlbShootdown, options: { slowIpi: true } }] });
    expect(slow.costs.ipiPerTarget).toBe(2 * plain.costs.ipiPerTarget);
  });

  // #region options
  it('refuses a bad option value, naming it', () => {
    expect(() => buildKernel({ ...machine, features: [{ feature: tlbShootdown, options: { count: 'some' } }] })).toThrow(
      "feature 'tlb-shootdown': bad value for option 'count': expected one of all, remote, got \"some\" (feature 'tlb-shootdown')",
    );
  });
  // #endregion options

  // #region check
  it('reports a shootdown left unacknowledged as a violation of its check', () => {
    const k = buildKernel({ ...machine, features: [tlbShootdown] });
    const t = k.spawn();
    k.cpus[1]!.pendingIpis.push({ from: 0, mm: t.mm!, vpn: -1, sentAt: 0 });
    expect(k.check()).toContainEqual({ check: 'tlb-shootdown:acks-complete', message: 'cpu 1: 1 shootdown IPI(s) never taken' });
  });
  // #endregion check

  // #region clash
  it('composes with a feature that replaces flushTlb only when the replacement comes first', () => {
    const flushMm = defineFeature({
      name: 'flush-whole-mm',
      summary: 'every TLB flush flushes the whole mm',
      thread: { subject: '(example)', author: 'mmlab docs', date: '2025-01' },
      options: {},
      install(k) {
        k.seamTable.replace('flush-whole-mm', 'flushTlb', (kk, _kind, mm, start) => baseFlushTlb(kk, 'mm', mm, start));
      },
    });
    expect(() => buildKernel({ ...machine, features: [tlbShootdown, flushMm] })).toThrow(
      "feature 'flush-whole-mm' replaces seam 'flushTlb', discarding the wrap 'tlb-shootdown' installed before it; " +
        "list 'flush-whole-mm' before 'tlb-shootdown' or make it wrap",
    );
    const k = buildKernel({ ...machine, features: [flushMm, tlbShootdown] });
    expect(k.metrics().seams).toEqual({ flushTlb: ['flush-whole-mm (replace)', 'tlb-shootdown (wrap)'] });
  });
  // #endregion clash
});
