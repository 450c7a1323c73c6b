import { describe, expect, it } from 'vitest';
import { formatNumber, formatTable } from '../src/format/table.js';
import { mmlab } from './helpers.js';

describe('option parsing (commander)', () => {
  it('reads values, repeated --features, negations and inline values', async () => {
    const r = await mmlab([
      'run',
      '--workload=anon-touch:size=64k',
      '--features',
      'mmu-gather-inplace',
      '--features=hugetlb-pagetable-ops',
      '--preempt',
      '--no-preempt',
      '--json',
    ]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out) as { features: { name: string }[]; config: { preempt: boolean } };
    expect(report.features.map((f) => f.name)).toEqual(['mmu-gather-inplace', 'hugetlb-pagetable-ops']);
    expect(report.config.preempt).toBe(false);
  });

  it.each([
    [['--zzzzzz'], /^mmlab: unknown option '--zzzzzz'$/m],
    [['-x'], /^mmlab: unknown option '-x'$/m],
    [['--no-json'], /unknown option '--no-json'/],
    [['--jsno'], /^mmlab: unknown option '--jsno' \(did you mean --json\?\)$/m],
    [['--chek'], /unknown option '--chek' \(did you mean --check\?\)/],
    [['--seed'], /^mmlab: option '--seed' needs a value \(N\)$/m],
    [['--seed', '--check'], /^mmlab: option '--seed' needs a value \(N\)$/m],
    [['--json=1'], /unknown option '--json=1'/],
    [['--seed', '1', '--seed', '2'], /option '--seed' given twice/],
    [['extra'], /unexpected argument 'extra'/],
  ])('mmlab run --workload anon-touch %j exits 2', async (args, msg) => {
    const r = await mmlab(['run', '--workload', 'anon-touch:size=64k', ...args]);
    expect(r.code).toBe(2);
    // with --json among the arguments, the usage error is also on stdout as JSON
    if (args.includes('--json')) expect(JSON.parse(r.out)).toMatchObject({ error: { kind: 'usage' } });
    else expect(r.out).toBe('');
    expect(r.err).toMatch(msg);
    expect(r.err).toMatch(/\nusage: mmlab run --workload SPEC /);
  });

  it('suggests a subcommand for a mistyped one', async () => {
    const r = await mmlab(['rnu', '--workload', 'anon-touch']);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      "mmlab: unknown command 'rnu' (did you mean run?)\nusage: mmlab run|explore|replay|capture|list|ab|matrix|merge|chart|web|help ... (mmlab help for details)\n"
    );
  });

  it('prints generated help for the program and each command, exit 0', async () => {
    const top = await mmlab(['--help']);
    expect(top.code).toBe(0);
    expect(top.out).toMatch(/^Usage: mmlab <command> \[options\]/);
    for (const name of ['run', 'explore', 'replay', 'capture', 'list', 'help']) {
      expect(top.out).toMatch(new RegExp(`\\n  ${name}\\b`));
    }
    expect(top.out).toContain('Exit codes: 0 success, 1 failure');
    const run = await mmlab(['help', 'run']);
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/^Usage: mmlab run --workload SPEC /);
    expect(run.out).toMatch(/\n {2}--trace-events <N> +most events in the trace/);
    expect((await mmlab(['run', '--help'])).out).toBe(run.out);
    expect((await mmlab(['explore', '-h'])).out).toMatch(/^Usage: mmlab explore --scenario NAME --seeds N/);
  });

  it('prints the version, exit 0', async () => {
    const r = await mmlab(['--version']);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(r.out).toMatch(/^mmlab \d+\.\d+\.\d+ \(@mmlab\/core \d+\.\d+\.\d+, model of Linux 2\.6\.24\)\n$/);
    expect((await mmlab(['-V'])).out).toBe(r.out);
  });
});

describe('formatTable', () => {
  it('aligns text left and numbers right', () => {
    const t = formatTable(
      [
        ['pgfault', 65536],
        ['nr_page_table_pages', 129],
      ],
      ['counter', 'value']
    );
    expect(t).toBe(
      'counter               value\n' +
        '-------------------  ------\n' +
        'pgfault              65,536\n' +
        'nr_page_table_pages     129\n'
    );
  });
  it('groups digits', () => {
    expect(formatNumber(16777216)).toBe('16,777,216');
    expect(formatNumber(-1234.5)).toBe('-1,234.500');
    expect(formatNumber(12)).toBe('12');
  });
});

describe('unknown names: one line naming the token, a suggestion when one is close, exit 2', () => {
  it.each([
    [['run', '--workload', 'anon-tuoch'], /^mmlab: unknown workload 'anon-tuoch' \(did you mean anon-touch\? known: /],
    [['run', '--workload', 'shm-procs:proc=2'], /^mmlab: shm-procs: unknown parameter 'proc' \(did you mean procs\? known: procs, size\)$/m],
    [['run', '--workload', 'anon-touch', '--features', 'mmu-gather-inplac'], /^mmlab: unknown feature 'mmu-gather-inplac' \(did you mean mmu-gather-inplace\? known: /],
    [['run', '--workload', 'anon-touch', '--machine', 'x86_64'], /^mmlab: unknown machine 'x86_64' \(did you mean x86-64\? known: /],
    [['explore', '--scenario', 'fault-rcae', '--seeds', '1'], /^mmlab: unknown scenario 'fault-rcae' \(did you mean fault-race\? known: /],
    [['list', 'workload'], /^mmlab: unknown list 'workload' \(did you mean workloads\? known: workloads, scenarios, machines, features\)$/m],
  ])('mmlab %j', async (args, message) => {
    const r = await mmlab(args);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(message);
    expect(r.err.trimEnd().split('\n')).toHaveLength(2);
  });
});
