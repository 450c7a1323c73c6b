/**
 * The readable form of a replay report: per process and in total, the
 * model's page tables against the kernel's VmPTE, and the page-table
 * memory of the group.
 * @module
 */

import type { GroupReplayReport } from '@mmlab/workloads';
import { formatNumber, formatTable } from './table.js';

/**
 * Formats a group replay report as text.
 * @param report - the replay's result
 * @param dir - the capture folder, as given
 */
export function formatReplayReport(report: GroupReplayReport, dir: string): string {
  const { model, kernel } = report;
  const n = report.processes.length;
  const skipped = [...new Set(report.processes.flatMap((p) => p.replayed.skipped))];
  const head =
    `mmlab replay ${dir}: ${n === 1 ? `${report.processes[0]?.name ?? ''} (pid ${report.processes[0]?.pid ?? 0})` : `${n} processes`}, ` +
    `${formatNumber(report.replayed.vmas)} VMAs, ${formatNumber(report.replayed.pages)} present pages` +
    (skipped.length > 0 ? `, skipped ${skipped.join(' ')}` : '') +
    '\n' +
    `features ${report.features}; ${report.sharedFiles} files or segments mapped by more than one process; ` +
    `paths ${report.names === 'kept' ? 'kept' : 'anonymised'}\n\n`;
  const perProcess =
    n === 1
      ? ''
      : formatTable(
          [
            ...report.processes.map((p) => [String(p.pid), p.name, p.replayed.vmas, p.replayed.pages, p.kernel.VmPTE_kB, p.model.VmPTE_kB, p.match ? 'same' : 'DIFFERS']),
            ['total', '', report.replayed.vmas, report.replayed.pages, kernel.VmPTE_kB, model.VmPTE_kB, ''],
          ],
          ['pid', 'name', 'VMAs', 'present pages', 'kernel VmPTE kB', 'model VmPTE kB', '']
        ) + '\npage-table memory of the group (every table once):\n';
  const table = formatTable(
    [
      ['model', model.PageTables_kB, model.tables.pte, model.tables.pmd, model.tables.pud],
      ['kernel', kernel.VmPTE_kB, '', '', ''],
    ],
    ['', 'page tables kB', 'pte', 'pmd', 'pud']
  );
  return head + perProcess + table + '\n' + verdict(report) + checks(report);
}

function verdict(report: GroupReplayReport): string {
  const { model, kernel } = report;
  if (report.features === 'baseline') {
    if (report.match) return report.processes.length === 1 ? 'model and kernel agree\n' : 'model and kernel agree for every process and in total\n';
    const wrong = report.processes.filter((p) => !p.match);
    if (report.processes.length === 1 || wrong.length === 0) return `MISMATCH: model ${model.PageTables_kB} kB, kernel ${kernel.VmPTE_kB} kB\n`;
    return wrong.map((p) => `MISMATCH: pid ${p.pid} (${p.name}): model ${p.model.VmPTE_kB} kB, kernel ${p.kernel.VmPTE_kB} kB\n`).join('');
  }
  const pct = kernel.VmPTE_kB === 0 ? 0 : (100 * report.saving_kB) / kernel.VmPTE_kB;
  const change =
    report.saving_kB === 0
      ? 'the same as the kernel'
      : `${report.saving_kB > 0 ? '−' : '+'}${formatNumber(Math.abs(report.saving_kB))} kB (${report.saving_kB > 0 ? '−' : '+'}${Math.abs(pct).toFixed(1)}%) against the kernel`;
  return `with ${report.features}: page-table memory ${formatNumber(model.PageTables_kB)} kB, ${change}\n`;
}

function checks(report: GroupReplayReport): string {
  const inv = report.invariants;
  if (inv === undefined) return '';
  return (
    `invariants: ${inv.checks} checks, ${inv.violations.length} violations\n` +
    inv.violations.map((v) => `  VIOLATION ${v.check} after ${v.op ?? '?'}: ${v.message}\n`).join('')
  );
}
