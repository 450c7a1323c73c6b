/**
 * A CPU: its TLB, the mm it has loaded (`active_mm`), its clock, its
 * context (preempt count, interrupts), the IPIs waiting for it, and its
 * per-CPU state used by kernel paths (the zap budget, `PF_MEMALLOC`).
 * @module
 */
import { Tlb } from './tlb.js';
import type { MmStruct } from '../mm/types.js';

/** A TLB-shootdown IPI waiting to be taken by its target. */
export interface PendingIpi {
  /** Sending CPU. */
  readonly from: number;
  /** The mm to flush. */
  readonly mm: MmStruct;
  /** The virtual page to flush, or -1 for the whole mm. */
  readonly vpn: number;
  /** Simulated time it was sent. */
  readonly sentAt: number;
}

/** One CPU. */
export class Cpu {
  /** CPU number. */
  readonly id: number;
  /** Socket number. */
  readonly socket: number;
  /** The data TLB. */
  readonly tlb: Tlb;
  /** `active_mm`: the mm whose page tables CR3 points at. */
  activeMm: MmStruct | null = null;
  /** This CPU's clock: simulated time, ns. */
  clock = 0;
  /** Simulated time this CPU spent busy, in ns. */
  busyNs = 0;
  /** `preempt_count()`: spinlocks held, `get_cpu_var` sections, RCU readers. */
  preemptCount = 0;
  /** Nesting of `local_irq_disable()`. */
  irqsOff = 0;
  /** Start of the current non-preemptible stretch, or -1. */
  npStart = -1;
  /** Longest non-preemptible stretch seen, ns. */
  maxNonpreemptNs = 0;
  /** Inside a kernel path (not in user mode or idle): RCU's quiescent-state test. */
  inKernel = false;
  /** Nesting of kernel entries (a fault inside a system call counts twice). */
  kernelDepth = 0;
  /** IPIs sent to this CPU and not yet taken. */
  readonly pendingIpis: PendingIpi[] = [];
  /** IPIs this CPU sent and is waiting to be acknowledged. */
  ipiAcksPending = 0;
  /** `zap_work`: the budget of the zap this CPU is running. */
  zapWork = 0;
  /** `PF_MEMALLOC`: this CPU is in direct reclaim (which must not recurse). */
  inReclaim = false;

  constructor(id: number, socket: number, tlbEntries: number, tlbWays: number) {
    this.id = id;
    this.socket = socket;
    this.tlb = new Tlb(tlbEntries, tlbWays);
  }
}
