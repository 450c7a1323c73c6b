/**
 * Generated parts of hand-written pages: the text between
 * `<!-- generated:NAME:begin -->` and `<!-- generated:NAME:end -->` is
 * rewritten by a script, checked by a test, never edited by hand.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import ts from 'typescript';

/** One generated part: the page, the marker name and the new text. */
export interface GeneratedPart {
  /** Absolute path of the page. */
  readonly page: string;
  /** Marker name (`metrics`); '' for a file generated whole. */
  readonly name: string;
  /** What goes between the markers (without the surrounding newlines), or the whole file. */
  readonly body: string;
}

/** `page` with `body` between the markers of `name`. */
export function withPart(page: string, name: string, body: string, where = 'page'): string {
  const begin = `<!-- generated:${name}:begin -->`;
  const end = `<!-- generated:${name}:end -->`;
  const b = page.indexOf(begin);
  const e = page.indexOf(end);
  if (b < 0 || e < b) throw new Error(`${where}: no ${begin} ... ${end} markers`);
  return `${page.slice(0, b + begin.length)}\n${body}\n${page.slice(e)}`;
}

/**
 * Writes each part into its page (or, with `check`, only compares):
 * returns the pages that were (or would be) changed, relative to `root`.
 */
export function applyParts(parts: readonly GeneratedPart[], root: string, check: boolean): string[] {
  const pages = new Map<string, string>();
  for (const p of parts) pages.set(p.page, pages.get(p.page) ?? (existsSync(p.page) ? readFileSync(p.page, 'utf8') : ''));
  const changed: string[] = [];
  for (const [page, before] of pages) {
    let text = before;
    for (const p of parts.filter((q) => q.page === page)) text = p.name === '' ? p.body : withPart(text, p.name, p.body, relative(root, page));
    if (text === before) continue;
    changed.push(relative(root, page));
    if (!check) writeFileSync(page, text);
  }
  return changed;
}

/** A documented member: its name and its TSDoc text (one line). */
export interface DocMember {
  /** The member's name. */
  readonly name: string;
  /** Its TSDoc, whitespace collapsed (empty when it has none). */
  readonly doc: string;
}

/** A TypeScript source file, parsed. */
export function parseSource(file: string): ts.SourceFile {
  return ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
}

/** The text of one TSDoc comment (summary only, tags left out), whitespace collapsed. */
export function jsDocText(doc: ts.JSDoc): string {
  const text = typeof doc.comment === 'string' ? doc.comment : (ts.getTextOfJSDocComment(doc.comment) ?? '');
  // Inline links resolve in the API pages only: a generated page shows the name as code.
  return text.replace(/\{@link(?:code|plain)? ([^}|\s]+)(?:[ |][^}]*)?\}/g, '`$1`').replace(/\s+/g, ' ').trim();
}

/** The TSDoc text of a node (its last TSDoc comment), or ''. */
export function docOf(node: ts.Node): string {
  const last = ts.getJSDocCommentsAndTags(node).filter((d): d is ts.JSDoc => ts.isJSDoc(d)).at(-1);
  return last === undefined ? '' : jsDocText(last);
}

/** The documented members of an interface or class (properties only). */
export function membersOf(sf: ts.SourceFile, typeName: string): DocMember[] {
  for (const st of sf.statements) {
    if ((ts.isInterfaceDeclaration(st) || ts.isClassDeclaration(st)) && st.name?.text === typeName) {
      const out: DocMember[] = [];
      for (const m of st.members) {
        if ((ts.isPropertySignature(m) || ts.isPropertyDeclaration(m)) && ts.isIdentifier(m.name)) {
          out.push({ name: m.name.text, doc: docOf(m) });
        }
      }
      return out;
    }
  }
  throw new Error(`${sf.fileName}: no interface or class ${typeName}`);
}

/** The documented properties of the object literal assigned to `const name` anywhere in the file. */
export function objectLiteralMembers(sf: ts.SourceFile, name: string): DocMember[] {
  let found: DocMember[] | undefined;
  const visit = (node: ts.Node): void => {
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.name.text === name && node.initializer !== undefined && ts.isObjectLiteralExpression(node.initializer)) {
      found = node.initializer.properties.flatMap((p) => (ts.isPropertyAssignment(p) && ts.isIdentifier(p.name) ? [{ name: p.name.text, doc: docOf(p) }] : []));
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  if (found === undefined) throw new Error(`${sf.fileName}: no object literal ${name}`);
  return found;
}

/** A Markdown table. */
export function mdTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const esc = (s: string): string => s.replaceAll('|', '\\|');
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n');
}
