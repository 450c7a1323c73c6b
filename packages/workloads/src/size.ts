/**
 * Binary size notation shared by workload and feature specifications:
 * `4096`, `64k`, `256m`, `1g`, `2t` (powers of 1024; a trailing `b`, `ib`
 * or `iB` is accepted, so `64KiB` and `64kb` mean the same as `64k`).
 * @module
 */

const SIZE_RE = /^(\d+)([kmgt]?)(?:i?b)?$/i;

const SHIFT: Readonly<Record<string, number>> = { '': 0, k: 10, m: 20, g: 30, t: 40 };

/**
 * Parses a binary size such as `256m` into bytes.
 * @param text - the size as written by the user
 * @returns the size in bytes, or `undefined` when `text` is not a size or
 *   does not fit in a safe integer
 */
export function parseSize(text: string): number | undefined {
  const m = SIZE_RE.exec(text.trim());
  if (m === null) return undefined;
  const digits = m[1]!;
  const shift = SHIFT[(m[2] ?? '').toLowerCase()] ?? 0;
  const value = Number(digits) * 2 ** shift;
  if (!Number.isSafeInteger(value)) return undefined;
  return value;
}

/**
 * Formats a byte count in the same notation, choosing the largest unit that
 * divides it exactly (`268435456` → `256m`, `4096` → `4k`, `1000` → `1000`).
 * @param bytes - a non-negative integer byte count
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { formatSize, parseSize } from '@mmlab/workloads';
 *
 * assert.equal(parseSize('256m'), 268435456);
 * assert.equal(formatSize(268435456), '256m');
 * assert.equal(formatSize(4096 + 1), '4097');
 * ```
 */
export function formatSize(bytes: number): string {
  for (const [unit, shift] of [
    ['t', 40],
    ['g', 30],
    ['m', 20],
    ['k', 10],
  ] as const) {
    const scale = 2 ** shift;
    if (bytes >= scale && bytes % scale === 0) return `${bytes / scale}${unit}`;
  }
  return String(bytes);
}
