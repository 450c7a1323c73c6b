/**
 * `docs/writing-a-feature.md` quotes this package: every code block on it
 * is preceded by `<!-- example: PATH -->` or `<!-- example: PATH#REGION -->`
 * and must equal that file, or the lines between `// #region REGION` and
 * `// #endregion REGION` in it (marker lines left out, common indentation
 * removed, blank lines at either end trimmed). The blocks marked
 * `<!-- example: mmlab -->` and `<!-- example: mmlab output -->` are run by
 * `apps/cli/test/docs-example.test.ts`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const PAGE = join(root, 'docs', 'writing-a-feature.md');

/** A fenced code block of the page and the marker right above it. */
interface Block {
  /** Line number (1-based) of the opening fence. */
  readonly line: number;
  /** What the marker names, or null when there is none. */
  readonly marker: string | null;
  /** The block's text, without the fences. */
  readonly text: string;
}

function blocks(page: string): Block[] {
  const lines = page.split('\n');
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]!.startsWith('```')) continue;
    const marker = /^<!-- example: (.+) -->$/.exec(lines[i - 1] ?? '')?.[1] ?? null;
    let end = i + 1;
    while (end < lines.length && !lines[end]!.startsWith('```')) end++;
    if (end === lines.length) throw new Error(`unclosed code block at line ${i + 1}`);
    out.push({ line: i + 1, marker, text: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return out;
}

function isRegionMarker(line: string): boolean {
  return /^\s*\/\/ #(end)?region\b/.test(line);
}

/** The text a marker names: a file, or one region of it. */
function quoted(spec: string): string {
  const [path = '', region] = spec.split('#');
  let lines = readFileSync(join(root, path), 'utf8').split('\n');
  if (region !== undefined) {
    const start = lines.findIndex((l) => l.trim() === `// #region ${region}`);
    const end = lines.findIndex((l) => l.trim() === `// #endregion ${region}`);
    if (start < 0 || end < start) throw new Error(`${path} has no region '${region}'`);
    lines = lines.slice(start + 1, end);
  }
  lines = lines.filter((l) => !isRegionMarker(l));
  while (lines.length > 0 && lines.at(-1)!.trim() === '') lines.pop();
  while (lines.length > 0 && lines[0]!.trim() === '') lines.shift();
  const indent = Math.min(...lines.filter((l) => l.trim() !== '').map((l) => l.length - l.trimStart().length));
  return lines.map((l) => l.slice(indent)).join('\n');
}

describe('docs/writing-a-feature.md', () => {
  const page = readFileSync(PAGE, 'utf8');
  const all = blocks(page);

  it('marks every code block', () => {
    expect(all.length).toBeGreaterThan(0);
    expect(all.filter((b) => b.marker === null).map((b) => `line ${b.line}`)).toEqual([]);
  });

  it.each(all.filter((b) => b.marker !== null && b.marker.startsWith('docs/')).map((b) => [b.marker!, b] as const))(
    'quotes %s exactly',
    (spec, block) => {
      expect(block.text).toBe(quoted(spec));
    },
  );

  it('has only mmlab commands in the blocks the CLI test runs', () => {
    const commands = all.filter((b) => b.marker === 'mmlab');
    expect(commands.length).toBeGreaterThan(0);
    for (const b of commands) for (const line of b.text.split('\n')) expect(line).toMatch(/^npx mmlab /);
    expect(all.filter((b) => b.marker === 'mmlab output')).toHaveLength(commands.length);
  });

  it('names only example files that exist', () => {
    const named = [
      ...[...page.matchAll(/`(docs\/examples\/[^`\s]+)`/g)].map((m) => m[1]!),
      ...[...page.matchAll(/\]\((examples\/[^)#\s]+)\)/g)].map((m) => `docs/${m[1]!}`),
    ];
    expect(named.length).toBeGreaterThan(0);
    expect(named.filter((p) => !existsSync(join(root, p)))).toEqual([]);
  });
});
