/**
 * A capture group: several live processes captured together by `mmlab
 * capture --pids|--match|--all`, one sub-folder per process (its `smaps`,
 * `status` and `present`), and a manifest, `group`, listing them and the
 * System V shared memory segments they map. A folder with `smaps` at its
 * top (what `mmlab capture PID DIR` writes) is a group of one.
 * @module
 */

import { join } from 'node:path';
import { CaptureLineError, SpecError } from '../errors.js';
import { readCapture, tryReadCaptureFile, type Capture } from './capture-dir.js';
import { endsWithNewline } from './smaps.js';

/** The manifest's name inside a group folder. */
export const GROUP_FILE = 'group';

/** Version of the manifest format this code writes and reads. */
export const GROUP_FORMAT = 1;

/** Whether a capture keeps the paths of mapped files (`--keep-names`) or replaced them with tokens. */
export type CaptureNames = 'anonymised' | 'kept';

/** One process of a group, as the manifest lists it. */
export interface GroupMember {
  /** Its pid on the captured machine. */
  readonly pid: number;
  /** The sub-folder holding its capture. */
  readonly folder: string;
  /** Its name (`Name:` of its status). */
  readonly name: string;
  /** Its command line (only with `--keep-names`). */
  readonly cmdline?: string;
}

/**
 * A System V shared memory segment a process of the group maps (a row of
 * `/proc/sysvipc/shm`). smaps shows such a mapping as `/SYSV<key>` with the
 * segment's shmid as its inode, which is how the replay finds it.
 */
export interface SysvSegment {
  /** The segment's id (the inode of its mappings in smaps). */
  readonly shmid: number;
  /** Its key, as `/proc/sysvipc/shm` prints it (decimal). */
  readonly key: string;
  /** Its size in bytes. */
  readonly size: number;
}

/** The parsed manifest of a group folder. */
export interface GroupManifest {
  /** Whether paths were kept or anonymised. */
  readonly names: CaptureNames;
  /** The processes, in capture order. */
  readonly processes: readonly GroupMember[];
  /** The System V segments the processes map. */
  readonly segments: readonly SysvSegment[];
}

/** One process of a group with its capture. */
export interface CapturedProcess extends GroupMember {
  /** Its parsed capture. */
  readonly capture: Capture;
}

/** A capture group read from disk. */
export interface CaptureGroup {
  /** Whether paths were kept or anonymised. */
  readonly names: CaptureNames;
  /** The processes, in capture order. */
  readonly processes: readonly CapturedProcess[];
  /** The System V segments the processes map. */
  readonly segments: readonly SysvSegment[];
}

const FOLDER_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

/**
 * Formats a manifest: a `format` line, a `names` line, one `process PID
 * FOLDER NAME` line per process (a `cmdline PID "…"` line after it when the
 * command line was kept), one `sysvshm SHMID KEY SIZE` line per segment, and
 * the trailer `# end: N processes`, so a manifest cut at a line boundary is
 * found truncated.
 * @param m - the manifest
 */
export function formatGroupManifest(m: GroupManifest): string {
  const lines = [
    '# mmlab capture group: the processes captured together (one folder each) and the SysV segments they map',
    `format ${GROUP_FORMAT}`,
    `names ${m.names}`,
  ];
  for (const p of m.processes) {
    lines.push(`process ${p.pid} ${p.folder} ${p.name}`);
    if (p.cmdline !== undefined) lines.push(`cmdline ${p.pid} ${JSON.stringify(p.cmdline)}`);
  }
  for (const s of m.segments) lines.push(`sysvshm ${s.shmid} ${s.key} ${s.size}`);
  lines.push(`# end: ${m.processes.length} processes`);
  return `${lines.join('\n')}\n`;
}

/**
 * Parses a manifest written by {@link formatGroupManifest}.
 * @param text - the contents of `group`
 * @throws {@link CaptureLineError} (file `group`) naming the line that is
 *   malformed, a duplicate, or missing (no `format` line, no trailer, a
 *   trailer that does not count the processes)
 */
