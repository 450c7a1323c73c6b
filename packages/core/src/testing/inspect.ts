/**
 * Read-only looks into a kernel's state that the tests of several packages
 * make: the VMA at an address, the TLB entries of an mm.
 * @module
 */
import type { Kernel } from '../kernel/kernel.js';
import type { Task } from '../sched/task.js';
import type { Vma } from '../mm/types.js';
import { PAGE_SIZE } from '../pgtable/entry.js';

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
