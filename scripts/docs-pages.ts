/**
 * Writes the generated parts of the documentation pages from the code, so
 * that they cannot go stale (`scripts/test/docs-pages.test.ts` fails while
 * one is):
 *
 * - `docs/metrics.md` (`metrics`): every counter and gauge of the report,
 *   with its kernel name, meaning and unit, from the declarations: the
 *   TSDoc of `VmStat`'s fields and of the report's interfaces, the comments
 *   of the `meminfo` keys, and the descriptions each feature package gives
 *   `defineCounters` / `defineGauge` when it is installed;
 * - `docs/workloads.md` (`workloads`): every built-in workload from its
 *   definition (what it stands for, the thread it comes from, its
 *   parameters);
 * - `docs/report.md` (`report`): every key of the JSON report, from
 *   `docs/report.schema.json`;
 * - `docs/proposals.md` (`proposals`): the proposals of
 *   `docs/seam-users.json` with their packages, features and pages;
 * - `docs/architecture.svg` (whole) and `docs/architecture.md` (`diagram`,
 *   `layout`): a drawing of the packages and a Mermaid diagram of the
 *   packages (from their `package.json` dependencies and the seams each
 *   proposal uses) and of the core's folders (from their imports), and the
 *   core's files with the first sentence of each module comment.
 *
 *     npm run docs:pages              rewrite the parts
 *     npm run docs:pages -- --check   exit 1 when a part is stale
 *
 * Run `npm run build` first: the script imports the built packages.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildKernel, VM_EVENTS, type Feature } from '@mmlab/core';
import { formatSize, listWorkloads, type Workload } from '@mmlab/workloads';
import ts from 'typescript';
import { layeredSvg } from './lib/svg-graph.js';
import { applyParts, type DocMember, type GeneratedPart, jsDocText, mdTable, membersOf, objectLiteralMembers, parseSource } from './lib/generated.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DOCS = join(ROOT, 'docs');
const CORE_SRC = join(ROOT, 'packages', 'core', 'src');

/** `docs/seam-users.json`. */
interface SeamUsers {
  readonly proposals: Readonly<Record<string, { readonly subject: string; readonly author: string; readonly date: string }>>;
  readonly seams: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

function seamUsers(): SeamUsers {
  return JSON.parse(readFileSync(join(DOCS, 'seam-users.json'), 'utf8')) as SeamUsers;
}

/** A workspace package. */
interface Workspace {
  /** Folder, relative to the root (`packages/core`). */
  readonly dir: string;
  /** `package.json` name. */
  readonly name: string;
  /** `package.json` description. */
  readonly description: string;
  /** Its `@mmlab/*` dependencies. */
  readonly deps: readonly string[];
  /** Private (not published). */
  readonly private: boolean;
}

/** The workspaces under `packages/` and `apps/`, by folder name. */
export function workspaces(): Workspace[] {
  const out: Workspace[] = [];
  for (const top of ['packages', 'apps']) {
    for (const d of readdirSync(join(ROOT, top)).sort()) {
      const file = join(ROOT, top, d, 'package.json');
      if (!existsSync(file)) continue;
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name: string; description?: string; private?: boolean; dependencies?: Record<string, string> };
      out.push({
        dir: `${top}/${d}`,
        name: pkg.name,
        description: pkg.description ?? '',
        deps: Object.keys(pkg.dependencies ?? {}).filter((n) => n.startsWith('@mmlab/')),
        private: pkg.private === true,
      });
    }
  }
  return out;
}

/** Every feature value the packages under `packages/` export, with the package. */
export async function discoverFeatures(): Promise<{ pkg: Workspace; feature: Feature }[]> {
  const out: { pkg: Workspace; feature: Feature }[] = [];
  for (const pkg of workspaces().filter((w) => w.dir.startsWith('packages/'))) {
    const mod = (await import(pkg.name)) as Record<string, unknown>;
    for (const value of Object.values(mod)) {
      if (typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'mmlab-feature') out.push({ pkg, feature: value as Feature });
    }
  }
  return out.sort((a, b) => a.feature.name.localeCompare(b.feature.name));
}

// ---------------------------------------------------------------- metrics

