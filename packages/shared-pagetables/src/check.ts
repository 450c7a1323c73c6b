/**
 * The feature's invariant check (`shared-pagetables:tables`): its records
 * agree with the page tables and with the core's share count.
 * @module
 */
import { _PAGE_PSE, LEVEL_PMD, linearPageIndex, tableSharers } from '@mmlab/core';
import { covers, shareableKind } from './shareable.js';
import { levelName, recordedShares, type ShareState, tableAt } from './state.js';

/**
 * Every shared table: at least two sharers, its refcount (the one share
 * count, which hugetlb's PMD sharing keeps too) equal to the sharers
 * recorded, each sharer in the core's list recorded, installed in each
 * sharer at its recorded address, inside one shareable VMA there, every
 * sharer mapping the same file offsets; below a shared PMD table, every
 * PTE table listed with the PMD table's sharers; the counts of tables and
 * shares the gauges report.
 */
export function* checkShares(st: ShareState): Generator<string> {
  const k = st.k;
  const what = levelName(st.level);
  const shares = recordedShares(st);
  let refs = 0;
  for (const [table, m] of shares) {
    refs += m.size;
    if (m.size < 2) yield `${what} table ${table} recorded with ${m.size} sharer`;
    if (k.pages.count[table] !== m.size) yield `${what} table ${table}: refcount ${k.pages.count[table]!}, ${m.size} sharers recorded`;
    const sharers = tableSharers(k, table);
    if (sharers.length !== m.size) yield `${what} table ${table}: the core lists sharers ${sharers.map((s) => s.id).join(',')}, ${m.size} recorded`;
    let offset = -1;
    for (const [mm, base] of m) {
      const where = `mm ${mm.id}: shared ${what} table ${table} at 0x${base.toString(16)}`;
      if (tableAt(st, mm, base) !== table) yield `${where} is not installed there`;
      const v = mm.vmas.find((x) => x.vmStart <= base && base < x.vmEnd);
      if (v === undefined || !covers(v, base, st.span) || !shareableKind(k, v)) {
        yield `${where} is not inside one shareable VMA`;
        continue;
      }
      const idx = linearPageIndex(v, base);
      if (offset >= 0 && idx !== offset) yield `${where} maps file offset ${idx}, another sharer ${offset}`;
      offset = idx;
    }
    if (st.level !== LEVEL_PMD) continue;
    const a = k.tables.arr(table);
    const b0 = k.tables.base(table);
    for (let i = 0; i < 512; i++) {
      const f = a[b0 + 2 * i]!;
      if (f === 0 || (f & _PAGE_PSE) !== 0) continue;
      const pte = a[b0 + 2 * i + 1]!;
      if (tableSharers(k, pte) !== sharers) yield `PTE table ${pte} below shared PMD table ${table} is not listed with its sharers`;
    }
  }
  let recorded = 0;
  for (const mm of k.liveMms()) recorded += st.mms.get(mm)?.tables.size ?? 0;
  if (recorded !== refs) yield `${recorded} per-mm records for ${refs} shares`;
  if (st.tables !== shares.size || st.refs !== refs) yield `counted ${st.tables} tables and ${st.refs} shares, recorded ${shares.size} and ${refs}`;
}
