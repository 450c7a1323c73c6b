import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../src/outputs.js';
import { mmlab } from './helpers.js';

const run = ['run', '--workload', 'anon-touch:size=64k'];

describe('output paths are checked before the run starts', () => {
  it('refuses an unwritable --trace path with exit 2 and runs nothing', async () => {
    const started = performance.now();
    // A big run: were it started, the refusal would come only after it.
    const r = await mmlab(['run', '--workload', 'shm-procs:procs=32:size=256m', '--trace', '/sys/t.json']);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/^mmlab: cannot write trace '\/sys\/t\.json': .* \(folder '\/sys'\)\nusage: mmlab run /);
    expect(r.err).not.toContain('internal error');
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it.each([
    ['--trace', /^mmlab: cannot write trace '.*t\.json': the file exists \(--force replaces it\)$/m],
    ['--out', /^mmlab: cannot write report '.*t\.json': the file exists \(--force replaces it\)$/m],
  ])('never replaces an existing %s file without --force', async (flag, message) => {
    const dir = mkdtempSync(join(tmpdir(), 'mmlab-out-'));
    const file = join(dir, 't.json');
    writeFileSync(file, 'precious\n');
    const r = await mmlab([...run, flag, file]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(readFileSync(file, 'utf8')).toBe('precious\n');
    const forced = await mmlab([...run, flag, file, '--force']);
    expect(forced.code).toBe(0);
    expect(readFileSync(file, 'utf8')).not.toBe('precious\n');
    expect(readdirSync(dir)).toEqual(['t.json']);
  });

  it('--out writes the report (text or JSON) to the file, atomically, nothing on stdout', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmlab-out-'));
    const r = await mmlab([...run, '--json', '--out', 'report.json'], dir);
    expect(r.code).toBe(0);
    expect(r.out).toBe('');
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as { seed: number };
    expect(report.seed).toBe(1);
    const text = await mmlab([...run, '--out', 'report.txt'], dir);
    expect(text.code).toBe(0);
    expect(readFileSync(join(dir, 'report.txt'), 'utf8')).toMatch(/^mmlab run anon-touch:size=64k\n/);
    expect(readdirSync(dir).sort()).toEqual(['report.json', 'report.txt']);
  });

  it('refuses --out and --trace naming one file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmlab-out-'));
    const r = await mmlab([...run, '--out', 'x.json', '--trace', './x.json'], dir);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--trace and --out name the same file/);
  });

  it.each([
    [['explore', '--scenario', 'fault-race', '--seeds', '1', '--out', '/sys/e.txt']],
    [['replay', 'apps/cli/test/fixtures/sleep', '--out', '/nonexistent-mmlab/r.txt']],
  ])('explore and replay check --out first: %j', async (args) => {
    const r = await mmlab(args, join(import.meta.dirname, '..', '..', '..'));
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/^mmlab: cannot write report /);
  });
});

describe('capture folders', () => {
  it('never replaces a capture without --force, and leaves no folder behind when the capture fails', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmlab-cap-'));
    writeFileSync(join(dir, 'smaps'), 'old\n');
    const r = await mmlab(['capture', String(process.pid), dir]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/already holds a capture \(smaps\); --force replaces it/);
    expect(readFileSync(join(dir, 'smaps'), 'utf8')).toBe('old\n');
    const fresh = join(dir, 'new', 'cap');
    const failed = await mmlab(['capture', '999999999', fresh]);
    expect(failed.code).toBe(1);
    expect(existsSync(join(dir, 'new'))).toBe(false);
  });
});

describe('writeFileAtomic', () => {
  it('does not replace an existing file unless asked, and leaves no temporary file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmlab-atomic-'));
    const file = join(dir, 'f');
    writeFileAtomic(file, 'one', false);
    expect(() => {
      writeFileAtomic(file, 'two', false);
    }).toThrow(/EEXIST/);
    expect(readFileSync(file, 'utf8')).toBe('one');
    writeFileAtomic(file, 'three', true);
    expect(readFileSync(file, 'utf8')).toBe('three');
    expect(readdirSync(dir)).toEqual(['f']);
  });
});
