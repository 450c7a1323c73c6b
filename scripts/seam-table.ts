/**
 * Generates `docs/seams.md`, the seam table, from the code, so that it
 * cannot go stale:
 *
 * - the seams, their groups and their order from the `Seams` interface of
 *   `packages/core/src/seams/seams.ts` (which `baselineSeams()` and
 *   `SEAM_NAMES` follow);
 * - the kernel call site from each seam's TSDoc, and the baseline from its
 *   `Baseline: …` sentence and from the implementation `baselineSeams()`
 *   installs (its name, file and `@see` line);
 * - the members of the two operation tables (`SpecialVmaOps`,
 *   `TlbGatherOps`) with their implementations;
 * - where the model calls each seam: every access `k.seams.<name>` (and
 *   every call of an operation-table member) in `packages/core/src`, by
 *   file and enclosing function;
 * - "used by" from `docs/seam-users.json`, kept outside the core (the core
 *   never names a proposal). Every seam needs an entry there.
 *
 *   npm run seam-table              rewrite docs/seams.md
 *   npm run seam-table -- --check   exit 1 when docs/seams.md is stale or
 *                                   docs/seam-users.json is incomplete
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CORE = join(ROOT, 'packages', 'core');
const CORE_SRC = join(CORE, 'src');
const SEAMS_FILE = join(CORE_SRC, 'seams', 'seams.ts');
const USERS_FILE = join(ROOT, 'docs', 'seam-users.json');
const OUT_FILE = join(ROOT, 'docs', 'seams.md');

/** Core folders whose `k.seams.<name>` accesses are not call sites of the model. */
const NOT_CALL_SITES = ['seams', 'testing'];

/** The operation tables a seam hands out, and the implementations to show for each. */
const MEMBER_TABLES: readonly MemberTableSpec[] = [
  {
    iface: 'SpecialVmaOps',
    seam: 'specialVmaOps',
    what: 'kernel branch',
    impls: [
      { value: 'hugetlbVmaOps', label: 'hugetlb (the baseline, for a VM_HUGETLB VMA)' },
      { value: 'genericVmaOps', label: '`genericVmaOps` (the generic paths, for a feature to defer to)' },
    ],
  },
  { iface: 'TlbGatherOps', seam: 'tlbGather', what: 'kernel function', impls: [{ value: 'baseTlbGather', label: 'baseline (`baseTlbGather`)' }] },
];

interface MemberTableSpec {
  /** The interface's name. */
  readonly iface: string;
  /** The seam that hands it out. */
  readonly seam: string;
  /** Header of the TSDoc column. */
  readonly what: string;
  /** Exported objects implementing it, each a column. */
  readonly impls: readonly { readonly value: string; readonly label: string }[];
}

/** `docs/seam-users.json`. */
interface SeamUsers {
  /** Each proposal: its thread. */
  readonly proposals: Readonly<Record<string, { readonly subject: string; readonly author: string; readonly date: string }>>;
  /** Each seam: proposal → why it uses the seam, in one line. */
  readonly seams: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Each seam that no proposal uses: why it is there. */
  readonly unused: Readonly<Record<string, string>>;
}

/** A TSDoc comment: its description (one line) and its block tags. */
interface Doc {
  readonly text: string;
  readonly tags: readonly { readonly tag: string; readonly text: string }[];
}

/** One member of the `Seams` interface. */
interface SeamInfo {
  readonly name: string;
  readonly group: string;
  readonly doc: Doc;
  readonly signature: string;
  readonly typeNode: ts.TypeNode | undefined;
}

/** A place in the core that calls a seam or an operation-table member. */
interface CallSite {
  /** Path below `packages/core/src`, with `/`. */
  readonly file: string;
  /** The enclosing function. */
  readonly fn: string;
}

// ---- reading the code ---------------------------------------------------------

function fail(message: string): never {
  throw new SeamTableError(message);
}

/** A problem that makes the table impossible to generate or check. */
class SeamTableError extends Error {}

