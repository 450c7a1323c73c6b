import { describe, expect, it } from 'vitest';
import {
  SpecError,
  formatSize,
  getWorkload,
  parseSize,
  parseSpec,
  resolveParams,
  resolveWorkload,
} from '../src/index.js';

describe('parseSize', () => {
  it('reads binary suffixes and plain bytes', () => {
    expect(parseSize('4096')).toBe(4096);
    expect(parseSize('64k')).toBe(65536);
    expect(parseSize('64K')).toBe(65536);
    expect(parseSize('64KiB')).toBe(65536);
    expect(parseSize('256m')).toBe(256 * 1024 * 1024);
    expect(parseSize('1g')).toBe(1024 ** 3);
    expect(parseSize('2t')).toBe(2 * 1024 ** 4);
  });
  it('refuses what is not a size', () => {
    for (const bad of ['', 'k', '1.5m', '-4k', '12q', '0x1000', '1 g m', '99999999999999999999']) {
      expect(parseSize(bad), bad).toBeUndefined();
    }
  });
  it('formats in the largest exact unit', () => {
    expect(formatSize(256 * 2 ** 20)).toBe('256m');
    expect(formatSize(4096)).toBe('4k');
    expect(formatSize(2 ** 30 + 4096)).toBe('1048580k');
    expect(formatSize(1000)).toBe('1000');
  });
});

describe('parseSpec', () => {
  it('splits name and key=value pairs', () => {
    const s = parseSpec('shm-procs:procs=32:size=256m');
    expect(s.name).toBe('shm-procs');
    expect([...s.args]).toEqual([
      ['procs', '32'],
      ['size', '256m'],
    ]);
  });
  it('accepts a bare name', () => {
    expect(parseSpec('anon-touch').args.size).toBe(0);
  });
  it.each([
    ['', /empty workload name/],
    [':size=1m', /empty workload name/],
    ['x:size', /expected key=value/],
    ['x:size=', /empty value/],
    ['x:=4', /bad key/],
    ['x:size=1m:size=2m', /given twice/],
    ['x:a=1:', /expected key=value/],
  ])('refuses %j', (text, msg) => {
    expect(() => parseSpec(text)).toThrow(SpecError);
    expect(() => parseSpec(text)).toThrow(msg);
  });
});

describe('workload parameters', () => {
  const shm = getWorkload('shm-procs')!;
  const args = (o: Record<string, string>): Map<string, string> => new Map(Object.entries(o));

  it('fill defaults and parse values', () => {
    expect(resolveParams('shm-procs', shm.params, args({}))).toEqual({ procs: 32, size: 256 * 2 ** 20 });
    expect(resolveParams('shm-procs', shm.params, args({ procs: '4', size: '64k' }))).toEqual({
      procs: 4,
      size: 65536,
    });
  });
  it.each([
    [{ pages: '4' }, /unknown parameter 'pages' \(known: procs, size\)/],
    [{ procs: 'many' }, /bad value 'many' for 'procs'/],
    [{ procs: '0' }, /'procs' must not be zero/],
    [{ size: '0' }, /'size' must not be zero/],
    [{ procs: '-1' }, /^shm-procs: 'procs' must be positive \(got -1\)$/],
    [{ size: '-4k' }, /^shm-procs: 'size' must be positive \(got -4k\)$/],
    [{ procs: '-x' }, /bad value '-x' for 'procs' \(expected an integer\)/],
    [{ size: '6000' }, /multiple of the page size/],
    [{ size: '1t' }, /'size' is too large/],
    [{ procs: '100000' }, /'procs' is too large/],
    [{ size: '1.5m' }, /expected a size/],
  ])('refuse %j', (given, msg) => {
    expect(() => resolveParams('shm-procs', shm.params, args(given))).toThrow(SpecError);
    expect(() => resolveParams('shm-procs', shm.params, args(given))).toThrow(msg);
  });
  it('messages are one line', () => {
    try {
      resolveParams('shm-procs', shm.params, args({ size: '6000' }));
    } catch (err) {
      expect((err as Error).message).not.toContain('\n');
    }
  });
});

describe('resolveWorkload', () => {
  it('gives a canonical spec with every parameter', async () => {
    const w = await resolveWorkload('fork-exit:size=1m');
    expect(w.spec).toBe('fork-exit:procs=8:size=1m');
    expect(w.params).toEqual({ procs: 8, size: 2 ** 20 });
  });
  it('names the known workloads for an unknown one', async () => {
    await expect(resolveWorkload('nope:size=1m')).rejects.toThrow(
      /unknown workload 'nope' \(known: shm-procs, anon-touch, fork-exit, swap-pressure, dio, hugetlb-shm, threads-fault, kbuild, oltp-sga, oltp-dio, xip-guests, kvm-guest, gru\)/
    );
  });
  it('reports a missing module as a spec error', async () => {
    await expect(resolveWorkload('./no-such-module.mjs')).rejects.toThrow(SpecError);
  });
});
