/**
 * TLB flushing, x86-64 2.6.24 style.
 *
 * `flush_tlb_mm` flushes the local TLB if the running CPU has the mm loaded
 * and sends a shootdown IPI to every other CPU in `mm->cpu_vm_mask`;
 * `flush_tlb_page` does the same for one page; `flush_tlb_range` is
 * `flush_tlb_mm` on x86 of the time. The sender waits for every ack: each
 * flush returns whether it must, and the caller (a kernel path) then
 * yields through {@link ipiWait}. In sequential mode the targets take the
 * IPI at once. The counters use today's names (`nr_tlb_local_flush_all`,
 * …), which 2.6.24 did not have.
 * @see arch/x86/kernel/tlb_64.c flush_tlb_mm, flush_tlb_page, flush_tlb_others, smp_invalidate_interrupt
 * @module
 */
import type { Cpu, PendingIpi } from '../machine/cpu.js';
import { IPI_WAIT, type KGen } from '../sched/run.js';
import type { Kernel } from '../kernel/kernel.js';
import type { MmStruct } from './types.js';

/** Which flush a {@link baseFlushTlb} call is: one page, a range, or the whole mm. */
export type FlushKind = 'page' | 'range' | 'mm';

/**
 * Why a TLB flush happens, for features that act on it (a secondary MMU)
 * and for traces: the call site's kernel function.
 */
export type FlushReason =
  | 'gather' // tlb_flush_mmu: a zap or table free
  | 'fault' // handle_pte_fault: a spurious write fault set the dirty bit
  | 'wp_reuse' // do_wp_page reusing the page (ptep_set_access_flags)
  | 'clear_flush' // ptep_clear_flush
  | 'clear_flush_young' // ptep_clear_flush_young
  | 'mprotect' // change_protection
  | 'fork' // dup_mmap after write-protecting the parent
  | 'hugetlb' // the hugetlb paths (flush_tlb_range)
  | 'unshare'; // a feature dropping this mm's share of a page table (none in 2.6.24)

/**
 * Baseline `flushTlb` seam: `flush_tlb_page()` for one page, and on x86-64
 * 2.6.24 `flush_tlb_range()` and the gather's `tlb_flush()` are
 * `flush_tlb_mm()`. The reason is not used by the baseline. Returns true
 * when the caller must wait for IPI acks.
 * @see arch/x86/kernel/tlb_64.c flush_tlb_page, flush_tlb_mm; include/asm-x86/tlbflush_64.h flush_tlb_range
 */
export function baseFlushTlb(k: Kernel, kind: FlushKind, mm: MmStruct, start: number): boolean {
  if (kind === 'page') return flushTlbPage(k, mm, start);
  return kind === 'range' ? flushTlbRange(k, mm) : flushTlbMm(k, mm);
}

/**
 * `flush_tlb_mm()`. Returns true when the caller must wait for IPI acks.
 * @see arch/x86/kernel/tlb_64.c flush_tlb_mm
 */
export function flushTlbMm(k: Kernel, mm: MmStruct): boolean {
  const self = k.cpu;
  if (k.profile.tlbTagged) {
    if (mm.cpuVmMask[self.id] !== 0) {
      self.tlb.flushMm(mm.id);
      k.vm.nr_tlb_local_flush_all++;
      k.chargeFlush(k.costs.tlbFlushAll);
      k.traceInstant('tlb', 'flush_tlb_mm');
    }
  } else if (self.activeMm === mm) {
    self.tlb.flushAll();
    k.vm.nr_tlb_local_flush_all++;
    k.chargeFlush(k.costs.tlbFlushAll);
    k.traceInstant('tlb', 'flush_tlb_mm');
  }
  return flushTlbOthers(k, mm, -1);
}

/**
 * `flush_tlb_page()`: one page at `addr`. Returns true when the caller must wait for IPI acks.
 * @see arch/x86/kernel/tlb_64.c flush_tlb_page
 */