function slash(path: string): string {
  return path.split(sep).join('/');
}

/** The core as one program, as its build compiles it. */
function loadProgram(): ts.Program {
  const configPath = join(CORE, 'tsconfig.build.json');
  const config = ts.readConfigFile(configPath, (p) => ts.sys.readFile(p));
  if (config.error !== undefined) fail(ts.flattenDiagnosticMessageText(config.error.messageText, '\n'));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, CORE);
  return ts.createProgram(parsed.fileNames, { ...parsed.options, noEmit: true });
}

/** `{@link Seams.x}` → `` `x` ``, `{@link a | text}` → text, `{@link a}` → `` `a` ``. */
function links(text: string): string {
  return text.replace(/\{@link\s+([^}|\s]+)\s*(?:\|\s*([^}]*))?\}/g, (_m, target: string, label: string | undefined) =>
    label !== undefined && label.trim() !== '' ? label.trim() : `\`${target.replace(/^Seams\./, '')}\``,
  );
}

/** The TSDoc comment right before `node`, or an empty one. */
function docOf(node: ts.Node): Doc {
  const comments = ts.getJSDocCommentsAndTags(node).filter((c): c is ts.JSDoc => ts.isJSDoc(c));
  const last = comments.at(-1);
  if (last === undefined) return { text: '', tags: [] };
  const body = last
    .getText()
    .replace(/^\/\*\*/, '')
    .replace(/\*\/$/, '')
    .split('\n')
    .map((line) => line.replace(/^\s*\* ?/, ''));
  const description: string[] = [];
  const tags: { tag: string; text: string }[] = [];
  for (const line of body) {
    const tag = /^@(\w+)\s*(.*)$/.exec(line.trim());
    if (tag !== null) tags.push({ tag: tag[1]!, text: tag[2]! });
    else if (tags.length > 0) tags[tags.length - 1]!.text += ` ${line.trim()}`;
    else description.push(line.trim());
  }
  return { text: collapse(links(description.join(' '))), tags: tags.map((t) => ({ tag: t.tag, text: collapse(t.text) })) };
}

function collapse(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** The symbol an import stands for (or the symbol itself). */
function aliasTarget(checker: ts.TypeChecker, symbol: ts.Symbol): ts.Symbol {
  return (symbol.flags & ts.SymbolFlags.Alias) !== 0 ? checker.getAliasedSymbol(symbol) : symbol;
}

/** The declaration behind an identifier, through imports. */
function declarationOf(checker: ts.TypeChecker, id: ts.Node): ts.Declaration | undefined {
  const symbol = checker.getSymbolAtLocation(id);
  return symbol === undefined ? undefined : aliasTarget(checker, symbol).declarations?.[0];
}

function findInterface(file: ts.SourceFile, name: string): ts.InterfaceDeclaration {
  const found = file.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === name);
  return found ?? fail(`no interface ${name} in ${slash(relative(ROOT, file.fileName))}`);
}

/** The seams in the interface's order, each with its group (the `// ---- group ----` comment above it). */
function readSeams(file: ts.SourceFile): SeamInfo[] {
  const iface = findInterface(file, 'Seams');
  const text = file.getFullText();
  const out: SeamInfo[] = [];
  let group = '';
  for (const member of iface.members) {
    if (!ts.isPropertySignature(member) || !ts.isIdentifier(member.name)) fail(`Seams member ${member.getText()} is not a named property`);
    for (const range of ts.getLeadingCommentRanges(text, member.getFullStart()) ?? []) {
      const heading = /^\/\/\s*-+\s*(.+?)\s*-+\s*$/.exec(text.slice(range.pos, range.end));
      if (heading !== null) group = heading[1]!;
    }
    const doc = docOf(member);
    if (doc.text === '') fail(`seam '${member.name.text}' has no TSDoc: say which kernel call site it is`);
    out.push({ name: member.name.text, group, doc, signature: collapse(member.type?.getText() ?? ''), typeNode: member.type });
  }
  return out;
}

