import { describe, expect, it } from 'vitest';
import { ANON, kernel, mapAt, MiB, RW } from './helpers.js';

describe('per-process figures name their mm', () => {
  it('gives the threads of one mm the same mm id, and separate processes different ones', () => {
    const k = kernel();
    const leader = k.spawn();
    mapAt(k, leader, 2 ** 44, 4 * MiB, RW, ANON);
    expect(k.touch(leader, 2 ** 44, 4 * MiB, true)).toBe(0);
    const threads = [k.clone(leader), k.clone(leader)];
    const other = k.spawn();
    k.snapshot();
    const procs = k.metrics().procs;
    expect(procs.map((p) => p.pid)).toEqual([leader.pid, ...threads.map((t) => t.pid), other.pid]);
    const [a, b, c, d] = procs;
    expect(a!.mm).toBe(leader.mm!.id);
    expect([b!.mm, c!.mm]).toEqual([a!.mm, a!.mm]);
    expect(d!.mm).not.toBe(a!.mm);
    // mm figures are per mm: the threads repeat the leader's
    expect(b!.RssAnon_kB).toBe(a!.RssAnon_kB);
    expect(a!.RssAnon_kB).toBe(4 * 1024);
    for (const t of [...threads, leader, other]) k.exit(t);
  });
});
