/**
 * The lab's subcommands: ab, matrix, merge and chart, with their bad input.
 */
import { appendFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SHOWCASE } from '@mmlab/lab';
import { mmlab } from './helpers.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'mmlab-lab-cli-'));
const SMALL = ['--mem', '64m'];
const W = 'fork-exit:procs=2:size=1m';

describe('mmlab ab', () => {
  it('compares two sets on paired seeds; JSON has every metric with its interval', async () => {
    const r = await mmlab(['ab', '--workload', W, '--b', 'mmu-gather-inplace', '--reps', '2', ...SMALL, '--check', '--json']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out) as { a: string; b: string; seeds: number[]; method: string; rows: { metric: string; diff: { exact: boolean } | null }[] };
    expect(json).toMatchObject({ a: 'baseline', b: 'mmu-gather-inplace', seeds: [1, 2] });
    expect(json.method).toContain("paired Student's t");
    expect(json.rows.find((x) => x.metric === 'invariants.violations')?.diff).toMatchObject({ exact: true });
  });

  it('prints Markdown and CSV, and draws the chart', async () => {
    const chart = join(dir, 'ab.svg');
    const md = await mmlab(['ab', '--workload', W, '--b', 'mmu-gather-inplace', '--reps', '1', ...SMALL, '--markdown', '--chart', chart]);
    expect(md.code).toBe(0);
    expect(md.out).toMatch(/^\*\*mmu-gather-inplace\*\* \(B\) against \*\*baseline\*\* \(A\)/);
    expect(readFileSync(chart, 'utf8')).toMatch(/^<svg /);
    const csv = await mmlab(['ab', '--workload', W, '--a', 'all', '--b', 'baseline', '--reps', '1', ...SMALL, '--csv']);
    expect(csv.out.split('\n')[1]).toMatch(/^fork-exit:procs=2:size=1m,"hugetlb-pagetable-ops,mmu-gather-inplace[a-z,-]*",baseline,/);
  });

  it.each([
    [['--workload', W], /missing --b SET/],
    [['--workload', W, '--b', 'nosuch'], /unknown feature 'nosuch'/],
    [['--workload', W, '--b', 'mmu-gather-inplace:resched=sometimes'], /bad value for option 'resched'.*\(in 'mmu-gather-inplace:resched=sometimes'\)/],
    [['--workload', W, '--b', 'all,mmu-gather-inplace'], /'all' stands alone/],
    [['--workload', 'nosuch', '--b', 'all'], /unknown workload 'nosuch'/],
    [['--workload', W, '--b', 'all', '--reps', '0'], /bad --reps '0'/],
    [['--workload', W, '--b', 'all', '--json', '--csv'], /at most one of/],
    [['--workload', W, '--b', 'all', '--chart', '/nonexistent/x.svg'], /cannot write chart/],
    [['--each', '--b', 'all'], /--each chooses the sets/],
  ])('refuses bad input before running: %j', async (args, message) => {
    const r = await mmlab(['ab', ...args]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    // nothing but, with --json, the error as JSON
    expect(r.out === '' || r.out.startsWith('{"error":{"kind":"usage"')).toBe(true);
  });

  it("--each compares every registered proposal against the baseline on its workload: the README's npm start sample", async () => {
    const r = await mmlab(['ab', '--each']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^== hugetlb-pagetable-ops on/);
    expect(r.out).toMatch(/\n== mmu-gather-inplace on make -j4/);
    expect(r.out).toMatch(/sim\.tlb_flush_ns .* exact/);
    expect(r.out.match(/^== /gm)).toHaveLength(SHOWCASE.length);
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const sample = /<!-- sample:npm-start:begin -->\n```\n([\s\S]*?)```\n<!-- sample:npm-start:end -->/.exec(readme)?.[1];
    // regenerate with: node apps/cli/dist/main.js ab --each (after npm run build), pasted between the markers
    expect(sample).toBe(r.out);
  }, 600_000);
});

describe('mmlab matrix, merge and chart', () => {
  // two of the registered features: 16 cells, whatever joins the registry
  const TWO = 'hugetlb-pagetable-ops,mmu-gather-inplace';
  const matrix = (out: string, ...more: string[]): Promise<{ code: number; out: string; err: string }> =>
    mmlab([
      'matrix',
      '--workloads',
      `${W},kbuild:jobs=2:objs=2`,
      ...(more.includes('--features') ? [] : ['--features', TWO]),
      '--reps',
      '2',
      ...SMALL,
      '--check',
      '--out',
      out,
      ...more,
    ]);

  it('runs every combination with the checker, reports effects, resumes, and merges shards into the same cells', async () => {
    const full = join(dir, 'full.jsonl');
    const r = await matrix(full);
    expect(r.code).toBe(0);
    expect(r.err).toBe('mmlab: 16 cell(s) run, 0 already in ' + full + '\n');
    expect(r.out).toMatch(/^16 cells: 2 workload\(s\) × 4 feature set\(s\) × 2 seed\(s\)/);
    expect(r.out).toMatch(/checker: [\d,]+ checks, no violation/);
    expect(r.out).toMatch(/== kbuild:jobs=2:objs=2 \(factors: hugetlb-pagetable-ops, mmu-gather-inplace\)\nmain effects:/);
    const again = await matrix(full, '--markdown');
    expect(again.err).toBe('mmlab: 0 cell(s) run, 16 already in ' + full + '\n');
    expect(again.out).toContain('### kbuild:jobs=2:objs=2');
    const shards = [1, 2, 3].map((i) => join(dir, `shard${i}.jsonl`));
    for (const [i, s] of shards.entries()) expect((await matrix(s, '--shard', `${i + 1}/3`, '--jobs', '2')).code).toBe(0);
    const merged = join(dir, 'merged.jsonl');
    const m = await mmlab(['merge', '--out', merged, ...shards]);
    expect(m).toMatchObject({ code: 0, err: `mmlab: merged 16 cells from 3 file(s) into ${merged}\n` });
    const sorted = (f: string): string[] => readFileSync(f, 'utf8').trimEnd().split('\n').sort();
    expect(sorted(merged)).toEqual(sorted(full));
    expect((await mmlab(['merge', '--out', merged, ...shards])).err).toMatch(/exists; merge writes a new file/);
    const svg = await mmlab(['chart', full, '--metric', 'sim.max_nonpreempt_ns', '--by', 'interactions']);
    expect(svg.code).toBe(0);
    expect(svg.out).toMatch(/^<svg /);
    const bars = await mmlab(['chart', full, '--metric', 'sim.ns']);
    expect(bars.out).toContain('hugetlb-pagetable-ops,mmu-gather-inplace');
  }, 600_000);

  it('refuses a results file with a bad line, naming it, and never rewrites it', async () => {
    const file = join(dir, 'bad.jsonl');
    writeFileSync(file, '{"format":"something-else"}\n');
    const r = await matrix(file);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/bad\.jsonl:1: not an mmlab results line/);
    expect(readFileSync(file, 'utf8')).toBe('{"format":"something-else"}\n');
    appendFileSync(file, 'x');
    const c = await mmlab(['chart', file, '--metric', 'sim.ns']);
    expect(c.code).toBe(2);
  });

  it.each([
    [['--shard', '4/3'], /shard '4\/3' out of range/],
    [['--features', 'mmu-gather-inplace:resched=never'], /names only/],
    [['--features', 'nosuch'], /unknown feature 'nosuch'/],
    [['--options-grid', 'mmu-gather-inplace:resched=table|sometimes'], /resched/],
    [['--jobs', '0'], /bad --jobs '0'/],
  ])('refuses bad input before running: %j', async (args, message) => {
    const out = join(dir, 'never.jsonl');
    const r = await matrix(out, ...args);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses an unknown metric with the names close to it', async () => {
    const full = join(dir, 'full.jsonl');
    const r = await mmlab(['chart', full, '--metric', 'pgfault']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/no metric 'pgfault' .*did you mean vmstat\.pgfault/);
  });
});

describe('mmlab ab with a user feature module', () => {
  it('loads the module named in the set and compares it', async () => {
    const r = await mmlab(['ab', '--workload', W, '--b', './docs/examples/tlb-shootdown.mjs:delayNs=500', '--reps', '1', ...SMALL], ROOT);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/B {2}\.\/docs\/examples\/tlb-shootdown\.mjs:delayNs=500\n/);
    expect(r.out).toMatch(/feature\.tlb-shootdown\.flushes .* only in B/);
  });
});
