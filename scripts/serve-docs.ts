/**
 * Serves the built documentation site (`docs/api`, made by `npm run docs`)
 * on this machine only (127.0.0.1) and prints its address.
 *
 *     npm run docs:serve                  # http://127.0.0.1:8080/
 *     npm run docs:serve -- --port 9000   # another port (0: any free one)
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { dirname, extname, join, normalize, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.md': 'text/markdown; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
};

/**
 * A static file server for `dir`: a folder's `index.html` stands for the
 * folder; nothing outside `dir` is served; only GET and HEAD.
 */
export function siteServer(dir: string): Server {
  const base = normalize(dir);
  return createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      res.writeHead(400).end('bad request\n');
      return;
    }
    let file = normalize(join(base, path));
    const rel = relative(base, file);
    if (rel.startsWith('..') || rel.split(sep).includes('..')) {
      res.writeHead(403).end('forbidden\n');
      return;
    }
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`not found: ${path}\n`);
      return;
    }
    const body = readFileSync(file);
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': body.length });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
}

function main(): void {
  const dir = join(ROOT, 'docs', 'api');
  if (!existsSync(join(dir, 'index.html'))) {
    process.stderr.write('docs/api has no site: run npm run docs first\n');
    process.exit(1);
  }
  const i = process.argv.indexOf('--port');
  const port = i < 0 ? 8080 : Number(process.argv[i + 1]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`--port: not a port number: ${process.argv[i + 1] ?? ''}\n`);
    process.exit(2);
  }
  const server = siteServer(dir);
  server.on('error', (err) => {
    process.stderr.write(`docs:serve: ${err.message}\n`);
    process.exit(1);
  });
  server.listen(port, '127.0.0.1', () => {
    const addr = server.address();
    const actual = typeof addr === 'object' && addr !== null ? addr.port : port;
    process.stdout.write(`mmlab documentation: http://127.0.0.1:${actual}/ (Ctrl-C stops)\n`);
  });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
