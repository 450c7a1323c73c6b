/**
 * Checks the built documentation site (`docs/api`, `npm run docs` runs this
 * after typedoc):
 *
 * - no broken link: every relative `href` and `src` of every page names a
 *   file of the site, and every `#anchor` into a page names an `id` there;
 * - search finds kernel names: for every exported function of
 *   `packages/core/src/mm/` that the site documents, searching the search
 *   box's index for the first kernel function its `@see` names (as the
 *   search box does, `*copy_page_range*`) returns it;
 * - cross-package links: every package other than the core links into the
 *   core's pages (a feature's types link to the core's).
 *
 *     npx tsx scripts/check-site.ts [SITE_DIR]
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, posix, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { inflateSync } from 'node:zlib';
import { mmFunctions } from './check-see.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Every file of the site, relative, with `/`. */
function siteFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((f) => f.split('\\').join('/'));
}

const ids = new Map<string, Set<string>>();
function idsOf(dir: string, page: string): Set<string> {
  let set = ids.get(page);
  if (set === undefined) {
    set = new Set([...readFileSync(join(dir, page), 'utf8').matchAll(/\s(?:id|name)="([^"]+)"/g)].map((m) => m[1]!));
    ids.set(page, set);
  }
  return set;
}

/** The broken links of a site: `page: link (why)`. */
export function brokenLinks(dir: string): string[] {
  ids.clear();
  const files = new Set(siteFiles(dir));
  const out: string[] = [];
  for (const page of [...files].filter((f) => f.endsWith('.html')).sort()) {
    const html = readFileSync(join(dir, page), 'utf8');
    for (const m of html.matchAll(/\s(?:href|src)="([^"]*)"/g)) {
      const link = m[1]!.replaceAll('&amp;', '&');
      if (/^[a-z][a-z0-9+.-]*:/i.test(link) || link.startsWith('//')) continue;
      const [pathPart = '', hash] = link.split('#', 2);
      const path = decodeURIComponent(pathPart.split('?')[0]!);
      const target = path === '' ? page : posix.normalize(posix.join(posix.dirname(page), path));
      if (!files.has(target)) {
        out.push(`${page}: ${link} (no such file)`);
        continue;
      }
      if (hash !== undefined && hash !== '' && target.endsWith('.html') && !idsOf(dir, target).has(decodeURIComponent(hash))) {
        out.push(`${page}: ${link} (no anchor #${hash} in ${target})`);
      }
    }
  }
  return out;
}

/** What the search box holds: one row per result, and the lunr index. */
interface SearchData {
  readonly rows: readonly { readonly name: string; readonly url: string }[];
  readonly index: unknown;
}

interface LunrIndex {
  search(q: string): { ref: string }[];
}

/** The search box's index of a site. */
function searchData(dir: string): SearchData {
  const js = readFileSync(join(dir, 'assets', 'search.js'), 'utf8');
  const b64 = js.slice(js.indexOf('"') + 1, js.lastIndexOf('"'));
  return JSON.parse(inflateSync(Buffer.from(b64, 'base64')).toString('utf8')) as SearchData;
}

const loaded = new Map<string, { data: SearchData; index: LunrIndex }>();

/** Searches a site as its search box does (`*word*` for each word); returns the names of the results. */
export function search(dir: string, query: string): string[] {
  let site = loaded.get(dir);
  if (site === undefined) {
    const data = searchData(dir);
    // typedoc's own lunr, so that the index format matches
    const lunr = createRequire(fileURLToPath(import.meta.resolve('typedoc')))('lunr') as { Index: { load(i: unknown): LunrIndex } };
    site = { data, index: lunr.Index.load(data.index) };
    loaded.set(dir, site);
  }
  const q = query.split(' ').map((w) => `*${w}*`).join(' ');
  const { data, index } = site;
  return index.search(q).map((r) => data.rows[Number(r.ref)]!.name);
}

/** Core mm functions the site documents that the search for their kernel name misses. */
export function kernelSearchMisses(dir: string): string[] {
  const documented = new Set(searchData(dir).rows.map((r) => r.name));
  const out: string[] = [];
  for (const e of mmFunctions()) {
    const kernel = e.functions[0];
    if (!documented.has(e.name) || kernel === undefined) continue;
    if (!search(dir, kernel).includes(e.name)) out.push(`${e.name}: searching ${kernel} does not find it`);
  }
  return out;
}

/** Packages (other than the core) whose pages never link to a core page. */
export function packagesNotLinkingCore(dir: string): string[] {
  const files = siteFiles(dir).filter((f) => f.endsWith('.html'));
  const pkgs = new Set(files.map((f) => /(?:^|\/)(_mmlab_[a-z0-9-]+)[.]/.exec(f)?.[1]).filter((p): p is string => p !== undefined && p !== '_mmlab_core'));
  return [...pkgs].filter((p) => !files.some((f) => f.includes(`${p}.`) && /href="[^"]*_mmlab_core\./.test(readFileSync(join(dir, f), 'utf8')))).sort();
}

function main(): void {
  const dir = process.argv[2] ?? join(ROOT, 'docs', 'api');
  if (!existsSync(join(dir, 'index.html'))) {
    process.stderr.write(`${relative(ROOT, dir)}: no site (run npm run docs)\n`);
    process.exit(1);
  }
  const problems = [...brokenLinks(dir), ...kernelSearchMisses(dir), ...packagesNotLinkingCore(dir).map((p) => `${p}: no link into the core's pages`)];
  for (const p of problems) process.stderr.write(`${p}\n`);
  if (problems.length > 0) process.exit(1);
  process.stdout.write(`site ${relative(ROOT, dir)}: ${siteFiles(dir).filter((f) => f.endsWith('.html')).length} pages, links, kernel-name search and cross-package links checked\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
