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
    expect(r.err).toMatch(new RegExp(`^mmlab: ${join(dir, 'present')}:1: '1000-1800' is not page aligned\n`));
  });

  describe('a truncated or corrupted capture is an input error naming the file and line, never a mismatch', () => {
    const sleep = join(fixtures, 'sleep');
    const smaps = readFileSync(join(sleep, 'smaps'), 'utf8');
    const status = readFileSync(join(sleep, 'status'), 'utf8');
    const present = readFileSync(join(sleep, 'present'), 'utf8');
    const lines = (text: string): string[] => text.split('\n');
    const headers = lines(smaps)
      .map((l, i) => (/^[0-9a-f]+-[0-9a-f]+ /.test(l) ? i : -1))
      .filter((i) => i >= 0);
    const cutAt = headers[headers.length - 3]!; // the last two VMAs cut off, at a VMA boundary
    it.each([
      ['smaps cut in the middle of a line', 'smaps', smaps.slice(0, smaps.length - 7), /smaps:\d+: the file ends in the middle of a line \('.*'\): it is truncated$/],
      [
        'smaps cut in the middle of a VMA',
        'smaps',
        `${lines(smaps).slice(0, headers[headers.length - 1]! + 4).join('\n')}\n`,
        new RegExp(`smaps:${headers[headers.length - 1]! + 1}: the last VMA \\([0-9a-f]+-[0-9a-f]+\\) has no VmFlags line, which ends every other VMA: the file is truncated$`),
      ],
      [
        'smaps cut at a VMA boundary',
        'smaps',
        `${lines(smaps).slice(0, cutAt).join('\n')}\n`,
        /smaps:\d+: its VMAs map \d+ kB but status says VmSize \d+ kB \(last VMA [0-9a-f-]+\): smaps is truncated, or the files are of different processes$/,
      ],
      ['status without VmPTE', 'status', status.slice(0, status.indexOf('VmPTE')), /status:\d+: no 'VmPTE: N kB' line: the file is truncated$/],
      ['present cut in the middle of a line', 'present', present.slice(0, present.length - 3), /present:\d+: the file ends in the middle of a line/],
      ['present with a run outside every VMA', 'present', `${present}10000-20000\n`, /present:\d+: '10000-20000' overlaps or precedes the previous run$/],
      ['present of another process', 'present', '1000-2000\n', /present:1: run 1000-2000 lies outside the VMAs of smaps: the files do not belong together$/],
      ['present shorter than its trailer says', 'present', `${lines(present).slice(0, 2).join('\n')}\n# end: 9 runs\n`, /present:3: the trailer counts 9 runs but the file has 2: it is truncated or edited$/],
    ])('%s', async (_, file, text, message) => {
      const dir = mkdtempSync(join(tmpdir(), 'mmlab-replay-'));
      cpSync(sleep, dir, { recursive: true });
      writeFileSync(join(dir, file), text);
      for (const args of [[], ['--json']]) {
        const r = await mmlab(['replay', dir, ...args]);
        expect(r.code).toBe(2);
        const first = r.err.split('\n', 1)[0]!;
        expect(first.startsWith(`mmlab: ${join(dir, file)}:`)).toBe(true);
        expect(first).toMatch(message);
        expect(r.out).not.toContain('MISMATCH');
      }
    });
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
