/**
 * Serves the built documentation site (`docs/api`, made by `npm run docs`)
 * on this machine only (127.0.0.1) and prints its address.
 *
 *     npm run docs:serve                  # http://127.0.0.1:8080/
 *     npm run docs:serve -- --port 9000   # another port (0: any free one)
 */
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { staticServer } from '../apps/cli/src/static-server.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * A static file server for `dir` (the command line's, see
 * `apps/cli/src/static-server.ts`): a folder's `index.html` stands for the
 * folder; nothing outside `dir` is served; only GET and HEAD.
 */
export function siteServer(dir: string): Server {
  return staticServer([{ prefix: '/', dir, missing: 'docs/api has no site: run npm run docs first' }]);
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
