/**
 * Where a proposal's pages are on the documentation site (`npm run docs`):
 * its guide page `docs/<name>.md` becomes `documents/<name>.html`, and its
 * package `@mmlab/<name>` the API module page `modules/_mmlab_<name>.html`.
 * `mmlab web` serves the site under `docs/` beside the app.
 * @module
 */

/** The site's folder, relative to the app's page. */
export const DOCS_BASE = 'docs/';

/**
 * The guide page of a proposal (or any page of `docs/`).
 * @param page - the page's file name without `.md` (a proposal's is its feature name)
 * @param base - the site's folder
 */
export function docsPageUrl(page: string, base = DOCS_BASE): string {
  return `${base}documents/${encodeURIComponent(page)}.html`;
}

/**
 * The generated API page of a proposal's package `@mmlab/<name>`.
 * @param name - the feature name (its package's name without the scope)
 * @param base - the site's folder
 */
export function apiPageUrl(name: string, base = DOCS_BASE): string {
  return `${base}modules/_mmlab_${encodeURIComponent(name)}.html`;
}
