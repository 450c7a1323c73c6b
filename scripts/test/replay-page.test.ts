/**
 * The generated parts of `docs/what-would-it-save.md` are what
 * `scripts/replay-page.ts` makes from real runs of the built command on the
 * PostgreSQL capture of the fixtures (`npm run build` first).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('docs/what-would-it-save.md', () => {
  it('shows what the command prints today', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join('scripts', 'replay-page.ts'), '--check'], { cwd: root, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('walks through a replay that matches the kernel and a saving with shared page tables', () => {
    const page = readFileSync(join(root, 'docs', 'what-would-it-save.md'), 'utf8');
    expect(page).toContain('model and kernel agree for every process and in total');
    expect(page).toMatch(/with shared-pagetables: page-table memory [\d,]+ kB, −[\d,]+ kB \(−[\d.]+%\) against the kernel/);
    expect(page).toMatch(/^pagetables\.pte .* exact$/m);
  });
});
