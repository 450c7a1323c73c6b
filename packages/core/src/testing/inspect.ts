/**
 * Read-only looks into a kernel's state that the tests of several packages
 * make: the VMA at an address, the TLB entries of an mm, the raw PTE words
 * at an address; and the live-task and fork helpers those tests share.
 * @module
 */
import type { Kernel } from '../kernel/kernel.js';
import type { Task } from '../sched/task.js';
import type { MmStruct, Vma } from '../mm/types.js';
import { PAGE_SIZE, pteIndex } from '../pgtable/entry.js';
import { lookupPteTable } from '../mm/pgalloc.js';

/**
 * The mm of task `t`; throws when the task has exited.
 * @param t - the task
 * @returns its mm
 */
export function mmOf(t: Task): MmStruct {
  if (t.mm === null) throw new Error(`task ${t.pid} has exited`);
  return t.mm;
}

/**
 * `fork()` of task `t`, which must succeed; throws with the errno otherwise.
 * @param k - the kernel
 * @param t - the parent
 * @returns the child
 */
export function forked(k: Kernel, t: Task): Task {
  const c = k.fork(t);
  if (typeof c === 'number') throw new Error(`fork failed: ${c}`);
  return c;
}

/**
 * The two raw words of the PTE that maps `addr` in task `t` (the flags word
 * and the value word), or null when no PTE table covers the address.
 * @param k - the kernel
 * @param t - the task (alive)
 * @param addr - a user address
 * @returns the PTE's flags and value words, or null
 */
export function pteWords(k: Kernel, t: Task, addr: number): { flags: number; val: number } | null {
  const tbl = lookupPteTable(k, mmOf(t), addr);
  if (tbl === 0) return null;
  const a = k.tables.arr(tbl);
  const b = k.tables.base(tbl) + pteIndex(addr) * 2;
  return { flags: a[b]!, val: a[b + 1]! };
}

/**
 * The VMA of task `t` that contains `addr`; throws when there is none (or
 * the task has exited).
 * @param t - the task
 * @param addr - a user address
 * @returns the VMA
 */
export function vmaAt(t: Task, addr: number): Vma {
  const v = t.mm?.vmas.find((x) => x.vmStart <= addr && addr < x.vmEnd);
  if (v === undefined) throw new Error(`no VMA at 0x${addr.toString(16)} in task ${t.pid}`);
  return v;
}

/**
 * The valid TLB entries of mm `mmId`, on every CPU, whose page lies in
 * [start, end).
 * @param k - the kernel
 * @param mmId - the mm's id
 * @param start - first address
 * @param end - end of the range (exclusive)
 * @returns the number of entries
 */
export function tlbEntries(k: Kernel, mmId: number, start: number, end: number): number {
  let n = 0;
  for (const cpu of k.cpus) {
    const tlb = cpu.tlb;
    for (let e = 0; e < tlb.entries; e++) {
      if (tlb.mmId[e] !== mmId) continue;
      const addr = tlb.vpn[e]! * PAGE_SIZE;
      if (addr >= start && addr < end) n++;
    }
  }
  return n;
}