export function flushTlbPage(k: Kernel, mm: MmStruct, addr: number): boolean {
  const self = k.cpu;
  const vpn = Math.floor(addr / 4096);
  if (self.activeMm === mm || (k.profile.tlbTagged && mm.cpuVmMask[self.id] !== 0)) {
    self.tlb.flushOne(mm.id, vpn);
    k.vm.nr_tlb_local_flush_one++;
    k.chargeFlush(k.costs.tlbFlushOne);
  }
  return flushTlbOthers(k, mm, vpn);
}

/**
 * `flush_tlb_range()`: the whole mm on x86-64 2.6.24.
 * @see include/asm-x86/tlbflush_64.h flush_tlb_range
 */
export function flushTlbRange(k: Kernel, mm: MmStruct): boolean {
  return flushTlbMm(k, mm);
}

/**
 * `smp_invalidate_interrupt()` on `cpu`: flush one page or everything, or
 * leave the mm if it no longer runs it (lazy TLB: `leave_mm`).
 * @see arch/x86/kernel/tlb_64.c smp_invalidate_interrupt, leave_mm
 */
export function takeFlushIpi(k: Kernel, cpu: Cpu, ipi: PendingIpi): void {
  const mm = ipi.mm;
  if (k.profile.tlbTagged) {
    if (ipi.vpn < 0) cpu.tlb.flushMm(mm.id);
    else cpu.tlb.flushOne(mm.id, ipi.vpn);
  } else if (cpu.activeMm === mm) {
    if (ipi.vpn < 0) cpu.tlb.flushAll();
    else cpu.tlb.flushOne(mm.id, ipi.vpn);
  } else {
    mm.cpuVmMask[cpu.id] = 0;
    cpu.tlb.flushAll();
  }
}

/**
 * `flush_tlb_others()`: IPI every other CPU in the mm's mask. Counted once
 * per shootdown and once per target. In sequential mode the targets take
 * it at once; otherwise it is queued on them and this returns true: the
 * sender must wait ({@link ipiWait}) until every target has taken it.
 * @see arch/x86/kernel/tlb_64.c flush_tlb_others
 */
export function flushTlbOthers(k: Kernel, mm: MmStruct, vpn: number): boolean {
  const self = k.cpu;
  let targets = 0;
  const cpus = k.cpus;
  // an index loop: no iterator while this runs unoptimized (it runs for every gather flush)
  for (let i = 0; i < cpus.length; i++) {
    const cpu = cpus[i]!;
    if (cpu === self || mm.cpuVmMask[cpu.id] === 0) continue;
    targets++;
    k.vm.nr_tlb_remote_flush_received++;
    if (k.interleaving) {
      cpu.pendingIpis.push({ from: self.id, mm, vpn, sentAt: self.clock });
      self.ipiAcksPending++;
    } else {
      cpu.busyNs += k.costs.ipiPerTarget;
      takeFlushIpi(k, cpu, { from: self.id, mm, vpn, sentAt: self.clock });
    }
  }
  if (targets === 0) return false;
  k.vm.nr_tlb_remote_flush++;
  k.traceInstant('ipi', vpn < 0 ? 'flush_tlb_others(all)' : 'flush_tlb_others(page)', { targets });
  k.chargeFlush(k.costs.ipiShootdown + (k.interleaving ? 0 : targets * k.costs.ipiPerTarget));
  return k.interleaving;
}

/**
 * Wait until every IPI this CPU sent has been acknowledged.
 * @see arch/x86/kernel/tlb_64.c flush_tlb_others (its wait for flush_cpumask to empty)
 */
export function* ipiWait(k: Kernel): KGen<void> {
  const cpu = k.cpu;
  const t0 = cpu.clock;
  while (cpu.ipiAcksPending > 0) yield IPI_WAIT;
  k.tlbFlushNs += cpu.clock - t0;
}
