/**
 * The part every `scripts/results-<feature>.ts` shares: put a generated
 * table between a page's `<!-- results:NAME:begin -->` and
 * `<!-- results:NAME:end -->` markers, with `--print` (print the table
 * only) and `--check` (exit 1, naming the script, when the page differs).
 */
import { readFileSync, writeFileSync } from 'node:fs';

/** The page with `body` between the markers of `name`. */
export function withTable(page: string, name: string, body: string, path = 'the page'): string {
  const begin = `<!-- results:${name}:begin -->`;
  const end = `<!-- results:${name}:end -->`;
  const b = page.indexOf(begin);
  const e = page.indexOf(end);
  if (b < 0 || e < b) throw new Error(`${path}: no ${begin} ... ${end} markers`);
  return `${page.slice(0, b + begin.length)}\n${body}\n${page.slice(e)}`;
}

/**
 * Print, check or rewrite page `path` with `body` as the results of
 * `name`, as the command line (`argv`) asks; `script` is what to run when
 * the page is stale.
 */
export function writeResults(path: string, name: string, body: string, script: string, argv: readonly string[] = process.argv): void {
  if (argv.includes('--print')) {
    process.stdout.write(`${body}\n`);
    return;
  }
  const page = readFileSync(path, 'utf8');
  const next = withTable(page, name, body, path);
  if (argv.includes('--check')) {
    if (next !== page) {
      process.stderr.write(`${path} is stale: run npx tsx ${script}\n`);
      process.exitCode = 1;
    }
    return;
  }
  writeFileSync(path, next);
}
