/**
 * The measured effect of `shared-pagetables`, as the Markdown tables of
 * `docs/shared-pagetables.md` (between its `results:shared-pagetables`
 * markers): `shm-procs:procs=32:size=256m` without and with sharing, in the
 * 2.6.24 placement and the aligned one, and the `oltp-sga` database
 * workload as the number of processes grows, without sharing, with PTE
 * sharing and with PMD sharing, and on ppc64, TLB misses with PMD sharing.
 *
 *     npx tsx scripts/results-shared-pagetables.ts           # rewrite the tables
 *     npx tsx scripts/results-shared-pagetables.ts --print   # print them only
 *     npx tsx scripts/results-shared-pagetables.ts --check   # exit 1 when the page differs
 *
 * Run `npm run build` first: the script imports the built packages.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildKernel, MAP_FIXED, MAP_SHARED, type Placement, PROT_READ, PROT_WRITE, type Task } from '@mmlab/core';
import { sharedPagetables } from '@mmlab/shared-pagetables';
import { type RunReport, runWorkload } from '@mmlab/workloads';
import { resultsMain } from './results-page.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const PAGE = join(ROOT, 'docs', 'shared-pagetables.md');
/** The thread's experiment: 32 processes sharing a 256 MiB tmpfs file. */
const SHM = 'shm-procs:procs=32:size=256m';
const SHM_PROCS = 32;
const SHM_PAGES = (256 * 2 ** 20) / 4096;
/** The database workload's segment and the process counts it runs with. */
const SGA = '1g';
const PROCS = [1, 4, 16, 64] as const;
/** Processes of the ppc64 run, on one CPU. */
const PPC64_PROCS = 8;
/** Where the ppc64 run attaches its segment (1 GiB-aligned). */
const SEGMENT_ADDR = 2 ** 39;

type Level = 'pte' | 'pmd' | null;

async function run(workload: string, level: Level, placement?: Placement, machine?: string): Promise<RunReport> {
  return runWorkload({
    workload,
    ...(placement === undefined ? {} : { placement }),
    ...(machine === undefined ? {} : { machine }),
    features: level === null ? [] : [{ feature: sharedPagetables, options: { level } }],
  });
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}

function kernelName(level: Level): string {
  return level === null ? 'baseline' : `shared-pagetables:level=${level}`;
}

/** Page-table pages of every level below the PGD at the snapshot, in KiB. */
function tableKiB(r: RunReport): number {
  const t = r.metrics.pagetables;
  return (t.pte + t.pmd + t.pud) * 4;
}

async function shmTable(lines: string[]): Promise<void> {
  lines.push(
    `\`mmlab run --workload ${SHM} [--placement aligned] [--features shared-pagetables]\` (machine x86-64, seed 1):`,
    '',
    '| placement | kernel | PTE tables (`nr_page_table_pages`) | baseline ÷ this | `pgfault` | faults per process after the first | page-table memory, KiB | VmPTE per process, kB | simulated ms | longest non-preemptible stretch, µs |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  for (const placement of ['legacy', 'aligned'] as const) {
    const base = await run(SHM, null, placement);
    const shared = await run(SHM, 'pte', placement);
    for (const [level, r] of [[null, base], ['pte', shared]] as const) {
      const v = r.metrics.vmstat;
      const later = (v.pgfault! - SHM_PAGES) / (SHM_PROCS - 1);
      lines.push(
        `| ${placement} | ${kernelName(level)} | ${fmt(v.nr_page_table_pages!)} | ${(base.metrics.vmstat.nr_page_table_pages! / v.nr_page_table_pages!).toFixed(1)}× | ${fmt(v.pgfault!)} | ${fmt(Math.round(later))} | ${fmt(tableKiB(r))} | ${fmt(r.metrics.procs[0]!.VmPTE_kB)} | ${(r.metrics.sim.ns / 1e6).toFixed(1)} | ${fmt(Math.round(r.metrics.sim.max_nonpreempt_ns / 1e3))} |`,
      );
    }
  }
}

async function oltpTable(lines: string[]): Promise<void> {
  lines.push(
    '',
    `\`mmlab run --workload oltp-sga:procs=P:sga=${SGA} [--features shared-pagetables[:level=pmd]]\` (machine x86-64, seed 1):`,
    '',
    '| P | kernel | PTE tables | PMD tables | page-table memory, KiB | per process, KiB | `pgfault` | `mmlab_tlb_miss` | simulated ms |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|',
  );
  for (const procs of PROCS) {
    for (const level of [null, 'pte', 'pmd'] as const) {
      const r = await run(`oltp-sga:procs=${procs}:sga=${SGA}`, level);
      const v = r.metrics.vmstat;
      const t = r.metrics.pagetables;
      lines.push(
        `| ${procs} | ${kernelName(level)} | ${fmt(t.pte)} | ${fmt(t.pmd)} | ${fmt(tableKiB(r))} | ${fmt(Math.round(tableKiB(r) / procs))} | ${fmt(v.pgfault!)} | ${fmt(v.mmlab_tlb_miss!)} | ${(r.metrics.sim.ns / 1e6).toFixed(1)} |`,
      );
    }
  }
}

/**
 * ppc64: TLB entries keyed by segment, reused between processes that share
 * a PMD table. PPC64_PROCS processes on one CPU attach a 1 GiB segment at
 * the same address and each reads the same 2 MiB of it (512 pages, which
 * the 1,024-entry TLB holds), one process after the other.
 */
function segmentRun(machine: string, level: Level): { misses: number; hits: number } {
  const k = buildKernel({ machine, cpus: 1, features: level === null ? [] : [{ feature: sharedPagetables, options: { level } }] });
  const f = k.shmemCreate('sga', 2 ** 30);
  const tasks: Task[] = [];
  for (let i = 0; i < PPC64_PROCS; i++) {
    const t = k.spawn();
    tasks.push(t);
    if (k.mmap(t, SEGMENT_ADDR, 2 ** 30, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, f) !== SEGMENT_ADDR) throw new Error('mmap');
    if (k.touch(t, SEGMENT_ADDR, 2 * 2 ** 20, false) !== 0) throw new Error('touch');
  }
  const hits = k.metrics().feature?.['shared-pagetables']?.tlb_segment_hits ?? 0;
  const misses = k.vm.mmlab_tlb_miss;
  for (const t of tasks) k.exit(t);
  return { misses, hits };
}

function ppc64Table(lines: string[]): void {
  lines.push(
    '',
    `${PPC64_PROCS} processes on one CPU attach a 1 GiB tmpfs segment at 512 GiB and read the same 2 MiB of it, one after the other (\`buildKernel\` with \`cpus: 1\`, seed 1):`,
    '',
    '| machine | kernel | TLB misses (`mmlab_tlb_miss`) | misses served by another sharer\'s entry (`tlb_segment_hits`) |',
    '|---|---|---:|---:|',
  );
  for (const [machine, level] of [['x86-64', null], ['ppc64', null], ['ppc64', 'pte'], ['ppc64', 'pmd']] as const) {
    const r = segmentRun(machine, level);
    lines.push(`| ${machine} | ${kernelName(level)} | ${fmt(r.misses)} | ${fmt(r.hits)} |`);
  }
}

/** The tables, as the page holds them between the markers. */
export async function tables(): Promise<string> {
  const lines: string[] = [];
  await shmTable(lines);
  await oltpTable(lines);
  ppc64Table(lines);
  return lines.join('\n');
}

await resultsMain(PAGE, 'shared-pagetables', fileURLToPath(import.meta.url), tables);
