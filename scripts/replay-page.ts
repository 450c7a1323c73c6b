/**
 * The generated parts of `docs/what-would-it-save.md`: real runs of the
 * built `mmlab` command on the PostgreSQL capture that ships as a test
 * fixture (`apps/cli/test/group-fixtures/postgres`), each as a fenced block
 * with the command and what it printed, whole, and a summary sentence whose
 * figures come from the same runs. A test runs `--check`, so the page fails
 * CI when the command's output changes.
 *
 *     npx tsx scripts/replay-page.ts           # rewrite the generated parts
 *     npx tsx scripts/replay-page.ts --check   # exit 1 when the page differs
 *
 * Run `npm run build` first: the script runs `apps/cli/dist/main.js`.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { applyParts, type GeneratedPart } from './lib/generated.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const PAGE = join(ROOT, 'docs', 'what-would-it-save.md');
const CLI = join(ROOT, 'apps', 'cli', 'dist', 'main.js');
/** Where the captures are: the commands run there, so they name the capture as a reader's would. */
const FIXTURES = join(ROOT, 'apps', 'cli', 'test', 'group-fixtures');
/** The capture the page walks through. */
const CAPTURE = 'postgres';

/** Runs the built command in the fixtures' folder; its standard output. */
function run(args: readonly string[]): string {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: FIXTURES, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mmlab ${args.join(' ')} exited ${String(r.status)}: ${r.stderr}${r.error?.message ?? ''}`);
  return r.stdout;
}

/** A fenced block: the command, then its output. */
function block(args: readonly string[], output: string): string {
  return ['```', `$ mmlab ${args.join(' ')}`, output.trimEnd(), '```'].join('\n');
}

/** One command's part: its block. */
function commandPart(name: string, args: readonly string[]): { part: GeneratedPart; output: string } {
  const output = run(args);
  return { part: { page: PAGE, name, body: block(args, output) }, output };
}

interface ReplayJson {
  processes: unknown[];
  kernel: { VmPTE_kB: number };
  model: { PageTables_kB: number };
  saving_kB: number;
  metrics: { vmstat: Record<string, number> };
}

/** The summary sentence, from the JSON of the two replays. */
function summary(): string {
  const base = JSON.parse(run(['replay', CAPTURE, '--json'])) as ReplayJson;
  const shared = JSON.parse(run(['replay', CAPTURE, '--features', 'shared-pagetables', '--json'])) as ReplayJson;
  const n = (x: number): string => x.toLocaleString('en-US');
  const pct = (part: number, whole: number): string => `${((100 * part) / whole).toFixed(1)}%`;
  const faults = (r: ReplayJson): number => r.metrics.vmstat.pgfault ?? 0;
  return [
    `On this capture of ${base.processes.length} PostgreSQL processes, the kernel spent ${n(base.kernel.VmPTE_kB)} kB on page tables`,
    `(the sum of their VmPTE), and the baseline model builds exactly as many. With shared page tables the group would need`,
    `${n(shared.model.PageTables_kB)} kB: ${n(shared.saving_kB)} kB less (${pct(shared.saving_kB, shared.kernel.VmPTE_kB)}), and`,
    `${n(faults(base) - faults(shared))} fewer page faults to rebuild the address spaces (${n(faults(shared))} instead of ${n(faults(base))}).`,
  ].join(' ');
}

/** Every generated part of the page. */
export function parts(): GeneratedPart[] {
  const manifest = readFileSync(join(FIXTURES, CAPTURE, 'group'), 'utf8');
  return [
    { page: PAGE, name: 'manifest', body: ['```', `$ cat ${CAPTURE}/group`, manifest.trimEnd(), '```'].join('\n') },
    commandPart('replay', ['replay', CAPTURE]).part,
    commandPart('replay-shared', ['replay', CAPTURE, '--features', 'shared-pagetables']).part,
    commandPart('ab', ['ab', '--replay', CAPTURE, '--b', 'shared-pagetables']).part,
    { page: PAGE, name: 'summary', body: summary() },
  ];
}

function main(): void {
  const check = process.argv.includes('--check');
  const changed = applyParts(parts(), ROOT, check);
  if (check && changed.length > 0) {
    process.stderr.write(`${changed.join(', ')}: the generated output is stale: run npx tsx scripts/replay-page.ts\n`);
    process.exitCode = 1;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
