/**
 * The measured effects of `mmu-notifiers`, as the Markdown tables of
 * `docs/mmu-notifiers.md` (between its `results:mmu-notifiers` markers):
 * the GRU's TLB invalidates for each point of Jack Steiner's message on
 * several parameter sets, the KVM-like guest under memory pressure with and
 * without notifiers, and where an XPMEM-like sleeping notifier may sleep.
 * Every run has the checker and the oracle on; the tables say how many
 * violations they found.
 *
 *     npx tsx scripts/results-mmu-notifiers.ts           # rewrite the tables
 *     npx tsx scripts/results-mmu-notifiers.ts --print   # print them only
 *     npx tsx scripts/results-mmu-notifiers.ts --check   # exit 1 when the page differs
 *
 * Run `npm run build` first: the script imports the built packages.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildKernel, type Kernel, MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, PAGE_SIZE, PROT_READ, PROT_WRITE, type Task } from '@mmlab/core';
import { mmuGatherInplace } from '@mmlab/mmu-gather-inplace';
import { mmuNotifiers, XpmemAttachment } from '@mmlab/mmu-notifiers';
import { runWorkload } from '@mmlab/workloads';
import { resultsMain } from './results-page.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const PAGE = join(ROOT, 'docs', 'mmu-notifiers.md');
const MiB = 2 ** 20;

/** The GRU parameter sets measured. */
const GRU_SETS = ['gru:procs=4:size=4m:unmaps=8', 'gru:procs=4:size=4m:unmaps=8:cow=256', 'gru:procs=8:size=1m:unmaps=2:cow=64', 'gru:procs=2:size=8m:unmaps=64:cow=1024'];
/** Each point of the argument on its own and together. */
const GRU_OPTIONS: readonly { label: string; options: Record<string, string> }[] = [
  { label: '#v6 (per-page callouts, release after unmap)', options: {} },
  { label: 'release before unmap only', options: { release: 'before-unmap' } },
  { label: 'range callouts only', options: { variant: 'range' } },
  { label: 'both (Christoph Lameter)', options: { variant: 'range', release: 'before-unmap' } },
];
const KVM = 'kvm-guest:guest=24m:host=24m';
const KVM_MEM = 32 * MiB;
const KVM_SWAP = 64 * MiB;

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}

function violations(r: { invariants?: { violations: readonly unknown[] } }): number {
  return r.invariants?.violations.length ?? 0;
}

async function gruTable(): Promise<string[]> {
  const lines = [
    '`mmlab run --workload SET --check --mem 64m --features mmu-notifiers[:OPTIONS]` (machine x86-64, seed 1; no reclaim at this size):',
    '',
    '| workload | notifiers | `gru_tlb_invalidates` | #v6 ÷ this | `gru_tlb_invalidated_pages` | `gru_flush_ns` | violations |',
    '|---|---|---:|---:|---:|---:|---:|',
  ];
  for (const set of GRU_SETS) {
    let v6 = 0;
    for (const { label, options } of GRU_OPTIONS) {
      const r = await runWorkload({ workload: set, check: true, memBytes: 64 * MiB, features: [{ feature: mmuNotifiers, options }] });
      const c = r.metrics.feature?.['mmu-notifiers'] ?? {};
      const n = c.gru_tlb_invalidates ?? 0;
      if (v6 === 0) v6 = n;
      lines.push(
        `| \`${set}\` | ${label} | ${fmt(n)} | ${n === 0 ? '—' : `${(v6 / n).toFixed(1)}×`} | ${fmt(c.gru_tlb_invalidated_pages ?? 0)} | ${fmt(c.gru_flush_ns ?? 0)} | ${violations(r)} |`,
      );
    }
  }
  return lines;
}

async function kvmTable(): Promise<string[]> {
  const lines = [
    `\`mmlab run --workload ${KVM} --check --mem 32m --swap 64m [--features mmu-notifiers[:variant=range]]\` (machine x86-64, seed 1):`,
    '',
    '| kernel | `guest_resident` | `guest_swapped_out` | `guest_written_to_swap` | `pswpout` | `kvm_spte_faults` | `kvm_spte_retries` | `age_page` (young) | violations |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const rows: { label: string; options: Record<string, string> | null }[] = [
    { label: 'no notifiers (sptes pin, 2.6.24)', options: null },
    { label: 'mmu-notifiers #v6', options: {} },
    { label: 'mmu-notifiers range', options: { variant: 'range' } },
  ];
  for (const { label, options } of rows) {
    const r = await runWorkload({
      workload: KVM,
      check: true,
      memBytes: KVM_MEM,
      swapBytes: KVM_SWAP,
      features: options === null ? [] : [{ feature: mmuNotifiers, options }],
    });
    const f = r.result?.figures ?? {};
    const c = r.metrics.feature?.['mmu-notifiers'];
    const dash = (n: number | undefined): string => (c === undefined || n === undefined ? '—' : fmt(n));
    lines.push(
      `| ${label} | ${fmt(f.guest_resident ?? 0)} | ${fmt(f.guest_swapped_out ?? 0)} | ${fmt(f.guest_written_to_swap ?? 0)} | ${fmt(r.metrics.vmstat.pswpout ?? 0)} | ` +
        `${dash(c?.kvm_spte_faults)} | ${dash(c?.kvm_spte_retries)} | ${c === undefined ? '—' : `${fmt(c.age_page ?? 0)} (${fmt(c.age_young ?? 0)})`} | ${violations(r)} |`,
    );
  }
  return lines;
}

