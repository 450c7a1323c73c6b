import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mmlab } from './helpers.js';

/** A fresh folder holding the given files. */
function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'mmlab-mod-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const dir = folder({
  'syntax.mjs': 'export default (ctx) => {\n  const a = 1;\n  let x = );\n};\n',
  'top.mjs': "const y = 1;\nthrow new Error('top boom');\nexport default () => {};\n",
  'run.mjs': "export default (ctx) => {\n  ctx.count('x');\n  throw new Error('run boom');\n};\n",
  'imports.mjs': "import './nope.mjs';\nexport default () => {};\n",
  'f-syntax.mjs': "export default {\n  name: 'x',\n  install( {\n};\n",
  'f-top.mjs': "\nthrow new Error('kaboom');\n",
  'f-install.mjs': "export default {\n  name: 'boomer',\n  install() {\n    throw new Error('install boom');\n  },\n};\n",
  'f-seam.mjs':
    "export default {\n  name: 'seamer',\n  install(kernel) {\n    kernel.seamTable.wrap('seamer', 'anonFault', () =>\n" +
    "      function* () {\n        throw new Error('seam boom');\n      });\n  },\n};\n",
});

describe("errors in user modules name the user's file and line", () => {
  it.each([
    ['a syntax error', './syntax.mjs', 2, "cannot load workload module './syntax.mjs': syntax error at ./syntax.mjs:3:11: Unexpected token ')'"],
    ['a throw at the top level', './top.mjs', 2, "cannot load workload module './top.mjs': top boom (at ./top.mjs:2:7)"],
    ['a throw while running', './run.mjs', 1, './run.mjs: run boom (at ./run.mjs:3:9)'],
    ['a missing module', './missing.mjs', 2, `cannot load workload module './missing.mjs': no file ${join(dir, 'missing.mjs')}`],
    // (Node says the absolute path of the missing import, vite under vitest the relative one)
    ['a missing import', './imports.mjs', 2, /^cannot load workload module '\.\/imports\.mjs': Cannot find module '.*nope\.mjs' imported from .*\/imports\.mjs/],
  ])('workload module with %s', async (_, spec, code, message) => {
    const r = await mmlab(['run', '--workload', spec], dir);
    expect(r.code).toBe(code);
    const line = r.err.split('\n', 1)[0]!.replace(/^mmlab: /, '');
    if (typeof message === 'string') expect(line).toBe(message);
    else expect(line).toMatch(message);
    expect(r.err).not.toMatch(/packages\/workloads|apps\/cli|node:internal/);
  });

  it.each([
    ['a syntax error', './f-syntax.mjs', 2, "feature module './f-syntax.mjs' failed to load: syntax error at ./f-syntax.mjs:4:2: Unexpected token ';'"],
    ['a throw at the top level', './f-top.mjs', 2, "feature module './f-top.mjs' failed to load: kaboom (at ./f-top.mjs:2:7)"],
    ['an install that throws', './f-install.mjs', 1, "feature 'boomer' (./f-install.mjs): install failed: install boom (at ./f-install.mjs:4:11)"],
    ['seam code that throws', './f-seam.mjs', 1, 'in a kernel with feature modules ./f-seam.mjs: seam boom (at ./f-seam.mjs:6:15)'],
  ])('feature module with %s', async (_, spec, code, message) => {
    const r = await mmlab(['run', '--workload', 'anon-touch:size=64k', '--features', spec], dir);
    expect(r.code).toBe(code);
    expect(r.err.split('\n', 1)[0]).toMatch(new RegExp(`^mmlab: ${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}( \\(MMLAB_DEBUG=1 shows the stack\\))?$`));
  });
});

describe('the same messages from the real program (Node loading the modules, not vitest)', () => {
  it('names the file and line of a syntax error and of a throw', () => {
    const cliRoot = join(import.meta.dirname, '..');
    // (from the CLI's folder, where tsx resolves; the modules by absolute path)
    const run = (name: string): { status: number | null; stderr: string } =>
      spawnSync(
        process.execPath,
        ['--conditions=@mmlab/source', '--import', 'tsx', join(cliRoot, 'src', 'main.ts'), 'run', '--workload', join(dir, name)],
        { encoding: 'utf8', cwd: cliRoot }
      );
    const file = (name: string): string => join(dir, name);
    const syntax = run('syntax.mjs');
    expect(syntax.status).toBe(2);
    expect(syntax.stderr.split('\n', 1)[0]).toBe(
      `mmlab: cannot load workload module '${file('syntax.mjs')}': syntax error at ${file('syntax.mjs')}:3:11: Unexpected token ')'`
    );
    const thrown = run('run.mjs');
    expect(thrown.status).toBe(1);
    expect(thrown.stderr).toBe(`mmlab: ${file('run.mjs')}: run boom (at ${file('run.mjs')}:3:9)\n`);
  });
});

describe('the module contract: every task a workload starts has exited when it returns', () => {
  const leaves = folder({
    'leave.mjs':
      'export default (ctx) => {\n' +
      '  const { PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS } = ctx.core;\n' +
      '  const k = ctx.kernel;\n' +
      '  const done = k.spawn();\n' +
      '  const t = k.spawn();\n' +
      '  const a = k.mmap(t, 0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);\n' +
      '  k.touch(t, a, 4096, true);\n' +
      '  k.clone(t);\n' +
      '  k.exit(done);\n' +
      '};\n',
  });

  it('reports the tasks a user module left running, exit 1, report still printed', async () => {
    const r = await mmlab(['run', '--workload', './leave.mjs', '--check'], leaves);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/\nresult\s+completed, but left 2 tasks running \(pids 2, 3\); the runner made them exit\n/);
    expect(r.out).toMatch(/invariants\s+\d+ checks, 0 violations/);
    expect(r.err).toBe(
      'mmlab: ./leave.mjs left 2 tasks running (pids 2, 3): a workload must make every task it starts exit before it returns\n'
    );
    const json = await mmlab(['run', '--workload', './leave.mjs', '--json'], leaves);
    expect(json.code).toBe(1);
    expect((JSON.parse(json.out) as { result: unknown }).result).toEqual({ leftRunning: [2, 3] });
  });
});
