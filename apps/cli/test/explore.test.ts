import { describe, expect, it } from 'vitest';
import { listScenarios } from '@mmlab/workloads';
import { mmlab } from './helpers.js';

function expectUsageError(r: { code: number; out: string; err: string }, message: RegExp): void {
  expect(r.code).toBe(2);
  expect(r.out).toBe('');
  const lines = r.err.trimEnd().split('\n');
  expect(lines).toHaveLength(2);
  expect(lines[0]).toMatch(/^mmlab: /);
  expect(lines[0]).toMatch(message);
  expect(lines[1]).toMatch(/^usage: mmlab explore /);
}

const names = listScenarios().map((s) => s.name);

describe('mmlab explore', () => {
  it.each(names)('%s: no violation in 50 seeds on the correct kernel', async (name) => {
    const r = await mmlab(['explore', '--scenario', name, '--seeds', '50']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toBe(
      `mmlab explore ${name}: 50 seeds from 1, strategy random, 2 cpus, machine x86-64, PREEMPT off, features none`
    );
    expect(lines[1]).toBe('no violation in 50 seeds');
    expect(lines[2]).toMatch(/^seeds run 50, checks [\d,]+, scheduler steps [\d,]+$/);
    expect(lines[3]).toMatch(/^host time [\d,]+ ms$/);
  });

  it('prints one JSON object, identical for the same seeds, host time only with --timings', async () => {
    const args = ['explore', '--scenario', 'fork-vs-write', '--seeds', '20', '--seed', '7', '--strategy', 'pct', '--json'];
    const a = await mmlab(args);
    const b = await mmlab(args);
    expect(a.code).toBe(0);
    expect(a.out).toBe(b.out);
    const report = JSON.parse(a.out) as Record<string, unknown>;
    expect(Object.keys(report)).toEqual(['scenario', 'features', 'config', 'seedsRun', 'checks', 'steps', 'failure']);
    expect(report).toMatchObject({ scenario: 'fork-vs-write', features: [], seedsRun: 20, failure: null });
    expect(report.config).toEqual({
      machine: 'x86-64',
      cpus: 2,
      strategy: 'pct',
      pctDepth: 3,
      preempt: false,
      memBytes: 16 * 2 ** 20,
      firstSeed: 7,
      seeds: 20,
    });
    const timed = JSON.parse((await mmlab([...args, '--timings'])).out) as { host?: { ms: number } };
    expect(typeof timed.host?.ms).toBe('number');
  });

  it('honours --cpus, --machine and --preempt', async () => {
    const r = await mmlab(['explore', '--scenario', 'fault-race', '--seeds', '10', '--cpus', '4', '--machine', 'ppc64', '--preempt']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^mmlab explore fault-race: 10 seeds from 1, strategy random, 4 cpus, machine ppc64, PREEMPT on,/);
  });

  it('lists the scenarios', async () => {
    const r = await mmlab(['list', 'scenarios']);
    expect(r.code).toBe(0);
    for (const name of names) expect(r.out).toContain(`${name}\n    `);
    expect(r.out).toContain('mmlab explore --scenario NAME --seeds N');
    const json = JSON.parse((await mmlab(['list', 'scenarios', '--json'])).out) as { name: string; summary: string }[];
    expect(json.map((s) => s.name)).toEqual(names);
    expect(json.every((s) => s.summary.length > 20)).toBe(true);
  });

  it.each([
    [['--seeds', '5'], /missing --scenario NAME/],
    [['--scenario', 'fault-race'], /missing --seeds N/],
    [
      ['--scenario', 'nope', '--seeds', '5'],
      /unknown scenario 'nope' \(known: munmap-vs-access, fault-race, fork-vs-write, mprotect-vs-write, reclaim-vs-fault\)/,
    ],
    [['--scenario', 'fault-race', '--seeds', '0'], /bad --seeds '0' \(expected an integer from 1 to 1000000\)/],
    [['--scenario', 'fault-race', '--seeds', 'lots'], /bad --seeds 'lots'/],
    [['--scenario', 'fault-race', '--seeds', '5', '--seed', '-1'], /bad seed '-1'/],
    [['--scenario', 'fault-race', '--seeds', '5', '--seed', 'x'], /bad seed 'x'/],
    [['--scenario', 'fault-race', '--seeds', '5', '--seed', '4294967295'], /go past 4294967295/],
    [['--scenario', 'fault-race', '--seeds', '5', '--strategy', 'dfs'], /bad --strategy 'dfs'/],
    [['--scenario', 'fault-race', '--seeds', '5', '--cpus', '0'], /bad --cpus '0'/],
    [['--scenario', 'fault-race', '--seeds', '5', '--machine', 'vax'], /unknown machine 'vax'/],
    [['--scenario', 'fault-race', '--seeds', '5', '--features', 'nope'], /unknown feature 'nope'/],
    [['--scenario', 'fault-race', '--seeds', '5', 'extra'], /unexpected argument 'extra'/],
    [['--scenario', 'fault-race', '--seeds', '5', '--bogus'], /unknown option '--bogus'/],
  ])('bad usage %j exits 2 with one line and the usage', async (extra, message) => {
    expectUsageError(await mmlab(['explore', ...extra]), message);
  });
});
