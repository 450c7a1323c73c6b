/**
 * The results table of `docs/hugetlb-pagetable-ops.md` is what
 * `scripts/results-hugetlb-pagetable-ops.ts` generates from real runs;
 * this fails when the page is stale.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

describe('docs/hugetlb-pagetable-ops.md', () => {
  it('holds the table scripts/results-hugetlb-pagetable-ops.ts generates', () => {
    const script = join('scripts', 'results-hugetlb-pagetable-ops.ts');
    const r = spawnSync(process.execPath, ['--conditions=@mmlab/source', '--import', 'tsx', script, '--check'], { cwd: root, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('has a row off and on for each workload', () => {
    const page = readFileSync(join(root, 'docs', 'hugetlb-pagetable-ops.md'), 'utf8');
    expect(page).toMatch(/\| `hugetlb-shm:[^`]*` \| baseline \|/);
    expect(page).toMatch(/\| `hugetlb-shm:[^`]*` \| hugetlb-pagetable-ops \|/);
  });
});
