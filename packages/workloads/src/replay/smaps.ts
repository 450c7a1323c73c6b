/**
 * Parser for `/proc/PID/smaps`: one entry per VMA, a header line
 * (`start-end perms offset dev inode path`) followed by `Key: value` lines.
 * @module
 */

import { CaptureLineError } from '../errors.js';

/** One VMA of a smaps file. */
export interface SmapsVma {
  /** First byte (inclusive). Addresses above 2^53 (only `[vsyscall]`) are approximate. */
  readonly start: number;
  /** Last byte + 1. */
  readonly end: number;
  /** `r` in the perms column. */
  readonly read: boolean;
  /** `w` in the perms column. */
  readonly write: boolean;
  /** `x` in the perms column. */
  readonly exec: boolean;
  /** `s` (shared) rather than `p` (private) in the perms column. */
  readonly shared: boolean;
  /** File offset in bytes. */
  readonly offset: number;
  /** Device `major:minor` as written (hex). */
  readonly dev: string;
  /** Inode number; 0 for anonymous memory. */
  readonly inode: number;
  /** Path or pseudo-name (`[heap]`, `[stack]`, …); empty for anonymous memory. */
  readonly path: string;
  /** The `Key: N kB` lines, in kB (`Rss`, `Pss`, `Anonymous`, …). */
  readonly fields: Readonly<Record<string, number>>;
  /** The two-letter `VmFlags` mnemonics (`rd`, `wr`, `sh`, `pf`, …). */
  readonly vmFlags: readonly string[];
}

const HEADER_RE =
  /^([0-9a-f]+)-([0-9a-f]+)\s+([r-])([w-])([x-])([ps])\s+([0-9a-f]+)\s+([0-9a-f]+:[0-9a-f]+)\s+(\d+)\s*(.*)$/;
const FIELD_RE = /^([A-Za-z_][A-Za-z0-9_]*):\s+(\d+)\s*kB$/;

/**
 * Parses the text of a smaps file.
 * @param text - the raw contents of `/proc/PID/smaps`
 * @throws {@link SpecError} naming the line that is neither a header nor a
 *   field
 */
export function parseSmaps(text: string): SmapsVma[] {
  const vmas: SmapsVma[] = [];
  const lines = text.split('\n');
  endsWithNewline('smaps', lines);
  let current: {
    header: Omit<SmapsVma, 'fields' | 'vmFlags'>;
    fields: Record<string, number>;
    vmFlags: string[];
    /** Line of the header, from 1. */
    at: number;
  } | null = null;
  let withFlags = 0;
  const flush = (): void => {
    if (current === null) return;
    vmas.push({ ...current.header, fields: current.fields, vmFlags: current.vmFlags });
    if (current.vmFlags.length > 0) withFlags++;
  };
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const h = HEADER_RE.exec(line);
    if (h !== null) {
      flush();
      current = {
        header: {
          start: hex(h[1]!),
          end: hex(h[2]!),
          read: h[3] === 'r',
          write: h[4] === 'w',
          exec: h[5] === 'x',
          shared: h[6] === 's',
          offset: hex(h[7]!),
          dev: h[8]!,
          inode: Number(h[9]),
          path: (h[10] ?? '').trim(),
        },
        fields: {},
        vmFlags: [],
        at: i + 1,
      };
      return;
    }
    if (current === null) throw new CaptureLineError('smaps', i + 1, `expected a VMA header, got '${line}'`);
    if (line.startsWith('VmFlags:')) {
      current.vmFlags = line.slice('VmFlags:'.length).trim().split(/\s+/).filter(Boolean);
      return;
    }
    const f = FIELD_RE.exec(line);
    if (f !== null) {
      current.fields[f[1]!] = Number(f[2]);
      return;
    }
    // Other `Key: value` lines (THPeligible, ProtectionKey) carry no kB figure.
    if (/^[A-Za-z_][A-Za-z0-9_]*:/.test(line)) return;
    throw new CaptureLineError('smaps', i + 1, `cannot parse '${line}'`);
  });
  // VmFlags ends every VMA's lines (since Linux 3.8): a last VMA without it,
  // when all the others have it, is what a truncated copy looks like.
  const last = current as { header: { start: number; end: number }; at: number; vmFlags: string[] } | null;
  if (last !== null && vmas.length > 0 && withFlags === vmas.length && last.vmFlags.length === 0) {
    const range = `${last.header.start.toString(16)}-${last.header.end.toString(16)}`;
    throw new CaptureLineError(
      'smaps',
      last.at,
      `the last VMA (${range}) has no VmFlags line, which ends every other VMA: the file is truncated`
    );
  }
  flush();
  return vmas;
}

/**
 * Refuses a file whose last line has no newline: a copy cut in the middle
 * of a line (an empty file is fine here).
 * @param file - the capture file's name, for the message
 * @param lines - its lines (`text.split('\n')`)
 */
export function endsWithNewline(file: string, lines: readonly string[]): void {
  const last = lines[lines.length - 1] ?? '';
  if (last !== '') {
    throw new CaptureLineError(file, lines.length, `the file ends in the middle of a line ('${last}'): it is truncated`);
  }
}

function hex(text: string): number {
  return Number(BigInt(`0x${text}`));
}
