/**
 * Reports of an A/B comparison: a terminal table, Markdown and CSV.
 * @module
 */

import type { AbResult, AbRow } from '../ab.js';
import { csvLine, fmt, interval, markdownTable, percent, signed, textTable, type Table } from './text.js';

/** What an A/B report shows. */
export interface AbReportOptions {
  /** List every metric, also those identical in A and B (default false). */
  readonly all?: boolean;
}

/**
 * True when A and B differ on the metric (a non-zero mean difference, or a
 * difference that varies over the seeds), or only one side has it.
 * @param row - one metric of a comparison
 */
export function rowChanged(row: AbRow): boolean {
  if (row.diff === null) return true;
  return row.diff.mean !== 0 || (!row.diff.exact && row.diff.ci !== null);
}

function side(s: AbRow['a']): string {
  if (s === null) return '—';
  return s.exact ? fmt(s.mean) : `${fmt(s.mean)} ±${fmt(s.sd)}`;
}

function note(row: AbRow): string {
  if (row.diff === null) return row.a === null ? 'only in B' : 'only in A';
  if (row.diff.exact) return '';
  if (row.diff.withinNoise) return 'within noise';
  const p = row.diff.p;
  return p === null ? '' : p < 0.001 ? 'p<0.001' : `p=${p.toFixed(3)}`;
}

/** The comparison as a table model. */
function abTable(result: AbResult, options: AbReportOptions): Table {
  const level = `${Math.round(result.confidence * 100)}% CI`;
  const rows = result.rows
    .filter((r) => options.all === true || rowChanged(r))
    .map((r) => [
      r.metric,
      side(r.a),
      side(r.b),
      r.diff === null ? '' : signed(r.diff.mean),
      r.diff === null || r.a === null ? '' : percent(r.diff.mean, r.a.mean),
      r.diff === null ? '' : interval(r.diff),
      note(r),
    ]);
  return {
    columns: [
      { title: 'metric', align: 'left' },
      { title: 'A', align: 'right' },
      { title: 'B', align: 'right' },
      { title: 'B − A', align: 'right' },
      { title: 'change', align: 'right' },
      { title: level, align: 'right' },
      { title: '', align: 'left' },
    ],
    rows,
  };
}

function seedsText(seeds: readonly number[]): string {
  const first = seeds[0];
  const last = seeds[seeds.length - 1];
  if (first === undefined || last === undefined) return 'none';
  return seeds.length === 1 ? `${first}` : `${first}–${last} (${seeds.length}, paired)`;
}

function footer(result: AbResult, options: AbReportOptions): string {
  const same = result.rows.filter((r) => !rowChanged(r)).length;
  const lines: string[] = [];
  const shared = result.rows.filter((r) => r.diff !== null);
  if (shared.length > 0 && shared.every((r) => !rowChanged(r))) {
    lines.push(`No metric that both A and B report differs on any seed${result.rows.length > shared.length ? '; the rows above are counters only one side has' : ''}.`);
  }
  if (options.all !== true && same > 0) lines.push(`${same} more metrics identical in A and B on every seed (--all lists them).`);
  const bad = [...result.violations.a.map((v) => `A ${v}`), ...result.violations.b.map((v) => `B ${v}`)];
  if (bad.length > 0) lines.push(`INVARIANT VIOLATIONS (${bad.length}):`, ...bad.slice(0, 10).map((v) => `  ${v}`));
  return lines.map((l) => `${l}\n`).join('');
}

/**
 * The comparison as terminal text.
 * @param result - what `runAb` returned
 * @param options - what to show
 */
export function formatAbText(result: AbResult, options: AbReportOptions = {}): string {
  const head =
    `mmlab ab on ${result.workload}, seeds ${seedsText(result.seeds)}\n` +
    `  A  ${result.a}\n  B  ${result.b}\n` +
    `intervals: ${result.method}; exact: the same on every seed\n\n`;
  const table = abTable(result, options);
  const body = table.rows.length === 0 ? 'A and B are identical on every metric and seed.\n' : textTable(table);
  return `${head}${body}${footer(result, options)}`;
}

/**
 * The comparison as Markdown (for a mailing-list post or a pull request).
 * @param result - what `runAb` returned
 * @param options - what to show
 */
export function formatAbMarkdown(result: AbResult, options: AbReportOptions = {}): string {
  const head =
    `**${result.b}** (B) against **${result.a}** (A) on \`${result.workload}\`, seeds ${seedsText(result.seeds)}; ` +
    `intervals: ${result.method}.\n\n`;
  const table = abTable(result, options);
  const body = table.rows.length === 0 ? 'A and B are identical on every metric and seed.\n' : markdownTable(table);
  return `${head}${body}${footer(result, options) === '' ? '' : `\n${footer(result, options)}`}`;
}

/**
 * The comparison as CSV: one row per metric, every metric.
 * @param result - what `runAb` returned
 */
export function formatAbCsv(result: AbResult): string {
  const head = csvLine(['workload', 'a', 'b', 'metric', 'a_mean', 'a_sd', 'b_mean', 'b_sd', 'diff', 'ci_low', 'ci_high', 'exact', 'within_noise', 'p', 'seeds']);
  return (
    head +
    result.rows
      .map((r) =>
        csvLine([
          result.workload,
          result.a,
          result.b,
          r.metric,
          r.a?.mean ?? null,
          r.a?.sd ?? null,
          r.b?.mean ?? null,
          r.b?.sd ?? null,
          r.diff?.mean ?? null,
          r.diff?.ci?.[0] ?? null,
          r.diff?.ci?.[1] ?? null,
          r.diff?.exact ?? null,
          r.diff?.withinNoise ?? null,
          r.diff?.p ?? null,
          result.seeds.length,
        ])
      )
      .join('')
  );
}
