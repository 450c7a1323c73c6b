import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mmlab, type Outcome } from './helpers.js';

const repoRoot = realpathSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..'));

/**
 * A feature as a user writes it, with nothing installed: a plain object
 * whose install wraps the anonymous-fault seam (one `seamTable.wrap`)
 * and counts every anonymous fault TIMES more times.
 */
function countAnon(name: string, exportAs = 'export default'): string {
  return `${exportAs} {
  name: '${name}',
  summary: 'counts every anonymous fault TIMES more times',
  thread: { subject: 'a prototype', author: 'a user', date: '2008-01' },
  options: { times: { type: 'int', default: 1, min: 0, max: 10, doc: 'extra counts per fault' } },
  install(k, { times }) {
    k.seamTable.wrap('${name}', 'anonFault', (prev) => (...args) => {
      k.vm.mmlab_anon_fault += times;
      return prev(...args);
    });
  },
};
`;
}

/** The fixture modules, written to a folder outside the repository. */
const FIXTURES: Readonly<Record<string, string>> = {
  'count-anon.mjs': countAnon('count-anon'),
  'count-anon-copy.mjs': countAnon('count-anon'),
  'named.mjs': `export const helper = 1;\n${countAnon('count-named', 'export const feature =')}`,
  'other.js': countAnon('count-other'),
  'defined.mjs': `import { defineFeature } from '@mmlab/core';
export default defineFeature({
  name: 'defined',
  summary: 'made by defineFeature',
  thread: { subject: 's', author: 'a', date: '2008-01' },
  options: { on: { type: 'boolean', default: true, doc: 'on' } },
  install() {},
});
`,
  'seam-throws.mjs': `export default {
  name: 'seam-throws',
  install(k) {
    k.seamTable.wrap('seam-throws', 'anonFault', () => function* () { throw new Error('broken seam'); });
  },
};
`,
  'install-throws.mjs': `export default { name: 'install-throws', install() { throw new Error('cannot install'); } };\n`,
  'install-async.mjs': `export default { name: 'install-async', async install() {} };\n`,
  'throws.mjs': `throw new Error('kaboom\\nsecond line');\n`,
  'syntax.mjs': `export default { name: 'x',\n`,
  'imports-core.mjs': `import { defineFeature } from '@mmlab/core';\nexport default defineFeature({});\n`,
  'no-feature.mjs': `export const helper = 1;\n`,
  'empty.mjs': `\n`,
  'number.mjs': `export default 42;\n`,
  'function.mjs': `export default function install() {}\n`,
  'no-install.mjs': `export default { name: 'no-install', summary: 's' };\n`,
  'install-string.mjs': `export default { name: 'x', install: 'yes' };\n`,
  'no-name.mjs': `export default { install() {} };\n`,
  'bad-name.mjs': `export default { name: 'Count Anon', install() {} };\n`,
  'bad-option-type.mjs': `export default { name: 'x', options: { ratio: { type: 'float', default: 0.5 } }, install() {} };\n`,
  'bad-option-default.mjs': `export default { name: 'x', options: { n: { type: 'int', default: 99, max: 10 } }, install() {} };\n`,
  'bad-thread.mjs': `export default { name: 'x', thread: 'lkml', install() {} };\n`,
};

let dir = '';

beforeAll(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'mmlab-user-feature-')));
  for (const [file, text] of Object.entries(FIXTURES)) writeFileSync(join(dir, file), text);
  mkdirSync(join(dir, 'a-folder.mjs'));
  // Where a user has @mmlab/core installed, the module may use defineFeature.
  const withCore = join(dir, 'with-core');
  mkdirSync(join(withCore, 'node_modules', '@mmlab'), { recursive: true });
  symlinkSync(join(repoRoot, 'packages', 'core'), join(withCore, 'node_modules', '@mmlab', 'core'), 'dir');
  writeFileSync(join(withCore, 'defined.mjs'), FIXTURES['defined.mjs']!);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

interface JsonReport {
  features: { name: string; options: Record<string, unknown>; module?: string }[];
  metrics: { vmstat: Record<string, number> };
  invariants?: { violations: unknown[] };
}

async function runJson(args: readonly string[], cwd = dir): Promise<JsonReport> {
  const r = await mmlab(['run', '--workload', 'anon-touch:size=64k', '--json', ...args], cwd);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.out) as JsonReport;
}

function expectUsageError(r: Outcome, message: string | RegExp, command = 'run'): void {
  expect(r.code).toBe(2);
  expect(r.out).toBe('');
  const lines = r.err.trimEnd().split('\n');
  expect(lines).toHaveLength(2);
  expect(lines[0]).toMatch(/^mmlab: /);
  const text = lines[0]!.slice('mmlab: '.length);
  if (typeof message === 'string') expect(text).toBe(message);
  else expect(text).toMatch(message);
  expect(lines[1]).toMatch(new RegExp(`^usage: mmlab ${command} `));
}