/** `baselineSeams()`'s object: seam → the expression it installs. */
function readBaselines(file: ts.SourceFile): Map<string, ts.Expression> {
  const fn = file.statements.find((s): s is ts.FunctionDeclaration => ts.isFunctionDeclaration(s) && s.name?.text === 'baselineSeams');
  const ret = fn?.body?.statements.find((s): s is ts.ReturnStatement => ts.isReturnStatement(s));
  const obj = ret?.expression;
  if (obj === undefined || !ts.isObjectLiteralExpression(obj)) fail('baselineSeams() must return an object literal');
  const out = new Map<string, ts.Expression>();
  for (const p of obj.properties) {
    if (ts.isPropertyAssignment(p) && ts.isIdentifier(p.name)) out.set(p.name.text, p.initializer);
    else if (ts.isShorthandPropertyAssignment(p)) out.set(p.name.text, p.name);
    else fail(`baselineSeams(): cannot read ${p.getText()}`);
  }
  return out;
}

/** The names `@mmlab/core` exports. */
function coreExports(program: ts.Program, checker: ts.TypeChecker): Map<string, ts.Declaration> {
  const index = program.getSourceFile(join(CORE_SRC, 'index.ts')) ?? fail('no packages/core/src/index.ts');
  const moduleSymbol = checker.getSymbolAtLocation(index) ?? fail('packages/core/src/index.ts is not a module');
  const out = new Map<string, ts.Declaration>();
  for (const s of checker.getExportsOfModule(moduleSymbol)) {
    const d = aliasTarget(checker, s).declarations?.[0];
    if (d !== undefined) out.set(s.name, d);
  }
  return out;
}

function coreFile(node: ts.Node): string {
  return slash(relative(CORE_SRC, node.getSourceFile().fileName));
}

/** The name of the function (or method) around `node`. */
function enclosingFunction(node: ts.Node): string {
  for (let n = node.parent; !ts.isSourceFile(n); n = n.parent) {
    if (ts.isFunctionDeclaration(n) && n.name !== undefined) return n.name.text;
    if ((ts.isMethodDeclaration(n) || ts.isGetAccessorDeclaration(n)) && ts.isIdentifier(n.name)) {
      const owner = n.parent;
      if (ts.isClassDeclaration(owner) && owner.name !== undefined) return `${owner.name.text}.${n.name.text}`;
      const holder = owner.parent;
      if (ts.isObjectLiteralExpression(owner) && ts.isVariableDeclaration(holder) && ts.isIdentifier(holder.name)) {
        return `${holder.name.text}.${n.name.text}`;
      }
      return n.name.text;
    }
    if (ts.isArrowFunction(n) || ts.isFunctionExpression(n)) {
      const p = n.parent;
      if ((ts.isVariableDeclaration(p) || ts.isPropertyAssignment(p)) && ts.isIdentifier(p.name)) return p.name.text;
    }
  }
  return '(module)';
}

