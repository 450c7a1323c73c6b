/**
 * The readable form of a run report: aligned tables of the key figures.
 * @module
 */

import { HPAGE_SIZE } from '@mmlab/core';
import { formatSize, type HugePageFigures, type RunReport, type RunResult } from '@mmlab/workloads';
import { formatFeatureList, type ShownFeature } from './feature-list.js';
import { formatNumber, formatTable, type Cell } from './table.js';

const MAX_VIOLATIONS_SHOWN = 10;

/** Above this many CPUs the per-CPU figures are summarised (min, max). */
const MAX_CPUS_LISTED = 16;

/** The lock table's column titles. */
const LOCK_HEADER = ['lock class', 'acquisitions', 'contentions', 'wait µs', 'hold µs'] as const;

/** Where `--trace` wrote the trace, for the report's last lines. */
export interface TraceNote {
  /** The file as given. */
  readonly file: string;
  /** Events recorded. */
  readonly events: number;
  /** True when the cap cut the trace. */
  readonly truncated: boolean;
}

/** vmstat counters printed even when zero: page tables, and the swap and reclaim figures. */
const ALWAYS_SHOWN: ReadonlySet<string> = new Set([
  'nr_page_table_pages',
  'pswpout',
  'pswpin',
  'pgmajfault',
  'allocstall',
  'oom_kill',
]);

/**
 * Formats a run report as text: configuration (memory, swap and huge page
 * pool sizes included, the features with their options and, for those
 * loaded from a module, its path), vmstat counters (non-zero ones, and always the swap
 * figures; gauges with their peak), meminfo (`HugePages_*` when the pool
 * is not empty, with their values at the snapshot), page tables per level, a per-mm
 * summary (min, max, total; see {@link formatAddressSpaces}), the workload's own figures and metrics, the features'
 * counters with their descriptions and the chain installed in each seam
 * they changed (both only with features), how it ended (an OOM kill is a
 * result), lock statistics per class (acquisitions,
 * contentions, wait and hold time), simulated time (TLB flush time, the
 * longest non-preemptible stretch, per-CPU busy time and longest stretch),
 * invariants, and where the trace went.
 * @param report - the run's report (features with the module they came from, if any)
 * @param trace - where `--trace` wrote the trace, if it did
 */
export function formatRunReport(
  report: RunReport & { readonly features: readonly ShownFeature[] },
  trace?: TraceNote
): string {
  const { metrics, config } = report;
  const features = formatFeatureList(report.features);
  const out: string[] = [
    `mmlab run ${report.workload.spec}\n`,
    `machine ${config.machine} (${config.cpus} cpus), mode ${config.mode}` +
      (config.strategy === undefined ? '' : ` (${config.strategy})`) +
      `, memory ${formatSize(config.memBytes)}, swap ${formatSize(config.swapBytes)}, ` +
      (config.hugePages > 0
        ? `huge page pool ${formatNumber(config.hugePages)} x 2m (${formatSize(config.hugePages * HPAGE_SIZE)}), `
        : '') +
      `${config.placement} placement, PREEMPT ${config.preempt ? 'on' : 'off'}, ` +
      `seed ${report.seed}, features ${features}\n\n`,
  ];

  const counters: Cell[][] = Object.entries(metrics.vmstat)
    .filter(([name, v]) => v !== 0 || ALWAYS_SHOWN.has(name))
    .map(([name, v]) => {
      const peak = metrics.peak[name];
      return peak === undefined ? [name, v] : [name, v, peak];
    });
  out.push(formatTable(counters, ['vmstat (gauges at snapshot)', 'value', 'peak']), '\n');

  const pooled = (metrics.meminfo.HugePages_Total ?? 0) > 0;
  const meminfo: Cell[][] = Object.entries(metrics.meminfo)
    .filter(([name]) => pooled || !name.startsWith('HugePages_'))
    .map(([name, v]) => (name.startsWith('HugePages_') ? [name, v, hugePagesNote(name, report.hugePages)] : [name, v]));
  if (meminfo.length > 0) out.push(formatTable(meminfo, ['meminfo', 'kB']), '\n');

  const t = metrics.pagetables;
  out.push(
    formatTable([['tables at snapshot', t.pgd, t.pud, t.pmd, t.pte]], ['page tables', 'pgd', 'pud', 'pmd', 'pte']),
    '\n'
  );

  out.push(formatAddressSpaces(metrics.procs));

  const figures = Object.entries(report.result?.figures ?? {});
  if (figures.length > 0) out.push(formatTable(figures, ['workload figures', 'value']), '\n');
  const measured = Object.entries(report.metrics.workload ?? {});
  if (measured.length > 0) out.push(formatTable(measured, ['workload metrics', 'value']), '\n');

  const featureRows = featureCounterRows(metrics);
  if (featureRows.length > 0) out.push(formatTable(featureRows, ['feature counters', 'value', 'what it counts']), '\n');
  const seams = Object.entries(metrics.seams ?? {}).map(([seam, chain]): Cell[] => [seam, chain.join(', then ')]);
  if (seams.length > 0) out.push(formatTable(seams, ['seams', 'installed (first to last)']), '\n');

  const locks = lockRows(metrics.locks);
  if (locks.length > 0) {
    out.push(formatTable(locks, LOCK_HEADER), '\n');
  }

  const sim = metrics.sim;
  const rows: Cell[][] = [
    ['result', describeResult(report.result)],
    ['simulated time', `${formatNumber(sim.ns / 1e6)} ms`],
    ['TLB flush time', `${micros(sim.tlb_flush_ns)} µs`],
    ['longest non-preemptible stretch', `${micros(sim.max_nonpreempt_ns)} µs`],
    ...cpuRows(sim.cpus),
  ];
  if (report.invariants === undefined) {
    rows.push(['invariants', 'not checked (use --check)']);
  } else {
    const { checks, violations } = report.invariants;
    rows.push(['invariants', `${formatNumber(checks)} checks, ${formatNumber(violations.length)} violations`]);
  }
  if (report.host !== undefined) rows.push(['host time', `${formatNumber(report.host.ms)} ms`]);
  if (trace !== undefined) {
    const cut = trace.truncated ? ', cut at the cap (--trace-events N raises it)' : '';
    rows.push(['trace', `${trace.file} (${formatNumber(trace.events)} events${cut})`]);
  }
  out.push(formatTable(rows));

  const violations = report.invariants?.violations ?? [];
  for (const v of violations.slice(0, MAX_VIOLATIONS_SHOWN))
    out.push(`  VIOLATION ${v.check} after ${v.op ?? '?'}: ${v.message}\n`);
  if (violations.length > MAX_VIOLATIONS_SHOWN) {
    out.push(`  ... and ${violations.length - MAX_VIOLATIONS_SHOWN} more (see --json)\n`);
  }
  return out.join('');
}

