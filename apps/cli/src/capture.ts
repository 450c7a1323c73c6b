/**
 * `mmlab capture`: copies a live process's `/proc/PID/smaps` and
 * `/proc/PID/status` and records which of its pages are present (from
 * `/proc/PID/pagemap`, bit 63 of each 8-byte entry) as a `present` file.
 * @module
 */

import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import {
  CAPTURE_FILES,
  HOST_PAGE_SIZE as PAGE_SIZE,
  PageRunBuilder,
  countPages,
  formatPresent,
  isReplayable,
  parseSmaps,
  presentTrailer,
  type PageRun,
  type SmapsVma,
} from '@mmlab/workloads';
import { writeFileAtomic } from './outputs.js';

/** What a capture wrote. */
export interface CaptureSummary {
  /** VMAs in `smaps`. */
  readonly vmas: number;
  /** Present pages found. */
  readonly pages: number;
  /** Runs written to `present`. */
  readonly runs: number;
}

/** Pages read from pagemap per `read` call (8 bytes each). */
const CHUNK_PAGES = 1 << 16;

/** Bit 63 of a pagemap entry, i.e. bit 7 of its last byte (little-endian). */
const PRESENT_BIT = 0x80;

/**
 * Reads the present pages of the given VMAs from an open pagemap file.
 * VMAs outside user space are skipped, and so are VMAs whose Rss is zero
 * unless they map raw pfns (`pf`/`io`, whose pages smaps does not count).
 * @param fd - an open `/proc/PID/pagemap`
 * @param vmas - the process's VMAs, ascending
 */
export function readPresent(fd: number, vmas: readonly SmapsVma[]): PageRun[] {
  const builder = new PageRunBuilder();
  const buf = Buffer.alloc(CHUNK_PAGES * 8);
  for (const vma of vmas) {
    if (!isReplayable(vma)) continue;
    const raw = vma.vmFlags.includes('pf') || vma.vmFlags.includes('io');
    if ((vma.fields.Rss ?? 0) === 0 && !raw) continue;
    for (let addr = vma.start; addr < vma.end; ) {
      const pages = Math.min(CHUNK_PAGES, (vma.end - addr) / PAGE_SIZE);
      const want = pages * 8;
      let got = 0;
      while (got < want) {
        const n = readSync(fd, buf, got, want - got, (addr / PAGE_SIZE) * 8 + got);
        if (n === 0) break;
        got += n;
      }
      for (let i = 0; i < got / 8; i++) {
        if ((buf[i * 8 + 7]! & PRESENT_BIT) !== 0) builder.add(addr + i * PAGE_SIZE);
      }
      addr += pages * PAGE_SIZE;
    }
  }
  return builder.runs();
}

/**
 * Captures process `pid` into the folder `dir`, which must exist (the
 * command checks and creates it first). Each file is written to a
 * temporary name in `dir` and renamed into place. The VMA list
 * is read again after pagemap; if it changed, the capture is retried.
 * @param pid - the process id
 * @param dir - the capture folder
 * @param procRoot - where procfs is mounted (tests may point elsewhere)
 * @throws when the process's files cannot be read (no such process, no
 *   permission for pagemap)
 */
export function captureProcess(pid: number, dir: string, procRoot = '/proc'): CaptureSummary {
  const base = join(procRoot, String(pid));
  for (let attempt = 0; ; attempt++) {
    const smaps = readFileSync(join(base, 'smaps'), 'utf8');
    const vmas = parseSmaps(smaps);
    const fd = openSync(join(base, 'pagemap'), 'r');
    let present: PageRun[];
    try {
      present = readPresent(fd, vmas);
    } finally {
      closeSync(fd);
    }
    const status = readFileSync(join(base, 'status'), 'utf8');
    const again = readFileSync(join(base, 'smaps'), 'utf8');
    if (headers(again) !== headers(smaps) && attempt < 3) continue;
    writeFileAtomic(join(dir, CAPTURE_FILES.smaps), smaps, true);
    writeFileAtomic(join(dir, CAPTURE_FILES.status), status, true);
    writeFileAtomic(join(dir, CAPTURE_FILES.present), formatPresent(present) + presentTrailer(present), true);
    return { vmas: vmas.length, pages: countPages(present), runs: present.length };
  }
}

function headers(smaps: string): string {
  return smaps
    .split('\n')
    .filter((l) => /^[0-9a-f]+-[0-9a-f]+ /.test(l))
    .join('\n');
}
