import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { mmlab } from './helpers.js';

const here = dirname(fileURLToPath(import.meta.url));
const cliRoot = join(here, '..');

function expectUsageError(r: { code: number; out: string; err: string }, message: RegExp): void {
  expect(r.code).toBe(2);
  expect(r.out).toBe('');
  const lines = r.err.trimEnd().split('\n');
  expect(lines).toHaveLength(2);
  expect(lines[0]).toMatch(/^mmlab: /);
  expect(lines[0]).toMatch(message);
  expect(lines[1]).toMatch(/^usage: mmlab /);
  expect(r.err).not.toMatch(/\n\s+at /);
}

describe('mmlab run', () => {
  it('prints a readable report', async () => {
    const r = await mmlab(['run', '--workload', 'shm-procs:procs=2:size=1m', '--check']);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(r.out).toMatch(/^mmlab run shm-procs:procs=2:size=1m\n/);
    expect(r.out).toMatch(/nr_page_table_pages\s+2\s+2\n/);
    expect(r.out).toMatch(/VmPTE kB\s+12\s+12\s+24\n/);
    expect(r.out).toMatch(/page tables\s+pgd\s+pud\s+pmd\s+pte\n/);
    expect(r.out).toMatch(/invariants\s+\d+ checks, 0 violations/);
    expect(r.out).toMatch(/simulated time\s+[\d,.]+ ms/);
  });

  it('prints one JSON object, byte-identical for one seed', async () => {
    const args = ['run', '--workload', 'fork-exit:procs=2:size=256k', '--json', '--seed', '5', '--check'];
    const a = await mmlab(args);
    const b = await mmlab(args);
    expect(a.code).toBe(0);
    expect(a.out).toBe(b.out);
    const report = JSON.parse(a.out) as Record<string, unknown>;
    expect(Object.keys(report)).toEqual(['workload', 'features', 'seed', 'config', 'metrics', 'invariants']);
    expect(report.seed).toBe(5);
    const metrics = report.metrics as { vmstat: Record<string, number>; meminfo: Record<string, number> };
    expect(metrics.vmstat.mmlab_cow_fault).toBe(2 * 64);
    expect(metrics.meminfo.PageTables).toBe(metrics.vmstat.nr_page_table_pages! * 4);
  });

  it('adds host time under "host" only with --timings', async () => {
    const r = await mmlab(['run', '--workload', 'anon-touch:size=64k', '--json', '--timings']);
    const report = JSON.parse(r.out) as { host?: { ms: number } };
    expect(typeof report.host?.ms).toBe('number');
  });

  it('honours --placement, --preempt and --machine', async () => {
    const r = await mmlab([
      'run',
      '--workload',
      'anon-touch:size=4m',
      '--placement',
      'aligned',
      '--preempt',
      '--machine',
      'x86-64-today',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out) as { config: unknown; metrics: { pagetables: { pte: number } } };
    expect(report.config).toEqual({
      machine: 'x86-64-today',
      cpus: 2,
      mode: 'sequential',
      placement: 'aligned',
      preempt: true,
      check: false,
      memBytes: 4 * 2 ** 30,
      swapBytes: 8 * 2 ** 30,
      hugePages: 0,
    });
    expect(report.metrics.pagetables.pte).toBe(2);
  });

  it('exits 1 with the report still printed when the checker finds a violation', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmlab-cli-'));
    const file = join(dir, 'corrupt.mjs');
    // Breaks the RSS accounting behind the kernel's back; the checker must notice.
    writeFileSync(
      file,
      `export default (ctx) => {
        const { PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS } = ctx.core;
        const k = ctx.kernel;
        const t = k.spawn();
        const a = k.mmap(t, 0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
        k.touch(t, a, 4096, true);
        t.mm.anonRss += 1;
        k.touch(t, a, 4096, false);
        t.mm.anonRss -= 1;
        ctx.snapshot();
        k.exit(t);
      };`
    );
    const r = await mmlab(['run', '--workload', file, '--check', '--json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.out) as { invariants: { violations: { check: string }[] } };
    expect(report.invariants.violations.map((v) => v.check)).toContain('rss');
    const text = await mmlab(['run', '--workload', file, '--check']);
    expect(text.code).toBe(1);
    expect(text.out).toMatch(/VIOLATION rss/);
  });

  it('exits 1 without a stack trace when the workload fails', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmlab-cli-'));
    const file = join(dir, 'fail.mjs');
    writeFileSync(file, `export default () => { throw new Error('no luck'); };`);
    const r = await mmlab(['run', '--workload', file]);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`mmlab: ${file}: no luck (at ${file}:1:30)\n`);
  });

  it('runs the example user module relative to the working directory', async () => {
    const r = await mmlab(
      ['run', '--workload', './packages/workloads/examples/touch-half.mjs:size=256k', '--json'],
      join(cliRoot, '..', '..')
    );
    expect(r.code).toBe(0);
    expect((JSON.parse(r.out) as { metrics: { vmstat: { pgfault: number } } }).metrics.vmstat.pgfault).toBe(32);
  });
});