/**
 * The features' counters and gauges as `feature.name` rows with their
 * descriptions (none without features).
 */
function featureCounterRows(metrics: RunReport['metrics']): Cell[][] {
  const rows: Cell[][] = [];
  for (const [feature, values] of Object.entries(metrics.feature ?? {})) {
    const docs = metrics.featureDocs?.[feature] ?? {};
    for (const [name, v] of Object.entries(values)) rows.push([`${feature}.${name}`, v, docs[name] ?? '']);
  }
  return rows;
}

/**
 * The unit of a `HugePages_*` line (pages, not kB) and, for Free and Rsvd,
 * the value at the end of the run (the line itself, like all of meminfo, is
 * the snapshot's).
 */
function hugePagesNote(name: string, huge: HugePageFigures | undefined): string {
  const at =
    huge === undefined
      ? undefined
      : name === 'HugePages_Free'
        ? huge.end.free
        : name === 'HugePages_Rsvd'
          ? huge.end.rsvd
          : undefined;
  return at === undefined ? 'pages' : `pages at snapshot (${formatNumber(at)} at end)`;
}

/** The figures of one address space (the same in every task sharing it) and its tasks. */
interface MmRow {
  readonly fig: RunReport['metrics']['procs'][number];
  readonly tasks: number[];
}

/**
 * The per-mm summary at the snapshot: the mm figures (VmPTE, RSS) are the
 * mm's, so the threads of one mm count once. When every mm has one task
 * (processes, no threads), the table is `processes at snapshot (N)`; when
 * some mm is shared, `address spaces at snapshot (M mms, N tasks)`, with a
 * row of tasks per mm and a line listing the tasks of each shared mm.
 * @param procs - `metrics.procs` (each task with its mm id)
 */
