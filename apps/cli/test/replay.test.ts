import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { mmlab } from './helpers.js';

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, 'fixtures');
const names = readdirSync(fixtures).sort();

interface ReplayJson {
  model: { PageTables_kB: number; tables: { pte: number; pmd: number; pud: number } };
  kernel: { VmPTE_kB: number };
  match: boolean;
}

/** Today's VmPTE from a present file: one PTE table per 2 MiB, PMD per 1 GiB, PUD per 512 GiB touched. */
function expectedTables(present: string): { pte: number; pmd: number; pud: number } {
  const pte = new Set<number>();
  const pmd = new Set<number>();
  const pud = new Set<number>();
  for (const line of present.split('\n').filter(Boolean)) {
    const [s, e] = line.split('-').map((x) => parseInt(x, 16)) as [number, number];
    for (let a = s; a < e; a += 4096) {
      pte.add(Math.floor(a / 2 ** 21));
      pmd.add(Math.floor(a / 2 ** 30));
      pud.add(Math.floor(a / 2 ** 39));
    }
  }
  return { pte: pte.size, pmd: pmd.size, pud: pud.size };
}

describe('mmlab replay of real captures', () => {
  it('has fixtures', () => {
    expect(names.length).toBeGreaterThanOrEqual(3);
  });

  it.each(names)('%s: the model counts what the kernel counted', async (name) => {
    const dir = join(fixtures, name);
    const r = await mmlab(['replay', dir, '--json']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out) as ReplayJson;
    const vmpte = Number(/VmPTE:\s+(\d+) kB/.exec(readFileSync(join(dir, 'status'), 'utf8'))?.[1]);
    expect(report.kernel.VmPTE_kB).toBe(vmpte);
    expect(report.model.PageTables_kB).toBe(vmpte);
    expect(report.model.tables).toEqual(expectedTables(readFileSync(join(dir, 'present'), 'utf8')));
    expect(report.match).toBe(true);
  });

  it('runs clean under the checker and prints a table', async () => {
    const r = await mmlab(['replay', join(fixtures, 'sleep'), '--check']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/model\s+48\s+5\s+4\s+3\n/);
    expect(r.out).toMatch(/kernel\s+48\n/);
    expect(r.out).toMatch(/invariants: \d+ checks, 0 violations/);
  });

  it('exits 1 on a mismatch', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmlab-replay-'));
    cpSync(join(fixtures, 'sleep'), dir, { recursive: true });
    const status = readFileSync(join(dir, 'status'), 'utf8').replace(/VmPTE:\s+\d+ kB/, 'VmPTE:\t      52 kB');
    writeFileSync(join(dir, 'status'), status);
    const r = await mmlab(['replay', dir]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/MISMATCH: model 48 kB, kernel 52 kB/);
  });

  it('refuses a malformed present file with exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmlab-replay-'));
    cpSync(join(fixtures, 'sleep'), dir, { recursive: true });
    writeFileSync(join(dir, 'present'), '1000-1800\n');
    const r = await mmlab(['replay', dir]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^mmlab: present line 1: '1000-1800' is not page aligned\n/);
  });
});

describe('mmlab capture', () => {
  it('captures a live process that then replays to the kernel figure', async () => {
    const child = spawn(
      process.execPath,
      ['-e', 'const b = Buffer.alloc(8 << 20, 1); setInterval(() => b[0]++, 1000); console.log("ready")'],
      { stdio: ['ignore', 'pipe', 'ignore'] }
    );
    try {
      // Capture once the process has settled: allocated, printed, and idle.
      await new Promise((resolve) => child.stdout.once('data', resolve));
      await new Promise((resolve) => setTimeout(resolve, 200));
      const dir = join(mkdtempSync(join(tmpdir(), 'mmlab-capture-')), 'cap');
      const c = await mmlab(['capture', String(child.pid), dir]);
      expect(c.err).toBe('');
      expect(c.code).toBe(0);
      expect(c.out).toMatch(/^captured pid \d+: \d+ VMAs, \d+ present pages in \d+ runs/);
      expect(readdirSync(dir).sort()).toEqual(['present', 'smaps', 'status']);
      const r = await mmlab(['replay', dir, '--json']);
      const report = JSON.parse(r.out) as ReplayJson;
      expect(report.model.PageTables_kB).toBe(report.kernel.VmPTE_kB);
      expect(r.code).toBe(0);
    } finally {
      child.kill();
    }
  });

  it('exits 1 for a process that does not exist', async () => {
    const r = await mmlab(['capture', '999999999', join(tmpdir(), 'mmlab-nope')]);
    expect(r.code).toBe(1);
    expect(r.err).toBe('mmlab: capture of pid 999999999 failed: no such process\n');
  });
});
