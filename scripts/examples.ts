/**
 * The TSDoc `@example` blocks of the packages' sources, as runnable files:
 * `scripts/test/examples.test.ts` type-checks every block against the
 * packages' declarations and runs it, so an example that no longer
 * compiles, throws or fails its own assertions fails the tests.
 *
 *     npx tsx scripts/examples.ts   # list the examples found
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** One `@example` code block. */
export interface Example {
  /** `file:line` of the tag. */
  readonly where: string;
  /** The documented declaration's name. */
  readonly symbol: string;
  /** The code of the block's fenced `ts` code. */
  readonly code: string;
}

/** The fenced TypeScript blocks of one tag's text (comment stars removed). */
function fences(text: string): string[] {
  return [...text.matchAll(/```(?:ts|typescript)\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

/** The `@example` blocks of one source file. */
export function examplesOf(file: string, text: string): Example[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out: Example[] = [];
  const visit = (node: ts.Node): void => {
    for (const tag of ts.getJSDocTags(node)) {
      if (tag.tagName.text !== 'example' || tag.parent.parent !== node) continue;
      const raw = text.slice(tag.tagName.end, tag.end).replace(/^[ \t]*\* ?/gm, '');
      const name = ts.getNameOfDeclaration(node as ts.Declaration);
      const line = sf.getLineAndCharacterOfPosition(tag.getStart(sf)).line + 1;
      for (const code of fences(raw)) out.push({ where: `${relative(ROOT, file)}:${line}`, symbol: name !== undefined && ts.isIdentifier(name) ? name.text : '(anonymous)', code });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** Every `.ts` file under a folder. */
function sources(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .sort()
    .map((f) => join(dir, f));
}

/** Every `@example` block of `packages/<name>/src`. */
export function allExamples(): Example[] {
  const pkgs = readdirSync(join(ROOT, 'packages')).sort();
  return pkgs.flatMap((p) => sources(join(ROOT, 'packages', p, 'src')).flatMap((f) => examplesOf(f, readFileSync(f, 'utf8'))));
}

/**
 * Writes each example as a module under `dir` (emptied first) and returns
 * the files, in the order of `examples`.
 */
export function writeExamples(examples: readonly Example[], dir: string): string[] {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return examples.map((e, i) => {
    const file = join(dir, `${String(i).padStart(2, '0')}-${e.symbol}.ts`);
    writeFileSync(file, `// ${e.where}: @example of ${e.symbol}\n${e.code}\nexport {};\n`);
    return file;
  });
}

/** Type-checks files with the repository's base compiler options; returns the diagnostics as text. */
export function typecheck(files: readonly string[]): string[] {
  const base = ts.readConfigFile(join(ROOT, 'tsconfig.base.json'), (p) => ts.sys.readFile(p));
  const { options } = ts.parseJsonConfigFileContent(base.config, ts.sys, ROOT);
  const program = ts.createProgram(files, { ...options, noEmit: true, declaration: false, declarationMap: false, sourceMap: false });
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const at = d.file !== undefined && d.start !== undefined ? `${relative(ROOT, d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start).line + 1}: ` : '';
    return `${at}${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const e of allExamples()) process.stdout.write(`${e.where}\t${e.symbol}\n`);
}
