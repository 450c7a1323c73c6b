/**
 * What the `scripts/results-<proposal>.ts` scripts share: a generated
 * block of a docs page between `<!-- results:NAME:begin -->` and
 * `<!-- results:NAME:end -->`, rewritten, printed (`--print`) or checked
 * (`--check`: exit 1 when the page holds something else).
 */
import { readFileSync, writeFileSync } from 'node:fs';

/** `page` with `body` between the markers of `name`. */
export function withResults(page: string, name: string, body: string): string {
  const begin = `<!-- results:${name}:begin -->`;
  const end = `<!-- results:${name}:end -->`;
  const b = page.indexOf(begin);
  const e = page.indexOf(end);
  if (b < 0 || e < b) throw new Error(`no ${begin} ... ${end} markers`);
  return `${page.slice(0, b + begin.length)}\n${body}\n${page.slice(e)}`;
}

/**
 * The script's command line: rewrite the block of `name` in the page at
 * `path` with `body`, print it with `--print`, or with `--check` report a
 * stale page (naming `script`, which regenerates it) and exit 1.
 */
export function writeResults(path: string, name: string, body: string, script: string): void {
  if (process.argv.includes('--print')) {
    process.stdout.write(`${body}\n`);
    return;
  }
  const page = readFileSync(path, 'utf8');
  const next = withResults(page, name, body);
  if (process.argv.includes('--check')) {
    if (next !== page) {
      process.stderr.write(`${path} is stale: run npx tsx ${script}\n`);
      process.exitCode = 1;
    }
    return;
  }
  writeFileSync(path, next);
}
