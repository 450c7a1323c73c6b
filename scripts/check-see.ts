/**
 * Every exported function of `packages/core/src/mm/` models a kernel
 * function, and its TSDoc must say which: an `@see` tag naming the kernel
 * source file and the function (`@see mm/memory.c copy_page_range`). This
 * script lists the exported functions whose TSDoc has no such tag and exits
 * 1 when there is one (`npm test` runs it through
 * `scripts/test/check-see.test.ts`).
 *
 *     npx tsx scripts/check-see.ts          # check
 *     npx tsx scripts/check-see.ts --list   # print every function with its kernel names
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { kernelNamesOf } from './kernel-names.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** The folder whose exported functions must name their kernel function. */
export const MM_DIR = join(ROOT, 'packages', 'core', 'src', 'mm');

/** One exported function and what its `@see` tags name. */
export interface SeeEntry {
  /** `file:line` of the declaration. */
  readonly where: string;
  /** The function's name. */
  readonly name: string;
  /** Kernel source files named by its `@see` tags. */
  readonly files: readonly string[];
  /** Kernel functions named by its `@see` tags. */
  readonly functions: readonly string[];
}

/**
 * The `@see` texts of a declaration's TSDoc, as written (TypeScript parses
 * the first word of an `@see` as a name reference: the raw text keeps it).
 */
function seeTags(node: ts.Node, sf: ts.SourceFile): string[] {
  return ts
    .getJSDocTags(node)
    .filter((t) => t.tagName.text === 'see')
    .map((t) => sf.text.slice(t.tagName.end, t.end).replace(/\n\s*\*/g, ' ').trim());
}

function isExported(node: ts.Node): boolean {
  return ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
}

/**
 * Every exported function of one source file (function declarations, and
 * exported constants initialised with a function), with the kernel names
 * its `@see` tags give. An overloaded function counts once, with the tags
 * of all its declarations.
 * @param fileName - the file's path, for `where`
 * @param text - its source
 */
export function exportedFunctions(fileName: string, text: string): SeeEntry[] {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const byName = new Map<string, { where: string; tags: string[] }>();
  const add = (name: string, node: ts.Node, tags: string[]): void => {
    const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
    const entry = byName.get(name) ?? { where: `${relative(ROOT, fileName)}:${line}`, tags: [] };
    entry.tags.push(...tags);
    byName.set(name, entry);
  };
  for (const st of sf.statements) {
    if (!isExported(st)) continue;
    if (ts.isFunctionDeclaration(st) && st.name !== undefined) add(st.name.text, st, seeTags(st, sf));
    if (ts.isVariableStatement(st)) {
      for (const d of st.declarationList.declarations) {
        const init = d.initializer;
        if (ts.isIdentifier(d.name) && init !== undefined && (ts.isArrowFunction(init) || ts.isFunctionExpression(init))) add(d.name.text, d, seeTags(st, sf));
      }
    }
  }
  return [...byName].map(([name, { where, tags }]) => {
    const names = tags.map((t) => kernelNamesOf(t));
    return { where, name, files: names.flatMap((n) => n.files), functions: names.flatMap((n) => n.functions) };
  });
}

/** The entries of every `.ts` file of `packages/core/src/mm/`. */
export function mmFunctions(): SeeEntry[] {
  return readdirSync(MM_DIR)
    .filter((f) => f.endsWith('.ts'))
    .sort()
    .flatMap((f) => exportedFunctions(join(MM_DIR, f), readFileSync(join(MM_DIR, f), 'utf8')));
}

/** The entries without an `@see` that names both a kernel file and a function. */
export function missingSee(entries: readonly SeeEntry[]): SeeEntry[] {
  return entries.filter((e) => e.files.length === 0 || e.functions.length === 0);
}

function main(): void {
  const entries = mmFunctions();
  if (process.argv.includes('--list')) {
    for (const e of entries) process.stdout.write(`${e.where}\t${e.name}\t${[...e.files, ...e.functions].join(' ')}\n`);
  }
  const missing = missingSee(entries);
  for (const e of missing) {
    process.stderr.write(`${e.where}: exported function ${e.name} has no @see naming the kernel file and function it models (@see mm/memory.c copy_page_range)\n`);
  }
  if (missing.length > 0) process.exit(1);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
