/**
 * The CI check that every exported function of `packages/core/src/mm/`
 * names the kernel function and file it models (`scripts/check-see.ts`):
 * it passes on the core as it is, and it catches a function without the
 * tag, with a tag naming no file, or naming no function.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { exportedFunctions, missingSee, mmFunctions } from '../check-see.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('scripts/check-see.ts', () => {
  it('passes on packages/core/src/mm', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join('scripts', 'check-see.ts')], { cwd: root, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('reads the kernel names of every exported function of mm/', () => {
    const all = mmFunctions();
    expect(all.length).toBeGreaterThan(100);
    expect(missingSee(all)).toEqual([]);
    const copy = all.find((e) => e.name === 'baseCopyPageRange');
    expect(copy?.files).toEqual(['mm/memory.c']);
    expect(copy?.functions).toEqual(['copy_page_range']);
  });

  it('catches a missing tag, a tag without a file and one without a function', () => {
    const src = [
      '/** Documented, no tag. */',
      'export function noTag(): void {}',
      '/**',
      ' * Names a function only.',
      ' * @see copy_page_range',
      ' */',
      'export function noFile(): void {}',
      '/**',
      ' * Names a file only.',
      ' * @see mm/memory.c',
      ' */',
      'export const noFunction = (): void => {};',
      '/**',
      ' * Both, over two lines.',
      ' * @see mm/memory.c copy_page_range,',
      ' *   copy_pud_range (the walk)',
      ' */',
      'export function* both(): Generator<number> {}',
      '/** Not exported: not checked. */',
      'function hidden(): void {}',
      'hidden();',
    ].join('\n');
    const entries = exportedFunctions(join(root, 'packages', 'core', 'src', 'mm', 'x.ts'), src);
    expect(entries.map((e) => e.name)).toEqual(['noTag', 'noFile', 'noFunction', 'both']);
    expect(missingSee(entries).map((e) => e.name)).toEqual(['noTag', 'noFile', 'noFunction']);
    expect(entries[3]?.functions).toEqual(['copy_page_range', 'copy_pud_range']);
    expect(entries[0]?.where).toBe('packages/core/src/mm/x.ts:2');
  });
});
