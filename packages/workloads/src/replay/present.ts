/**
 * The `present` file of a capture: one line per run of present virtual
 * pages, `start-end` in hex, end exclusive, ascending and disjoint.
 * @module
 */

import { SpecError } from '../errors.js';

/**
 * Page size of the captured machine (x86-64: 4 KiB), in which `present`
 * runs and pagemap entries are counted.
 */
export const HOST_PAGE_SIZE = 4096;
const PAGE_SIZE = HOST_PAGE_SIZE;

/** A run of present pages, `[start, end)` in bytes. */
export interface PageRun {
  /** First byte of the first page. */
  readonly start: number;
  /** First byte after the last page. */
  readonly end: number;
}

/**
 * Parses a `present` file; blank lines and `#` comments are ignored.
 * @param text - the file's contents
 * @throws {@link SpecError} on a malformed, unaligned, empty, overlapping or
 *   out-of-order run
 */
export function parsePresent(text: string): PageRun[] {
  const runs: PageRun[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^(?:0x)?([0-9a-f]+)-(?:0x)?([0-9a-f]+)$/i.exec(line);
    if (m === null) throw new SpecError(`present line ${i + 1}: expected start-end in hex, got '${line}'`);
    const start = parseInt(m[1]!, 16);
    const end = parseInt(m[2]!, 16);
    if (start % PAGE_SIZE !== 0 || end % PAGE_SIZE !== 0) {
      throw new SpecError(`present line ${i + 1}: '${line}' is not page aligned`);
    }
    if (end <= start) throw new SpecError(`present line ${i + 1}: '${line}' is empty`);
    const prev = runs[runs.length - 1];
    if (prev !== undefined && start < prev.end) {
      throw new SpecError(`present line ${i + 1}: '${line}' overlaps or precedes the previous run`);
    }
    runs.push({ start, end });
  });
  return runs;
}

/**
 * Formats runs as a `present` file (lowercase hex, one run per line).
 * @param runs - ascending, disjoint runs
 */
export function formatPresent(runs: readonly PageRun[]): string {
  return runs.map((r) => `${r.start.toString(16)}-${r.end.toString(16)}\n`).join('');
}

/**
 * Collects present pages in ascending order into coalesced runs.
 */
export class PageRunBuilder {
  readonly #runs: PageRun[] = [];
  #start = -1;
  #end = -1;

  /**
   * Adds the page at `addr` (pages must come in ascending order).
   * @param addr - page-aligned address of a present page
   */
  add(addr: number): void {
    if (addr === this.#end) {
      this.#end += PAGE_SIZE;
      return;
    }
    this.#close();
    this.#start = addr;
    this.#end = addr + PAGE_SIZE;
  }

  /** The runs collected so far. */
  runs(): PageRun[] {
    const out = [...this.#runs];
    if (this.#start >= 0) out.push({ start: this.#start, end: this.#end });
    return out;
  }

  #close(): void {
    if (this.#start >= 0) this.#runs.push({ start: this.#start, end: this.#end });
    this.#start = -1;
    this.#end = -1;
  }
}

/**
 * Number of pages in a list of runs.
 * @param runs - page runs
 */
export function countPages(runs: readonly PageRun[]): number {
  return runs.reduce((n, r) => n + (r.end - r.start) / PAGE_SIZE, 0);
}
