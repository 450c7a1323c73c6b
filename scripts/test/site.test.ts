/**
 * The site checks of `scripts/check-site.ts` (run by `npm run docs` on the
 * built site) find broken links and anchors, and `npm run docs:serve`'s
 * server serves a site's files on 127.0.0.1 and nothing outside it.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokenLinks, packagesNotLinkingCore } from '../check-site.js';
import { siteServer } from '../serve-docs.js';

const site = mkdtempSync(join(tmpdir(), 'mmlab-site-'));
mkdirSync(join(site, 'documents'));
mkdirSync(join(site, 'functions'));
writeFileSync(join(site, 'index.html'), '<a href="documents/a.html#part">a</a> <a href="https://example.org/">out</a> <a href="#top">top</a><div id="top"></div>');
writeFileSync(join(site, 'documents', 'a.html'), '<h2 id="part">x</h2><a href="../functions/_mmlab_core.f.html">f</a><a href="../functions/gone.html">gone</a><a href="../index.html#nowhere">nowhere</a>');
writeFileSync(join(site, 'functions', '_mmlab_core.f.html'), '<p>f</p>');
writeFileSync(join(site, 'functions', '_mmlab_feat.g.html'), '<a href="_mmlab_core.f.html">core</a>');
writeFileSync(join(site, 'functions', '_mmlab_lonely.h.html'), '<p>h</p>');

afterAll(() => {
  rmSync(site, { recursive: true, force: true });
});

describe('scripts/check-site.ts', () => {
  it('reports missing files and missing anchors, not external links', () => {
    expect(brokenLinks(site)).toEqual(['documents/a.html: ../functions/gone.html (no such file)', 'documents/a.html: ../index.html#nowhere (no anchor #nowhere in index.html)']);
  });

  it('reports a package whose pages never link to the core', () => {
    expect(packagesNotLinkingCore(site)).toEqual(['_mmlab_lonely']);
  });
});

describe('scripts/serve-docs.ts', () => {
  const server = siteServer(site);
  let url = '';
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('serves the index for / and pages by path, with their type', async () => {
    const index = await fetch(`${url}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/text\/html/);
    expect(await index.text()).toContain('documents/a.html');
    const page = await fetch(`${url}/documents/a.html`);
    expect(await page.text()).toContain('id="part"');
  });

  it('answers 404 for a missing file and never serves outside the site', async () => {
    expect((await fetch(`${url}/documents/none.html`)).status).toBe(404);
    expect((await fetch(`${url}/%2e%2e/%2e%2e/etc/passwd`)).status).toBeGreaterThanOrEqual(403);
    expect((await fetch(`${url}/`, { method: 'POST' })).status).toBe(405);
  });
});
