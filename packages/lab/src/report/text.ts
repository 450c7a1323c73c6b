/**
 * The building blocks of the lab's reports: number formatting and a table
 * model rendered as aligned text, Markdown or CSV.
 * @module
 */

import type { Estimate } from '../stats.js';

/** A column: its title and alignment. */
export interface Column {
  /** Title. */
  readonly title: string;
  /** `right` for figures. */
  readonly align: 'left' | 'right';
}

/** A table: columns and rows of text. */
export interface Table {
  /** The columns. */
  readonly columns: readonly Column[];
  /** The rows, one string per column. */
  readonly rows: readonly (readonly string[])[];
}

/**
 * A figure for people: integers grouped in threes (`1,234,567`), other
 * numbers to four significant digits; `−` for negatives.
 * @param n - the number
 */
export function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const text = Number.isInteger(n)
    ? n.toLocaleString('en-US')
    : Math.abs(n) >= 1000
      ? Math.round(n).toLocaleString('en-US')
      : n.toLocaleString('en-US', { maximumSignificantDigits: 4 });
  return text.replace(/^-/, '−');
}

/**
 * A signed figure (`+5`, `−3`, `0`).
 * @param n - the number
 */
export function signed(n: number): string {
  return n > 0 ? `+${fmt(n)}` : fmt(n);
}

/**
 * A relative change as a percentage of `base` (`+12.5%`), or '' when the
 * base is 0.
 * @param diff - the change
 * @param base - what it is relative to
 */
export function percent(diff: number, base: number): string {
  if (base === 0 || diff === 0) return '';
  const p = (100 * diff) / Math.abs(base);
  return `${p > 0 ? '+' : ''}${p.toLocaleString('en-US', { maximumFractionDigits: Math.abs(p) < 10 ? 2 : 1 })}%`.replace('-', '−');
}

/**
 * An interval in words: `exact`, `[lo, hi]`, or `n/a` (too few seeds).
 * @param e - the estimate
 */
export function interval(e: Estimate): string {
  if (e.exact) return 'exact';
  if (e.ci === null) return 'n/a (1 seed)';
  return `[${fmt(e.ci[0])}, ${fmt(e.ci[1])}]`;
}

/**
 * Renders a table as aligned text, columns two spaces apart, titles underlined.
 * @param table - the table
 * @param indent - spaces before each line
 */
export function textTable(table: Table, indent = 0): string {
  const all = [table.columns.map((c) => c.title), ...table.rows];
  const width = table.columns.map((_, j) => Math.max(...all.map((r) => (r[j] ?? '').length)));
  const pad = (s: string, j: number): string => {
    const fill = ' '.repeat(width[j]! - s.length);
    return table.columns[j]?.align === 'right' ? fill + s : s + fill;
  };
  const line = (r: readonly string[]): string => `${' '.repeat(indent)}${r.map(pad).join('  ').trimEnd()}\n`;
  return [line(all[0]!), line(width.map((w) => '-'.repeat(w))), ...table.rows.map(line)].join('');
}

/**
 * Renders a table as GitHub Markdown.
 * @param table - the table
 */
export function markdownTable(table: Table): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  const head = `| ${table.columns.map((c) => esc(c.title)).join(' | ')} |\n`;
  const rule = `|${table.columns.map((c) => (c.align === 'right' ? '---:' : '---')).join('|')}|\n`;
  return head + rule + table.rows.map((r) => `| ${r.map(esc).join(' | ')} |\n`).join('');
}

/**
 * One CSV line (RFC 4180 quoting).
 * @param cells - the fields (numbers are written as JavaScript prints them)
 */
export function csvLine(cells: readonly (string | number | boolean | null)[]): string {
  return `${cells
    .map((c) => {
      const s = c === null ? '' : String(c);
      return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
    })
    .join(',')}\n`;
}
