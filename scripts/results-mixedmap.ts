/**
 * The measured effect of `mixedmap`, as the Markdown tables of
 * `docs/mixedmap.md` (between its `results:mixedmap` markers):
 *
 * - lockless `get_user_pages_fast` on the OLTP direct-I/O load
 *   (`oltp-dio`, timed mode, the 2-socket x86-64 profile): throughput and
 *   `mmap_sem` with and without `gupFast`, and on the s390-like profile,
 *   whose PTEs have no special bit (every fast walk falls back);
 * - XIP without struct pages (`xip-guests` on the s390-like profile): the
 *   memmap the guests spend on one shared image, with 2.6.24's XIP and
 *   with the series'.
 *
 *     npx tsx scripts/results-mixedmap.ts           # rewrite the tables
 *     npx tsx scripts/results-mixedmap.ts --print   # print them only
 *     npx tsx scripts/results-mixedmap.ts --check   # exit 1 when the page differs
 *
 * Run `npm run build` first: the script imports the built packages.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mixedmap } from '@mmlab/mixedmap';
import { runWorkload } from '@mmlab/workloads';
import { resultsMain } from './results-page.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const PAGE = join(ROOT, 'docs', 'mixedmap.md');
/** The OLTP load: 4 database processes (an agent and a helper thread each) on the 8 CPUs of 2 sockets. */
const OLTP = 'oltp-dio:procs=4:cpus=8:txns=64';
/** The XIP image shared by the guests, and the guest counts measured. */
const IMAGE = '32m';
const GUESTS = [1, 16, 64] as const;
const MiB = 2 ** 20;

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}

function mib(bytes: number): string {
  return (bytes / MiB).toFixed(2);
}

/** One OLTP run's figures. */
interface OltpRow {
  readonly machine: string;
  readonly gupFast: boolean;
  readonly throughput: number;
  readonly waitShare: number;
  readonly acquisitions: number;
  readonly fast: number;
  readonly slow: number;
  readonly fallbacks: number;
}

async function oltp(machine: string, gupFast: boolean): Promise<OltpRow> {
  const r = await runWorkload({ workload: OLTP, machine, mode: 'timed', features: [{ feature: mixedmap, options: { gupFast } }] });
  const w = r.metrics.workload ?? {};
  const c = r.metrics.feature?.mixedmap ?? {};
  return {
    machine,
    gupFast,
    throughput: w.throughput ?? 0,
    waitShare: w.mmap_sem_share_pct ?? 0,
    acquisitions: r.metrics.locks.mmap_sem?.acquisitions ?? 0,
    fast: c.gup_fast_pages ?? 0,
    slow: c.gup_slow_pages ?? 0,
    fallbacks: c.gup_fast_fallbacks ?? 0,
  };
}

async function oltpTable(): Promise<string[]> {
  const lines = [
    `\`mmlab run --workload ${OLTP} --mode timed --machine M --features mixedmap:gupFast=B\` (seed 1):`,
    '',
    '| machine | get_user_pages | transactions / simulated s | change | `mmap_sem` wait, % of CPU time | `mmap_sem` taken | `gup_fast_pages` | `gup_slow_pages` | `gup_fast_fallbacks` |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const machine of ['x86-64', 's390']) {
    const slow = await oltp(machine, false);
    const fast = await oltp(machine, true);
    for (const row of [slow, fast]) {
      const change = row === slow ? '' : `${((row.throughput / slow.throughput - 1) * 100).toFixed(1)}%`;
      lines.push(
        `| ${row.machine} | ${row.gupFast ? 'fast (lockless)' : 'mmap_sem walk'} | ${fmt(row.throughput)} | ${change} | ${row.waitShare.toFixed(3)} | ${fmt(row.acquisitions)} | ${fmt(row.fast)} | ${fmt(row.slow)} | ${fmt(row.fallbacks)} |`,
      );
    }
  }
  return lines;
}

async function xip(guests: number, series: boolean): Promise<Record<string, number>> {
  const r = await runWorkload({
    workload: `xip-guests:guests=${guests}:image=${IMAGE}:procs=1`,
    machine: 's390',
    features: series ? [{ feature: mixedmap, options: {} }] : [],
  });
  return r.metrics.workload ?? {};
}

async function xipTable(): Promise<string[]> {
  const lines = [
    `\`mmlab run --workload xip-guests:guests=G:image=${IMAGE}:procs=1 --machine s390 [--features mixedmap]\` (sums over the guests):`,
    '',
    '| guests | XIP | image MiB | struct pages for the image, MiB | ÷ image size | all memmap, MiB | COWed (anonymous) MiB | image pages in RSS, MiB |',
    '|---:|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const guests of GUESTS) {
    for (const series of [false, true]) {
      const w = await xip(guests, series);
      const image = w.image_bytes ?? 0;
      const memmap = w.image_memmap_bytes ?? 0;
      lines.push(
        `| ${guests} | ${series ? 'VM_MIXEDMAP, no struct page' : '2.6.24 (struct pages)'} | ${mib(image)} | ${mib(memmap)} | ${(memmap / image).toFixed(2)} | ${mib(w.memmap_bytes ?? 0)} | ${mib(w.anon_bytes ?? 0)} | ${mib(w.file_rss_bytes ?? 0)} |`,
      );
    }
  }
  return lines;
}

/** The tables, as the page holds them between the markers. */
export async function table(): Promise<string> {
  return [...(await oltpTable()), '', ...(await xipTable())].join('\n');
}

await resultsMain(PAGE, 'mixedmap', fileURLToPath(import.meta.url), table);
