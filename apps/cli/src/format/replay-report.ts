/**
 * The readable form of a replay report.
 * @module
 */

import type { ReplayReport } from '@mmlab/workloads';
import { formatTable } from './table.js';

/**
 * Formats a replay report as text.
 * @param report - the replay's result
 * @param dir - the capture folder, as given
 */
export function formatReplayReport(report: ReplayReport, dir: string): string {
  const { model, kernel } = report;
  const head =
    `mmlab replay ${dir}: ${report.process.name} (pid ${report.process.pid}), ` +
    `${report.replayed.vmas} VMAs, ${report.replayed.pages} present pages` +
    (report.replayed.skipped.length > 0 ? `, skipped ${report.replayed.skipped.join(' ')}` : '') +
    '\n\n';
  const table = formatTable(
    [
      ['model', model.PageTables_kB, model.tables.pte, model.tables.pmd, model.tables.pud],
      ['kernel', kernel.VmPTE_kB, '', '', ''],
    ],
    ['', 'VmPTE kB', 'pte', 'pmd', 'pud']
  );
  const verdict = report.match
    ? '\nmodel and kernel agree\n'
    : `\nMISMATCH: model ${model.PageTables_kB} kB, kernel ${kernel.VmPTE_kB} kB\n`;
  const inv = report.invariants;
  const checks =
    inv === undefined
      ? ''
      : `invariants: ${inv.checks} checks, ${inv.violations.length} violations\n` +
        inv.violations.map((v) => `  VIOLATION ${v.check} after ${v.op ?? '?'}: ${v.message}\n`).join('');
  return head + table + verdict + checks;
}