describe('mmlab run --features ./module.mjs', () => {
  it('the fixtures live outside the repository', () => {
    expect(relative(repoRoot, dir).startsWith('..')).toBe(true);
  });

  it("installs a module's feature: its seam override shows in the counters, the report names it", async () => {
    const baseline = await runJson([]);
    const faults = baseline.metrics.vmstat.mmlab_anon_fault!;
    expect(faults).toBeGreaterThan(0);
    expect(baseline.features).toEqual([]);

    const report = await runJson(['--features', './count-anon.mjs:times=3', '--check']);
    expect(report.metrics.vmstat.mmlab_anon_fault).toBe(4 * faults);
    expect(report.metrics.vmstat.pgfault).toBe(baseline.metrics.vmstat.pgfault);
    expect(report.features).toEqual([{ name: 'count-anon', options: { times: 3 }, module: './count-anon.mjs' }]);
    expect(report.invariants?.violations).toEqual([]);
  });

  it('gives the declared defaults to options not written after the path', async () => {
    const baseline = await runJson([]);
    const report = await runJson(['--features', './count-anon.mjs']);
    expect(report.metrics.vmstat.mmlab_anon_fault).toBe(2 * baseline.metrics.vmstat.mmlab_anon_fault!);
    expect(report.features).toEqual([{ name: 'count-anon', options: { times: 1 }, module: './count-anon.mjs' }]);
  });

  it('prints the feature, its options and its module in the text header', async () => {
    const r = await mmlab(['run', '--workload', 'anon-touch:size=64k', '--features', './count-anon.mjs:times=2'], dir);
    expect(r.code).toBe(0);
    expect(r.out.split('\n')[1]).toMatch(/, seed 1, features count-anon:times=2 \(\.\/count-anon\.mjs\)$/);
  });

  it("takes the named 'feature' export, absolute paths, .js names and several modules in order", async () => {
    const baseline = await runJson([]);
    const named = join(dir, 'named.mjs');
    const report = await runJson(
      ['--features', `${named}:times=2,other.js:times=1`, '--features', './count-anon.mjs:times=4'],
      dir
    );
    expect(report.features).toEqual([
      { name: 'count-named', options: { times: 2 }, module: named },
      { name: 'count-other', options: { times: 1 }, module: 'other.js' },
      { name: 'count-anon', options: { times: 4 }, module: './count-anon.mjs' },
    ]);
    expect(report.metrics.vmstat.mmlab_anon_fault).toBe(8 * baseline.metrics.vmstat.mmlab_anon_fault!);
  });

  it('resolves module paths from the working directory', async () => {
    const report = await runJson(['--features', `./${relative(repoRoot, join(dir, 'count-anon.mjs'))}`], repoRoot);
    expect(report.features.map((f) => f.name)).toEqual(['count-anon']);
  });

  it('takes a defineFeature value where the module can import @mmlab/core', async () => {
    const report = await runJson(['--features', './defined.mjs:on=false'], join(dir, 'with-core'));
    expect(report.features).toEqual([{ name: 'defined', options: { on: false }, module: './defined.mjs' }]);
  });

  it('names the module when its seam code throws during the run; exit 1', async () => {
    const r = await mmlab(['run', '--workload', 'anon-touch:size=64k', '--features', './seam-throws.mjs'], dir);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toBe(
      'mmlab: in a kernel with feature modules ./seam-throws.mjs: broken seam (at ./seam-throws.mjs:4:77) (MMLAB_DEBUG=1 shows the stack)\n'
    );
  });

  it.each([
    ['install-throws.mjs', "feature 'install-throws' (./install-throws.mjs): install failed: cannot install"],
    [
      'install-async.mjs',
      "feature 'install-async' (./install-async.mjs): install returned a promise; it must override the seams synchronously",
    ],
  ])('reports a bad install of %s in one line; exit 1', async (file, message) => {
    const r = await mmlab(['run', '--workload', 'anon-touch:size=64k', '--features', `./${file}`], dir);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err.trimEnd().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(new RegExp(`^mmlab: ${message.replace(/[.()]/g, '\\$&')}`));
  });
});

describe('mmlab explore --features ./module.mjs', () => {
  it('explores a kernel with the feature; the report names it and its module', async () => {
    const args = ['explore', '--scenario', 'fault-race', '--seeds', '5', '--features', './count-anon.mjs:times=2'];
    const r = await mmlab(args, dir);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    expect(lines[0]).toMatch(/, features count-anon:times=2 \(\.\/count-anon\.mjs\)$/);
    expect(lines[1]).toBe('no violation in 5 seeds');
    const json = JSON.parse((await mmlab([...args, '--json'], dir)).out) as JsonReport;
    expect(json.features).toEqual([{ name: 'count-anon', options: { times: 2 }, module: './count-anon.mjs' }]);
  });

  it("a failing seed's reproduce command carries the module path", async () => {
    const r = await mmlab(['explore', '--scenario', 'fault-race', '--seeds', '3', '--features', './seam-throws.mjs'], dir);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^seed 1 fails: exception: broken seam/m);
    expect(r.out).toContain(
      'reproduce: mmlab explore --scenario fault-race --seed 1 --seeds 1 --features ./seam-throws.mjs\n'
    );
  });

  it('refuses a bad module with the explore usage line; exit 2', async () => {
    const r = await mmlab(['explore', '--scenario', 'fault-race', '--seeds', '3', '--features', './number.mjs'], dir);
    expectUsageError(r, /^feature module '\.\/number\.mjs': the default export is not a feature/, 'explore');
  });
});

