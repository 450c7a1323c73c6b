/**
 * The command lines of the pages in `docs/` (`getting-started.md`,
 * `writing-a-feature.md`, any page with such a block): every command of a
 * block marked `<!-- example: mmlab -->` runs from the repository root and
 * prints the block marked `<!-- example: mmlab output -->` that follows it.
 * The feature module `writing-a-feature.md` loads imports nothing, so it
 * also runs from a folder outside the repository.
 */
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunReport } from '@mmlab/workloads';
import { afterAll, describe, expect, it } from 'vitest';
import { mmlab } from './helpers.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const pages = readdirSync(join(root, 'docs'))
  .filter((f) => f.endsWith('.md'))
  .map((f) => ({ name: f, text: readFileSync(join(root, 'docs', f), 'utf8') }))
  .filter((p) => p.text.includes('<!-- example: mmlab -->'));

/** The text of each code block right below `<!-- example: ${marker} -->` on a page. */
function marked(page: string, marker: string): string[] {
  const out: string[] = [];
  const lines = page.split('\n');
  for (let i = 0; i + 1 < lines.length; i++) {
    if (lines[i] !== `<!-- example: ${marker} -->` || !lines[i + 1]!.startsWith('```')) continue;
    let end = i + 2;
    while (end < lines.length && !lines[end]!.startsWith('```')) end++;
    out.push(lines.slice(i + 2, end).join('\n'));
  }
  return out;
}

it('finds the pages with command lines', () => {
  expect(pages.map((p) => p.name)).toEqual(expect.arrayContaining(['getting-started.md', 'writing-a-feature.md']));
});

describe.each(pages)('docs/$name on the command line', ({ text }) => {
  const commands = marked(text, 'mmlab');
  const outputs = marked(text, 'mmlab output');

  it('has commands, each followed by its output', () => {
    expect(commands.length).toBeGreaterThan(0);
    expect(outputs).toHaveLength(commands.length);
  });

  it.each(commands.map((block, i) => [block, outputs[i] ?? ''] as const))('runs %s', async (block, output) => {
    let printed = '';
    for (const line of block.split('\n')) {
      const r = await mmlab(line.replace(/^npx mmlab /, '').split(/\s+/), root);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      printed += r.out;
    }
    expect(printed).toContain(output);
  });
});

describe('docs/writing-a-feature.md', () => {
  describe('from a folder outside the repository', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmlab-docs-'));
    afterAll(() => {
      rmSync(dir, { recursive: true, force: true });
    });

    it('loads the module with nothing installed', async () => {
      copyFileSync(join(root, 'docs', 'examples', 'tlb-shootdown.mjs'), join(dir, 'tlb-shootdown.mjs'));
      const run = ['run', '--workload', 'fork-exit:procs=2:size=1m', '--check', '--json'];
      const plain = await mmlab(run, dir);
      const r = await mmlab([...run, '--features', './tlb-shootdown.mjs:delayNs=500'], dir);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      const report = JSON.parse(r.out) as RunReport;
      const baseline = JSON.parse(plain.out) as RunReport;
      expect(report.features).toEqual([{ name: 'tlb-shootdown', options: { delayNs: 500 }, module: './tlb-shootdown.mjs' }]);
      const flushes = report.metrics.feature?.['tlb-shootdown']?.flushes ?? 0;
      expect(flushes).toBeGreaterThan(0);
      expect(report.invariants?.violations).toEqual([]);
      // the delay is charged to the CPU that flushes, once per flush
      const busy = (rr: RunReport): number => rr.metrics.sim.cpus.reduce((sum, c) => sum + c.busy_ns, 0);
      expect(busy(report)).toBe(busy(baseline) + flushes * 500);
      expect(report.metrics.sim.ns).toBeGreaterThan(baseline.metrics.sim.ns);
    });
  });
});
