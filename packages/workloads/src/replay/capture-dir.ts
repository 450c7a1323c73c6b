/**
 * A capture folder: `smaps`, `status` and `present` of one real process.
 * @module
 */

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CaptureLineError, SpecError } from '../errors.js';
import { parsePresent, parsePresentLines, type PageRun } from './present.js';
import { endsWithNewline, parseSmaps, type SmapsVma } from './smaps.js';
import { parseStatus, statusKb } from './status.js';

/** File names inside a capture folder. */
export const CAPTURE_FILES: CaptureFileNames = Object.freeze({
  smaps: 'smaps',
  status: 'status',
  present: 'present',
});

/** The names of the three files of a capture folder. */
export interface CaptureFileNames {
  /** Raw copy of /proc/PID/smaps. */
  readonly smaps: 'smaps';
  /** Raw copy of /proc/PID/status. */
  readonly status: 'status';
  /** Runs of present virtual pages, `start-end` in hex. */
  readonly present: 'present';
}

/** A parsed capture folder. */
export interface Capture {
  /** The VMAs, from `smaps`. */
  readonly vmas: readonly SmapsVma[];
  /** The status fields, from `status`. */
  readonly status: Readonly<Record<string, string>>;
  /** The present page runs, from `present`. */
  readonly present: readonly PageRun[];
}

/**
 * Parses the three files of a capture.
 * @param texts - the contents of `smaps`, `status` and `present`
 */
export function parseCapture(texts: { smaps: string; status: string; present: string }): Capture {
  return {
    vmas: parseSmaps(texts.smaps),
    status: parseStatus(texts.status),
    present: parsePresent(texts.present),
  };
}

/**
 * Reads, parses and checks a capture folder.
 * @param dir - the folder written by `mmlab capture`
 * @param options - `requireTrailer`: refuse a `present` file without the
 *   `# end: N runs` trailer (every capture of a group has one; the
 *   one-process captures of before may not)
 * @throws {@link SpecError} when a file is missing, malformed, truncated,
 *   or does not belong with the others: `PATH:LINE: what is wrong`
 */
export async function readCapture(dir: string, options: { readonly requireTrailer?: boolean } = {}): Promise<Capture> {
  // one after the other, so a missing file is always named in the same order
  const smaps = await readCaptureFile(dir, CAPTURE_FILES.smaps);
  const status = await readCaptureFile(dir, CAPTURE_FILES.status);
  const present = await readCaptureFile(dir, CAPTURE_FILES.present);
  try {
    const capture = checkedCapture({ smaps: smaps.text, status: status.text, present: present.text });
    if (options.requireTrailer === true && !/^#\s*end:/m.test(present.text)) {
      const lines = present.text.split('\n').length - 1;
      throw new CaptureLineError('present', Math.max(1, lines), "no '# end: N runs' trailer, which mmlab capture writes last: the file is truncated");
    }
    return capture;
  } catch (err) {
    // name the file in the folder and its line, as compilers do
    if (err instanceof CaptureLineError) {
      const file = [smaps, status, present].find((f) => f.base === err.file)?.name ?? err.file;
      throw new SpecError(`${join(dir, file)}:${err.line}: ${err.reason}`);
    }
    throw err;
  }
}

/** A capture file as read: its name on disk (`present` or `present.gz`), its base name and its text. */
export interface CaptureFileText {
  /** The name on disk. */
  readonly name: string;
  /** The name without `.gz`. */
  readonly base: string;
  /** The contents, decompressed. */
  readonly text: string;
}

/**
 * Reads one file of a capture folder: `NAME`, or `NAME.gz` (gzip, how the
 * fixtures keep large `present` and `smaps` files small) when there is no
 * `NAME`.
 * @param dir - the folder
 * @param base - the file's name without `.gz`
 * @throws {@link SpecError} when neither can be read, or the `.gz` is not gzip
 */
export async function readCaptureFile(dir: string, base: string): Promise<CaptureFileText> {
  const file = await tryReadCaptureFile(dir, base);
  if (file === undefined) throw new SpecError(`capture folder '${dir}' has no readable '${base}'`);
  return file;
}

/**
 * Reads one file of a capture folder as {@link readCaptureFile} does, or
 * returns undefined when neither `NAME` nor `NAME.gz` can be read.
 * @param dir - the folder
 * @param base - the file's name without `.gz`
 * @throws {@link SpecError} when the `.gz` is not gzip
 */