describe('bad feature modules and sets: one line, exit 2', () => {
  const cases: [string, string[], string | ((dir: string) => string) | RegExp][] = [
    ['a missing file', ['./missing.mjs'], (d) => `feature module './missing.mjs' not found (no file ${d}/missing.mjs)`],
    ['a folder', ['./a-folder.mjs'], (d) => `feature module './a-folder.mjs' is not a file (${d}/a-folder.mjs)`],
    ['a module that throws', ['./throws.mjs'], "feature module './throws.mjs' failed to load: kaboom (at ./throws.mjs:1:7)"],
    ['a syntax error', ['./syntax.mjs'], /^feature module '\.\/syntax\.mjs' failed to load: \S/],
    [
      'an unresolvable @mmlab/core',
      ['./imports-core.mjs'],
      /^feature module '\.\/imports-core\.mjs' failed to load: .*@mmlab\/core.* \(a feature module needs no import: export a plain object \{ name, install, \.\.\. \}\)$/,
    ],
    [
      'no default or feature export',
      ['./no-feature.mjs'],
      "feature module './no-feature.mjs' has no default export and no 'feature' export (its exports: helper)",
    ],
    [
      'no export at all',
      ['./empty.mjs'],
      "feature module './empty.mjs' has no default export and no 'feature' export (it exports nothing)",
    ],
    [
      'a number',
      ['./number.mjs'],
      "feature module './number.mjs': the default export is not a feature: expected an object { name, install, ... } or a defineFeature value, got the number 42",
    ],
    [
      'a function',
      ['./function.mjs'],
      "feature module './function.mjs': the default export is not a feature: expected an object { name, install, ... } or a defineFeature value, got a function 'install'",
    ],
    [
      'an object without install',
      ['./no-install.mjs'],
      "feature module './no-install.mjs': the default export is not a feature: it has no 'install' function (got an object with keys name, summary)",
    ],
    [
      'an install that is not a function',
      ['./install-string.mjs'],
      `feature module './install-string.mjs': the default export is not a feature: 'install' must be a function, got the string "yes"`,
    ],
    [
      'no name',
      ['./no-name.mjs'],
      "feature module './no-name.mjs': the default export is not a feature: 'name' must be a string, got undefined",
    ],
    [
      'an invalid name',
      ['./bad-name.mjs'],
      "feature module './bad-name.mjs': feature name 'Count Anon' must be lower-case words joined by '-'",
    ],
    [
      'an option of an unknown type',
      ['./bad-option-type.mjs'],
      `feature module './bad-option-type.mjs': the default export is not a feature: option 'ratio': 'type' must be 'boolean', 'int' or 'enum', got the string "float"`,
    ],
    [
      'an invalid option default',
      ['./bad-option-default.mjs'],
      "feature module './bad-option-default.mjs': feature 'x': default of option 'n' is invalid: 99 is above the maximum 10",
    ],
    [
      'a malformed thread',
      ['./bad-thread.mjs'],
      `feature module './bad-thread.mjs': the default export is not a feature: 'thread' must be an object { subject, author, date }, got the string "lkml"`,
    ],
    [
      'the same module twice',
      ['./count-anon.mjs,./count-anon.mjs'],
      "feature 'count-anon' given twice (from ./count-anon.mjs and from ./count-anon.mjs)",
    ],
    [
      'two modules of one name, in two --features',
      ['./count-anon.mjs', '--features', './count-anon-copy.mjs'],
      "feature 'count-anon' given twice (from ./count-anon.mjs and from ./count-anon-copy.mjs)",
    ],
    ['an unknown option', ['./count-anon.mjs:bogus=1'], "feature 'count-anon' has no option 'bogus' (options: times)"],
    [
      'an option out of range',
      ['./count-anon.mjs:times=11'],
      "feature 'count-anon': bad value for option 'times': 11 is above the maximum 10",
    ],
    [
      'an option of the wrong type',
      ['./count-anon.mjs:times=many'],
      `feature 'count-anon': bad value for option 'times': expected an integer, got "many"`,
    ],
    [
      'an option without a value',
      ['./count-anon.mjs:times'],
      "feature './count-anon.mjs': expected key=value, got 'times'",
    ],
    ['an unknown registered name', ['count-anon'], /unknown feature 'count-anon' \(known: [^)]*\bmmu-gather-inplace\b[^)]*\)/],
  ];

  it.each(cases)('%s', async (_what, features, message) => {
    const r = await mmlab(['run', '--workload', 'anon-touch:size=64k', '--features', ...features], dir);
    expectUsageError(r, typeof message === 'function' ? message(dir) : message);
  });
});
