/**
 * `mmlab web [--port N]`: serves the browser app (`@mmlab/web`, built by
 * `npm run build`) on this machine only (127.0.0.1), with the
 * documentation site (`npm run docs`) under `docs/` when it is built, and
 * prints the address. The app needs no server beyond static files: the
 * model runs in the browser.
 * @module
 */

import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import type { Io } from '../io.js';
import { defineCommand, single, type CliContext } from '../program.js';
import { staticServer } from '../static-server.js';
import { usageLine } from '../usage.js';

/** `mmlab web` arguments. */
export const WEB_ARGS = '[--port N] [--app DIR] [--docs DIR]';

/** `mmlab web` usage. */
export const WEB_USAGE = usageLine('web', WEB_ARGS);

/** `mmlab web` help. */
export const WEB_HELP = `Serves the browser app on 127.0.0.1 and prints its address; Ctrl-C stops.
In the page you switch proposals on and off in an A and a B column, pick a
workload, a machine and the kernel settings, and run: the model runs in
the browser (a Web Worker), the page shows every metric that changes with
its interval, charts, the matrix of B's features with its interaction
effects, and the trace of one run. The address holds the experiment: a link
reproduces it. The app is built by npm run build (--app DIR serves another
build); the documentation site (npm run docs) is served under /docs/ when
it is built (--docs DIR serves another).`;

/** The port `mmlab web` listens on unless told. */
export const DEFAULT_WEB_PORT = 8081;

/** Where the app and the documentation site are. */
export interface WebFolders {
  /** The built app (`index.html` and its assets). */
  readonly app: string;
  /** The built documentation site. */
  readonly docs: string;
}

/**
 * The folders `mmlab web` serves by default: the build of `@mmlab/web`
 * and the documentation site of the checkout it belongs to.
 */
export function defaultWebFolders(): WebFolders {
  let pkg: string;
  try {
    pkg = dirname(createRequire(import.meta.url).resolve('@mmlab/web/package.json'));
  } catch {
    throw new UsageError('the web app (@mmlab/web) is not installed: run npm ci && npm run build in the mmlab checkout', WEB_USAGE);
  }
  return { app: join(pkg, 'dist'), docs: join(pkg, '..', '..', 'docs', 'api') };
}

/** A running server of the app. */
export interface WebServer {
  /** The app's address (`http://127.0.0.1:PORT/`). */
  readonly url: string;
  /** Stops the server. */
  close(): Promise<void>;
}

/**
 * Starts the app's server on 127.0.0.1.
 * @param port - the port (0: any free one)
 * @param folders - the app and the documentation site
 * @throws {@link UsageError} when the app is not built or the port is taken
 */
export async function startWebServer(port: number, folders: WebFolders): Promise<WebServer> {
  if (!existsSync(join(folders.app, 'index.html'))) {
    throw new UsageError(`the web app is not built (no ${join(folders.app, 'index.html')}): run npm run build first`, WEB_USAGE);
  }
  const server = staticServer([
    { prefix: '/', dir: folders.app, missing: 'the web app is not built: run npm run build' },
    { prefix: '/docs/', dir: folders.docs, missing: 'the documentation site is not built: run npm run docs, then reload' },
  ]);
  await new Promise<void>((done, fail) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      fail(
        err.code === 'EADDRINUSE'
          ? new UsageError(`port ${port} is in use (--port N picks another, 0 any free one)`, WEB_USAGE)
          : new UsageError(`cannot listen on 127.0.0.1:${port}: ${err.message}`, WEB_USAGE)
      );
    });
    server.listen(port, '127.0.0.1', done);
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}/`,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => {
          done();
        });
        server.closeAllConnections();
      }),
  };
}

/** The options of `mmlab web` as given. */
export interface WebOptions {
  readonly port?: string;
  readonly app?: string;
  readonly docs?: string;
}

/**
 * Adds `mmlab web` to the program.
 * @param program - the root program
 * @param ctx - the invocation's streams and exit code
 */
export function registerWeb(program: Command, ctx: CliContext): void {
  defineCommand(program, { name: 'web', args: WEB_ARGS, summary: 'serve the browser app on 127.0.0.1', description: WEB_HELP })
    .option('--port <N>', `the port (default ${DEFAULT_WEB_PORT}; 0: any free one)`, single('--port', 'N', WEB_USAGE))
    .option('--app <DIR>', 'serve this build of the app', single('--app', 'DIR', WEB_USAGE))
    .option('--docs <DIR>', 'serve this documentation site under /docs/', single('--docs', 'DIR', WEB_USAGE))
    .action(async (o: WebOptions) => {
      ctx.exitCode = await webCommand(o, ctx.io, stopSignal);
    });
}

/** Resolves on the first SIGINT or SIGTERM. */
function stopSignal(): Promise<void> {
  return new Promise((done) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      done();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/**
 * Runs `mmlab web`: serves until `stop` resolves.
 * @param o - the options given
 * @param io - output streams and working directory
 * @param stop - called once the server runs; its promise resolves when the server should stop
 * @returns 0
 * @throws {@link UsageError} for a bad port, an app that is not built, a port in use
 */
export async function webCommand(o: WebOptions, io: Io, stop: () => Promise<void>): Promise<number> {
  const port = parsePort(o.port);
  const defaults = o.app !== undefined && o.docs !== undefined ? undefined : defaultWebFolders();
  const folders: WebFolders = {
    app: o.app === undefined ? defaults!.app : resolve(io.cwd, o.app),
    docs: o.docs === undefined ? defaults!.docs : resolve(io.cwd, o.docs),
  };
  const server = await startWebServer(port, folders);
  io.stdout(`mmlab web: ${server.url}\n`);
  io.stdout(
    existsSync(folders.docs)
      ? `documentation site: ${server.url}docs/\n`
      : 'documentation site not built (npm run docs): the pages\' docs links need it\n'
  );
  io.stdout('Ctrl-C stops the server.\n');
  await stop();
  await server.close();
  return 0;
}

/** Parses `--port N`: 0 to 65535. */
function parsePort(text: string | undefined): number {
  if (text === undefined) return DEFAULT_WEB_PORT;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 65535) throw new UsageError(`bad --port '${text}' (expected an integer from 0 to 65535)`, WEB_USAGE);
  return n;
}
