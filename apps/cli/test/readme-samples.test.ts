/**
 * The README's sample output is what the built `mmlab` prints today:
 * `scripts/readme-samples.ts --check` regenerates it from real runs and
 * fails when the README differs (run `npm run build` first, as CI does).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..', '..');

function check(readme?: string): { status: number | null; stderr: string } {
  const args = ['--import', 'tsx', join('scripts', 'readme-samples.ts'), '--check'];
  return spawnSync(process.execPath, readme === undefined ? args : [...args, '--readme', readme], {
    cwd: root,
    encoding: 'utf8',
  });
}

describe('README sample output', () => {
  it('is what mmlab prints today (npx tsx scripts/readme-samples.ts rewrites it)', () => {
    const r = check();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('a stale sample fails the check', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(readme).toMatch(/<!-- sample:default:begin -->\n```\n\$ mmlab run --workload shm-procs:procs=32:size=256m\n/);
    const stale = join(mkdtempSync(join(tmpdir(), 'mmlab-readme-')), 'README.md');
    writeFileSync(stale, readme.replace(/simulated time( +)[\d,.]+ ms/, 'simulated time$11,859.083 ms'));
    const r = check(stale);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/the sample output is stale/);
  });
});