export async function tryReadCaptureFile(dir: string, base: string): Promise<CaptureFileText | undefined> {
  const plain = await readFile(join(dir, base), 'utf8').catch(() => undefined);
  if (plain !== undefined) return { name: base, base, text: plain };
  const name = `${base}.gz`;
  const packed = await readFile(join(dir, name)).catch(() => undefined);
  if (packed === undefined) return undefined;
  const { text, error } = await gunzip(packed);
  // a gzip file cut short gives what it holds (the checks of the text then
  // name the line where it stops); a damaged one gives nothing
  if (text === '' && error !== undefined) throw new SpecError(`${join(dir, name)}: not gzip data, or damaged (${error})`);
  return { name, base, text };
}

/**
 * Decompresses gzip data with the web's `DecompressionStream` (in Node and
 * in browsers alike): the text it held up to where it ends or breaks, and
 * the error, if any.
 */
async function gunzip(data: Uint8Array): Promise<{ text: string; error: string | undefined }> {
  const stream = new DecompressionStream('gzip');
  const writer = stream.writable.getWriter();
  // the errors of the writing side come out of the reading side
  writer.write(data).catch(() => undefined);
  writer.close().catch(() => undefined);
  const reader: ReadableStreamDefaultReader<Uint8Array> = stream.readable.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    return { text: text + decoder.decode(), error: undefined };
  } catch (err) {
    return { text: text + decoder.decode(), error: (err as Error).message };
  }
}

/** Fields of `status` a replay needs. */
const STATUS_NEEDED = ['VmSize', 'VmPTE'] as const;

/**
 * Parses the three files and checks that they hold together, so that a
 * truncated or corrupted capture is an input error naming the file and
 * line, never a model mismatch: each file complete (see the parsers),
 * `status` with the fields a replay needs, the VMAs of `smaps` adding up
 * to `status`'s VmSize (a `smaps` cut at a VMA boundary, or files of two
 * processes, do not), and every run of `present` inside a VMA.
 * @param texts - the contents of `smaps`, `status` and `present`
 * @throws {@link CaptureLineError} naming the file and line
 */
function checkedCapture(texts: { smaps: string; status: string; present: string }): Capture {
  const vmas = parseSmaps(texts.smaps);
  const statusLines = texts.status.split('\n');
  endsWithNewline('status', statusLines);
  const status = parseStatus(texts.status);
  for (const key of STATUS_NEEDED) {
    if (!/^\d+\s*kB$/.test(status[key] ?? '')) {
      throw new CaptureLineError('status', statusLines.length, `no '${key}: N kB' line: the file is truncated`);
    }
  }
  const mappedKb = vmas.filter((v) => v.path !== '[vsyscall]').reduce((kb, v) => kb + (v.end - v.start) / 1024, 0);
  const vmSize = statusKb(status, 'VmSize');
  if (mappedKb !== vmSize) {
    const last = vmas[vmas.length - 1];
    throw new CaptureLineError(
      'smaps',
      texts.smaps.split('\n').length - 1,
      `its VMAs map ${mappedKb} kB but status says VmSize ${vmSize} kB` +
        `${last === undefined ? '' : ` (last VMA ${last.start.toString(16)}-${last.end.toString(16)})`}: ` +
        'smaps is truncated, or the files are of different processes'
    );
  }
  const { runs, lines } = parsePresentLines(texts.present);
  let v = 0;
  runs.forEach((r, i) => {
    while (v < vmas.length && vmas[v]!.end <= r.start) v++;
    // runs never straddle VMAs that are not adjacent
    let end = r.start;
    for (let w = v; w < vmas.length && vmas[w]!.start <= end && end < r.end; w++) end = vmas[w]!.end;
    if (end < r.end) {
      throw new CaptureLineError(
        'present',
        lines[i] ?? 0,
        `run ${r.start.toString(16)}-${r.end.toString(16)} lies outside the VMAs of smaps: the files do not belong together`
      );
    }
  });
  return { vmas, status, present: runs };
}

/** Top of the x86-64 user address space with 4-level tables (47 bits). */
export const USER_SPACE_END = 2 ** 47;

/**
 * True when a VMA lies in user space and can be rebuilt in the model;
 * `[vsyscall]` (a fixed kernel page above user space) cannot.
 * @param vma - a VMA from smaps
 */
export function isReplayable(vma: SmapsVma): boolean {
  return vma.path !== '[vsyscall]' && vma.end <= USER_SPACE_END;
}
