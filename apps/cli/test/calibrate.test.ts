/**
 * `mmlab calibrate` and `--machine FILE`: a profile fitted to native
 * figures (given with --native, so no native run is needed), used by run,
 * ab and matrix; no C compiler; malformed profile files.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseMachineProfile, PRIMITIVE_NAMES, simulatedCostPerPage } from '@mmlab/core';
import { mmlab } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'mmlab-calibrate-'));

/** Native figures of a machine unlike the reference one, as `npm run bench -- --json` prints them. */
const NATIVE = {
  anon_fault: { model_ns: 5000, native_ns: 8200, ratio: 0.6 },
  fork_pte: { model_ns: 30, native_ns: 175, ratio: 0.17 },
  munmap_page: { model_ns: 80, native_ns: 92, ratio: 0.9 },
  mprotect_page: { model_ns: 6, native_ns: 74, ratio: 0.08 },
  shared_file_fault: { model_ns: 4000, native_ns: 129, ratio: 31 },
  gup_fast_page: { model_ns: 1100, native_ns: 68, ratio: 16 },
  machine: { cpu: 'test', cpus: 2 },
};
const nativeFile = join(dir, 'bench.json');
writeFileSync(nativeFile, JSON.stringify(NATIVE));

describe('mmlab calibrate', () => {
  const saved = process.env.CC;
  afterEach(() => {
    if (saved === undefined) delete process.env.CC;
    else process.env.CC = saved;
  });

  it('fits a profile to the native figures, writes it, and re-runs the primitives on it within ±25%', async () => {
    const out = join(dir, 'fitted.json');
    const r = await mmlab(['calibrate', '--native', nativeFile, '--out', out, '--name', 'testbox']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^machine profile 'testbox' \(from x86-64-today\) written to /);
    expect(r.out).toMatch(/primitive\s+native ns\s+simulated ns\s+error %/);
    for (const p of PRIMITIVE_NAMES) {
      const row = new RegExp(`\\n${p}\\s+([\\d.]+)\\s+([\\d.]+)\\s+(-?[\\d.]+)\\n`).exec(r.out);
      expect(row, p).not.toBeNull();
      expect(Number(row![1])).toBe(NATIVE[p].native_ns);
      expect(Math.abs(Number(row![3]))).toBeLessThanOrEqual(25);
    }
    // the file stands on its own: it loads, and the model's primitives on it match the figures
    const profile = parseMachineProfile(JSON.parse(readFileSync(out, 'utf8')), out);
    expect(profile.name).toBe('testbox');
    for (const p of PRIMITIVE_NAMES) {
      const sim = simulatedCostPerPage(p, profile, 1024);
      expect(Math.abs(sim / NATIVE[p].native_ns - 1)).toBeLessThanOrEqual(0.25);
    }
    // an existing profile is replaced only with --force
    const again = await mmlab(['calibrate', '--native', nativeFile, '--out', out]);
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/cannot write machine profile '.*fitted\.json': the file exists \(--force replaces it\)/);
    expect((await mmlab(['calibrate', '--native', nativeFile, '--out', out, '--force', '--json'])).code).toBe(0);
  });

  it('says so and exits 1 when there is no C compiler', async () => {
    process.env.CC = join(dir, 'no-such-cc');
    const out = join(dir, 'never.json');
    const r = await mmlab(['calibrate', '--out', out]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^mmlab: calibrate needs a C compiler to time the real kernel: no C compiler \('.*no-such-cc' not found\)/);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses native figures it cannot use', async () => {
    const bad = join(dir, 'bad-bench.json');
    writeFileSync(bad, JSON.stringify({ ...NATIVE, munmap_page: { native_ns: null } }));
    const r = await mmlab(['calibrate', '--native', bad, '--out', join(dir, 'x.json')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--native .*bad-bench\.json: no positive native figure for munmap_page/);
    const missing = await mmlab(['calibrate', '--native', join(dir, 'nope.json'), '--out', join(dir, 'x.json')]);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/--native .*nope\.json: ENOENT/);
    expect((await mmlab(['calibrate', '--base', 'vax'])).err).toMatch(/unknown --base machine 'vax'/);
  });
});

