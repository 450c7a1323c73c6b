// @ts-check
/**
 * The typedoc plugin of the mmlab site (loaded by the root `typedoc.json`).
 *
 * - Project documents (`docs/*.md` and the apps' READMEs, `projectDocuments`) are named after
 *   their first `# ` heading instead of their file name, and ordered:
 *   the pages of `mmlabDocumentOrder` first, in that order, then every other
 *   page by title; the proposal pages (a page whose file name is a proposal
 *   of `docs/seam-users.json`) become the children of the page named by
 *   `mmlabProposalsPage`, so a new proposal page lands in the navigation
 *   without editing any list.
 * - Search finds kernel names: every declaration whose TSDoc has an `@see`
 *   tag gets a search field `kernel` holding the kernel functions and files
 *   the tag names (`copy_page_range`, `mm/memory.c`), weighted above the
 *   symbol's own name, so `copy_page_range` finds `copyPageRange` first;
 *   kernel identifiers quoted as code in a summary (a seam's call site) go
 *   in a field `mentions`, weighted below the name.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Application, Comment, IndexEvent, KindRouter, ParameterType } from 'typedoc';
import { kernelNamesOf } from './kernel-names.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Search weight of the kernel names (a symbol's own name weighs 10). */
const KERNEL_WEIGHT = 20;
/** Search weight of kernel names quoted in a summary (`copy_page_range()`): below the symbol's own name. */
const MENTION_WEIGHT = 3;

/** Each project document's file name without `.md`: its page is `documents/<stem>.html`. */
/** @type {WeakMap<import('typedoc').Reflection, string>} */
const stems = new WeakMap();

/** typedoc's `kind` router, except that a project document's page is named after its file. */
class MmlabRouter extends KindRouter {
  /** @param {import('typedoc').Reflection} reflection */
  getIdealBaseName(reflection) {
    const stem = stems.get(reflection);
    return stem === undefined ? super.getIdealBaseName(reflection) : `documents/${stem}`;
  }
}

/**
 * The first `# ` heading of a Markdown page, inline code marks removed.
 * @param {string} text - the page
 * @returns {string | undefined}
 */
export function titleOf(text) {
  let inFence = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('```')) inFence = !inFence;
    if (!inFence && line.startsWith('# ')) return line.slice(2).replaceAll('`', '').trim();
  }
  return undefined;
}

/**
 * The proposals named in `docs/seam-users.json`.
 * @returns {Set<string>}
 */
function proposalNames() {
  /** @type {unknown} */
  const raw = JSON.parse(readFileSync(join(ROOT, 'docs', 'seam-users.json'), 'utf8'));
  const users = /** @type {{ proposals: Record<string, unknown> }} */ (raw);
  return new Set(Object.keys(users.proposals));
}

/**
 * The text of every `@see` tag of a reflection and its signatures.
 * @param {import('typedoc').Reflection} refl
 * @returns {string[]}
 */
function seeTexts(refl) {
  /** @type {(import('typedoc').Comment | undefined)[]} */
  const comments = [refl.comment];
  if (refl.isDeclaration()) {
    for (const s of refl.signatures ?? []) comments.push(s.comment);
    comments.push(refl.getSignature?.comment, refl.setSignature?.comment);
  }
  return comments.flatMap((c) => (c === undefined ? [] : c.blockTags.filter((t) => t.tag === '@see').map((t) => Comment.combineDisplayParts(t.content))));
}

/**
 * Kernel identifiers quoted as code in a reflection's summary (`` `copy_page_range()` ``,
 * `` `mm->nr_ptes` ``): C identifiers with an underscore.
 * @param {import('typedoc').Reflection} refl
 * @returns {string[]}
 */
function summaryMentions(refl) {
  /** @type {(import('typedoc').Comment | undefined)[]} */
  const comments = [refl.comment];
  if (refl.isDeclaration()) for (const s of refl.signatures ?? []) comments.push(s.comment);
  return comments.flatMap((c) =>
    (c?.summary ?? []).filter((p) => p.kind === 'code').flatMap((p) => [...p.text.matchAll(/\b_*[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b/g)].map((m) => m[0])),
  );
}

/** @param {Application} app */
export function load(app) {
  app.options.addDeclaration({
    name: 'mmlabDocumentOrder',
    help: 'mmlab: project documents (file names without .md) that open the navigation, in order',
    type: ParameterType.Array,
    defaultValue: [],
  });
  app.options.addDeclaration({
    name: 'mmlabProposalsPage',
    help: 'mmlab: the project document (file name without .md) the proposal pages are placed under',
    type: ParameterType.String,
    defaultValue: '',
  });

  app.renderer.defineRouter('mmlab', MmlabRouter);

  // After every other handler of the revived (merged) project: documents are in.
  app.on(
    Application.EVENT_PROJECT_REVIVE,
    (project) => {
      const order = /** @type {string[]} */ (app.options.getValue('mmlabDocumentOrder'));
      const proposalsPage = /** @type {string} */ (app.options.getValue('mmlabProposalsPage'));
      const proposals = proposalNames();
      const docs = [...(project.documents ?? [])];
      /** @type {Map<import('typedoc').DocumentReflection, string>} */
      const stem = new Map();
      for (const doc of docs) {
        const path = project.files.getReflectionPath(doc);
        if (path === undefined) continue;
        // a README is named after its folder (`apps/cli/README.md` → `cli`)
        const name = basename(path) === 'README.md' ? basename(dirname(path)) : basename(path, '.md');
        stem.set(doc, name);
        stems.set(doc, name);
        const title = titleOf(readFileSync(path, 'utf8'));
        if (title !== undefined) doc.name = title;
      }
      const rank = (/** @type {import('typedoc').DocumentReflection} */ d) => {
        const i = order.indexOf(stem.get(d) ?? '');
        return i < 0 ? order.length : i;
      };
      docs.sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
      const parent = docs.find((d) => stem.get(d) === proposalsPage);
      for (const doc of docs) project.removeChild(doc);
      for (const doc of docs) {
        if (parent !== undefined && doc !== parent && proposals.has(stem.get(doc) ?? '')) {
          doc.parent = parent;
          parent.addChild(doc);
        } else {
          project.addChild(doc);
        }
      }
      // Documents first, then the packages.
      const modules = (project.childrenIncludingDocuments ?? []).filter((c) => !c.isDocument());
      project.childrenIncludingDocuments = [...(project.documents ?? []), ...modules];
    },
    -1000,
  );

  app.renderer.on(IndexEvent.PREPARE_INDEX, (event) => {
    event.searchFieldWeights['kernel'] = KERNEL_WEIGHT;
    event.searchFieldWeights['mentions'] = MENTION_WEIGHT;
    event.searchResults.forEach((refl, i) => {
      const names = seeTexts(refl).flatMap((t) => kernelNamesOf(t).all);
      const mentions = summaryMentions(refl);
      const fields = { ...event.searchFields[i] };
      if (names.length > 0) fields['kernel'] = [...new Set(names)].join(' ');
      if (mentions.length > 0) fields['mentions'] = [...new Set(mentions)].join(' ');
      event.searchFields[i] = fields;
    });
  });
}
