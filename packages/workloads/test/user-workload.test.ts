import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SpecError, WorkloadError, isModuleSpec, resolveWorkload, runWorkload } from '../src/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const example = join(here, '..', 'examples', 'touch-half.mjs');

function module(source: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'mmlab-user-'));
  const file = join(dir, 'w.mjs');
  writeFileSync(file, source);
  return file;
}

describe('isModuleSpec', () => {
  it('tells paths from names', () => {
    expect(isModuleSpec('./my.js:size=1m')).toBe(true);
    expect(isModuleSpec('/abs/w.mjs')).toBe(true);
    expect(isModuleSpec('w.mjs:x=1')).toBe(true);
    expect(isModuleSpec('shm-procs:procs=2')).toBe(false);
  });
});

describe('the example module touch-half.mjs', () => {
  it('writes a seeded half of the pages', async () => {
    const r = await runWorkload({ workload: `${example}:size=1m`, seed: 3 });
    expect(r.workload.spec).toBe(`${example}:size=1m`);
    expect(r.metrics.vmstat.pgfault).toBe(128);
    expect(r.metrics.procs[0]?.RssAnon_kB).toBe(512);
    const again = await runWorkload({ workload: `${example}:size=1m`, seed: 3 });
    expect(JSON.stringify(again)).toBe(JSON.stringify(r));
  });

  it('runs clean under the checker', async () => {
    const r = await runWorkload({ workload: `${example}:size=64k`, seed: 9, check: true });
    expect(r.metrics.vmstat.pgfault).toBe(8);
    expect(r.invariants?.violations).toEqual([]);
  });

  it('has its declared parameters checked', async () => {
    await expect(resolveWorkload(`${example}:size=5000`)).rejects.toThrow(/multiple of the page size/);
    await expect(resolveWorkload(`${example}:pages=2`)).rejects.toThrow(/unknown parameter 'pages'/);
  });

  it('resolves relative to cwd', async () => {
    const w = await resolveWorkload('./examples/touch-half.mjs', join(here, '..'));
    expect(w.params).toEqual({ size: 8 * 2 ** 20 });
  });
});

describe('function modules', () => {
  it('get raw parameters: integers as numbers, the rest as strings', async () => {
    const file = module(`
      export default function (ctx, params) {
        const { PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS, PAGE_SIZE } = ctx.core;
        if (typeof params.pages !== 'number' || params.label !== 'x1') throw new Error('bad params');
        const k = ctx.kernel;
        const t = k.spawn();
        const a = k.mmap(t, 0, params.pages * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
        k.touch(t, a, params.pages * PAGE_SIZE, true);
        ctx.snapshot();
        k.exit(t);
      }`);
    const r = await runWorkload({ workload: `${file}:pages=5:label=x1` });
    expect(r.workload.params).toEqual({ pages: 5, label: 'x1' });
    expect(r.metrics.vmstat.pgfault).toBe(5);
  });

  it('report what they throw as a WorkloadError', async () => {
    const file = module(`export const workload = () => { throw new Error('boom'); };`);
    await expect(runWorkload({ workload: file })).rejects.toThrow(WorkloadError);
    await expect(runWorkload({ workload: file })).rejects.toThrow(/boom/);
  });

  it('that leave tasks running are reported (result.leftRunning), and their tasks made to exit', async () => {
    const file = module(`export default (ctx) => {
        const k = ctx.kernel;
        const t = k.spawn();
        k.clone(t);
        k.exit(k.spawn());
      };`);
    const r = await runWorkload({ workload: file, check: true });
    expect(r.result).toEqual({ leftRunning: [1, 2] });
    expect(r.invariants?.violations).toEqual([]);
    const clean = await runWorkload({ workload: module(`export default (ctx) => { ctx.kernel.exit(ctx.kernel.spawn()); };`) });
    expect(clean.result).toBeUndefined();
  });

  it('must export a function or a workload object', async () => {
    const file = module(`export default 42;`);
    await expect(resolveWorkload(file)).rejects.toThrow(SpecError);
  });
});
