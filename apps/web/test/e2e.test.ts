/**
 * End-to-end: the built app, served by `mmlab web`, in a real Chromium
 * (Debian's package, driven by playwright-core). Needs `npm run build`
 * first (`npm run check` builds before it tests) and Chromium (`.ci/run`
 * installs it; CHROMIUM_PATH names another). Screenshots go to
 * tmp/web-e2e/.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flattenMetrics, fmt, formatAbCsv, parseFeatureSet, runAb, signed, type Metrics } from '@mmlab/lab';
import type { RunReport } from '@mmlab/workloads';
import { resolveBuiltinWorkload } from '../src/experiment.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const CLI = join(ROOT, 'apps', 'cli', 'dist', 'main.js');
const APP = join(ROOT, 'apps', 'web', 'dist', 'index.html');
const OUT = join(ROOT, 'tmp', 'web-e2e');

/** Debian's chromium (or CHROMIUM_PATH); a clear failure when there is none. */
function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((p): p is string => p !== undefined && p !== '');
  const found = candidates.find((p) => existsSync(p));
  if (found === undefined) {
    throw new Error(`no Chromium for the end-to-end test (looked for ${candidates.join(', ')}): apt-get install chromium (.ci/run does), or set CHROMIUM_PATH`);
  }
  return found;
}

/** Starts `mmlab web --port 0` and reads the address it prints. */
function startServer(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [CLI, 'web', '--port', '0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((done, fail) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill();
      fail(new Error(`mmlab web printed no address in 60 s: ${out}`));
    }, 60_000);
    const read = (chunk: Buffer): void => {
      out += chunk.toString();
      const m = /^mmlab web: (http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        done({ child, url: m[1]! });
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`mmlab web exited (${String(code)}): ${out}`));
    });
  });
}

