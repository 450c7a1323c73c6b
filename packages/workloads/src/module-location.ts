/**
 * Where in a user's module an error comes from, so that a message about a
 * user workload or feature module names the user's file and line rather
 * than nothing (a syntax error's message has no location) or an internal
 * path of mmlab.
 * @module
 */

import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** A stack frame's `path:line:column`, with or without a `file://` scheme and parentheses. */
const FRAME_RE = /((?:file:\/\/)?\/[^\s()]+):(\d+):(\d+)\)?\s*$/;

/**
 * The line and column, in `file`, of the innermost stack frame of `err`
 * that lies in `file`.
 * @param err - what was thrown
 * @param file - the absolute path of the user's module
 * @returns `line:column`, or undefined when no frame of the stack is in `file`
 */
export function frameIn(err: unknown, file: string): string | undefined {
  const stack = err instanceof Error ? err.stack : undefined;
  if (stack === undefined) return undefined;
  for (const line of stack.split('\n')) {
    const m = FRAME_RE.exec(line);
    if (m === null) continue;
    const where = m[1]!;
    let path = where;
    if (where.startsWith('file://')) {
      try {
        path = fileURLToPath(where);
      } catch {
        continue;
      }
    }
    if (path === file) return `${m[2] ?? ''}:${m[3] ?? ''}`;
  }
  return undefined;
}

/** Where a file's first syntax error is, and what the parser says of it. */
export interface SyntaxErrorAt {
  /** `line:column` (or `line` when the column is not known), from 1. */
  readonly at: string;
  /** The parser's message (`Unexpected token ')'`). */
  readonly message: string;
}

/**
 * The line and column of the first syntax error of a JavaScript file, as
 * `node --check` finds it (an ES module's syntax error, thrown by
 * `import()`, carries no location).
 * @param file - the absolute path of the module
 * @returns `line:column` and the parser's message, or undefined when the
 *   file parses or cannot be checked
 */
export function syntaxErrorAt(file: string): SyntaxErrorAt | undefined {
  const r = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8', timeout: 20_000 });
  if (r.status === 0 || typeof r.stderr !== 'string') return undefined;
  const lines = r.stderr.split('\n');
  const head = lines.findIndex((l) => l.startsWith(`${file}:`));
  if (head < 0) return undefined;
  const line = lines[head]!.slice(file.length + 1);
  if (!/^\d+$/.test(line)) return undefined;
  const caret = lines[head + 2]?.indexOf('^') ?? -1;
  const message = lines.find((l) => l.startsWith('SyntaxError: '))?.slice('SyntaxError: '.length) ?? 'invalid syntax';
  return { at: caret < 0 ? line : `${line}:${caret + 1}`, message };
}

/**
 * Says why a user module could not be imported, naming the user's file
 * and line: `syntax error at ./my.mjs:3:11: Unexpected token ')'` for a
 * syntax error, `boom (at ./my.mjs:2:7)` for a module whose top level
 * throws, `no file /abs/my.mjs` for a missing one.
 * @param err - what `import()` threw
 * @param file - the absolute path of the module
 * @param shown - the path as the user wrote it
 */
export function describeImportError(err: unknown, file: string, shown: string): string {
  if (!existsSync(file)) return `no file ${file}`;
  if (!statSync(file).isFile()) return `not a file (${file})`;
  const message = (err instanceof Error ? err.message : String(err)).split('\n', 1)[0] ?? '';
  // Not only SyntaxError: a loader that transforms modules (vite under
  // vitest) words a syntax error its own way, without a location either.
  const syntax = syntaxErrorAt(file);
  if (syntax !== undefined) return `syntax error at ${shown}:${syntax.at}: ${syntax.message}`;
  return withLocation(message, err, file, shown);
}

/**
 * Appends `(at ./my.mjs:LINE:COL)` to a message when the error was thrown
 * from the user's file.
 * @param message - the one-line message
 * @param err - what was thrown
 * @param file - the absolute path of the module
 * @param shown - the path as the user wrote it
 */
export function withLocation(message: string, err: unknown, file: string, shown: string): string {
  const at = frameIn(err, file);
  return at === undefined ? message : `${message} (at ${shown}:${at})`;
}
