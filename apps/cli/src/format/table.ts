/**
 * Aligned plain-text tables: text columns left-aligned, numbers
 * right-aligned, columns separated by two spaces.
 * @module
 */

/** A cell: text is left-aligned, a number right-aligned with digit grouping. */
export type Cell = string | number;

/**
 * Groups the digits of an integer in threes (`16777216` → `16,777,216`);
 * other numbers keep up to three decimals.
 * @param n - the number
 */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const [int = '0', frac] = (Number.isInteger(n) ? String(Math.abs(n)) : Math.abs(n).toFixed(3)).split('.');
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${n < 0 ? '-' : ''}${grouped}${frac === undefined ? '' : `.${frac}`}`;
}

/**
 * Lays out rows as an aligned table.
 * @param rows - the rows; a row may be shorter than the widest
 * @param header - optional column titles, underlined
 * @param indent - spaces before every line
 * @returns the lines, each ending in a newline
 */
export function formatTable(rows: readonly (readonly Cell[])[], header?: readonly string[], indent = 0): string {
  const all: (readonly Cell[])[] = header === undefined ? [...rows] : [header, ...rows];
  const cols = Math.max(0, ...all.map((r) => r.length));
  const text = all.map((r) => r.map((c) => (typeof c === 'number' ? formatNumber(c) : c)));
  const numeric = Array.from({ length: cols }, (_, j) => rows.some((r) => typeof r[j] === 'number'));
  const width = Array.from({ length: cols }, (_, j) => Math.max(0, ...text.map((r) => (r[j] ?? '').length)));
  const pad = ' '.repeat(indent);
  const line = (cells: readonly string[]): string =>
    pad +
    cells
      .map((c, j) => (numeric[j] === true ? c.padStart(width[j]!) : c.padEnd(width[j]!)))
      .join('  ')
      .trimEnd() +
    '\n';
  const out = text.map(line);
  if (header !== undefined) out.splice(1, 0, line(width.map((w) => '-'.repeat(w))));
  return out.join('');
}
