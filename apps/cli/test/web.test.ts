import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultWebFolders, webCommand } from '../src/commands/web.js';
import { memoryIo } from '../src/io.js';
import { mmlab } from './helpers.js';

/** An app folder and a site folder with one page each. */
function folders(): { dir: string; app: string; docs: string } {
  const dir = mkdtempSync(join(tmpdir(), 'mmlab-web-'));
  const app = join(dir, 'app');
  const docs = join(dir, 'site');
  mkdirSync(join(app, 'assets'), { recursive: true });
  mkdirSync(join(docs, 'documents'), { recursive: true });
  writeFileSync(join(app, 'index.html'), '<!doctype html><title>app</title>');
  writeFileSync(join(app, 'assets', 'main.js'), 'export {};');
  writeFileSync(join(docs, 'index.html'), '<title>site</title>');
  writeFileSync(join(docs, 'documents', 'web.html'), '<title>web</title>');
  writeFileSync(join(dir, 'secret.txt'), 'not served');
  return { dir, app, docs };
}

describe('mmlab web', () => {
  it('serves the app and the site on 127.0.0.1, prints the address, and stops', async () => {
    const f = folders();
    const io = memoryIo(f.dir);
    let stop = (): void => undefined;
    const stopped = new Promise<void>((done) => (stop = done));
    const running = webCommand({ port: '0', app: 'app', docs: 'site' }, io, () => stopped);
    await expect.poll(() => io.out, { timeout: 10_000 }).toMatch(/^mmlab web: http:\/\/127\.0\.0\.1:\d+\/\n/);
    const url = /^mmlab web: (\S+)/.exec(io.out)![1]!;
    expect(io.out).toContain(`documentation site: ${url}docs/\n`);
    const index = await fetch(url);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await index.text()).toContain('<title>app</title>');
    expect((await fetch(`${url}assets/main.js`)).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await (await fetch(`${url}docs/documents/web.html`)).text()).toContain('<title>web</title>');
    const bare = await fetch(`${url}docs`, { redirect: 'manual' });
    expect([bare.status, bare.headers.get('location')]).toEqual([301, '/docs/']);
    expect((await fetch(`${url}nothing.html`)).status).toBe(404);
    expect((await fetch(`${url}%2e%2e/secret.txt`)).status).toBeGreaterThanOrEqual(403);
    expect((await fetch(url, { method: 'POST' })).status).toBe(405);
    stop();
    expect(await running).toBe(0);
    await expect(fetch(url)).rejects.toThrow();
  });

  it('says when the site is not built', async () => {
    const f = folders();
    const io = memoryIo(f.dir);
    let stop = (): void => undefined;
    const running = webCommand({ port: '0', app: 'app', docs: 'no-site' }, io, () => new Promise<void>((done) => (stop = done)));
    await expect.poll(() => io.out, { timeout: 10_000 }).toContain('Ctrl-C stops the server.');
    expect(io.out).toContain("documentation site not built (npm run docs): the pages' docs links need it\n");
    const url = /^mmlab web: (\S+)/.exec(io.out)![1]!;
    const page = await fetch(`${url}docs/documents/web.html`);
    expect([page.status, await page.text()]).toEqual([404, 'the documentation site is not built: run npm run docs, then reload\n']);
    stop();
    await running;
  });

  it('refuses a bad port, an app that is not built and a port in use', async () => {
    const f = folders();
    expect(await mmlab(['web', '--port', 'http'], f.dir)).toEqual({
      code: 2,
      out: '',
      err: "mmlab: bad --port 'http' (expected an integer from 0 to 65535)\nusage: mmlab web [--port N] [--app DIR] [--docs DIR]\n",
    });
    const none = await mmlab(['web', '--app', 'site-less', '--port', '0'], f.dir);
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/^mmlab: the web app is not built \(no .*site-less\/index\.html\): run npm run build first\n/);
    const io = memoryIo(f.dir);
    let stop = (): void => undefined;
    const first = webCommand({ port: '0', app: 'app', docs: 'site' }, io, () => new Promise<void>((done) => (stop = done)));
    await expect.poll(() => io.out, { timeout: 10_000 }).toContain('Ctrl-C');
    const port = /:(\d+)\//.exec(io.out)![1]!;
    const taken = await mmlab(['web', '--app', 'app', '--port', port], f.dir);
    expect(taken.code).toBe(2);
    expect(taken.err).toContain(`mmlab: port ${port} is in use (--port N picks another, 0 any free one)\n`);
    stop();
    await first;
  });

  it('finds the app of the workspace by default', () => {
    const d = defaultWebFolders();
    expect(d.app).toMatch(/apps[/\\]web[/\\]dist$/);
    expect(d.docs).toMatch(/docs[/\\]api$/);
  });

  it('is in the command list and has help', async () => {
    const help = await mmlab(['help', 'web']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('Serves the browser app on 127.0.0.1');
    expect(help.out).toContain('--port <N>');
  });
});
