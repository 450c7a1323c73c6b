/**
 * `docs/mmu-notifiers.md` holds the measured effects as tables that
 * `scripts/results-mmu-notifiers.ts` writes from real runs: the page
 * must hold exactly what the script prints today (it imports the built
 * packages: `npm run build` first).
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

describe('docs/mmu-notifiers.md', () => {
  it("holds the tables scripts/results-mmu-notifiers.ts makes from today's runs", () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join('scripts', 'results-mmu-notifiers.ts'), '--check'], { cwd: root, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
