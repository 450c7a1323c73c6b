/**
 * Anonymising a capture: the paths of mapped files in `smaps` become
 * tokens, stable across the processes of one capture (the same path is the
 * same token in every process), so that a capture can go into a bug report
 * or a mailing-list post. Device and inode numbers stay: they are what
 * tells the replay which mappings are the same file.
 * @module
 */

/** The smaps texts of a group with their paths replaced, and how many distinct paths were. */
export interface AnonymisedCapture {
  /** The smaps texts, in the order given. */
  readonly smaps: readonly string[];
  /** Distinct paths replaced by a token. */
  readonly paths: number;
}

/** A VMA header line up to its path column, and the path. */
const HEADER_RE = /^([0-9a-f]+-[0-9a-f]+\s+\S{4}\s+[0-9a-f]+\s+[0-9a-f]+:[0-9a-f]+\s+\d+)(\s*)(.*)$/;

/** Pseudo-paths that name no file and say nothing about the user. */
const KEPT = new Set(['[heap]', '[stack]', '[vdso]', '[vvar]', '[vvar_vclock]', '[vsyscall]', '[uprobes]', '/dev/zero']);

const DELETED = ' (deleted)';

/**
 * The kind of a path, which its token keeps: a System V segment (`sysv`),
 * a memfd, a POSIX shared memory object (`/dev/shm`), or a file.
 */
function kindOf(path: string): string {
  if (path.startsWith('/SYSV')) return 'sysv';
  if (path.startsWith('/memfd:')) return 'memfd';
  if (path.startsWith('/dev/shm/')) return 'posix-shm';
  return 'file';
}

/**
 * Replaces the path of every VMA header in each smaps text with a token:
 * `<file 3>`, `<sysv 1>`, `<memfd 2>`, `<posix-shm 1>` (numbered per kind
 * in order of first appearance over the texts, a ` (deleted)` suffix kept);
 * a named anonymous region `[anon:NAME]` becomes `[anon:<name 1>]`.
 * `[heap]`, `[stack]`, `[vdso]`, `[vvar]`, `[vsyscall]` and `/dev/zero`
 * stay. Every other line (the `Key: N kB` fields, `VmFlags`) is kept as is.
 * @param smaps - the smaps text of each process
 */
export function anonymiseCapture(smaps: readonly string[]): AnonymisedCapture {
  const tokens = new Map<string, string>();
  const perKind = new Map<string, number>();
  const token = (path: string, kind: string): string => {
    const known = tokens.get(path);
    if (known !== undefined) return known;
    const n = (perKind.get(kind) ?? 0) + 1;
    perKind.set(kind, n);
    const t = `<${kind} ${n}>`;
    tokens.set(path, t);
    return t;
  };
  const rewrite = (path: string): string => {
    if (path === '' || KEPT.has(path)) return path;
    const named = /^\[(anon|anon_shmem):(.*)\]$/.exec(path);
    if (named !== null) return `[${named[1]!}:${token(`[name]${named[2]!}`, 'name')}]`;
    if (path.startsWith('[')) return path;
    const deleted = path.endsWith(DELETED);
    const bare = deleted ? path.slice(0, -DELETED.length) : path;
    if (KEPT.has(bare)) return path;
    return token(bare, kindOf(bare)) + (deleted ? DELETED : '');
  };
  const out = smaps.map((text) =>
    text
      .split('\n')
      .map((line) => {
        const m = HEADER_RE.exec(line);
        if (m === null || m[3] === '') return line;
        return `${m[1]!}${m[2]!}${rewrite(m[3]!)}`;
      })
      .join('\n')
  );
  return { smaps: out, paths: tokens.size };
}
