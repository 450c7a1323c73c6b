/**
 * `docs/seams.md` is generated from the seams by `scripts/seam-table.ts`
 * (`npm run seam-table`). These tests fail when the page is stale (a seam,
 * its TSDoc, its baseline or a call site changed without regenerating it),
 * when a seam has no entry in `docs/seam-users.json`, and when the page's
 * seams are not `SEAM_NAMES`.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SEAM_NAMES } from '../src/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

describe('docs/seams.md', () => {
  it('is what scripts/seam-table.ts generates from the code and docs/seam-users.json', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join('scripts', 'seam-table.ts'), '--check'], { cwd: root, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('lists every seam of SEAM_NAMES once, in their order', () => {
    const page = readFileSync(join(root, 'docs', 'seams.md'), 'utf8');
    const listed: string[] = [];
    let inSeams = false;
    for (const line of page.split('\n')) {
      if (line.startsWith('## ')) inSeams = line.startsWith('## Seams');
      const row = inSeams ? /^\| `(\w+)` \|/.exec(line) : null;
      if (row !== null) listed.push(row[1]!);
    }
    expect(listed).toEqual([...SEAM_NAMES]);
  });
});
