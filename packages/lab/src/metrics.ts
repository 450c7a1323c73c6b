/**
 * A run report's figures as one flat map of metric name to number: every
 * numeric leaf under `metrics` by its dotted path (`vmstat.pgfault`,
 * `sim.ns`, `locks.mmap_sem.wait_ns`, `feature.mmu-gather-inplace.flushes`),
 * the workload's own figures (`result.figures.*`), whether a simulated
 * fault stopped it (`result.stopped`), and the checker's figures
 * (`invariants.checks`, `invariants.violations`). Per-process and per-CPU
 * lists become sums (`procs.VmPTE_kB`, `sim.cpus.busy_ns`); the figures of
 * the processes are per mm, so the tasks of one mm (threads) count once;
 * descriptions
 * (`featureDocs`) and seam lists are left out.
 * @module
 */

import type { RunReport } from '@mmlab/workloads';

/** Metric name → value of one run. */
export type Metrics = Record<string, number>;

/** Top-level keys of `metrics` that hold text, not figures. */
const SKIPPED = new Set(['featureDocs', 'seams']);

/**
 * Flattens one run report.
 * @param report - what `runWorkload` returned
 */
export function flattenMetrics(report: RunReport): Metrics {
  const out: Metrics = {};
  for (const [key, value] of Object.entries(report.metrics)) {
    if (!SKIPPED.has(key)) flatten(value, key, out);
  }
  const result = report.result;
  if (result !== undefined) {
    out['result.stopped'] = result.step === undefined ? 0 : 1;
    for (const [k, v] of Object.entries(result.figures ?? {})) out[`result.figures.${k}`] = v;
  }
  if (report.invariants !== undefined) {
    out['invariants.checks'] = report.invariants.checks;
    out['invariants.violations'] = report.invariants.violations.length;
  }
  return out;
}

function flatten(value: unknown, path: string, out: Metrics): void {
  if (typeof value === 'number') {
    if (Number.isFinite(value)) out[path] = value;
    return;
  }
  if (Array.isArray(value)) {
    // a list of rows (per process, per CPU): sum each numeric column, once per mm
    const seenMm = new Set<unknown>();
    for (const row of value) {
      if (row === null || typeof row !== 'object') continue;
      const r = row as Record<string, unknown>;
      if ('mm' in r) {
        if (seenMm.has(r.mm)) continue;
        seenMm.add(r.mm);
      }
      for (const [k, v] of Object.entries(r)) {
        if (typeof v === 'number' && Number.isFinite(v) && !['pid', 'cpu', 'mm'].includes(k)) {
          out[`${path}.${k}`] = (out[`${path}.${k}`] ?? 0) + v;
        }
      }
    }
    return;
  }
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) flatten(v, `${path}.${k}`, out);
  }
}