export function parseGroupManifest(text: string): GroupManifest {
  const all = text.split('\n');
  endsWithNewline(GROUP_FILE, all);
  let format: number | undefined;
  let names: CaptureNames | undefined;
  let trailer: { line: number; count: number } | undefined;
  const processes: GroupMember[] = [];
  const cmdlines = new Map<number, string>();
  const segments: SysvSegment[] = [];
  all.forEach((raw, i) => {
    const line = raw.trim();
    const fail = (why: string): CaptureLineError => new CaptureLineError(GROUP_FILE, i + 1, why);
    if (line === '') return;
    if (trailer !== undefined) throw fail(`'${line}' comes after the '# end' trailer (line ${trailer.line})`);
    const end = /^#\s*end:\s*(\d+) process(?:es)?$/.exec(line);
    if (end !== null) {
      trailer = { line: i + 1, count: Number(end[1]) };
      return;
    }
    if (line.startsWith('#')) return;
    const [word = '', ...rest] = line.split(/\s+/);
    if (format === undefined && word !== 'format') throw fail(`expected 'format ${GROUP_FORMAT}' first, got '${line}'`);
    switch (word) {
      case 'format':
        if (format !== undefined) throw fail('a second format line');
        if (rest.join(' ') !== String(GROUP_FORMAT)) throw fail(`format '${rest.join(' ')}' is not ${GROUP_FORMAT}: written by another version of mmlab`);
        format = GROUP_FORMAT;
        return;
      case 'names':
        if (names !== undefined) throw fail('a second names line');
        if (rest[0] !== 'anonymised' && rest[0] !== 'kept') throw fail(`expected 'names anonymised' or 'names kept', got '${line}'`);
        names = rest[0];
        return;
      case 'process': {
        const m = /^process\s+([1-9]\d*)\s+(\S+)\s+(.*)$/.exec(line);
        if (m === null) throw fail(`expected 'process PID FOLDER NAME', got '${line}'`);
        const pid = Number(m[1]);
        const folder = m[2]!;
        if (!FOLDER_RE.test(folder) || folder.includes('..')) throw fail(`folder '${folder}' is not a plain folder name`);
        if (processes.some((p) => p.pid === pid)) throw fail(`pid ${pid} is listed twice`);
        if (processes.some((p) => p.folder === folder)) throw fail(`folder '${folder}' is listed twice`);
        processes.push({ pid, folder, name: m[3]! });
        return;
      }
      case 'cmdline': {
        const m = /^cmdline\s+([1-9]\d*)\s+(".*")$/.exec(line);
        let cmd: unknown;
        try {
          cmd = m === null ? undefined : JSON.parse(m[2]!);
        } catch {
          cmd = undefined;
        }
        if (m === null || typeof cmd !== 'string') throw fail(`expected 'cmdline PID "…"' (a JSON string), got '${line}'`);
        const pid = Number(m[1]);
        if (!processes.some((p) => p.pid === pid)) throw fail(`cmdline of pid ${pid}, which no process line before it lists`);
        if (cmdlines.has(pid)) throw fail(`a second cmdline for pid ${pid}`);
        cmdlines.set(pid, cmd);
        return;
      }
      case 'sysvshm': {
        const m = /^sysvshm\s+(\d+)\s+(-?\d+)\s+([1-9]\d*)$/.exec(line);
        if (m === null) throw fail(`expected 'sysvshm SHMID KEY SIZE', got '${line}'`);
        const shmid = Number(m[1]);
        if (segments.some((s) => s.shmid === shmid)) throw fail(`segment ${shmid} is listed twice`);
        segments.push({ shmid, key: m[2]!, size: Number(m[3]) });
        return;
      }
      default:
        throw fail(`unknown line '${line}' (expected format, names, process, cmdline, sysvshm or the '# end' trailer)`);
    }
  });
  const last = all.length - 1;
  if (format === undefined) throw new CaptureLineError(GROUP_FILE, Math.max(1, last), `no 'format ${GROUP_FORMAT}' line: the file is empty or not a group manifest`);
  if (trailer === undefined) throw new CaptureLineError(GROUP_FILE, last, "no '# end: N processes' trailer: the file is truncated");
  if (trailer.count !== processes.length) {
    throw new CaptureLineError(GROUP_FILE, trailer.line, `the trailer counts ${trailer.count} processes but the file lists ${processes.length}: it is truncated or edited`);
  }
  if (processes.length === 0) throw new CaptureLineError(GROUP_FILE, trailer.line, 'the group lists no process');
  return {
    names: names ?? 'anonymised',
    processes: processes.map((p) => {
      const cmdline = cmdlines.get(p.pid);
      return cmdline === undefined ? p : { ...p, cmdline };
    }),
    segments,
  };
}

/**
 * Reads a capture folder as a group: a group folder (with a `group`
 * manifest) with every process's capture checked as {@link readCapture}
 * checks it, or a one-process folder (`smaps` at the top) as a group of one.
 * @param dir - the folder
 * @throws {@link SpecError} naming the file and line when the manifest or a
 *   process's files are missing, malformed or truncated, or a process's
 *   `status` is of another pid than the manifest says
 */
export async function readCaptureGroup(dir: string): Promise<CaptureGroup> {
  const file = await tryReadCaptureFile(dir, GROUP_FILE);
  if (file === undefined) {
    const capture = await readCapture(dir);
    const pid = Number(capture.status.Pid ?? 0);
    return { names: 'kept', processes: [{ pid, folder: '.', name: capture.status.Name ?? '', capture }], segments: [] };
  }
  let manifest: GroupManifest;
  try {
    manifest = parseGroupManifest(file.text);
  } catch (err) {
    if (err instanceof CaptureLineError) throw new SpecError(`${join(dir, file.name)}:${err.line}: ${err.reason}`);
    throw err;
  }
  const lines = file.text.split('\n');
  const processes: CapturedProcess[] = [];
  for (const member of manifest.processes) {
    const at = lines.findIndex((l) => l.trim().startsWith(`process ${member.pid} `)) + 1;
    if ((await tryReadCaptureFile(join(dir, member.folder), 'status')) === undefined) {
      throw new SpecError(`${join(dir, file.name)}:${at}: lists pid ${member.pid} in '${member.folder}', which holds no capture here: the capture is incomplete`);
    }
    const capture = await readCapture(join(dir, member.folder), { requireTrailer: true });
    const pid = capture.status.Pid;
    if (pid !== undefined && Number(pid) !== member.pid) {
      throw new SpecError(
        `${join(dir, file.name)}:${at}: lists pid ${member.pid} in '${member.folder}', whose status says Pid ${pid}: the folders do not belong together`
      );
    }
    processes.push({ ...member, capture });
  }
  return { names: manifest.names, processes, segments: manifest.segments };
}
