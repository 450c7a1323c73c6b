/**
 * A code block of a page in `docs/` right below `<!-- example: PATH -->` is
 * the file at `PATH` (relative to the repository), whole. (Blocks quoting a
 * region, `PATH#NAME`, are checked by the example package's own test of
 * `docs/writing-a-feature.md`; `mmlab` blocks are command lines, run by the
 * CLI's tests.)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Each whole-file quote of a page: the path and the block's text. */
function quotes(page: string): { path: string; block: string }[] {
  const lines = page.split('\n');
  const out: { path: string; block: string }[] = [];
  for (let i = 0; i + 1 < lines.length; i++) {
    const m = /^<!-- example: ([^ #]+) -->$/.exec(lines[i]!);
    if (m === null || m[1] === 'mmlab' || !lines[i + 1]!.startsWith('```')) continue;
    let end = i + 2;
    while (end < lines.length && !lines[end]!.startsWith('```')) end++;
    out.push({ path: m[1]!, block: lines.slice(i + 2, end).join('\n') });
  }
  return out;
}

const pages = readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md'));
const all = pages.flatMap((p) => quotes(readFileSync(join(root, 'docs', p), 'utf8')).map((q) => ({ page: p, ...q })));

describe('whole files quoted on the pages of docs/', () => {
  it('include the workload examples of writing-a-workload.md', () => {
    expect(all.filter((q) => q.page === 'writing-a-workload.md').map((q) => q.path)).toEqual(['packages/workloads/examples/touch-half.mjs', 'packages/workloads/src/builtin/anon-touch.ts']);
  });

  it.each(all.map((q) => [`${q.page}: ${q.path}`, q] as const))('%s is the file', (_name, q) => {
    expect(q.block).toBe(readFileSync(join(root, q.path), 'utf8').replace(/\n$/, ''));
  });
});
