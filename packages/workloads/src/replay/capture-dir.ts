/**
 * A capture folder: `smaps`, `status` and `present` of one real process.
 * @module
 */

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SpecError } from '../errors.js';
import { parsePresent, type PageRun } from './present.js';
import { parseSmaps, type SmapsVma } from './smaps.js';
import { parseStatus } from './status.js';

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
 * Reads and parses a capture folder.
 * @param dir - the folder written by `mmlab capture`
 * @throws {@link SpecError} when a file is missing or malformed
 */
export async function readCapture(dir: string): Promise<Capture> {
  const read = async (name: string): Promise<string> => {
    try {
      return await readFile(join(dir, name), 'utf8');
    } catch {
      throw new SpecError(`capture folder '${dir}' has no readable '${name}'`);
    }
  };
  // one after the other, so a missing file is always named in the same order
  const smaps = await read(CAPTURE_FILES.smaps);
  const status = await read(CAPTURE_FILES.status);
  const present = await read(CAPTURE_FILES.present);
  return parseCapture({ smaps, status, present });
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