/** Every access `….seams.<seam>` and every use of an operation-table member, in the model. */
function readCallSites(program: ts.Program, checker: ts.TypeChecker, seamNames: ReadonlySet<string>): Map<string, CallSite[]> {
  const out = new Map<string, CallSite[]>();
  const add = (key: string, site: CallSite): void => {
    const list = out.get(key) ?? [];
    if (!list.some((s) => s.file === site.file && s.fn === site.fn)) list.push(site);
    out.set(key, list);
  };
  const tables = new Set(MEMBER_TABLES.map((t) => t.iface));
  const files = program
    .getSourceFiles()
    .filter((f) => f.fileName.startsWith(CORE_SRC + sep) || f.fileName.startsWith(`${slash(CORE_SRC)}/`))
    .filter((f) => !NOT_CALL_SITES.includes(coreFile(f).split('/')[0]!))
    .sort((a, b) => coreFile(a).localeCompare(coreFile(b)));
  for (const file of files) {
    const visit = (node: ts.Node): void => {
      if (ts.isPropertyAccessExpression(node)) {
        const name = node.name.text;
        const target = node.expression;
        if (seamNames.has(name) && ts.isPropertyAccessExpression(target) && target.name.text === 'seams') {
          add(name, { file: coreFile(file), fn: enclosingFunction(node) });
        } else {
          const type = checker.getNonNullableType(checker.getTypeAtLocation(target));
          const iface = type.getSymbol()?.getName();
          if (iface !== undefined && tables.has(iface) && type.getProperty(name) !== undefined) {
            add(`${iface}.${name}`, { file: coreFile(file), fn: enclosingFunction(node) });
          }
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(file);
  }
  return out;
}

/** String-literal union aliases a type mentions (`FlushReason`, …), with their members' trailing comments. */
function literalUnions(checker: ts.TypeChecker, typeNode: ts.TypeNode | undefined, into: Map<string, ts.TypeAliasDeclaration>): void {
  if (typeNode === undefined) return;
  const visit = (node: ts.Node): void => {
    if (ts.isTypeReferenceNode(node)) {
      const decl = declarationOf(checker, node.typeName);
      if (decl !== undefined && ts.isTypeAliasDeclaration(decl) && ts.isUnionTypeNode(decl.type)) {
        if (decl.type.types.every((t) => ts.isLiteralTypeNode(t) && ts.isStringLiteral(t.literal))) into.set(decl.name.text, decl);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(typeNode);
}

// ---- the mapping ----------------------------------------------------------------

function readUsers(): SeamUsers {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(USERS_FILE, 'utf8'));
  } catch (err) {
    fail(`cannot read docs/seam-users.json: ${err instanceof Error ? err.message : String(err)}`);
  }
  const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isRecord(raw) || !isRecord(raw.proposals) || !isRecord(raw.seams) || !isRecord(raw.unused)) {
    fail("docs/seam-users.json must be an object with 'proposals', 'seams' and 'unused' objects");
  }
  return raw as unknown as SeamUsers;
}

/** Everything wrong with the mapping against the seams (and against proposal packages that exist). */
function checkUsers(users: SeamUsers, seams: readonly string[]): string[] {
  const problems: string[] = [];
  const proposals = Object.keys(users.proposals);
  for (const [key, t] of Object.entries(users.proposals)) {
    if (typeof t.subject !== 'string' || typeof t.author !== 'string' || typeof t.date !== 'string') {
      problems.push(`proposal '${key}' needs a thread { subject, author, date }`);
    }
  }
  for (const seam of seams) {
    const entry = users.seams[seam];
    if (entry === undefined) {
      problems.push(`seam '${seam}' has no entry in docs/seam-users.json 'seams' (name the proposals that use it, or {} and a reason under 'unused')`);
      continue;
    }
    for (const [proposal, why] of Object.entries(entry)) {
      if (!proposals.includes(proposal)) problems.push(`seam '${seam}': '${proposal}' is not in 'proposals'`);
      if (typeof why !== 'string' || why.trim() === '') problems.push(`seam '${seam}': say in one line why '${proposal}' uses it`);
    }
    const unused = users.unused[seam];
    if (Object.keys(entry).length === 0 && (typeof unused !== 'string' || unused.trim() === '')) {
      problems.push(`seam '${seam}' has no users: give the reason under 'unused'`);
    }
    if (Object.keys(entry).length > 0 && unused !== undefined) problems.push(`seam '${seam}' has users and is listed under 'unused'`);
  }
  for (const key of [...Object.keys(users.seams), ...Object.keys(users.unused)]) {
    if (!seams.includes(key)) problems.push(`docs/seam-users.json names '${key}', which is not a seam`);
  }
  for (const proposal of proposals) {
    if (!Object.values(users.seams).some((entry) => proposal in entry)) problems.push(`proposal '${proposal}' uses no seam`);
    problems.push(...checkPackage(proposal, users, seams));
  }
  return problems;
}

/**
 * Once a proposal's package exists (`packages/<proposal>`), what the mapping
 * says is checked against its sources: each seam it wraps or replaces must
 * be listed for it, and each seam listed for it must appear in them.
 */
function checkPackage(proposal: string, users: SeamUsers, seams: readonly string[]): string[] {
  const src = join(ROOT, 'packages', proposal, 'src');
  if (!existsSync(src)) return [];
  const text = sourceText(src);
  const problems: string[] = [];
  for (const m of text.matchAll(/\.(?:wrap|replace|override)\(\s*[^,()]+,\s*['"](\w+)['"]/g)) {
    const seam = m[1]!;
    if (seams.includes(seam) && !(proposal in (users.seams[seam] ?? {}))) {
      problems.push(`packages/${proposal} installs into seam '${seam}', but docs/seam-users.json does not list it there`);
    }
  }
  for (const [seam, entry] of Object.entries(users.seams)) {
    if (proposal in entry && !new RegExp(`\\b${seam}\\b`).test(text)) {
      problems.push(`docs/seam-users.json lists '${proposal}' under seam '${seam}', but packages/${proposal}/src never mentions it`);
    }
  }
  return problems;
}

function sourceText(dir: string): string {
  let out = '';
  for (const entry of readdirSync(dir).sort()) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out += sourceText(path);
    else if (/\.[cm]?[jt]s$/.test(entry)) out += readFileSync(path, 'utf8');
  }
  return out;
}

// ---- rendering ------------------------------------------------------------------

/** A table cell: one line, pipes escaped. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

function code(text: string): string {
  return `\`${text}\``;
}

/** `@see mm/memory.c copy_page_range` → `` `mm/memory.c` `copy_page_range` ``. */
function seeText(see: string): string {
  return see.replace(/[^\s,;]+/g, (token) => code(token));
}

/** Split the `Baseline: …` sentence off a seam's description. */
function splitBaseline(text: string): { callSite: string; baseline: string } {
  const m = /(?:^|\s)Baseline: (.*?)\.(?=\s|$)/.exec(text);
  if (m === null) return { callSite: text, baseline: '' };
  return { callSite: collapse(text.slice(0, m.index) + text.slice(m.index + m[0].length)), baseline: m[1]! };
}

function heading(group: string): string {
  return group === '' ? 'Seams' : `Seams: ${group}`;
}

function usedBy(users: SeamUsers, key: string): string {
  const entry = users.seams[key] ?? {};
  const names = Object.keys(entry);
  if (names.length === 0) return `none: ${users.unused[key] ?? ''}`;
  return names.map((p) => `**${p}**: ${entry[p] ?? ''}`).join('<br>');
}

function sites(list: readonly CallSite[] | undefined): string {
  if (list === undefined || list.length === 0) return 'none';
  const byFile = new Map<string, string[]>();
  for (const s of list) byFile.set(s.file, [...(byFile.get(s.file) ?? []), s.fn]);
  return [...byFile].map(([file, fns]) => `${code(file)}: ${fns.map(code).join(', ')}`).join('<br>');
}

/** How an implementation object provides a member. */
function implCell(checker: ts.TypeChecker, obj: ts.ObjectLiteralExpression, member: string): string {
  const p = obj.properties.find((q) => q.name !== undefined && ts.isIdentifier(q.name) && q.name.text === member);
  if (p === undefined) return 'absent';
  if (ts.isMethodDeclaration(p)) return 'a method of its own';
  const value = ts.isShorthandPropertyAssignment(p) ? p.name : ts.isPropertyAssignment(p) ? p.initializer : undefined;
  if (value === undefined) return cell(collapse(p.getText()));
  if (ts.isIdentifier(value)) {
    const symbol = ts.isShorthandPropertyAssignment(p) ? checker.getShorthandAssignmentValueSymbol(p) : undefined;
    const decl = symbol !== undefined ? aliasTarget(checker, symbol).declarations?.[0] : declarationOf(checker, value);
    const where = decl !== undefined && decl.getSourceFile() !== obj.getSourceFile() ? ` (${code(coreFile(decl))})` : '';
    return `${code(value.text)}${where}`;
  }
  const text = collapse(value.getText());
  return text.length <= 72 ? code(cell(text)) : 'inline';
}

/** The whole page. */
function renderSeamTable(): string {
  const program = loadProgram();
  const checker = program.getTypeChecker();
  const file = program.getSourceFile(SEAMS_FILE) ?? fail('no packages/core/src/seams/seams.ts');
  const seams = readSeams(file);
  const names = seams.map((s) => s.name);
  const baselines = readBaselines(file);
  const missing = names.filter((n) => !baselines.has(n));
  if (missing.length > 0 || baselines.size !== names.length) fail(`baselineSeams() and the Seams interface disagree (${missing.join(', ')})`);
  const exported = coreExports(program, checker);
  const users = readUsers();
  const problems = checkUsers(users, names);
  if (problems.length > 0) fail(problems.join('\n'));
  const callSites = readCallSites(program, checker, new Set(names));

  const lines: string[] = [];
  const push = (...more: string[]): void => {
    lines.push(...more);
  };
  push(
    '<!-- Generated by scripts/seam-table.ts from packages/core/src and docs/seam-users.json: do not edit.',
    '     Run `npm run seam-table` after changing a seam, its TSDoc, a call site or the mapping; `npm test` fails while this file is stale. -->',
    '',
    '# The seam table',
    '',
    'Every seam of `@mmlab/core`: the 2.6.24 call site it stands at, what it does when no feature changes it (the baseline),',
    'and which of the five proposals changes it or relies on it. The call site and the baseline come from the TSDoc of the',
    '`Seams` interface (`packages/core/src/seams/seams.ts`) and of the implementations `baselineSeams()` installs;',
    '"used by" comes from [`seam-users.json`](seam-users.json), which lives outside the core because the core never names a',
    'proposal. [Writing a feature package](writing-a-feature.md) shows how a feature wraps or replaces a seam.',
  );

  const unions = new Map<string, ts.TypeAliasDeclaration>();
  let group: string | null = null;
  for (const s of seams) {
    if (s.group !== group) {
      group = s.group;
      push('', `## ${heading(group)}`, '', '| seam | kernel call site | baseline | used by |', '|---|---|---|---|');
    }
    const { callSite, baseline } = splitBaseline(s.doc.text);
    const impl = baselines.get(s.name)!;
    const parts: string[] = [];
    if (baseline !== '') parts.push(`${baseline}.`);
    const decl = ts.isIdentifier(impl) ? declarationOf(checker, impl) : undefined;
    if (ts.isIdentifier(impl) && exported.has(impl.text) && decl !== undefined) {
      parts.push(`${code(impl.text)} in ${code(coreFile(decl))}`);
      const see = docOf(decl).tags.filter((t) => t.tag === 'see');
      if (see.length > 0) parts.push(`models ${see.map((t) => seeText(t.text)).join('; ')}`);
    }
    push(`| ${code(s.name)} | ${cell(callSite)} | ${cell(parts.join(' '))} | ${cell(usedBy(users, s.name))} |`);
    literalUnions(checker, s.typeNode, unions);
  }

  for (const t of MEMBER_TABLES) {
    const seam = seams.find((s) => s.name === t.seam) ?? fail(`MEMBER_TABLES names seam '${t.seam}', which does not exist`);
    const ifaceDecl = exported.get(t.iface);
    if (ifaceDecl === undefined || !ts.isInterfaceDeclaration(ifaceDecl)) fail(`@mmlab/core exports no interface ${t.iface}`);
    const objs = t.impls.map((i) => {
      const d = exported.get(i.value);
      if (d === undefined || !ts.isVariableDeclaration(d) || d.initializer === undefined || !ts.isObjectLiteralExpression(d.initializer)) {
        fail(`@mmlab/core exports no object literal ${i.value} implementing ${t.iface}`);
      }
      return d.initializer;
    });
    push(
      '',
      `## Members of ${code(t.iface)} (the ${code(seam.name)} seam, ${code(coreFile(ifaceDecl))})`,
      '',
      `| member | ${t.what} | ${t.impls.map((i) => i.label).join(' | ')} |`,
      `|---|---|${t.impls.map(() => '---|').join('')}`,
    );
    for (const m of ifaceDecl.members) {
      if (m.name === undefined || !ts.isIdentifier(m.name)) continue;
      const optional = m.questionToken !== undefined ? ' (optional)' : '';
      const impls = objs.map((o) => implCell(checker, o, (m.name as ts.Identifier).text));
      push(`| ${code(m.name.text)}${optional} | ${cell(docOf(m).text)} | ${impls.join(' | ')} |`);
    }
  }

  push(
    '',
    '## Where the model calls each seam',
    '',
    'Every access `k.seams.<name>` in `packages/core/src` (outside `seams/` and `testing/`), by file and enclosing function;',
    'a search for the seam name finds the same places.',
    '',
    '| seam | signature | called from |',
    '|---|---|---|',
  );
  for (const s of seams) push(`| ${code(s.name)} | ${code(cell(s.signature))} | ${sites(callSites.get(s.name))} |`);
  for (const t of MEMBER_TABLES) {
    push('', `Members of ${code(t.iface)}, called through the ${code(t.seam)} seam:`, '', '| member | called from |', '|---|---|');
    const ifaceDecl = exported.get(t.iface) as ts.InterfaceDeclaration;
    for (const m of ifaceDecl.members) {
      if (m.name === undefined || !ts.isIdentifier(m.name) || !ts.isMethodSignature(m)) continue;
      push(`| ${code(m.name.text)} | ${sites(callSites.get(`${t.iface}.${m.name.text}`))} |`);
    }
  }

  if (unions.size > 0) {
    push('', '## Reasons and kinds the seams pass', '');
    for (const [name, decl] of [...unions].sort(([a], [b]) => a.localeCompare(b))) {
      push(`- ${code(name)} (${code(coreFile(decl))}): ${docOf(decl).text}`);
      const text = decl.getSourceFile().getFullText();
      for (const member of (decl.type as ts.UnionTypeNode).types) {
        let end = member.end;
        if (text[end] === ';') end++;
        const comment = ts.getTrailingCommentRanges(text, end)?.[0];
        const note = comment === undefined ? '' : `: ${collapse(text.slice(comment.pos, comment.end).replace(/^\/\/\s*/, ''))}`;
        push(`  - ${code(member.getText())}${note}`);
      }
    }
  }

  push('', '## Seams by proposal', '', '| proposal | thread | seams |', '|---|---|---|');
  for (const [proposal, t] of Object.entries(users.proposals)) {
    const used = names.filter((n) => proposal in (users.seams[n] ?? {}));
    push(`| **${proposal}** | ${cell(`${t.subject}, ${t.author}, ${t.date}`)} | ${used.map(code).join(', ')} |`);
  }
  push('');
  return lines.join('\n');
}

function main(args: readonly string[]): number {
  const check = args.includes('--check');
  let page: string;
  try {
    page = renderSeamTable();
  } catch (err) {
    if (!(err instanceof SeamTableError)) throw err;
    process.stderr.write(`seam-table: ${err.message.split('\n').join('\nseam-table: ')}\n`);
    return 1;
  }
  const current = existsSync(OUT_FILE) ? readFileSync(OUT_FILE, 'utf8') : '';
  if (!check) {
    if (current !== page) writeFileSync(OUT_FILE, page);
    process.stdout.write(`seam-table: docs/seams.md ${current === page ? 'is up to date' : 'written'}\n`);
    return 0;
  }
  if (current === page) return 0;
  const a = current.split('\n');
  const b = page.split('\n');
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  process.stderr.write(
    `seam-table: docs/seams.md is stale (run npm run seam-table); first difference at line ${i + 1}:\n` +
      `  file:      ${a[i] ?? '(end of file)'}\n  generated: ${b[i] ?? '(end of file)'}\n`,
  );
  return 1;
}

process.exitCode = main(process.argv.slice(2));
