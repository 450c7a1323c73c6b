/**
 * Every TSDoc `@example` block of the packages compiles against their
 * declarations (`npm run build` first) and runs: the blocks assert their
 * own results with `node:assert`, so a stale example fails here.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { allExamples, examplesOf, typecheck, writeExamples } from '../examples.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const examples = allExamples();
const files = writeExamples(examples, join(root, 'tmp', 'examples'));

describe('TSDoc @example blocks', () => {
  it('are found in the packages', () => {
    expect(examples.map((e) => e.symbol)).toEqual(expect.arrayContaining(['buildKernel', 'defineFeature', 'runWorkload', 'formatSize']));
  });

  it('compile against the packages', () => {
    expect(typecheck(files)).toEqual([]);
  });

  it.each(examples.map((e, i) => [`${e.symbol} (${e.where})`, files[i]!] as const))('%s runs', async (_name, file) => {
    await expect(import(pathToFileURL(file).href)).resolves.toBeDefined();
  });

  it('are read from the tag only, stars and fences removed', () => {
    const src = ['/**', ' * Summary.', ' * @example', ' * Words.', ' * ```ts', " * const a = 1;", ' * ```', ' * @param x - not code', ' */', 'export function f(x: number): number { return x; }'].join('\n');
    expect(examplesOf(join(root, 'packages', 'x', 'src', 'f.ts'), src)).toEqual([{ where: 'packages/x/src/f.ts:3', symbol: 'f', code: 'const a = 1;\n' }]);
  });
});
