import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mmlab } from './helpers.js';

interface Report {
  config: { mode: string; cpus: number };
  metrics: {
    locks: Record<string, { acquisitions: number; contentions: number; wait_ns: number; hold_ns: number }>;
    sim: {
      ns: number;
      tlb_flush_ns: number;
      max_nonpreempt_ns: number;
      cpus: { cpu: number; busy_ns: number; max_nonpreempt_ns: number }[];
    };
  };
}

interface TraceEvent {
  name: string;
  cat: string;
  ph: string;
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
}

function expectUsageError(r: { code: number; out: string; err: string }, message: RegExp): void {
  expect(r.code).toBe(2);
  expect(r.out).toBe('');
  const lines = r.err.trimEnd().split('\n');
  expect(lines).toHaveLength(2);
  expect(lines[0]).toMatch(/^mmlab: /);
  expect(lines[0]).toMatch(message);
  expect(lines[1]).toMatch(/^usage: mmlab /);
}

const threads = ['run', '--workload', 'threads-fault:threads=4:size=4m', '--cpus', '4'];

describe('mmlab run --mode', () => {
  it('reports lock statistics and simulated time; timed beats sequential', async () => {
    const timed = await mmlab([...threads, '--mode', 'timed', '--json']);
    const seq = await mmlab([...threads, '--mode', 'sequential', '--json']);
    expect(timed.code).toBe(0);
    const t = JSON.parse(timed.out) as Report;
    const s = JSON.parse(seq.out) as Report;
    expect(t.config).toMatchObject({ mode: 'timed', cpus: 4 });
    for (const cls of ['mmap_sem', 'page_table_lock', 'ptl']) {
      expect(Object.keys(t.metrics.locks[cls]!)).toEqual(['acquisitions', 'contentions', 'wait_ns', 'hold_ns']);
      expect(t.metrics.locks[cls]!.acquisitions).toBeGreaterThan(0);
      expect(t.metrics.locks[cls]!.contentions).toBeGreaterThanOrEqual(0);
    }
    expect(Object.keys(t.metrics.sim)).toEqual(['ns', 'tlb_flush_ns', 'max_nonpreempt_ns', 'cpus']);
    expect(t.metrics.sim.cpus.map((c) => c.cpu)).toEqual([0, 1, 2, 3]);
    expect(t.metrics.sim.ns).toBeLessThan(s.metrics.sim.ns);
  });

  it('prints the lock table and the simulated-time lines', async () => {
    const r = await mmlab([...threads, '--mode', 'timed']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/machine x86-64 \(4 cpus\), mode timed, /);
    expect(r.out).toMatch(/lock class\s+acquisitions\s+contentions\s+wait µs\s+hold µs\n/);
    expect(r.out).toMatch(/\nmmap_sem\s+[\d,]+\s+[\d,]+\s+[\d,]+\.\d\s+[\d,]+\.\d\n/);
    expect(r.out).toMatch(/\nptl\s+[\d,]+\s+[\d,]+\s+[\d,]+\.\d\s+[\d,]+\.\d\n/);
    expect(r.out).toMatch(/\npage_table_lock\s+[\d,]+/);
    expect(r.out).toMatch(/simulated time\s+[\d,.]+ ms\n/);
    expect(r.out).toMatch(/TLB flush time\s+[\d,]+\.\d µs\n/);
    expect(r.out).toMatch(/longest non-preemptible stretch\s+[\d,]+\.\d µs\n/);
    expect(r.out).toMatch(/cpu busy ms\s+0:[\d.]+ 1:[\d.]+ 2:[\d.]+ 3:[\d.]+\n/);
    expect(r.out).toMatch(/cpu longest stretch µs\s+0:[\d,.]+ 1:[\d,.]+ 2:[\d,.]+ 3:[\d,.]+\n/);
  });

  it.each(['sequential', 'timed', 'explore'])('%s: same seed, byte-identical JSON and trace', async (mode) => {
    const dir = mkdtempSync(join(tmpdir(), 'mmlab-trace-'));
    const args = ['run', '--workload', 'threads-fault:threads=2:size=512k', '--cpus', '2', '--mode', mode, '--seed', '3', '--json'];
    const a = await mmlab([...args, '--trace', join(dir, 'a.json')]);
    const b = await mmlab([...args, '--trace', join(dir, 'b.json')]);
    expect(a.code).toBe(0);
    expect(a.out).toBe(b.out);
    expect((JSON.parse(a.out) as Report).config.mode).toBe(mode);
    expect(readFileSync(join(dir, 'a.json'), 'utf8')).toBe(readFileSync(join(dir, 'b.json'), 'utf8'));
  });

  it('--trace writes a valid Trace Event Format file, atomically', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmlab-trace-'));
    const r = await mmlab([...threads, '--mode', 'timed', '--trace', 'out.json'], dir);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/trace\s+out\.json \([\d,]+ events\)\n/);
    expect(readdirSync(dir)).toEqual(['out.json']);
    const trace = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8')) as {
      traceEvents: TraceEvent[];
      displayTimeUnit: string;
      metadata: { events: number; truncated: boolean; maxEvents: number };
    };
    expect(Object.keys(trace)).toEqual(['traceEvents', 'displayTimeUnit', 'metadata']);
    expect(trace.metadata).toMatchObject({ truncated: false, maxEvents: 200_000 });
    expect(trace.traceEvents.length).toBeGreaterThan(100);
    const phases = new Set<string>();
    for (const e of trace.traceEvents) {
      expect(['X', 'i', 'M']).toContain(e.ph);
      phases.add(e.ph);
      expect(typeof e.ts).toBe('number');
      expect(Number.isFinite(e.ts)).toBe(true);
      expect(typeof e.name).toBe('string');
      expect(e.pid).toBe(1);
      expect(Number.isInteger(e.tid) && e.tid >= 0 && e.tid < 4).toBe(true);
      if (e.ph === 'X') expect(e.dur).toBeGreaterThanOrEqual(0);
    }
    expect([...phases].sort()).toEqual(['M', 'X', 'i']);
    const names = trace.traceEvents.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => e.tid);
    expect(names).toEqual([0, 1, 2, 3]);
  });

  it('--trace-events caps the trace and says so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmlab-trace-'));
    const file = join(dir, 't.json');
    const r = await mmlab([...threads, '--mode', 'timed', '--trace', file, '--trace-events', '50']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/\(50 events, cut at the cap/);
    const trace = JSON.parse(readFileSync(file, 'utf8')) as { metadata: { truncated: boolean; events: number } };
    expect(trace.metadata).toMatchObject({ truncated: true, events: 50 });
  });

  it.each([
    [['--mode', 'fast'], /bad --mode 'fast' \(expected sequential, timed, explore\)/],
    [['--cpus', '0'], /bad --cpus '0' \(expected an integer from 1 to 256\)/],
    [['--cpus', 'x'], /bad --cpus 'x'/],
    [['--cpus', '300'], /bad --cpus '300'/],
    [['--strategy', 'pct'], /--strategy applies to --mode explore only/],
    [['--mode', 'explore', '--strategy', 'dfs'], /bad --strategy 'dfs' \(expected random or pct\)/],
    [['--trace-events', '10'], /--trace-events needs --trace FILE/],
    [['--trace', '/tmp/t.json', '--trace-events', '0'], /bad --trace-events '0' \(expected an integer from 1/],
    [['--trace', '/tmp/t.json', '--trace-events', 'many'], /bad --trace-events 'many'/],
    [['--trace', '/nonexistent-mmlab/t.json'], /cannot write trace '\/nonexistent-mmlab\/t.json': no folder/],
    [['--trace', '/tmp'], /cannot write trace '\/tmp': it is a folder/],
    [['--machine', 'vax'], /unknown machine 'vax'/],
  ])('bad usage %j exits 2', async (extra, message) => {
    expectUsageError(await mmlab(['run', '--workload', 'anon-touch:size=64k', ...extra]), message);
  });
});
