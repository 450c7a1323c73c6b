// @ts-check
/**
 * Reads the kernel names out of an `@see` tag's text, as the core writes it:
 * `mm/memory.c copy_page_range, copy_pud_range; include/asm-generic/tlb.h pte_free_tlb`
 * (files are paths with a `/`, functions are C identifiers; text in
 * parentheses or backquotes is a remark, not a name). Used by the typedoc
 * plugin (search) and by `scripts/check-see.ts` (the CI check).
 */

/** Words of prose that may stand in a tag and are no kernel name. */
const PROSE = new Set(['a', 'an', 'and', 'the', 'of', 'in', 'on', 'for', 'to', 'with', 'as', 'or', 'its', 'series', 'applied', 'see']);

/**
 * @typedef {object} KernelNames
 * @property {string[]} files - source files (`mm/memory.c`)
 * @property {string[]} functions - C identifiers (`copy_page_range`)
 * @property {string[]} all - both, files first
 */

/**
 * The kernel files and functions an `@see` text names.
 * @param {string} text - the tag's text
 * @returns {KernelNames}
 */
export function kernelNamesOf(text) {
  const plain = text.replace(/`[^`]*`/g, ' ').replace(/\([^)]*\)/g, ' ');
  /** @type {string[]} */
  const files = [];
  /** @type {string[]} */
  const functions = [];
  for (const token of plain.split(/[\s,;]+/)) {
    if (/^[\w.-]+(\/[\w.-]+)+$/.test(token)) files.push(token);
    else if (/^_*[A-Za-z][A-Za-z0-9_]*$/.test(token) && !PROSE.has(token)) functions.push(token);
  }
  return { files, functions, all: [...files, ...functions] };
}
