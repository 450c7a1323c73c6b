/**
 * What the `scripts/results-<package>.ts` scripts share: a generated
 * results table kept in a docs page between two markers, written,
 * printed (`--print`) or checked (`--check`, exit 1 when the page
 * differs).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';

/** The page with `body` between the markers `<!-- results:NAME:begin -->` and `<!-- results:NAME:end -->`. */
export function withResults(page: string, name: string, body: string, where = name): string {
  const begin = `<!-- results:${name}:begin -->`;
  const end = `<!-- results:${name}:end -->`;
  const b = page.indexOf(begin);
  const e = page.indexOf(end);
  if (b < 0 || e < b) throw new Error(`${where}: no ${begin} ... ${end} markers`);
  return `${page.slice(0, b + begin.length)}\n${body}\n${page.slice(e)}`;
}

/**
 * Makes the results with `make` and, by the command line's flags, prints
 * them, checks the page at `path` holds them, or writes them into it.
 * @param path - the docs page
 * @param name - the markers' name (`results:NAME:begin`)
 * @param script - the script, for the stale message
 * @param make - the table
 */
export async function resultsMain(path: string, name: string, script: string, make: () => Promise<string>): Promise<void> {
  const body = await make();
  if (process.argv.includes('--print')) {
    process.stdout.write(`${body}\n`);
    return;
  }
  const page = readFileSync(path, 'utf8');
  const next = withResults(page, name, body, path);
  if (process.argv.includes('--check')) {
    if (next !== page) {
      process.stderr.write(`${path} is stale: run npx tsx scripts/${basename(script)}\n`);
      process.exitCode = 1;
    }
    return;
  }
  writeFileSync(path, next);
}
