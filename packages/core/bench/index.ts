/**
 * `npm run bench -w @mmlab/core`: host time per simulated operation and
 * host bytes per simulated PTE and frame, against the targets of issue 2
 * (half of what the real kernel takes on the reference machine). A missed
 * target is printed as MISSED; the exit code stays 0.
 *
 * Environment: `BENCH_REPS` (timed repetitions, default 7), `BENCH_WARMUP`
 * (untimed runs first, default 2), `BENCH_ONLY` (comma-separated ids of the
 * cases to run, e.g. `fork,munmap`, for profiling), `BENCH_JSON` (set: also
 * write bench/results.json).
 * @module
 */
import { renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Case, measure, type MeasureOptions, type Stats } from './harness.js';
import {
  anonFault,
  anonTableLayout,
  forkCopy,
  frameLayout,
  mprotectPages,
  munmapPages,
  PAGES,
  SHM_PROCS,
  shmProcsExit,
  shmProcsMapRead,
  SIZE,
  type TableLayout,
} from './scenarios.js';

/** One row of the report. */
interface Row {
  id: string;
  figure: string;
  value: number;
  unit: string;
  /** Upper bound; null for an informational row. */
  target: number | null;
  /** Spread over the repetitions, for timed rows. */
  spread?: { min: number; max: number; reps: number };
  note?: string;
}

function envInt(name: string, dflt: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer ≥ ${min}, got '${raw}'`);
  return n;
}

const opts: MeasureOptions = { warmup: envInt('BENCH_WARMUP', 2, 0), reps: envInt('BENCH_REPS', 7, 1) };
const only = new Set((process.env.BENCH_ONLY ?? '').split(',').filter((s) => s !== ''));
const KNOWN = ['fault', 'fork', 'munmap', 'mprotect', 'shm', 'bytes'];
for (const id of only) if (!KNOWN.includes(id)) throw new Error(`BENCH_ONLY: unknown case '${id}' (known: ${KNOWN.join(', ')})`);
const wanted = (id: string): boolean => only.size === 0 || only.has(id);

const rows: Row[] = [];
const MiB = SIZE / 2 ** 20;

function timed<C>(id: string, figure: string, c: Case<C>, target: number | null, o: MeasureOptions = opts): Stats | null {
  if (!wanted(id)) return null;
  process.stderr.write(`bench: ${figure} …\n`);
  const s = measure(c, o);
  rows.push({ id, figure, value: s.median, unit: 'ns', target, spread: { min: s.min, max: s.max, reps: s.reps } });
  return s;
}

timed('fault', `anon write fault (${MiB} MiB, per page)`, anonFault, 725);
timed('fork', `fork, per PTE copied (${MiB} MiB written)`, forkCopy, 22.5);
timed('munmap', `munmap, per page (${MiB} MiB written)`, munmapPages, 47.5);
timed('mprotect', `mprotect RW→R, per page (${MiB} MiB written)`, mprotectPages, 15.5);

/** Page-table layout at the shm-procs snapshot point (set by the shm case). */
const shm: { layout: TableLayout | null } = { layout: null };
if (wanted('shm')) {
  // Heavy (2M read faults a repetition): fewer repetitions.
  const shmOpts: MeasureOptions = { warmup: Math.min(opts.warmup, 1), reps: Math.min(opts.reps, 3) };
  process.stderr.write(`bench: shm-procs ${SHM_PROCS} × ${MiB} MiB …\n`);
  const mapRead = measure(
    {
      setup: shmProcsMapRead.setup,
      run: shmProcsMapRead.run,
      units: (c) => {
        const u = shmProcsMapRead.units(c);
        shm.layout = c.layout;
        return u;
      },
    },
    shmOpts,
  );
  const exit = measure(shmProcsExit, shmOpts);
  const faults = SHM_PROCS * PAGES;
  rows.push({
    id: 'shm',
    figure: `shm-procs ${SHM_PROCS}×${MiB} MiB: map + read`,
    value: mapRead.totalMs,
    unit: 'ms',
    target: null,
    note: `${((mapRead.totalMs * 1e6) / faults).toFixed(0)} ns per read fault`,
  });
  rows.push({ id: 'shm', figure: `shm-procs ${SHM_PROCS}×${MiB} MiB: exit`, value: exit.totalMs, unit: 'ms', target: null });
  rows.push({
    id: 'shm',
    figure: `shm-procs ${SHM_PROCS}×${MiB} MiB: total`,
    value: mapRead.totalMs + exit.totalMs,
    unit: 'ms',
    target: null,
  });
}

if (wanted('bytes')) {
  const pte = (figure: string, l: TableLayout): void => {
    rows.push({
      id: 'bytes',
      figure,
      value: l.bytesPerPte,
      unit: 'B',
      target: 8,
      note: `${l.tables} tables in a ${(l.hostBytes / 2 ** 20).toFixed(2)} MiB store; ${l.slotBytesPerPte} B/PTE per slot`,
    });
  };
  pte(`host bytes per PTE (1 proc, ${MiB} MiB anon)`, anonTableLayout());
  if (shm.layout !== null) pte(`host bytes per PTE (shm-procs ${SHM_PROCS} procs)`, shm.layout);
  const f = frameLayout();
  rows.push({
    id: 'bytes',
    figure: 'host bytes per frame (struct page + free stack)',
    value: f.total,
    unit: 'B',
    target: 64,
    note: `page arrays ${f.pageArrays} + allocator ${f.allocator}; HOST_BYTES_PER_FRAME = ${f.declared}`,
  });
}

// ---- report ----------------------------------------------------------------

function fmt(v: number): string {
  return v >= 100 ? v.toFixed(0) : v.toFixed(1);
}

function status(r: Row): string {
  if (r.target === null) return 'info';
  return r.value <= r.target ? 'ok' : 'MISSED';
}

const header = ['figure', 'value', 'target', 'status', 'min..max (reps) / note'];
const table = rows.map((r) => [
  r.figure,
  `${fmt(r.value)} ${r.unit}`,
  r.target === null ? '—' : `≤ ${fmt(r.target)} ${r.unit}`,
  status(r),
  r.spread !== undefined ? `${fmt(r.spread.min)}..${fmt(r.spread.max)} (${r.spread.reps})` + (r.note !== undefined ? `; ${r.note}` : '') : (r.note ?? ''),
]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
const line = (cells: readonly string[]): string => cells.map((c, i) => (i === 1 || i === 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
console.log(`@mmlab/core benchmark: host time per simulated operation, checker off (node ${process.version}, warm-up ${opts.warmup}, median of ${opts.reps})`);
console.log(line(header));
console.log(line(widths.map((w) => '-'.repeat(w))));
for (const row of table) console.log(line(row));
const missed = rows.filter((r) => status(r) === 'MISSED');
console.log(missed.length === 0 ? 'all targets met' : `MISSED ${missed.length} target(s): ${missed.map((r) => r.figure).join('; ')}`);

if (process.env.BENCH_JSON !== undefined && process.env.BENCH_JSON !== '') {
  const out = join(dirname(fileURLToPath(import.meta.url)), 'results.json');
  const tmp = `${out}.${process.pid}.tmp`;
  const json = {
    node: process.version,
    date: new Date().toISOString(),
    warmup: opts.warmup,
    reps: opts.reps,
    results: rows.map((r) => ({ ...r, status: status(r) })),
  };
  writeFileSync(tmp, JSON.stringify(json, null, 2) + '\n');
  renameSync(tmp, out);
  console.log(`wrote ${out}`);
}
