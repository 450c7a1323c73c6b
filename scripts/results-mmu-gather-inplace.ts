/**
 * The measured effect of `mmu-gather-inplace` on the `kbuild` workload, as
 * the Markdown table of `docs/mmu-gather-inplace.md` (between its
 * `results:mmu-gather-inplace` markers): baseline against in-place, with
 * and without PREEMPT, in the timed mode on the default machine.
 *
 *     npx tsx scripts/results-mmu-gather-inplace.ts           # rewrite the table
 *     npx tsx scripts/results-mmu-gather-inplace.ts --print   # print it only
 *     npx tsx scripts/results-mmu-gather-inplace.ts --check   # exit 1 when the page differs
 *
 * Run `npm run build` first: the script imports the built packages.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mmuGatherInplace } from '@mmlab/mmu-gather-inplace';
import { runWorkload } from '@mmlab/workloads';
import { resultsMain } from './results-page.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const PAGE = join(ROOT, 'docs', 'mmu-gather-inplace.md');
/** The workload measured: make -j4, 32 compile jobs. */
const WORKLOAD = 'kbuild:jobs=4:objs=32';
const CPUS = 4;

/** One row's figures. */
interface Row {
  readonly config: string;
  readonly gather: string;
  readonly flushes: number;
  readonly tlbFlushNs: number;
  readonly simNs: number;
  readonly maxNonpreemptNs: number;
}

async function measure(preempt: boolean, inplace: boolean): Promise<Row> {
  const r = await runWorkload({
    workload: WORKLOAD,
    mode: 'timed',
    cpus: CPUS,
    preempt,
    features: inplace ? [{ feature: mmuGatherInplace, options: {} }] : [],
  });
  const m = r.metrics;
  return {
    config: preempt ? 'PREEMPT' : 'no PREEMPT',
    gather: inplace ? 'in-place' : 'per-CPU (baseline)',
    flushes: m.vmstat.mmlab_gather_flush ?? 0,
    tlbFlushNs: m.sim.tlb_flush_ns,
    simNs: m.sim.ns,
    maxNonpreemptNs: m.sim.max_nonpreempt_ns,
  };
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}

function ratio(base: number, x: number): string {
  return x === 0 ? '—' : `${(base / x).toFixed(1)}×`;
}

/** The table, as the page holds it between the markers. */
export async function table(): Promise<string> {
  const lines = [
    `\`mmlab run --workload ${WORKLOAD} --mode timed --cpus ${CPUS} [--preempt] [--features mmu-gather-inplace]\` (machine x86-64, seed 1):`,
    '',
    '| kernel | gather | gather flushes | `sim.tlb_flush_ns` | TLB flush time, baseline ÷ this | total simulated ns | `sim.max_nonpreempt_ns` |',
    '|---|---|---:|---:|---:|---:|---:|',
  ];
  for (const preempt of [false, true]) {
    const base = await measure(preempt, false);
    const inplace = await measure(preempt, true);
    for (const row of [base, inplace]) {
      lines.push(
        `| ${row.config} | ${row.gather} | ${fmt(row.flushes)} | ${fmt(row.tlbFlushNs)} | ${ratio(base.tlbFlushNs, row.tlbFlushNs)} | ${fmt(row.simNs)} | ${fmt(row.maxNonpreemptNs)} |`,
      );
    }
  }
  return lines.join('\n');
}

await resultsMain(PAGE, 'mmu-gather-inplace', fileURLToPath(import.meta.url), table);
