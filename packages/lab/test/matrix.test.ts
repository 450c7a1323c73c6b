import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineFeature, type Feature } from '@mmlab/core';
import { afterAll, describe, expect, it } from 'vitest';
import {
  FEATURES,
  FeatureSetError,
  ResultsError,
  formatMatrixText,
  matrixEffects,
  matrixReport,
  parseOptionsGrid,
  parseShard,
  planCells,
  planMatrix,
  resultLine,
  shardCells,
  sortCells,
  type MatrixPlan,
} from '../src/index.js';
import { appendResult, mergeResults, readResults, runMatrix } from '../src/node.js';

const LAB = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = mkdtempSync(join(tmpdir(), 'mmlab-lab-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});
let n = 0;
const file = (): string => join(dir, `r${++n}.jsonl`);

/** Every registered feature, two small workloads, two seeds, the checker on. */
const ALL: MatrixPlan = {
  features: FEATURES,
  workloads: ['fork-exit:procs=2:size=1m', 'hugetlb-shm:procs=2:size=8m'],
  reps: 2,
  settings: { check: true, memBytes: 64 * 1024 * 1024 },
};
/** Two features (16 cells), for the tests of resume, shards and merge. */
const PLAN: MatrixPlan = { ...ALL, features: FEATURES.slice(0, 2) };

/** The lines of a results file, in cell order, as text. */
function cells(path: string): string[] {
  return sortCells(readResults(path).map((r) => r.line)).map((l) => JSON.stringify(l));
}

let full: string[] = [];

describe('the matrix', () => {
  it('plans every combination × workload × seed, and shards partition the cells', () => {
    expect(planCells(ALL)).toHaveLength(2 ** FEATURES.length * 2 * 2);
    const all = planCells(PLAN);
    expect(all).toHaveLength(16);
    expect(all[0]).toEqual({ workload: PLAN.workloads[0], features: 'baseline', seed: 1 });
    const shards = [1, 2, 3].map((i) => shardCells(all, { index: i, count: 3 }));
    expect(shards.flat().length).toBe(all.length);
    expect(new Set(shards.flat().map((c) => JSON.stringify(c))).size).toBe(all.length);
    expect(parseShard('2/3')).toEqual({ index: 2, count: 3 });
    expect(() => parseShard('4/3')).toThrow(/out of range/);
    expect(() => parseShard('0/3')).toThrow(/out of range/);
    expect(() => parseShard('x')).toThrow(/expected i\/n/);
  });

  it("leaves out the combinations the features' requires and conflicts refuse, saying why", () => {
    const feature = (name: string, more: { requires?: string[]; conflicts?: string[] }): Feature =>
      defineFeature({ name, summary: 'test', thread: { subject: 't', author: 't', date: '2026-01' }, options: {}, ...more, install() {} });
    const a = feature('a', {});
    const b = feature('b', { requires: ['a'] });
    const c = feature('c', { conflicts: ['a'] });
    const { cells, refused } = planMatrix({ features: [a, b, c], workloads: ['w'] });
    expect(cells.map((x) => x.features)).toEqual(['baseline', 'a', 'a,b', 'c']);
    expect(refused.map((r) => r.features)).toEqual(['b', 'a,c', 'b,c', 'a,b,c']);
    expect(refused[0]?.reason).toMatch(/feature 'b' requires 'a'/);
  });

  it('adds option variants from an options grid, validated against the schema', () => {
    const grid = parseOptionsGrid('mmu-gather-inplace:resched=table|never');
    const sets = [...new Set(planCells({ ...ALL, grid, reps: 1, workloads: ['w'] }).map((c) => c.features))];
    expect(sets).toContain('mmu-gather-inplace:resched=never');
    expect(sets).toContain('mmu-gather-inplace');
    expect(sets).toHaveLength(2 ** FEATURES.length + 2 ** (FEATURES.length - 1));
    expect(() => parseOptionsGrid('mmu-gather-inplace:resched=table|sometimes')).toThrow(FeatureSetError);
    expect(() => parseOptionsGrid('mmu-gather-inplace:resched=table|sometimes')).toThrow(/resched.*sometimes/);
    expect(() => parseOptionsGrid('nosuch:x=1')).toThrow(/unknown feature 'nosuch'/);
  });

  it('runs every combination of what exists on two small workloads with the checker on: zero violations', async () => {
    const every = file();
    const cellsAll = 2 ** FEATURES.length * 2 * 2;
    const summary = await runMatrix({ plan: ALL, out: every, jobs: 2 });
    expect(summary).toMatchObject({ total: cellsAll, skipped: 0, ran: cellsAll, interrupted: false, violations: [] });
    const lines = readResults(every).map((r) => r.line);
    expect(lines.every((l) => (l.metrics['invariants.checks'] ?? 0) > 0 && l.metrics['invariants.violations'] === 0)).toBe(true);
    const out = file();
    await runMatrix({ plan: PLAN, out });
    full = cells(out);
    // re-running skips every cell and appends nothing
    const again = await runMatrix({ plan: PLAN, out });
    expect(again).toMatchObject({ skipped: 16, ran: 0 });
    expect(cells(out)).toEqual(full);
    // effects: every factor, every pair, for each workload
    const effects = matrixEffects(lines.filter((l) => PLAN.workloads.includes(l.workload)));
    expect(effects.map((e) => e.note)).toEqual([null, null]);
    const hugetlb = effects.find((e) => e.workload.startsWith('hugetlb-shm'))!;
    const checks = hugetlb.effects.find((e) => e.metric === 'vmstat.pgfault' && e.kind === 'main');
    expect(checks?.effect.exact).toBe(true);
  }, 600_000);

  it('runs option variants from a grid next to the default cells; effects use the defaults', async () => {
    const out = file();
    const grid = parseOptionsGrid('mmu-gather-inplace:resched=table|never');
    const plan: MatrixPlan = { ...PLAN, grid, workloads: [PLAN.workloads[0]!], reps: 1 };
    const summary = await runMatrix({ plan, out });
    expect(summary).toMatchObject({ total: 6, ran: 6, violations: [] });
    const lines = readResults(out).map((r) => r.line);
    expect(lines.map((l) => l.features)).toContain('hugetlb-pagetable-ops,mmu-gather-inplace:resched=never');
    const [w] = matrixEffects(lines);
    expect(w).toMatchObject({ note: null, factors: PLAN.features.map((f) => f.name) });
    expect(formatMatrixText(matrixReport(lines, matrixEffects(lines)))).toMatch(/2 set\(s\) with option variants/);
  });

  it('resumes after an interruption: the final file equals an uninterrupted run, cell for cell', async () => {
    const out = file();
    const stop = new AbortController();
    const first = await runMatrix({
      plan: PLAN,
      out,
      onProgress: (done) => {
        if (done === 5) stop.abort();
      },
      signal: stop.signal,
    });
    expect(first).toMatchObject({ ran: 5, interrupted: true });
    const second = await runMatrix({ plan: PLAN, out });
    expect(second).toMatchObject({ skipped: 5, ran: 11, interrupted: false });
    expect(cells(out)).toEqual(full);
  });

  it('shards merged equal one full run', async () => {
    const parts = [1, 2, 3].map(() => file());
    for (const [i, out] of parts.entries()) await runMatrix({ plan: PLAN, out, shard: { index: i + 1, count: 3 } });
    const merged = file();
    expect(mergeResults(parts, merged)).toBe(16);
    expect(readFileSync(merged, 'utf8').trimEnd().split('\n')).toEqual(full);
    expect(() => mergeResults(parts, merged)).toThrow(/exists; merge writes a new file/);
  });

  it('resumes after the process running it (two workers) is killed: the final file equals an uninterrupted run', async () => {
    const out = file();
    // the built lab (dist) in a child process, with a pool of two workers
    const script = `import { FEATURES } from '@mmlab/lab'; import { runMatrix } from '@mmlab/lab/node';
      await runMatrix({ plan: { ...${JSON.stringify({ ...PLAN, features: undefined })}, features: FEATURES.slice(0, 2) }, out: ${JSON.stringify(out)}, jobs: 2 });`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: LAB, stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => {
      child.on('exit', (code, signal) => {
        resolve(signal === null ? code : -1);
      });
    });
    // kill it once a few cells are in the file
    while (!existsSync(out) || readFileSync(out, 'utf8').split('\n').length < 5) {
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGKILL');
    expect(await exited).toBe(-1);
    const before = readResults(out); // whole lines only: reading does not throw
    expect(before.length).toBeGreaterThanOrEqual(4);
    expect(before.length).toBeLessThan(16);
    const rest = await runMatrix({ plan: PLAN, out, jobs: 2 });
    expect(rest.skipped).toBe(before.length);
    expect(cells(out)).toEqual(full);
  });
});

describe('results files', () => {
  const line = resultLine({ workload: 'w', features: 'baseline', seed: 1 }, { check: true }, [], { 'sim.ns': 5 });

  it('refuses bad lines with a message naming the file and line', () => {
    const bad = (content: string, message: RegExp): void => {
      const path = file();
      writeFileSync(path, `${JSON.stringify(line)}\n${content}`);
      expect(() => readResults(path)).toThrow(ResultsError);
      expect(() => readResults(path)).toThrow(message);
    };
    bad(`${JSON.stringify(line).slice(0, 40)}\n`, /:2: not JSON \(corrupted or truncated\)/);
    bad(JSON.stringify(line).slice(0, 40), /:2: truncated line \(no end of line/);
    bad('{"hello":"world"}\n', /:2: not an mmlab results line \(format missing\)/);
    bad('[1,2]\n', /:2: not an mmlab results line/);
    bad(`${JSON.stringify({ ...line, version: 2 })}\n`, /:2: written in results format version 2; this mmlab reads version 1/);
    bad(`${JSON.stringify({ ...line, seed: 'one' })}\n`, /:2: malformed results line \(bad 'seed'\)/);
    bad('\n', /:2: empty line/);
  });

  it('refuses to resume a file of other settings, and a merge of disagreeing cells', async () => {
    const path = file();
    appendResult(path, line);
    await expect(runMatrix({ plan: { ...PLAN, settings: { check: false } }, out: path })).rejects.toThrow(/:1: run with other settings/);
    const other = file();
    appendResult(other, { ...line, metrics: { 'sim.ns': 6 } });
    expect(() => mergeResults([path, other], file())).toThrow(/:1: cell w × baseline, seed 1 differs from .*:1/);
  });
});