/** Names in backquotes in a description (`PGFAULT`, `do_anonymous_page`). */
function quoted(doc: string): string[] {
  return [...doc.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
}

/** Kernel identifiers in a plain-text description (`hugetlb_fault`, `is_vm_hugetlb_page()`). */
function snakeNames(doc: string): string[] {
  return [...new Set([...doc.matchAll(/\b_*[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b/g)].map((m) => m[0]))];
}

/** The unit of a figure, from its name's suffix, else the section's. */
function unitOf(name: string, fallback: string): string {
  if (/(^|_)ns$/.test(name)) return 'ns';
  if (/_kB$/.test(name)) return 'kB';
  if (/_bytes$/.test(name)) return 'bytes';
  return fallback;
}

/** The unit a `meminfo` comment ends with (`…, kB.`). */
function trailingUnit(doc: string): string {
  const m = /, ([^,]+)\.$/.exec(doc);
  return m?.[1] ?? 'kB';
}

function withoutTrailingUnit(doc: string): string {
  return doc.replace(/, [^,]+\.$/, '.');
}

function code(names: readonly string[]): string {
  return names.length === 0 ? '—' : names.map((n) => `\`${n}\``).join(', ');
}

function rowsOf(members: readonly DocMember[], key: (name: string) => string, kernel: (m: DocMember) => string, unit: (m: DocMember) => string): string[][] {
  return members.map((m) => [`\`${key(m.name)}\``, kernel(m), m.doc, unit(m)]);
}

const HEADER = ['key', 'kernel name', 'meaning', 'unit'];

async function metricsPart(): Promise<string> {
  const vmstat = membersOf(parseSource(join(CORE_SRC, 'observe', 'vmstat.ts')), 'VmStat').filter((m) => m.name !== 'peak');
  const events = new Set<string>(VM_EVENTS);
  const report = parseSource(join(CORE_SRC, 'observe', 'metrics.ts'));
  const lock = parseSource(join(CORE_SRC, 'sched', 'lock.ts'));
  const vmKernel = (m: DocMember): string => {
    const names = m.name.startsWith('mmlab_') ? quoted(m.doc) : [m.name, ...quoted(m.doc).filter((q) => q !== m.name)];
    return m.name.startsWith('mmlab_') ? `none (model); ${code(names)}`.replace('; —', '') : code(names);
  };
  const out: string[] = [];
  out.push('### Event counters: metrics.vmstat', '', 'Monotonic, at the end of the run (`/proc/vmstat` names; `mmlab_` where the kernel has none).', '');
  out.push(mdTable(HEADER, rowsOf(vmstat.filter((m) => events.has(m.name)), (n) => n, vmKernel, (m) => unitOf(m.name, 'events'))));
  out.push('', '### Gauges: metrics.vmstat and metrics.peak', '', "At the workload's snapshot; `metrics.peak` holds each one's maximum over the run.", '');
  out.push(mdTable(HEADER, rowsOf(vmstat.filter((m) => !events.has(m.name)), (n) => n, vmKernel, (m) => unitOf(m.name, 'pages'))));
  out.push('', '### metrics.meminfo', '', '`/proc/meminfo` figures at the snapshot.', '');
  const meminfo = objectLiteralMembers(report, 'meminfo');
  out.push(mdTable(HEADER, meminfo.map((m) => [`\`${m.name}\``, code(quoted(m.doc)), withoutTrailingUnit(m.doc), trailingUnit(m.doc)])));
  out.push('', '### metrics.pagetables', '', 'Page-table pages per level at the snapshot.', '');
  out.push(mdTable(HEADER, rowsOf(membersOf(report, 'TableCounts'), (n) => n, (m) => code(quoted(m.doc)), () => 'tables')));
  out.push('', '### metrics.procs', '', 'One entry per process alive at the snapshot, as `/proc/PID/status` names the figures.', '');
  out.push(mdTable(HEADER, rowsOf(membersOf(report, 'ProcFigures'), (n) => n, (m) => code(m.name.startsWith('Vm') || m.name.startsWith('Rss') ? [m.name.replace(/_2624_kB$|_kB$/, '')] : quoted(m.doc)), (m) => unitOf(m.name, m.name === 'map_count' ? 'VMAs' : '—'))));
  out.push('', '### metrics.sim', '', 'Simulated time (`metrics.sim.cpus[]` per CPU).', '');
  out.push(mdTable(HEADER, [...rowsOf(membersOf(report, 'SimFigures'), (n) => n, () => '—', (m) => unitOf(m.name, '—')), ...rowsOf(membersOf(report, 'CpuTime'), (n) => `cpus[].${n}`, () => '—', (m) => unitOf(m.name, '—'))]));
  out.push('', '### metrics.locks', '', 'Per lock class (`mmap_sem`, `page_table_lock`, `ptl`, …), as lockstat counts them.', '');
  out.push(mdTable(HEADER, rowsOf(membersOf(lock, 'LockStat'), (n) => n, () => '—', (m) => unitOf(m.name, 'events'))));
  out.push('', '### metrics.feature', '', 'Declared by each feature package when it is installed, with the description `metrics.featureDocs` repeats; absent without features.', '');
  const rows: string[][] = [];
  for (const { feature } of await discoverFeatures()) {
    const k = buildKernel({ features: [feature] });
    const docs = k.featureCounters.docs()[feature.name] ?? {};
    for (const [name, doc] of Object.entries(docs)) rows.push([`\`${feature.name}.${name}\``, code(snakeNames(doc)), doc, unitOf(name, 'count')]);
  }
  out.push(mdTable(HEADER, rows));
  return out.join('\n');
}

// -------------------------------------------------------------- workloads

function paramRange(spec: Workload['params'][string]): string {
  const f = (n: number): string => (spec.kind === 'size' ? formatSize(n) : n.toLocaleString('en-US'));
  const min = spec.min ?? (spec.kind === 'size' ? undefined : 1);
  const parts = [min === undefined ? '' : `≥ ${f(min)}`, spec.max === undefined ? '' : `≤ ${f(spec.max)}`, spec.multipleOf === undefined ? '' : `multiple of ${formatSize(spec.multipleOf)}`];
  return parts.filter((p) => p !== '').join(', ') || '—';
}

function threadLink(name: string, users: SeamUsers): string {
  const t = users.proposals[name];
  // brackets escaped: a subject such as `[rfc] …` must not end the link text
  const label = (t === undefined ? name : `${t.subject} (${t.author}, ${t.date})`).replace(/[[\]]/g, '\\$&');
  return existsSync(join(DOCS, `${name}.md`)) ? `[${label}](${name}.md)` : label;
}

function workloadsPart(): string {
  const users = seamUsers();
  const out: string[] = [];
  for (const w of listWorkloads()) {
    const keys = Object.keys(w.params);
    const spec = [w.name, ...keys.map((key) => `${key}=${w.params[key]!.kind === 'size' ? formatSize(w.params[key]!.default) : w.params[key]!.default}`)].join(':');
    out.push(`### ${w.name}`, '');
    out.push(`**Stands for** ${w.standsFor ?? '(not stated)'}.`, '');
    const threads = w.threads ?? [];
    out.push(`**Thread** ${threads.length === 0 ? 'none: a workload of the baseline kernel' : threads.map((t) => threadLink(t, users)).join('; ')}.`, '');
    out.push(`**What it does** ${w.summary}.`, '');
    out.push(`Defaults: \`${spec}\``, '');
    out.push(mdTable(['parameter', 'kind', 'default', 'range', 'meaning'], keys.map((key) => {
      const p = w.params[key]!;
      return [`\`${key}\``, p.kind, p.kind === 'size' ? formatSize(p.default) : p.default.toLocaleString('en-US'), paramRange(p), p.doc];
    })), '');
  }
  return out.join('\n').trimEnd();
}

// -------------------------------------------------------------- proposals

async function proposalsPart(): Promise<string> {
  const users = seamUsers();
  const features = await discoverFeatures();
  const pkgs = workspaces();
  const rows = Object.entries(users.proposals).map(([name, t]) => {
    const pkg = pkgs.find((p) => p.dir === `packages/${name}`);
    const feats = features.filter((f) => f.pkg.dir === `packages/${name}`).map((f) => f.feature);
    const seams = Object.entries(users.seams).filter(([, u]) => name in u).map(([s]) => s);
    return [
      existsSync(join(DOCS, `${name}.md`)) ? `[${name}](${name}.md)` : name,
      `${t.subject} (${t.author}, ${t.date})`,
      pkg === undefined ? 'not yet' : `\`${pkg.name}\``,
      feats.length === 0 ? '—' : feats.map((f) => `\`${f.name}\`: ${f.summary}`).join('; '),
      code(seams),
    ];
  });
  return mdTable(['proposal', 'thread', 'package', 'feature', 'seams it uses'], rows);
}

// ----------------------------------------------------------------- report

/** A JSON Schema node, as far as the report's schema uses it. */
interface SchemaNode {
  readonly type?: string | readonly string[];
  readonly description?: string;
  readonly enum?: readonly string[];
  readonly $ref?: string;
  readonly allOf?: readonly SchemaNode[];
  readonly items?: SchemaNode;
  readonly properties?: Readonly<Record<string, SchemaNode>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: SchemaNode | boolean;
}

/** A schema node's type in words: `integer`, `RunConfig`, `array of ProcFigures`, `map of integer`. */
function typeName(n: SchemaNode): string {
  if (n.$ref !== undefined) return `[${n.$ref.split('/').at(-1)!}](#${n.$ref.split('/').at(-1)!.toLowerCase()})`;
  if (n.allOf?.[0] !== undefined) return typeName(n.allOf[0]);
  if (n.enum !== undefined) return n.enum.map((e) => `\`"${e}"\``).join(' \\| ');
  if (n.type === 'array' && n.items !== undefined) return `array of ${typeName(n.items)}`;
  if (n.type === 'object' && typeof n.additionalProperties === 'object') return `map of ${typeName(n.additionalProperties)}`;
  return Array.isArray(n.type) ? n.type.join(' or ') : String(n.type ?? 'any');
}

function reportPart(): string {
  const schema = JSON.parse(readFileSync(join(DOCS, 'report.schema.json'), 'utf8')) as { definitions: Record<string, SchemaNode> };
  const out: string[] = [];
  for (const [name, def] of Object.entries(schema.definitions)) {
    out.push(`### ${name}`, '');
    if (def.description !== undefined) out.push(def.description, '');
    const required = new Set(def.required ?? []);
    out.push(mdTable(['key', 'type', 'always there', 'meaning'], Object.entries(def.properties ?? {}).map(([key, p]) => [`\`${key}\``, typeName(p), required.has(key) ? 'yes' : 'no', p.description ?? ''])), '');
  }
  return out.join('\n').trimEnd();
}

// ----------------------------------------------------------- architecture

/** Mermaid node id of a name. */
function id(name: string): string {
  return name.replace(/^@mmlab\//, '').replace(/[^A-Za-z0-9]/g, '_');
}

/** The folders of the core's sources and the folders each one imports at run time (type-only imports left out). */
export function coreFolderImports(): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const folder of readdirSync(CORE_SRC, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort()) {
    const deps = new Set<string>();
    for (const f of readdirSync(join(CORE_SRC, folder)).filter((n) => n.endsWith('.ts'))) {
      const sf = parseSource(join(CORE_SRC, folder, f));
      for (const st of sf.statements) {
        if (!ts.isImportDeclaration(st) && !ts.isExportDeclaration(st)) continue;
        const spec = st.moduleSpecifier;
        if (spec === undefined || !ts.isStringLiteral(spec)) continue;
        if (ts.isImportDeclaration(st)) {
          const clause = st.importClause;
          if (clause?.phaseModifier === ts.SyntaxKind.TypeKeyword) continue;
          const named = clause?.namedBindings;
          if (clause !== undefined && clause.name === undefined && named !== undefined && ts.isNamedImports(named) && named.elements.every((e) => e.isTypeOnly)) continue;
        } else if (st.isTypeOnly) continue;
        const m = /^\.\.\/([\w-]+)\//.exec(spec.text);
        if (m !== null && m[1] !== folder) deps.add(m[1]!);
      }
    }
    out.set(folder, deps);
  }
  return out;
}

/** The seams each proposal package uses, by package folder name. */
function seamsByProposal(users: SeamUsers): Map<string, string[]> {
  return new Map(Object.keys(users.proposals).map((name) => [name, Object.entries(users.seams).filter(([, u]) => name in u).map(([s]) => s)]));
}

/** `docs/architecture.svg`: the packages, their dependencies, and the seams each proposal uses. */
function packagesSvg(): string {
  const seams = seamsByProposal(seamUsers());
  const pkgs = workspaces();
  return layeredSvg(
    pkgs.map((p) => {
      const used = seams.get(p.dir.replace(/^packages\//, ''));
      return {
        id: p.name,
        lines: [p.name, p.dir, ...(used !== undefined && p.dir.startsWith('packages/') ? [`seams: ${used.join(', ')}`] : [])],
        deps: p.deps,
        fill: used !== undefined ? '#fdf3e1' : p.private ? '#eef7ee' : '#eef3fb',
      };
    }),
    'mmlab packages: each arrow points to a dependency; a proposal package (orange) names the seams of the core it uses',
  );
}

function diagramPart(): string {
  const users = seamUsers();
  const pkgs = workspaces();
  const folders = coreFolderImports();
  const lines = [
    '![The packages: each arrow points to a dependency; a proposal package names the seams of the core it uses](architecture.svg)',
    '',
    'The same, with the folders of the core and their run-time imports, in Mermaid:',
    '',
    '```mermaid',
    'flowchart BT',
  ];
  for (const p of pkgs) lines.push(`  ${id(p.name)}["${p.name}<br/>${p.dir}"]`);
  for (const p of pkgs) for (const d of p.deps) lines.push(`  ${id(p.name)} --> ${id(d)}`);
  lines.push('  subgraph core_src["packages/core/src: folders and their run-time imports"]');
  for (const f of folders.keys()) lines.push(`    core_${id(f)}["${f}/"]`);
  for (const [f, deps] of folders) for (const d of [...deps].sort()) lines.push(`    core_${id(f)} --> core_${id(d)}`);
  lines.push('  end', '  core -.- core_src');
  // Each proposal reaches the core through the seams (kernel/seams/), named here.
  for (const name of Object.keys(users.proposals)) {
    if (!pkgs.some((p) => p.dir === `packages/${name}`)) continue;
    const seams = Object.entries(users.seams).filter(([, u]) => name in u).map(([s]) => s);
    if (seams.length > 0) lines.push(`  ${id(`@mmlab/${name}`)} -. "${seams.join(', ')}" .-> core_seams`);
  }
  lines.push('```');
  return lines.join('\n');
}

/** The first sentence of a file's module comment (the TSDoc with `@module` or `@packageDocumentation`), or a dash. */
function moduleSentence(file: string): string {
  const sf = parseSource(file);
  const first = sf.statements[0];
  if (first === undefined) return '—';
  const mod = ts
    .getJSDocCommentsAndTags(first)
    .filter((d): d is ts.JSDoc => ts.isJSDoc(d))
    .find((d) => (d.tags ?? []).some((t) => t.tagName.text === 'module' || t.tagName.text === 'packageDocumentation'));
  if (mod === undefined) return '—';
  const doc = jsDocText(mod);
  const m = /^(.*?\.)(\s|$)/.exec(doc);
  return m?.[1] ?? doc;
}

function layoutPart(): string {
  const rows: string[][] = [];
  for (const folder of ['', ...coreFolderImports().keys()]) {
    const dir = join(CORE_SRC, folder);
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts')).sort()) {
      rows.push([`\`${folder === '' ? '' : `${folder}/`}\``.replace('``', '(top)'), `\`${f}\``, moduleSentence(join(dir, f))]);
    }
  }
  return mdTable(['folder', 'file', 'what it holds (its module comment)'], rows);
}

/** Every generated part, as the code says it now. */
export async function parts(): Promise<GeneratedPart[]> {
  return [
    { page: join(DOCS, 'metrics.md'), name: 'metrics', body: await metricsPart() },
    { page: join(DOCS, 'workloads.md'), name: 'workloads', body: workloadsPart() },
    { page: join(DOCS, 'proposals.md'), name: 'proposals', body: await proposalsPart() },
    { page: join(DOCS, 'report.md'), name: 'report', body: reportPart() },
    { page: join(DOCS, 'architecture.svg'), name: '', body: packagesSvg() },
    { page: join(DOCS, 'architecture.md'), name: 'diagram', body: diagramPart() },
    { page: join(DOCS, 'architecture.md'), name: 'layout', body: layoutPart() },
  ];
}

async function main(): Promise<void> {
  const check = process.argv.includes('--check');
  const changed = applyParts(await parts(), ROOT, check);
  if (check && changed.length > 0) {
    process.stderr.write(`stale generated parts in ${changed.join(', ')}: run npm run docs:pages\n`);
    process.exitCode = 1;
  } else if (!check) {
    for (const c of changed) process.stdout.write(`wrote ${c}\n`);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
