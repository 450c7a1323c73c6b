import { describe, expect, it } from 'vitest';
import { parseArgs, type OptionSpec } from '../src/argv.js';
import { UsageError } from '../src/errors.js';
import { formatNumber, formatTable } from '../src/format/table.js';

const SPECS: Record<string, OptionSpec> = {
  workload: { kind: 'value' },
  features: { kind: 'value', multiple: true },
  preempt: { kind: 'flag', negatable: true },
  json: { kind: 'flag' },
};

describe('parseArgs', () => {
  it('reads values, flags, negations and positionals', () => {
    const p = parseArgs(
      ['--workload', 'anon-touch', '--features=a,b', '--features', 'c', '--no-preempt', '--json', 'x', '--', '--y'],
      SPECS,
      'usage'
    );
    expect(p.values.get('workload')).toEqual(['anon-touch']);
    expect(p.values.get('features')).toEqual(['a,b', 'c']);
    expect(p.flags.get('preempt')).toBe(false);
    expect(p.flags.get('json')).toBe(true);
    expect(p.positionals).toEqual(['x', '--y']);
  });
  it.each([
    [['--nope'], /unknown option '--nope'/],
    [['-x'], /unknown option '-x'/],
    [['--no-json'], /unknown option '--no-json'/],
    [['--workload'], /needs a value/],
    [['--workload', '--json'], /needs a value/],
    [['--json=1'], /takes no value/],
    [['--workload', 'a', '--workload', 'b'], /given twice/],
  ])('refuses %j', (args, msg) => {
    expect(() => parseArgs(args, SPECS, 'usage: x')).toThrow(UsageError);
    expect(() => parseArgs(args, SPECS, 'usage: x')).toThrow(msg);
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
