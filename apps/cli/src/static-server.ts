/**
 * A static file server for built sites (the web app, the documentation
 * site): folders under URL prefixes, on whatever address the caller
 * listens on.
 * @module
 */

import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize, relative, sep } from 'node:path';

/** Content types of the files the app and the site are made of. */
const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.md': 'text/markdown; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
};

/** A folder served under a path prefix. */
export interface Mount {
  /** The URL prefix, starting and ending with `/`. */
  readonly prefix: string;
  /** The folder. */
  readonly dir: string;
  /** What to say when the folder is missing (it is not built). */
  readonly missing: string;
}

/**
 * A static file server over mounts (the longest matching prefix wins): a
 * folder's `index.html` stands for the folder; nothing outside a mount's
 * folder is served; only GET and HEAD.
 * @param mounts - the folders and their prefixes
 */
export function staticServer(mounts: readonly Mount[]): Server {
  const ordered = [...mounts].sort((a, b) => b.prefix.length - a.prefix.length);
  return createServer((req, res) => {
    const text = (code: number, body: string): void => {
      res.writeHead(code, { 'content-type': 'text/plain; charset=utf-8' }).end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    } catch {
      text(400, 'bad request\n');
      return;
    }
    if (ordered.some((m) => `${path}/` === m.prefix)) {
      res.writeHead(301, { location: `${path}/` }).end();
      return;
    }
    const mount = ordered.find((m) => path.startsWith(m.prefix));
    if (mount === undefined) {
      text(404, `not found: ${path}\n`);
      return;
    }
    if (!existsSync(mount.dir)) {
      text(404, `${mount.missing}\n`);
      return;
    }
    const base = normalize(mount.dir);
    let file = normalize(join(base, path.slice(mount.prefix.length)));
    const rel = relative(base, file);
    if (rel.startsWith('..') || rel.split(sep).includes('..')) {
      text(403, 'forbidden\n');
      return;
    }
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!existsSync(file) || !statSync(file).isFile()) {
      text(404, `not found: ${path}\n`);
      return;
    }
    const body = readFileSync(file);
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': body.length,
      'cache-control': 'no-cache',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
}