describe('--machine FILE', () => {
  const profile = join(dir, 'profile.json');
  const W = 'fork-exit:procs=2:size=1m';

  it('run, ab and matrix accept a calibrated profile file', async () => {
    expect((await mmlab(['calibrate', '--native', nativeFile, '--out', profile, '--force'])).code).toBe(0);
    const run = await mmlab(['run', '--workload', W, '--mem', '64m', '--machine', profile, '--json']);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.out) as { config: { machine: string; cpus: number; placement: string } };
    expect(report.config).toMatchObject({ machine: 'calibrated', cpus: 2, placement: 'aligned' });
    // a relative path starts from the working directory
    const rel = await mmlab(['run', '--workload', W, '--mem', '64m', '--machine', './profile.json'], dir);
    expect(rel.code).toBe(0);
    expect(rel.out).toMatch(/\nmachine calibrated \(2 cpus\)/);
    const ab = await mmlab(['ab', '--workload', W, '--b', 'mmu-gather-inplace', '--reps', '1', '--mem', '64m', '--machine', profile]);
    expect(ab.code).toBe(0);
    const cells = join(dir, 'cells.jsonl');
    const matrix = await mmlab(['matrix', '--workloads', W, '--features', 'mmu-gather-inplace', '--reps', '1', '--mem', '64m', '--machine', profile, '--out', cells]);
    expect(matrix.err).toMatch(/2 cell\(s\) run/);
    expect(matrix.code).toBe(0);
  }, 120_000);

  it('the simulated time follows the profile: a slower machine takes longer', async () => {
    const base = JSON.parse(readFileSync(profile, 'utf8')) as { costs: Record<string, number> };
    const slow = join(dir, 'slow.json');
    writeFileSync(slow, JSON.stringify({ ...base, name: 'slow', costs: Object.fromEntries(Object.entries(base.costs).map(([k, v]) => [k, v * 2])) }));
    const ns = async (file: string): Promise<number> => {
      const r = await mmlab(['run', '--workload', W, '--mem', '64m', '--machine', file, '--json']);
      return (JSON.parse(r.out) as { metrics: { sim: { ns: number } } }).metrics.sim.ns;
    };
    // twice every cost, twice the simulated time (to the report's rounding)
    expect((await ns(slow)) / (2 * (await ns(profile)))).toBeCloseTo(1, 6);
  });

  it.each<[string, string, RegExp]>([
    ['not JSON', '{ "format": ', /mmlab: .*broken\.json: not JSON \(/],
    ['another file', '{ "hello": 1 }', /mmlab: .*broken\.json: not a machine profile \('format' must be 'mmlab-machine-profile', got undefined\)/],
    ['a bad cost', '{ "format": "mmlab-machine-profile", "version": 1, "base": "x86-64", "costs": { "clearPage": -3 } }', /mmlab: .*broken\.json: 'costs\.clearPage' must be a number of ns, 0 or more, got -3/],
    ['a missing field', '{ "format": "mmlab-machine-profile", "version": 1, "name": "m" }', /mmlab: .*broken\.json: missing field 'description' \(or a 'base' profile to take it from\)/],
  ])('a malformed profile file (%s) is bad usage for run, ab and matrix', async (_, text, message) => {
    const file = join(dir, 'broken.json');
    writeFileSync(file, text);
    for (const args of [
      ['run', '--workload', W],
      ['ab', '--workload', W, '--b', 'mmu-gather-inplace'],
      ['matrix', '--workloads', W, '--features', 'mmu-gather-inplace', '--out', join(dir, 'never.jsonl')],
    ]) {
      const r = await mmlab([...args, '--machine', file]);
      expect(r.code, args[0]).toBe(2);
      expect(r.err, args[0]).toMatch(message);
    }
    const missing = await mmlab(['run', '--workload', W, '--machine', join(dir, 'absent.json')]);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/cannot read machine profile '.*absent\.json': no such file/);
  });
});