describe('mmlab run --mem and --swap', () => {
  it('swaps under pressure and shows memory, swap and the swap figures', async () => {
    const r = await mmlab(['run', '--workload', 'swap-pressure:size=48m', '--mem', '32m', '--check']);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(r.out).toMatch(/^mmlab run swap-pressure:size=48m\nmachine x86-64 \(8 cpus\), mode sequential, memory 32m, swap 64m, legacy placement/);
    for (const name of ['pswpout', 'pswpin', 'pgmajfault', 'allocstall']) {
      expect(r.out).toMatch(new RegExp(`\\n${name}\\s+[1-9][\\d,]*\\n`));
    }
    expect(r.out).toMatch(/\noom_kill\s+0\n/);
    expect(r.out).toMatch(/\nresult\s+completed\n/);
    expect(r.out).toMatch(/invariants\s+[\d,]+ checks, 0 violations/);
  });

  it('reports an OOM kill as a result with exit code 0', async () => {
    const args = ['run', '--workload', 'swap-pressure:size=64m', '--mem', '32m', '--swap', '8m'];
    const json = await mmlab([...args, '--json', '--check']);
    expect(json.code).toBe(0);
    expect(json.err).toBe('');
    const report = JSON.parse(json.out) as {
      config: { memBytes: number; swapBytes: number };
      result: { signal: string; oom: boolean; step: string };
      metrics: { vmstat: Record<string, number> };
      invariants: { violations: unknown[] };
    };
    expect(report.config).toMatchObject({ memBytes: 32 * 2 ** 20, swapBytes: 8 * 2 ** 20 });
    expect(report.result).toMatchObject({ signal: 'SIGKILL', oom: true });
    expect(report.result.step).toMatch(/^write at \+\d+m$/);
    expect(report.metrics.vmstat.oom_kill).toBeGreaterThan(0);
    expect(report.invariants.violations).toEqual([]);
    const text = await mmlab(args);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/\nresult\s+stopped by SIGKILL, out of memory \(write at \+\d+m\)\n/);
    expect(text.out).toMatch(/\noom_kill\s+[1-9]/);
  });

  it('runs dio and prints its gup figures', async () => {
    const r = await mmlab(['run', '--workload', 'dio:procs=2:size=4m', '--mem', '64m', '--check']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/workload figures\s+value\n/);
    expect(r.out).toMatch(/\ngup_calls\s+64\n/);
    expect(r.out).toMatch(/\ngup_pages\s+4,096\n/);
    expect(r.out).toMatch(/invariants\s+[\d,]+ checks, 0 violations/);
  });

  it('runs hugetlb-shm on the pool it sizes, and shows the pool', async () => {
    const r = await mmlab(['run', '--workload', 'hugetlb-shm:procs=3:size=1g']);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(r.out).toMatch(/\nmachine x86-64 \(8 cpus\), mode sequential, memory 4g, swap 8g, huge page pool 512 x 2m \(1g\), /);
    expect(r.out).toMatch(/\nmmlab_huge_pmd_share\s+2\n/);
    expect(r.out).toMatch(/\nHugePages_Total\s+512\s+pages\n/);
    expect(r.out).toMatch(/\nHugePages_Free\s+0\s+pages at snapshot \(512 at end\)\n/);
    expect(r.out).toMatch(/\nHugePages_Rsvd\s+0\s+pages at snapshot \(0 at end\)\n/);
    expect(r.out).toMatch(/\ntables at snapshot\s+3\s+3\s+1\s+0\n/);
    expect(r.out).toMatch(/\nresult\s+completed\n/);
  });

  it('reports the ENOMEM of a pool too small (--hugepages 0) as a result, exit 0', async () => {
    const args = ['run', '--workload', 'hugetlb-shm:procs=3:size=1g', '--hugepages', '0'];
    const json = await mmlab([...args, '--json', '--check']);
    expect(json.code).toBe(0);
    expect(json.err).toBe('');
    const report = JSON.parse(json.out) as {
      config: { hugePages: number };
      result: unknown;
      invariants: { violations: unknown[] };
    };
    expect(report.config.hugePages).toBe(0);
    expect(report.result).toEqual({ errno: 'ENOMEM', oom: false, step: 'process 0: mmap 1g hugetlbfs at 512g' });
    expect(report.invariants.violations).toEqual([]);
    const text = await mmlab(args);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/\nresult\s+stopped by ENOMEM \(process 0: mmap 1g hugetlbfs at 512g\)\n/);
    expect(text.out).not.toContain('HugePages_');
  });

  it('takes --hugepages for any workload', async () => {
    const r = await mmlab(['run', '--workload', 'anon-touch:size=1m', '--hugepages=4', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out) as {
      config: { hugePages: number };
      metrics: { meminfo: Record<string, number> };
      hugePages: unknown;
    };
    expect(report.config.hugePages).toBe(4);
    expect(report.metrics.meminfo.HugePages_Total).toBe(4);
    expect(report.hugePages).toEqual({ total: 4, snapshot: { free: 4, rsvd: 0 }, end: { free: 4, rsvd: 0 } });
  });

  it('accepts --swap 0', async () => {
    const r = await mmlab(['run', '--workload', 'anon-touch:size=1m', '--mem', '16m', '--swap', '0', '--json']);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.out) as { config: { swapBytes: number } }).config.swapBytes).toBe(0);
  });
});

