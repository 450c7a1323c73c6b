/**
 * Every proposal that has a package (`packages/<name>`, a proposal of
 * `docs/seam-users.json`) has its page, `docs/<name>.md`, with a results
 * table written by `scripts/results-<name>.ts` from real runs, and a test
 * that runs that script with `--check` (so CI fails when the table differs
 * from a fresh run). New proposal packages are picked up by name; nothing
 * here lists them.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const users = JSON.parse(readFileSync(join(root, 'docs', 'seam-users.json'), 'utf8')) as { proposals: Record<string, unknown> };
const modelled = Object.keys(users.proposals).filter((name) => existsSync(join(root, 'packages', name, 'package.json')));

/** The text of every test file of the repository's packages, apps and scripts. */
function testFiles(): { path: string; text: string }[] {
  const dirs = ['packages', 'apps'].flatMap((top) => readdirSync(join(root, top)).map((d) => join(root, top, d, 'test')));
  dirs.push(join(root, 'scripts', 'test'));
  return dirs
    .filter((d) => existsSync(d))
    .flatMap((d) => readdirSync(d, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.test.ts')).map((f) => join(d, f)))
    .map((path) => ({ path, text: readFileSync(path, 'utf8') }));
}

describe('proposal pages', () => {
  it('exist for the proposals with a package', () => {
    expect(modelled.length).toBeGreaterThan(0);
  });

  it.each(modelled)('%s: page, results script, and a test running it with --check', (name) => {
    const script = `results-${name}.ts`;
    expect(existsSync(join(root, 'docs', `${name}.md`)), `docs/${name}.md`).toBe(true);
    const page = readFileSync(join(root, 'docs', `${name}.md`), 'utf8');
    // the table: between the markers of scripts/results-page.ts, or after a line naming the script
    expect(page.includes(`<!-- results:${name}:begin -->`) || page.includes(`scripts/${script}`), `docs/${name}.md holds the table of scripts/${script}`).toBe(true);
    expect(existsSync(join(root, 'scripts', script)), `scripts/${script}`).toBe(true);
    const runners = testFiles().filter((t) => t.text.includes(script) && t.text.includes('--check'));
    expect(runners.length, `a test that runs scripts/${script} --check`).toBeGreaterThan(0);
  });
});