/** `mmlab run --json` of the built command, flattened as the lab flattens a run. */
function cliMetrics(workload: string, features: string, seed: number): Metrics {
  const args = [CLI, 'run', '--workload', workload, '--seed', String(seed), '--json', ...(features === 'baseline' ? [] : ['--features', features])];
  return flattenMetrics(JSON.parse(execFileSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' })) as RunReport);
}

/** The rows of a table: the row's key attribute, then each cell's text. */
function tableRows(page: Page, selector: string, key: string): Promise<{ key: string; cells: string[] }[]> {
  return page.$$eval(
    `${selector} tbody tr`,
    (rows, k) => rows.map((r) => ({ key: r.getAttribute(k) ?? '', cells: Array.from(r.children).map((c) => c.textContent.trim()) })),
    key
  );
}

/** Clicks a download link and gives the file's text. */
async function downloaded(page: Page, selector: string): Promise<string> {
  const [file] = await Promise.all([page.waitForEvent('download'), page.click(selector)]);
  return readFileSync(await file.path(), 'utf8');
}

async function waitIdle(page: Page): Promise<string> {
  await page.waitForFunction(() => !(document.querySelector('#run') as HTMLButtonElement).disabled, null, { timeout: 120_000 });
  return (await page.textContent('#status')) ?? '';
}

let browser: Browser | undefined;
let server: { child: ChildProcess; url: string } | undefined;

beforeAll(async () => {
  for (const [file, what] of [
    [CLI, 'the mmlab command'],
    [APP, 'the web app'],
  ] as const) {
    if (!existsSync(file)) throw new Error(`${what} is not built (no ${file}): run npm run build before the tests`);
  }
  const executablePath = chromiumPath();
  mkdirSync(join(OUT, 'xdg'), { recursive: true });
  server = await startServer();
  browser = await chromium.launch({
    executablePath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    env: { ...process.env, XDG_CONFIG_HOME: join(OUT, 'xdg'), XDG_CACHE_HOME: join(OUT, 'xdg') },
  });
});

afterAll(async () => {
  await browser?.close();
  server?.child.kill('SIGTERM');
});

/** Uncaught errors of each page. */
const pageErrors = new WeakMap<Page, string[]>();

async function open(query: string): Promise<Page> {
  if (browser === undefined || server === undefined) throw new Error('the browser or the server did not start');
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors: string[] = [];
  pageErrors.set(page, errors);
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${server.url}${query}`);
  await page.waitForSelector('fieldset.feature');
  return page;
}

/** Closes a page; an uncaught error in it fails the test. */
async function close(page: Page): Promise<void> {
  expect(pageErrors.get(page)).toEqual([]);
  await page.close();
}

describe('the web app in Chromium', () => {
  it('runs A against B with a proposal switched on, showing the numbers of mmlab run --json', async () => {
    const workload = 'shm-procs:procs=4:size=8m';
    const page = await open(`?w=${encodeURIComponent(workload)}&a=baseline&b=baseline&reps=1&seed=3`);
    await page.check('input[data-feature="shared-pagetables"][data-side="b"][data-on]');
    expect(new URL(page.url()).searchParams.get('b')).toBe('shared-pagetables');
    await page.click('#run');
    expect(await waitIdle(page)).toBe('done: 2 runs');
    await page.check('#all-metrics');
    const rows = await tableRows(page, '#ab-table', 'data-metric');
    const a = cliMetrics(workload, 'baseline', 3);
    const b = cliMetrics(workload, 'shared-pagetables', 3);
    const metrics = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    expect(rows.map((r) => r.key).sort()).toEqual(metrics.sort());
    const shown = (v: number | undefined): string => (v === undefined ? '—' : fmt(v));
    for (const { key, cells } of rows) {
      expect([key, cells[1], cells[2]]).toEqual([key, shown(a[key]), shown(b[key])]);
      if (a[key] !== undefined && b[key] !== undefined) expect([key, cells[3]]).toEqual([key, signed(b[key] - a[key])]);
    }
    expect(b['meminfo.PageTables']).toBeLessThan(a['meminfo.PageTables']!);
    // the CSV the page offers is the lab's report of the same comparison
    const csv = await downloaded(page, 'a.download:text("CSV")');
    const lab = await runAb({ a: parseFeatureSet('baseline'), b: parseFeatureSet('shared-pagetables'), workload, reps: 1, firstSeed: 3, settings: { machine: 'x86-64', mode: 'sequential', preempt: false } });
    expect(csv).toBe(formatAbCsv(lab));
    await page.waitForSelector('figure[data-chart="key figures"] svg');
    await page.screenshot({ path: join(OUT, 'ab.png'), fullPage: true });

    // the link reproduces the experiment
    const again = await open(new URL(page.url()).search);
    expect(await again.isChecked('input[data-feature="shared-pagetables"][data-side="b"][data-on]')).toBe(true);
    expect(await again.textContent('#command')).toBe(`mmlab ab --workload ${workload} --a baseline --b shared-pagetables --reps 1 --seed 3`);
    // a showcase button sets up what npm start compares
    await again.click('button.showcase:text("mmu-notifiers")');
    expect(await again.textContent('#command')).toBe(
      'mmlab ab --workload kvm-guest:guest=24m:host=24m --a baseline --b mmu-notifiers --mem 32m --swap 64m --reps 1 --seed 3'
    );
    expect(await again.isChecked('input[data-feature="mmu-notifiers"][data-side="b"][data-on]')).toBe(true);
    await close(again);
    await close(page);
  });

  it('loads a results file of mmlab matrix and shows its sets, effects and heat map', async () => {
    const file = join(OUT, 'results.jsonl');
    rmSync(file, { force: true });
    execFileSync(process.execPath, [CLI, 'matrix', '--workloads', 'fork-exit:procs=2:size=1m', '--features', 'mmu-gather-inplace,shared-pagetables', '--reps', '2', '--out', file], { cwd: ROOT, stdio: 'ignore' });
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { features: string; metrics: Metrics });
    const page = await open('?metric=sim.ns');
    await page.setInputFiles('#results-file', file);
    await page.waitForSelector('#sets-table');
    expect(await page.textContent('#status')).toBe('loaded results.jsonl: 8 cells');
    const sets = await tableRows(page, '#sets-table', 'data-set');
    expect(sets.map((s) => s.key).sort()).toEqual(['baseline', 'mmu-gather-inplace', 'mmu-gather-inplace,shared-pagetables', 'shared-pagetables']);
    for (const s of sets) {
      const values = lines.filter((l) => l.features === s.key).map((l) => l.metrics['sim.ns']!);
      expect([s.key, s.cells[1]]).toEqual([s.key, fmt(values.reduce((x, y) => x + y, 0) / values.length)]);
    }
    expect(await page.$$('table.effects tr[data-kind="interaction"]')).toHaveLength(1);
    const again = await downloaded(page, 'a.download:text("results.jsonl")');
    expect(again.trim().split('\n').sort()).toEqual(readFileSync(file, 'utf8').trim().split('\n').sort());
    await page.waitForSelector('figure[data-chart="effects heat map"] svg');
    await page.screenshot({ path: join(OUT, 'matrix.png'), fullPage: true });

    // a foreign file: a clear message, nothing shown
    await page.setInputFiles('#results-file', { name: 'package.json', mimeType: 'application/json', buffer: Buffer.from('{"name":"x"}\n') });
    await page.waitForSelector('#message:not([hidden])');
    expect(await page.textContent('#message')).toBe('package.json:1: not an mmlab results line (format missing)');
    expect(await page.$('#sets-table')).toBeNull();
    await close(page);
  });

  it('shows the message of an invalid parameter and does not run', async () => {
    const page = await open('?w=shm-procs:procs=4:size=8m&reps=1');
    await page.fill('input[data-param="procs"]', '0');
    await page.waitForSelector('#message:not([hidden])');
    const expected = (() => {
      try {
        resolveBuiltinWorkload('shm-procs:procs=0:size=8m');
      } catch (err) {
        return (err as Error).message;
      }
      return 'no error';
    })();
    expect(await page.textContent('#message')).toBe(expected);
    await page.click('#run');
    expect(await page.textContent('#status')).toBe('not run: fix the input first');
    await page.fill('input[data-param="procs"]', '2');
    await page.check('input[data-feature="mmu-gather-inplace"][data-side="b"][data-on]');
    await page.fill('input[data-feature="mmu-gather-inplace"][data-side="b"][data-option="walkNs"]', 'abc');
    expect(await page.textContent('#message')).toMatch(/^set B: .*walkNs.*abc/);
    await page.screenshot({ path: join(OUT, 'invalid.png'), fullPage: true });
    await close(page);

    const link = await open('?reps=many&w=no-such-workload');
    expect(await link.textContent('#message')).toMatch(/^link parameter 'reps': expected a whole number from 1 to 20, got 'many'unknown workload 'no-such-workload'/);
    await close(link);
  });

  it('cancels a long run, then runs again; records and downloads a trace', async () => {
    const page = await open('?w=shm-procs:procs=32:size=256m&b=shared-pagetables&reps=5');
    await page.click('#run');
    await page.waitForFunction(() => (document.querySelector('#status')?.textContent ?? '').startsWith('running'));
    await page.click('#cancel');
    expect(await page.textContent('#status')).toBe('cancelled');
    expect(await page.isEnabled('#run')).toBe(true);
    await page.fill('input[data-param="procs"]', '2');
    await page.fill('input[data-param="size"]', '1m');
    await page.fill('#reps', '1');
    await page.selectOption('#mode', 'timed');
    await page.click('#trace');
    expect(await waitIdle(page)).toBe('trace recorded');
    await page.waitForSelector('figure[data-chart="timeline"] svg');
    await page.screenshot({ path: join(OUT, 'trace.png'), fullPage: true });
    const trace = JSON.parse(await downloaded(page, '#trace-download')) as { traceEvents: { ph: string; tid: number }[] };
    expect(trace.traceEvents.some((e) => e.ph === 'X')).toBe(true);
    await page.click('#run');
    expect(await waitIdle(page)).toBe('done: 2 runs');

    // page-table memory against processes
    await page.check('input[name="view"][value="sweep"]');
    await page.fill('#sweep', 'procs=1,2,4');
    await page.click('#run');
    expect(await waitIdle(page)).toBe('done: 6 runs');
    const rows = await tableRows(page, '#sweep-table', 'data-metric');
    expect(rows.filter((r) => r.key === 'meminfo.PageTables').map((r) => r.cells[1])).toEqual(['1', '2', '4']);
    await page.waitForSelector('figure[data-chart="against the parameter"] svg');
    await page.screenshot({ path: join(OUT, 'sweep.png'), fullPage: true });
    await close(page);
  });
});