type Change = 'mprotect' | 'munmap' | 'truncate' | 'reclaim';

/**
 * An XPMEM-like attachment to 1 MiB of a process (anonymous, or a shared
 * tmpfs file for truncation) is invalidated by `change`; returns the BUG
 * reports, or `ok`.
 */
function xpmem(sleepable: boolean, inplace: boolean, change: Change): string {
  const k: Kernel = buildKernel({
    cpus: 2,
    memBytes: 16 * MiB,
    swapBytes: 64 * MiB,
    check: true,
    features: [...(inplace ? [{ feature: mmuGatherInplace, options: {} }] : []), { feature: mmuNotifiers, options: { variant: 'range', sleepable } }],
  });
  const t: Task = k.spawn();
  const file = k.shmemCreate('exported', MiB);
  const addr = k.mmap(t, 0, MiB, PROT_READ | PROT_WRITE, change === 'truncate' ? MAP_SHARED : MAP_PRIVATE | MAP_ANONYMOUS, change === 'truncate' ? file : null);
  k.touch(t, addr, MiB, true);
  const x = new XpmemAttachment(k, t.mm!, addr, MiB);
  XpmemAttachment.run(k, t, x.attach(k));
  XpmemAttachment.run(k, t, x.accessRange(k, 0, 16, false));
  if (change === 'mprotect') k.mprotect(t, addr, 16 * PAGE_SIZE, PROT_READ);
  else if (change === 'munmap') k.munmap(t, addr, 16 * PAGE_SIZE);
  else if (change === 'truncate') k.ftruncate(file, 0);
  else {
    const h = k.spawn();
    const a = k.mmap(h, 0, 24 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    k.touch(h, a, 24 * MiB, true);
  }
  const bugs = k.invariants.violations.filter((v) => v.check === 'atomic');
  if (bugs.length === 0) return 'sleeps';
  const first = bugs[0]!.message.replace(/ on cpu \d+/, '');
  return `BUG ×${bugs.length}${bugs.length >= 100 ? '+' : ''}: ${first.replace('BUG: sleeping function called from invalid context: ', '')}`;
}

function xpmemTable(): string[] {
  const lines = [
    'An XPMEM-like attachment (notifier methods that sleep) to 1 MiB of a process, `variant=range`, and one change; "sleeps" means every callout could sleep, a BUG row gives the count and the first report ("BUG: sleeping function called from invalid context: …"):',
    '',
    '| change | RCU registration (`sleepable=false`) | `sleepable=true` | `sleepable=true` + `mmu-gather-inplace` |',
    '|---|---|---|---|',
  ];
  const what: Record<Change, string> = {
    mprotect: 'mprotect (mmap_sem)',
    munmap: "munmap (mmap_sem, the per-CPU gather's preempt_disable)",
    truncate: 'truncate (i_mmap_lock)',
    reclaim: "reclaim (try_to_unmap: anon_vma lock, PTE lock)",
  };
  for (const change of ['mprotect', 'munmap', 'truncate', 'reclaim'] as const) {
    lines.push(`| ${what[change]} | ${xpmem(false, false, change)} | ${xpmem(true, false, change)} | ${xpmem(true, true, change)} |`);
  }
  return lines;
}

/** The tables, as the page holds them between the markers. */
export async function tables(): Promise<string> {
  return [
    '### GRU: TLB invalidate instructions',
    '',
    ...(await gruTable()),
    '',
    '### KVM: a guest under memory pressure',
    '',
    ...(await kvmTable()),
    '',
    '### XPMEM: where a notifier may sleep',
    '',
    ...xpmemTable(),
  ].join('\n');
}

await resultsMain(PAGE, 'mmu-notifiers', fileURLToPath(import.meta.url), tables);
