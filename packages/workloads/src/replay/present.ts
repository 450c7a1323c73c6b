/**
 * The `present` file of a capture: one line per run of present virtual
 * pages, `start-end` in hex, end exclusive, ascending and disjoint.
 * @module
 */

import { CaptureLineError } from '../errors.js';
import { endsWithNewline } from './smaps.js';

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
  return parsePresentLines(text).runs;
}

/** The line (from 1) of each run of a `present` file, for messages. */
export interface PresentLines {
  /** The runs, ascending. */
  readonly runs: PageRun[];
  /** The line each run was read from. */
  readonly lines: number[];
}

/**
 * Parses a `present` file as {@link parsePresent} does, keeping each
 * run's line. A trailer `# end: N runs` (what `mmlab capture` writes) must
 * be the last line and count the runs: a file cut at a line boundary is
 * then found truncated too.
 * @param text - the file's contents
 * @throws {@link CaptureLineError} on a malformed, unaligned, empty,
 *   overlapping or out-of-order run, a line cut short, or a trailer that
 *   does not match
 */
export function parsePresentLines(text: string): PresentLines {
  const runs: PageRun[] = [];
  const at: number[] = [];
  const all = text.split('\n');
  endsWithNewline('present', all);
  let trailer: { line: number; count: number } | undefined;
  all.forEach((raw, i) => {
    const line = raw.trim();
    const fail = (why: string): CaptureLineError => new CaptureLineError('present', i + 1, why);
    if (line === '') return;
    if (trailer !== undefined) throw fail(`'${line}' comes after the '# end' trailer (line ${trailer.line})`);
    const end = /^#\s*end:\s*(\d+) runs?\b/.exec(line);
    if (end !== null) {
      trailer = { line: i + 1, count: Number(end[1]) };
      return;
    }
    if (line.startsWith('#')) return;
    const m = /^(?:0x)?([0-9a-f]+)-(?:0x)?([0-9a-f]+)$/i.exec(line);
    if (m === null) throw fail(`expected start-end in hex, got '${line}'`);
    const start = parseInt(m[1]!, 16);
    const stop = parseInt(m[2]!, 16);
    if (start % PAGE_SIZE !== 0 || stop % PAGE_SIZE !== 0) throw fail(`'${line}' is not page aligned`);
    if (stop <= start) throw fail(`'${line}' is empty`);
    const prev = runs[runs.length - 1];
    if (prev !== undefined && start < prev.end) throw fail(`'${line}' overlaps or precedes the previous run`);
    runs.push({ start, end: stop });
    at.push(i + 1);
  });
  if (trailer !== undefined && trailer.count !== runs.length) {
    throw new CaptureLineError(
      'present',
      trailer.line,
      `the trailer counts ${trailer.count} runs but the file has ${runs.length}: it is truncated or edited`
    );
  }
  return { runs, lines: at };
}

/**
 * The trailer `mmlab capture` writes after the runs, so that a `present`
 * file cut at a line boundary is found truncated: `# end: N runs`.
 * @param runs - the runs written
 */
export function presentTrailer(runs: readonly PageRun[]): string {
  return `# end: ${runs.length} runs\n`;
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
