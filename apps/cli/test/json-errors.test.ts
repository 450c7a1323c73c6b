import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mmlab } from './helpers.js';

interface ErrorJson {
  error: { kind: string; message: string; exitCode: number };
}

describe('--json always prints JSON on stdout', () => {
  it('prints the error of a workload that throws as one JSON object, exit 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmlab-json-'));
    const file = join(dir, 'fail.mjs');
    writeFileSync(file, `export default () => { throw new Error('no luck'); };\n`);
    const r = await mmlab(['run', '--workload', file, '--json']);
    expect(r.code).toBe(1);
    const json = JSON.parse(r.out) as ErrorJson;
    expect(json.error.kind).toBe('workload');
    expect(json.error.exitCode).toBe(1);
    expect(json.error.message).toContain(`${file}: no luck`);
    expect(r.out.trimEnd().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/^mmlab: .*no luck/);
  });

  it.each([
    [['run', '--workload', 'nosuch', '--json'], /unknown workload 'nosuch'/],
    [['run', '--workload', 'anon-touch', '--json', '--frob'], /unknown option '--frob'/],
    [['explore', '--scenario', 'nosuch', '--seeds', '1', '--json'], /unknown scenario 'nosuch'/],
    [['replay', '/nonexistent/capture', '--json'], /has no readable 'smaps'/],
  ])('prints a usage error as JSON too, exit 2: %j', async (args, message) => {
    const r = await mmlab(args);
    expect(r.code).toBe(2);
    const json = JSON.parse(r.out) as ErrorJson;
    expect(json).toEqual({ error: { kind: 'usage', message: expect.stringMatching(message) as unknown, exitCode: 2 } });
  });

  it('prints nothing on stdout for an error without --json', async () => {
    const r = await mmlab(['run', '--workload', 'nosuch']);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
  });
});
