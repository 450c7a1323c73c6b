/**
 * A CPU: its TLB, the mm it has loaded (`active_mm`), its clock, and its
 * per-CPU mmu_gather.
 * @module
 */
import { Tlb } from './tlb.js';
import type { MmStruct } from '../mm/types.js';

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
  /** Simulated time this CPU spent busy, in ns. */
  busyNs = 0;

  constructor(id: number, socket: number, tlbEntries: number, tlbWays: number) {
    this.id = id;
    this.socket = socket;
    this.tlb = new Tlb(tlbEntries, tlbWays);
  }
}
