/**
 * Parser for `/proc/PID/status`: `Key:\tvalue` lines.
 * @module
 */

import { SpecError } from '../errors.js';

/**
 * Parses the text of a status file into its fields, values as written
 * (trimmed).
 * @param text - the raw contents of `/proc/PID/status`
 */
export function parseStatus(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    out[line.slice(0, colon)] = line.slice(colon + 1).trim();
  }
  return out;
}

/**
 * A `N kB` field of a status file, as a number of kB.
 * @param status - parsed status fields
 * @param key - the field (`VmPTE`, `VmRSS`, …)
 * @throws {@link SpecError} when the field is missing or not in kB
 */
export function statusKb(status: Readonly<Record<string, string>>, key: string): number {
  const value = status[key];
  const m = value === undefined ? null : /^(\d+)\s*kB$/.exec(value);
  if (m === null) throw new SpecError(`status: no '${key}: N kB' line`);
  return Number(m[1]);
}