export function formatAddressSpaces(procs: RunReport['metrics']['procs']): string {
  if (procs.length === 0) return '';
  const byMm = new Map<number, MmRow>();
  for (const p of procs) {
    const row = byMm.get(p.mm);
    if (row === undefined) byMm.set(p.mm, { fig: p, tasks: [p.pid] });
    else row.tasks.push(p.pid);
  }
  const mms = [...byMm.values()];
  const summary = (label: string, pick: (m: MmRow) => number): Cell[] => {
    const xs = mms.map(pick);
    return [label, Math.min(...xs), Math.max(...xs), xs.reduce((a, b) => a + b, 0)];
  };
  const rows = [
    summary('VmPTE kB', (m) => m.fig.VmPTE_kB),
    summary('RssAnon kB', (m) => m.fig.RssAnon_kB),
    summary('RssFile kB', (m) => m.fig.RssFile_kB),
  ];
  const shared = mms.filter((m) => m.tasks.length > 1);
  if (shared.length === 0) {
    return `${formatTable(rows, [`processes at snapshot (${procs.length})`, 'min', 'max', 'total'])}\n`;
  }
  rows.push(summary('tasks', (m) => m.tasks.length));
  const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
  const title = `address spaces at snapshot (${plural(mms.length, 'mm')}, ${plural(procs.length, 'task')})`;
  const lines = shared.map((m) => `mm of pid ${m.tasks[0] ?? 0}: tasks ${formatPids(m.tasks)}\n`);
  return `${formatTable(rows, [title, 'min', 'max', 'total'])}${lines.join('')}\n`;
}

/** Pids as ranges: `1-8, 10`. */
function formatPids(pids: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < pids.length; ) {
    let j = i;
    while (j + 1 < pids.length && pids[j + 1] === pids[j]! + 1) j++;
    parts.push(j === i ? String(pids[i]) : `${pids[i] ?? 0}-${pids[j] ?? 0}`);
    i = j + 1;
  }
  return parts.join(', ');
}

/** One line saying how the workload ended: `completed`, or what stopped it and where. */
function describeResult(result: RunResult | undefined): string {
  const cause = result?.signal ?? result?.errno;
  const left = result?.leftRunning ?? [];
  if (cause === undefined && left.length > 0) {
    return `completed, but ${describeLeftRunning(left)}; the runner made ${left.length === 1 ? 'it' : 'them'} exit`;
  }
  if (cause === undefined) return 'completed';
  const why = result?.oom === true ? `${cause}, out of memory` : cause;
  return `stopped by ${why}${result?.step === undefined ? '' : ` (${result.step})`}`;
}

/**
 * The tasks a completed workload left running, in words:
 * `left 2 tasks running (pids 3, 4)`.
 * @param pids - from `result.leftRunning`
 */
export function describeLeftRunning(pids: readonly number[]): string {
  const s = pids.length === 1 ? '' : 's';
  return `left ${pids.length} task${s} running (pid${s} ${pids.join(', ')})`;
}

/** Nanoseconds as microseconds with one decimal, digits grouped (`1,840.1`). */
function micros(ns: number): string {
  const tenths = Math.round(ns / 100);
  return `${formatNumber(Math.trunc(tenths / 10))}.${String(tenths % 10)}`;
}

/** Right-aligns strings to one width, at least the column title's (a column of decimals). */
function alignRight(texts: readonly string[], title: string): string[] {
  const width = Math.max(title.length, ...texts.map((t) => t.length));
  return texts.map((t) => t.padStart(width));
}

/** The lock table's rows: classes that were taken at least once, by name. */
function lockRows(locks: RunReport['metrics']['locks']): Cell[][] {
  const used = Object.entries(locks).filter(([, s]) => s.acquisitions > 0);
  const wait = alignRight(
    used.map(([, s]) => micros(s.wait_ns)),
    LOCK_HEADER[3]
  );
  const hold = alignRight(
    used.map(([, s]) => micros(s.hold_ns)),
    LOCK_HEADER[4]
  );
  return used.map(([name, s], i) => [name, s.acquisitions, s.contentions, wait[i]!, hold[i]!]);
}

/**
 * Per-CPU busy time and longest non-preemptible stretch, compact: one line
 * each listing `cpu:value`, or min and max above {@link MAX_CPUS_LISTED} CPUs.
 */
function cpuRows(cpus: RunReport['metrics']['sim']['cpus']): Cell[][] {
  if (cpus.length === 0) return [];
  const list = (pick: (c: (typeof cpus)[number]) => number, show: (ns: number) => string): string => {
    if (cpus.length <= MAX_CPUS_LISTED) return cpus.map((c) => `${c.cpu}:${show(pick(c))}`).join(' ');
    const xs = cpus.map(pick);
    return `min ${show(Math.min(...xs))}, max ${show(Math.max(...xs))} over ${cpus.length} cpus`;
  };
  return [
    ['cpu busy ms', list((c) => c.busy_ns, (ns) => (ns / 1e6).toFixed(3))],
    ['cpu longest stretch µs', list((c) => c.max_nonpreempt_ns, micros)],
  ];
}
