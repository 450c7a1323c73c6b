/**
 * The sample outputs of `README.md`, generated from real runs of the built
 * `mmlab` command: each sample sits between its `sample:NAME` markers, as
 * a fenced block holding the command and an excerpt of what it printed
 * (whole tables and lines, never edited figures; `...` where lines were
 * left out). A test runs `--check`, so a README whose samples no longer
 * match what the command prints fails CI.
 *
 *     npx tsx scripts/readme-samples.ts           # rewrite the samples
 *     npx tsx scripts/readme-samples.ts --print   # print them only
 *     npx tsx scripts/readme-samples.ts --check   # exit 1 when the README differs
 *     ... --readme FILE                           # another copy of the README (tests)
 *
 * Run `npm run build` first: the script runs `apps/cli/dist/main.js`.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const README = readmeArg() ?? join(ROOT, 'README.md');
const CLI = join(ROOT, 'apps', 'cli', 'dist', 'main.js');

/** The `--readme FILE` argument, if given. */
function readmeArg(): string | undefined {
  const i = process.argv.indexOf('--readme');
  return i < 0 ? undefined : process.argv[i + 1];
}

/** One sample: the command run and which parts of its output the README shows. */
interface Sample {
  /** Marker name (`<!-- sample:NAME:begin -->`). */
  readonly name: string;
  /** Arguments of `mmlab`. */
  readonly args: readonly string[];
  /** vmstat rows shown (the table's title and rule always are). */
  readonly vmstat: readonly string[];
  /** Tables shown whole, by the first word(s) of their title. */
  readonly tables: readonly string[];
  /** Single lines shown, by their first word(s). */
  readonly lines: readonly string[];
}

const SAMPLES: readonly Sample[] = [
  {
    name: 'default',
    args: ['run', '--workload', 'shm-procs:procs=32:size=256m'],
    vmstat: ['pgfault', 'nr_tlb_local_flush_all', 'mmlab_file_fault', 'nr_page_table_pages', 'nr_file_pages'],
    tables: ['page tables', 'processes at snapshot', 'address spaces at snapshot'],
    lines: ['result', 'simulated time', 'TLB flush time', 'longest non-preemptible stretch'],
  },
];

/** Runs the built command; its standard output. */
function run(args: readonly string[]): string {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(`mmlab ${args.join(' ')} exited ${String(r.status)}: ${r.stderr}${r.error?.message ?? ''}`);
  }
  return r.stdout;
}

/** The output's blocks: runs of lines between blank lines. */
function blocks(text: string): string[][] {
  return text
    .split(/\n\s*\n/)
    .map((b) => b.split('\n').filter((l) => l !== ''))
    .filter((b) => b.length > 0);
}

/**
 * The excerpt of one run's output the README shows: the two header lines,
 * the chosen vmstat rows, the chosen tables whole and the chosen lines,
 * with `...` where something was left out. Host time never appears (it is
 * not deterministic).
 */
export function excerpt(sample: Sample, output: string): string {
  const [header, ...rest] = blocks(output);
  if (header === undefined) throw new Error(`mmlab ${sample.args.join(' ')} printed nothing`);
  const out: string[] = [...header, ''];
  let skipped = false;
  const gap = (): void => {
    if (skipped) out.push('...');
    skipped = false;
  };
  for (const block of rest) {
    const title = block[0] ?? '';
    if (title.startsWith('vmstat')) {
      const rows = block.slice(2).filter((l) => sample.vmstat.includes(l.split(/\s+/, 1)[0] ?? ''));
      if (rows.length !== sample.vmstat.length) throw new Error(`sample ${sample.name}: vmstat rows missing`);
      out.push(block[0]!, block[1]!, ...rows);
      skipped = true;
      continue;
    }
    if (sample.tables.some((t) => title.startsWith(t))) {
      gap();
      out.push(...block, '');
      continue;
    }
    const lines = block.filter((l) => sample.lines.some((p) => l.startsWith(`${p} `)));
    if (lines.length > 0) {
      gap();
      out.push(...lines);
    }
    skipped ||= lines.length < block.length;
  }
  while (out[out.length - 1] === '') out.pop();
  return out.join('\n');
}

/** The fenced block of one sample, as the README holds it between its markers. */
export function sampleBlock(sample: Sample): string {
  return ['```', `$ mmlab ${sample.args.join(' ')}`, excerpt(sample, run(sample.args)), '```'].join('\n');
}

/** The README with `body` between the markers of sample `name`. */
export function withSample(page: string, name: string, body: string): string {
  const begin = `<!-- sample:${name}:begin -->`;
  const end = `<!-- sample:${name}:end -->`;
  const b = page.indexOf(begin);
  const e = page.indexOf(end);
  if (b < 0 || e < b) throw new Error(`${README}: no ${begin} ... ${end} markers`);
  return `${page.slice(0, b + begin.length)}\n${body}\n${page.slice(e)}`;
}

function main(): void {
  const bodies = SAMPLES.map((s) => [s.name, sampleBlock(s)] as const);
  if (process.argv.includes('--print')) {
    for (const [, body] of bodies) process.stdout.write(`${body}\n`);
    return;
  }
  const page = readFileSync(README, 'utf8');
  const next = bodies.reduce((text, [name, body]) => withSample(text, name, body), page);
  if (process.argv.includes('--check')) {
    if (next !== page) {
      process.stderr.write(`${README}: the sample output is stale: run npx tsx scripts/readme-samples.ts\n`);
      process.exitCode = 1;
    }
    return;
  }
  writeFileSync(README, next);
}

main();
