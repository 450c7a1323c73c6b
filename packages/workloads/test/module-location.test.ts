import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { describeImportError, frameIn, resolveWorkload, runWorkload, syntaxErrorAt, withLocation } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'mmlab-loc-'));
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe('locations in user modules', () => {
  it('finds the frame of a stack in a file, given as a path or a file URL', () => {
    const err = new Error('x');
    err.stack = `Error: x\n    at f (/elsewhere/a.js:1:1)\n    at g (${pathToFileURL('/u/my.mjs').href}:12:5)\n    at /u/my.mjs:20:1`;
    expect(frameIn(err, '/u/my.mjs')).toBe('12:5');
    expect(frameIn(err, '/u/other.mjs')).toBeUndefined();
    expect(frameIn('not an error', '/u/my.mjs')).toBeUndefined();
    expect(withLocation('x', err, '/u/my.mjs', './my.mjs')).toBe('x (at ./my.mjs:12:5)');
    expect(withLocation('x', err, '/u/other.mjs', './other.mjs')).toBe('x');
  });

  it('finds the line and column of a syntax error with node --check', () => {
    const bad = file('bad.mjs', 'export const a = 1;\nexport const b = ;\n');
    expect(syntaxErrorAt(bad)).toEqual({ at: '2:18', message: 'Unexpected token \';\'' });
    expect(syntaxErrorAt(file('good.mjs', 'export const a = 1;\n'))).toBeUndefined();
    expect(describeImportError(new Error('whatever'), bad, './bad.mjs')).toBe(
      "syntax error at ./bad.mjs:2:18: Unexpected token ';'"
    );
    expect(describeImportError(new Error('gone'), join(dir, 'none.mjs'), './none.mjs')).toBe(
      `no file ${join(dir, 'none.mjs')}`
    );
  });

  it('names the line a user workload threw at, in a WorkloadError', async () => {
    const path = file('throws.mjs', "export default () => {\n  throw new Error('boom');\n};\n");
    await expect(runWorkload({ workload: path })).rejects.toThrow(`${path}: boom (at ${path}:2:9)`);
    await expect(resolveWorkload('./bad.mjs', dir)).rejects.toThrow(
      "cannot load workload module './bad.mjs': syntax error at ./bad.mjs:2:18: Unexpected token ';'"
    );
  });
});