describe('bad usage exits 2 with one line and a usage line', () => {
  it.each([
    [['frobnicate'], /unknown command 'frobnicate'/],
    [[], /missing command/],
    [['run'], /missing --workload SPEC/],
    [['run', '--workload', 'anon-touch', '--frob'], /unknown option '--frob'/],
    [['run', '--workload'], /needs a value/],
    [
      ['run', '--workload', 'nosuch'],
      /unknown workload 'nosuch' \(known: shm-procs, anon-touch, fork-exit, swap-pressure, dio, hugetlb-shm, threads-fault, kbuild, oltp-sga, oltp-dio, xip-guests, kvm-guest, gru\)/,
    ],
    [['run', '--workload', 'anon-touch:bogus=1'], /unknown parameter 'bogus'/],
    [['run', '--workload', 'anon-touch:size=0'], /'size' must not be zero/],
    [['run', '--workload', 'threads-fault:threads=-1'], /threads-fault: 'threads' must be positive \(got -1\)/],
    [['run', '--workload', 'shm-procs:procs=-1'], /shm-procs: 'procs' must be positive \(got -1\)/],
    [['run', '--workload', 'anon-touch:size=12345'], /multiple of the page size/],
    [['run', '--workload', 'anon-touch:size=99g'], /too large/],
    [['run', '--workload', 'anon-touch', '--features', 'nope'], /unknown feature 'nope' \(known: [^)]*\bmmu-gather-inplace\b/],
    [['run', '--workload', 'anon-touch', '--seed', '-1'], /bad seed/],
    [['run', '--workload', 'anon-touch', '--machine', 'vax'], /unknown machine 'vax'/],
    [['run', '--workload', 'anon-touch', '--placement', 'random'], /bad placement/],
    [['run', '--workload', 'anon-touch', '--mem', '1x'], /bad --mem size '1x' \(expected a size such as 256m or 1g\)/],
    [['run', '--workload', 'anon-touch', '--mem', '1k'], /^mmlab: --mem 1k: memory size must be a multiple of 4 KiB and at least 16 MiB, got 1k$/m],
    [['run', '--workload', 'anon-touch', '--mem', '128g'], /--mem 128g: memory size 128g is above the model's 64 GiB limit/],
    [['run', '--workload', 'anon-touch', '--mem'], /'--mem' needs a value \(SIZE\)/],
    [['run', '--workload', 'anon-touch', '--swap', 'lots'], /bad --swap size 'lots'/],
    [['run', '--workload', 'anon-touch', '--swap', '1000'], /--swap must be a multiple of the page size 4096/],
    [['run', '--workload', 'anon-touch', '--swap', '1t'], /--swap 1t: swap size must be from 0 to 256 GiB, got 1t$/m],
    [['run', '--workload', './missing.mjs'], /cannot load workload module/],
    [['run', '--workload', 'anon-touch', '--hugepages', 'x'], /bad --hugepages 'x' \(expected a whole number/],
    [['run', '--workload', 'anon-touch', '--hugepages', '1.5'], /bad --hugepages '1.5'/],
    [['run', '--workload', 'anon-touch', '--hugepages', '-1'], /bad --hugepages '-1'/],
    [['run', '--workload', 'anon-touch', '--hugepages'], /'--hugepages' needs a value \(N\)/],
    [['run', '--workload', 'anon-touch', '--hugepages', '1025'], /hugepages must be a whole number using at most half/],
    [['run', '--workload', 'hugetlb-shm', '--hugepages', 'lots'], /bad --hugepages 'lots'/],
    [['run', '--workload', 'hugetlb-shm:size=3m'], /'size' must be a multiple of 2m \(got 3m\)/],
    [['run', '--workload', 'hugetlb-shm:size=1g', '--mem', '1g'], /needs a pool of 512 huge pages/],
    [['list'], /list what\?/],
    [['list', 'cars'], /unknown list 'cars'/],
    [['replay'], /missing capture folder/],
    [['replay', '/nonexistent/capture'], /has no readable 'smaps'/],
    [['capture', 'abc', '/tmp/x'], /bad PID 'abc'/],
    [['capture', '1'], /expected PID and DIR/],
  ])('mmlab %j', async (args, message) => {
    expectUsageError(await mmlab(args), message);
  });
});

describe('mmlab list', () => {
  it('documents the workloads and their parameters', async () => {
    const r = await mmlab(['list', 'workloads']);
    expect(r.code).toBe(0);
    for (const name of ['shm-procs', 'anon-touch', 'fork-exit', 'swap-pressure', 'dio', 'hugetlb-shm', 'threads-fault', 'kbuild', 'oltp-sga', 'oltp-dio', 'xip-guests', 'kvm-guest', 'gru']) {
      expect(r.out).toContain(`${name}\n`);
    }
    expect(r.out).toMatch(/procs\s+int\s+default 32/);
    expect(r.out).toMatch(/size\s+size\s+default 256m/);
    expect(r.out).toContain('touch-half.mjs');
    const json = JSON.parse((await mmlab(['list', 'workloads', '--json'])).out) as { name: string }[];
    expect(r.out).toMatch(/passes\s+int\s+default 2/);
    expect(r.out).toMatch(/size\s+size\s+default 512m/);
    expect(json.map((w) => w.name)).toEqual([
      'shm-procs',
      'anon-touch',
      'fork-exit',
      'swap-pressure',
      'dio',
      'hugetlb-shm',
      'threads-fault',
      'kbuild',
      'oltp-sga',
      'oltp-dio',
      'xip-guests',
      'kvm-guest',
      'gru',
    ]);
    expect(r.out).toMatch(/threads-fault\n {2}one process and THREADS-1 clone\(CLONE_VM\) threads/);
    expect(r.out).toMatch(/threads\s+int\s+default 4/);
  });

  it('prints every list as JSON, deterministically', async () => {
    for (const topic of ['machines', 'workloads', 'scenarios', 'features']) {
      const a = await mmlab(['list', topic, '--json']);
      const b = await mmlab(['list', topic, '--json']);
      expect(a.code).toBe(0);
      expect(a.err).toBe('');
      expect(Array.isArray(JSON.parse(a.out))).toBe(true);
      expect(a.out).toBe(b.out);
    }
  });

  it('lists every field of every machine profile as JSON', async () => {
    const machines = JSON.parse((await mmlab(['list', 'machines', '--json'])).out) as Record<string, unknown>[];
    expect(machines.map((m) => m.name)).toEqual(['x86-64', 'x86-64-today', 'ppc64', 's390']);
    for (const m of machines) {
      expect(Object.keys(m)).toEqual([
        'name',
        'description',
        'cpus',
        'sockets',
        'structPageSize',
        'placement',
        'memBytes',
        'tlbEntries',
        'tlbWays',
        'tlbTagged',
        'segmentBytes',
        'pteSpecial',
      ]);
    }
    expect(machines[0]).toMatchObject({ cpus: 8, sockets: 2, structPageSize: 56, tlbTagged: false, pteSpecial: true });
    expect(machines[2]).toMatchObject({ name: 'ppc64', tlbTagged: true, segmentBytes: 256 * 2 ** 20 });
    expect(machines[3]).toMatchObject({ name: 's390', pteSpecial: false });
    const text = (await mmlab(['list', 'machines'])).out;
    expect(text).toMatch(/\nppc64\s+8\s+2\s+56\s+legacy\s+4g\s+1,024\s+4\s+yes\s+256m\s+yes\n/);
    expect(text).toMatch(/\ns390\s.*\sno\n/);
  });

  it('documents hugetlb-shm, its 2m granularity and its pool', async () => {
    const json = JSON.parse((await mmlab(['list', 'workloads', '--json'])).out) as {
      name: string;
      summary: string;
      params: Record<string, { default: number; multipleOf?: number }>;
    }[];
    const w = json.find((x) => x.name === 'hugetlb-shm');
    expect(w?.params.procs?.default).toBe(8);
    expect(w?.params.size).toMatchObject({ default: 2 * 2 ** 30, multipleOf: 2 * 2 ** 20 });
    expect(w?.summary).toMatch(/--hugepages/);
  });

  it('lists machines and the feature registry', async () => {
    const machines = await mmlab(['list', 'machines']);
    expect(machines.out).toMatch(/x86-64\s+8\s+2\s+56\s+legacy/);
    const features = await mmlab(['list', 'features']);
    expect(features.code).toBe(0);
    expect(features.out).toMatch(/^mmu-gather-inplace\b/m);
    expect(features.out).toMatch(/^shared-pagetables\b/m);
    const listed = JSON.parse((await mmlab(['list', 'features', '--json'])).out) as { name: string }[];
    expect(listed.map((f) => f.name)).toEqual(['hugetlb-pagetable-ops', 'mmu-gather-inplace', 'shared-pagetables', 'mixedmap', 'mmu-notifiers']);
  });
});

describe('mmlab help and the program entry', () => {
  it('prints help', async () => {
    const r = await mmlab(['help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Usage: mmlab <command> \[options\]\n/);
    expect(r.out).toMatch(/\n {2}run \[options\] +run a workload/);
    expect((await mmlab(['help', 'run'])).out).toContain('Usage: mmlab run --workload SPEC');
  });

  it('sets the process exit code when run as a program', () => {
    const run = (args: string[]): { status: number | null; stderr: string } =>
      spawnSync(
        process.execPath,
        ['--conditions=@mmlab/source', '--import', 'tsx', join(cliRoot, 'src', 'main.ts'), ...args],
        {
          encoding: 'utf8',
          cwd: cliRoot,
        }
      );
    const bad = run(['frobnicate']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe(
      "mmlab: unknown command 'frobnicate'\nusage: mmlab run|explore|replay|capture|list|ab|matrix|merge|chart|web|help ... (mmlab help for details)\n"
    );
    expect(run(['list', 'features']).status).toBe(0);
  });
});
