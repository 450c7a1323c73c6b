/**
 * `mmlab capture`: copies live processes' `/proc/PID/smaps` and
 * `/proc/PID/status`, records which of their pages are present (from
 * `/proc/PID/pagemap`, bit 63 of each 8-byte entry, which the kernel shows
 * without root for a process one may ptrace-read) as a `present` file, and
 * lists the System V segments they map (`/proc/sysvipc/shm`). The folder is
 * written whole under a temporary name beside it and renamed into place:
 * never a partial folder.
 * @module
 */

import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, renameSync, rmSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  CAPTURE_FILES,
  GROUP_FILE,
  HOST_PAGE_SIZE as PAGE_SIZE,
  PageRunBuilder,
  anonymiseCapture,
  countPages,
  formatGroupManifest,
  formatPresent,
  isReplayable,
  parseSmaps,
  presentTrailer,
  type GroupMember,
  type PageRun,
  type SmapsVma,
  type SysvSegment,
} from '@mmlab/workloads';

/** What a capture of one process found. */
export interface CaptureSummary {
  /** VMAs in `smaps`. */
  readonly vmas: number;
  /** Present pages found. */
  readonly pages: number;
  /** Runs written to `present`. */
  readonly runs: number;
}

/** One process read from /proc, not yet written. */
export interface ProcessTexts {
  /** Its pid. */
  readonly pid: number;
  /** `Name:` of its status. */
  readonly name: string;
  /** Its smaps. */
  readonly smaps: string;
  /** Its status. */
  readonly status: string;
  /** Its `present` file (runs and trailer). */
  readonly present: string;
  /** Its command line, arguments joined by spaces. */
  readonly cmdline: string;
  /** Its VMAs (parsed smaps). */
  readonly vmas: readonly SmapsVma[];
  /** What was found. */
  readonly summary: CaptureSummary;
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

/** A process that could not be captured: gone, not readable, no address space. */
export class ProcessUnreadable extends Error {
  /** @param message - why, in a few words */
  constructor(message: string) {
    super(message);
    this.name = 'ProcessUnreadable';
  }
}

/**
 * Reads one process from /proc. The VMA list is read again after pagemap;
 * if it changed meanwhile, the process is read again (at most 3 times).
 * @param pid - the process id
 * @param procRoot - where procfs is mounted (tests may point elsewhere)
 * @throws {@link ProcessUnreadable} when it is gone, not readable or has no
 *   address space (a kernel thread, a zombie)
 */
export function readProcess(pid: number, procRoot = '/proc'): ProcessTexts {
  const base = join(procRoot, String(pid));
  try {
    for (let attempt = 0; ; attempt++) {
      const smaps = readFileSync(join(base, 'smaps'), 'utf8');
      if (smaps === '') throw new ProcessUnreadable('no address space (a kernel thread or a zombie)');
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
      const cmdline = readFileSync(join(base, 'cmdline'), 'utf8').split('\0').filter(Boolean).join(' ');
      const name = /^Name:\s*(.*)$/m.exec(status)?.[1]?.trim() ?? '';
      return {
        pid,
        name,
        smaps,
        status,
        present: formatPresent(present) + presentTrailer(present),
        cmdline,
        vmas,
        summary: { vmas: vmas.length, pages: countPages(present), runs: present.length },
      };
    }
  } catch (err) {
    throw new ProcessUnreadable(describeError(err));
  }
}

function headers(smaps: string): string {
  return smaps
    .split('\n')
    .filter((l) => /^[0-9a-f]+-[0-9a-f]+ /.test(l))
    .join('\n');
}

/**
 * Why reading /proc failed, in a few words.
 * @param err - what was thrown
 */
export function describeError(err: unknown): string {
  if (err instanceof ProcessUnreadable) return err.message;
  if (err instanceof Error && 'code' in err) {
    const code = String((err as NodeJS.ErrnoException).code);
    if (code === 'ENOENT' || code === 'ESRCH') return 'no such process';
    if (code === 'EACCES' || code === 'EPERM') return 'permission denied (pagemap and smaps need root or the same user)';
    return `${code}: ${err.message}`;
  }
  return err instanceof Error ? err.message : String(err);
}

/**
 * The pids of the processes to capture for `--match NAME` (the process's
 * name, `Name:` of its status, or the base name of its first argument,
 * equals NAME) or `--all` (every process); the calling process is left out.
 * Ascending.
 * @param match - the name, or undefined for every process
 * @param procRoot - where procfs is mounted
 * @param self - the pid to leave out (this process)
 */
export function listPids(match: string | undefined, procRoot = '/proc', self = process.pid): number[] {
  const pids = readdirSync(procRoot)
    .filter((e) => /^[1-9]\d*$/.test(e))
    .map(Number)
    .filter((p) => p !== self)
    .sort((a, b) => a - b);
  if (match === undefined) return pids;
  return pids.filter((pid) => {
    try {
      const status = readFileSync(join(procRoot, String(pid), 'status'), 'utf8');
      if (/^Name:\s*(.*)$/m.exec(status)?.[1]?.trim() === match) return true;
      const argv0 = readFileSync(join(procRoot, String(pid), 'cmdline'), 'utf8').split('\0')[0] ?? '';
      return argv0 !== '' && basename(argv0) === match;
    } catch {
      return false;
    }
  });
}

/**
 * The System V segments among `vmas` (mappings named `/SYSV…`, whose inode
 * is the shmid), with key and size from `/proc/sysvipc/shm`; an unreadable
 * table gives none.
 * @param vmas - the VMAs of every process
 * @param procRoot - where procfs is mounted
 */
export function sysvSegments(vmas: readonly SmapsVma[], procRoot = '/proc'): SysvSegment[] {
  const ids = new Set(vmas.filter((v) => v.path.startsWith('/SYSV')).map((v) => v.inode));
  if (ids.size === 0) return [];
  let table: string;
  try {
    table = readFileSync(join(procRoot, 'sysvipc', 'shm'), 'utf8');
  } catch {
    return [];
  }
  const out: SysvSegment[] = [];
  for (const line of table.split('\n').slice(1)) {
    const [key, shmid, , size] = line.trim().split(/\s+/);
    if (key === undefined || shmid === undefined || size === undefined || !/^\d+$/.test(shmid)) continue;
    if (ids.has(Number(shmid)) && /^-?\d+$/.test(key) && /^[1-9]\d*$/.test(size)) out.push({ shmid: Number(shmid), key, size: Number(size) });
  }
  return out.sort((a, b) => a.shmid - b.shmid);
}

/** How a group is written. */
export interface GroupWriteOptions {
  /** Keep the paths of mapped files and the command lines (`--keep-names`). */
  readonly keepNames: boolean;
  /** Write `present` and `smaps` gzip-compressed (`--gzip`). */
  readonly gzip: boolean;
  /** Where procfs is mounted (for `/proc/sysvipc/shm`). */
  readonly procRoot?: string;
}

/**
 * The files of a group folder for the processes read: `group` and one
 * `p<PID>/` folder each, paths anonymised unless `keepNames`.
 * @param procs - the processes read, in capture order
 * @param options - names, compression
 */
export function groupFiles(procs: readonly ProcessTexts[], options: GroupWriteOptions): Map<string, string | Buffer> {
  const smaps = options.keepNames ? procs.map((p) => p.smaps) : anonymiseCapture(procs.map((p) => p.smaps)).smaps;
  const members: GroupMember[] = procs.map((p) => ({
    pid: p.pid,
    folder: `p${p.pid}`,
    name: p.name,
    ...(options.keepNames ? { cmdline: p.cmdline } : {}),
  }));
  const segments = sysvSegments(
    procs.flatMap((p) => p.vmas),
    options.procRoot
  );
  const files = new Map<string, string | Buffer>();
  files.set(GROUP_FILE, formatGroupManifest({ names: options.keepNames ? 'kept' : 'anonymised', processes: members, segments }));
  procs.forEach((p, i) => {
    const dir = `p${p.pid}`;
    addFile(files, join(dir, CAPTURE_FILES.smaps), smaps[i]!, options.gzip);
    files.set(join(dir, CAPTURE_FILES.status), p.status);
    addFile(files, join(dir, CAPTURE_FILES.present), p.present, options.gzip);
  });
  return files;
}

/**
 * The files of a one-process folder (`mmlab capture PID DIR`): `smaps`,
 * `status` and `present` at its top, paths kept (as before groups).
 * @param p - the process read
 * @param gzip - compress `present` and `smaps`
 */
export function singleFiles(p: ProcessTexts, gzip: boolean): Map<string, string | Buffer> {
  const files = new Map<string, string | Buffer>();
  addFile(files, CAPTURE_FILES.smaps, p.smaps, gzip);
  files.set(CAPTURE_FILES.status, p.status);
  addFile(files, CAPTURE_FILES.present, p.present, gzip);
  return files;
}

function addFile(files: Map<string, string | Buffer>, name: string, text: string, gzip: boolean): void {
  if (gzip) files.set(`${name}.gz`, gzipSync(text, { level: 9 }));
  else files.set(name, text);
}

/** Entries a capture folder may hold (what `--force` may replace). */
const CAPTURE_ENTRY = /^(?:(?:smaps|status|present|group)(?:\.gz)?|p[1-9]\d*)$/;

/**
 * What stands at a capture folder's path before a capture: nothing (or an
 * empty folder), an earlier capture (which `--force` replaces), or
 * something else (which is never replaced).
 * @param target - the absolute path
 * @returns `'free'`, `'file'`, `{ capture: entries }` or `{ other: entries }`
 */
export function targetState(target: string): 'free' | 'file' | { readonly capture: readonly string[] } | { readonly other: readonly string[] } {
  const stat = statSync(target, { throwIfNoEntry: false });
  if (stat === undefined) return 'free';
  if (!stat.isDirectory()) return 'file';
  const entries = readdirSync(target).sort();
  if (entries.length === 0) return 'free';
  const other = entries.filter((e) => !CAPTURE_ENTRY.test(e));
  return other.length > 0 ? { other } : { capture: entries };
}

/**
 * Writes a capture folder whole: every file into a fresh temporary folder
 * beside `target`, then one rename puts it in place (an empty folder at
 * `target` is replaced; an earlier capture only with `replace`, moved aside
 * first and removed after). If anything fails, the temporary folder goes
 * and `target` is as it was.
 * @param target - the absolute path of the folder
 * @param files - relative path → contents
 * @param replace - replace an earlier capture at `target`
 */
export function writeCaptureFolder(target: string, files: ReadonlyMap<string, string | Buffer>, replace: boolean): void {
  const parent = dirname(target);
  mkdirSync(parent, { recursive: true });
  // not mkdtemp, which makes the folder private (0700): a capture folder gets the umask's mode
  const tmp = join(parent, `.${basename(target)}.mmlab-${process.pid}-${randomBytes(6).toString('hex')}`);
  mkdirSync(tmp);
  let aside: string | undefined;
  try {
    for (const [rel, body] of files) {
      mkdirSync(dirname(join(tmp, rel)), { recursive: true });
      writeFileSync(join(tmp, rel), body, { flag: 'wx' });
    }
    const state = targetState(target);
    if (state === 'file') throw new Error(`'${target}' is a file`);
    if (typeof state === 'object') {
      if ('other' in state || !replace) throw new Error(`'${target}' changed while it was being captured; not replaced`);
      aside = `${tmp}.old`;
      renameSync(target, aside);
    } else if (existsSync(target)) {
      rmdirSync(target);
    }
    renameSync(tmp, target);
  } catch (err) {
    if (aside !== undefined && !existsSync(target)) renameSync(aside, target);
    throw err;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    if (aside !== undefined && existsSync(target)) rmSync(aside, { recursive: true, force: true });
  }
}
