/**
 * TLB flushing, x86-64 2.6.24 style.
 *
 * `flush_tlb_mm` flushes the local TLB if the running CPU has the mm loaded
 * and sends a shootdown IPI to every other CPU in `mm->cpu_vm_mask`;
 * `flush_tlb_page` does the same for one page; `flush_tlb_range` is
 * `flush_tlb_mm` on x86 of the time. The sender waits for every ack. The
 * counters use today's names (`nr_tlb_local_flush_all`, …), which 2.6.24
 * did not have.
 * @see arch/x86/kernel/tlb_64.c flush_tlb_mm, flush_tlb_page, flush_tlb_others
 * @module
 */
import type { Kernel } from '../seams/kernel.js';
import type { MmStruct } from './types.js';

/** `flush_tlb_mm()`. */
export function flushTlbMm(k: Kernel, mm: MmStruct): void {
  const self = k.cpu;
  if (k.profile.tlbTagged) {
    if (mm.cpuVmMask[self.id] !== 0) {
      self.tlb.flushMm(mm.id);
      k.vm.nr_tlb_local_flush_all++;
      k.chargeFlush(k.costs.tlbFlushAll);
    }
  } else if (self.activeMm === mm) {
    self.tlb.flushAll();
    k.vm.nr_tlb_local_flush_all++;
    k.chargeFlush(k.costs.tlbFlushAll);
  }
  flushTlbOthers(k, mm, -1);
}

/** `flush_tlb_page()`: one page at `addr`. */
export function flushTlbPage(k: Kernel, mm: MmStruct, addr: number): void {
  const self = k.cpu;
  const vpn = Math.floor(addr / 4096);
  if (self.activeMm === mm || (k.profile.tlbTagged && mm.cpuVmMask[self.id] !== 0)) {
    self.tlb.flushOne(mm.id, vpn);
    k.vm.nr_tlb_local_flush_one++;
    k.chargeFlush(k.costs.tlbFlushOne);
  }
  flushTlbOthers(k, mm, vpn);
}

/** `flush_tlb_range()`: the whole mm on x86-64 2.6.24. */
export function flushTlbRange(k: Kernel, mm: MmStruct): void {
  flushTlbMm(k, mm);
}

/**
 * `flush_tlb_others()`: IPI every other CPU in the mm's mask; each flushes
 * one page (`vpn` ≥ 0) or everything, or leaves the mm if it no longer runs
 * it (lazy TLB: `leave_mm`). Counted once per shootdown and once per target.
 */
export function flushTlbOthers(k: Kernel, mm: MmStruct, vpn: number): void {
  const self = k.cpu;
  let targets = 0;
  for (const cpu of k.cpus) {
    if (cpu === self || mm.cpuVmMask[cpu.id] === 0) continue;
    targets++;
    k.vm.nr_tlb_remote_flush_received++;
    cpu.busyNs += k.costs.ipiPerTarget;
    if (k.profile.tlbTagged) {
      // a tagged TLB may hold this mm's entries whether or not it runs it
      if (vpn < 0) cpu.tlb.flushMm(mm.id);
      else cpu.tlb.flushOne(mm.id, vpn);
    } else if (cpu.activeMm === mm) {
      if (vpn < 0) cpu.tlb.flushAll();
      else cpu.tlb.flushOne(mm.id, vpn);
    } else {
      // leave_mm(): the CPU had the mm lazily; drop it from the mask.
      mm.cpuVmMask[cpu.id] = 0;
      cpu.tlb.flushAll();
    }
  }
  if (targets > 0) {
    k.vm.nr_tlb_remote_flush++;
    k.chargeFlush(k.costs.ipiShootdown + targets * k.costs.ipiPerTarget);
  }
}
