/**
 * The generated parts of `docs/metrics.md`, `docs/workloads.md`,
 * `docs/proposals.md` and `docs/architecture.md` are what
 * `scripts/docs-pages.ts` makes from the code today (it imports the built
 * packages: `npm run build` first), and they cover what the code declares.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VM_EVENTS, VM_GAUGES } from '@mmlab/core';
import { listWorkloads } from '@mmlab/workloads';
import { describe, expect, it } from 'vitest';
import { withPart } from '../lib/generated.js';
import { layeredSvg } from '../lib/svg-graph.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const page = (name: string): string => readFileSync(join(root, 'docs', name), 'utf8');

describe('generated documentation pages', () => {
  it('are what scripts/docs-pages.ts makes from the code', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join('scripts', 'docs-pages.ts'), '--check'], { cwd: root, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('the metrics glossary has every vmstat counter and gauge, with a meaning and a unit', () => {
    const text = page('metrics.md');
    for (const name of [...VM_EVENTS, ...VM_GAUGES]) expect(text).toMatch(new RegExp(`^\\| \`${name}\` \\| [^|]+ \\| [^|]*\\w[^|]* \\| \\w[^|]* \\|$`, 'm'));
    for (const key of ['MemTotal', 'PageTables', 'VmPTE_kB', 'tlb_flush_ns', 'wait_ns']) expect(text).toContain(`\`${key}\``);
  });

  it('the workloads page has every built-in workload, each saying what it stands for', () => {
    const text = page('workloads.md');
    for (const w of listWorkloads()) {
      expect(w.standsFor, `${w.name}: defineWorkload needs standsFor`).toBeTruthy();
      expect(w.threads, `${w.name}: defineWorkload needs threads (empty for the baseline)`).toBeDefined();
      expect(text).toContain(`### ${w.name}\n`);
      for (const key of Object.keys(w.params)) expect(text).toContain(`| \`${key}\` |`);
    }
  });

  it("the architecture page names every file of the core's sources", () => {
    const text = page('architecture.md');
    const src = join(root, 'packages', 'core', 'src');
    const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(50);
    for (const f of files) expect(text).toContain(`| \`${f.split('/').at(-1)!}\` |`);
    expect(text).toContain('```mermaid');
    expect(text).toContain('](architecture.svg)');
  });

  it('the packages drawing has every workspace package, each box with its arrows', () => {
    const svg = page('architecture.svg');
    for (const top of ['packages', 'apps']) {
      for (const d of readdirSync(join(root, top))) {
        const pkg = JSON.parse(readFileSync(join(root, top, d, 'package.json'), 'utf8')) as { name: string; dependencies?: Record<string, string> };
        expect(svg).toContain(`>${pkg.name}</text>`);
      }
    }
    expect(svg.match(/<line /g)?.length).toBeGreaterThanOrEqual(4);
  });

  it('a drawing with a cycle or an unknown dependency is refused', () => {
    expect(() => layeredSvg([{ id: 'a', lines: ['a'], deps: ['b'] }, { id: 'b', lines: ['b'], deps: ['a'] }], 't')).toThrow(/cycle/);
    expect(() => layeredSvg([{ id: 'a', lines: ['a'], deps: ['x'] }], 't')).toThrow(/unknown node x/);
  });

  it('a stale part is found', () => {
    const before = 'a\n<!-- generated:x:begin -->\nold\n<!-- generated:x:end -->\nb';
    expect(withPart(before, 'x', 'new')).toBe('a\n<!-- generated:x:begin -->\nnew\n<!-- generated:x:end -->\nb');
    expect(withPart(before, 'x', 'old')).toBe(before);
    expect(() => withPart('no markers', 'x', 'new')).toThrow(/no <!-- generated:x:begin -->/);
  });
});
