/**
 * Machine profiles: CPU count and topology, struct page size, mmap
 * placement, TLB geometry, RAM and the cost table.
 * @module
 */
import { X86_64_COSTS, type CostTable } from './cost.js';

/**
 * Where `get_unmapped_area` places mappings: `legacy` is 2.6.24 x86-64
 * (bottom-up from `TASK_UNMAPPED_BASE` = 0x2aaaaaaab000, not 2 MiB aligned),
 * `aligned` places mappings of 2 MiB or more on a 2 MiB boundary as today's
 * kernel does (THP-aligned placement), so results compare with today's
 * kernel.
 */
export type Placement = 'legacy' | 'aligned';

/** A machine profile. */
export interface MachineProfile {
  /** Profile name (`--machine NAME`). */
  readonly name: string;
  /** One line describing the machine. */
  readonly description: string;
  /** CPUs online. */
  readonly cpus: number;
  /** Sockets the CPUs are spread over. */
  readonly sockets: number;
  /** `sizeof(struct page)` in bytes (56 on 2.6.24 x86-64, 64 today). */
  readonly structPageSize: number;
  /** mmap placement. */
  readonly placement: Placement;
  /** Default simulated RAM in bytes. */
  readonly memBytes: number;
  /** Data-TLB entries per CPU. */
  readonly tlbEntries: number;
  /** TLB associativity. */
  readonly tlbWays: number;
  /**
   * TLB entries are tagged by address space (ppc64 segment VSIDs, ASIDs):
   * a context switch does not flush, and a CPU stays in `mm_cpumask` of
   * every mm whose entries it may still hold.
   */
  readonly tlbTagged: boolean;
  /** Segment size when the TLB is keyed by segment (ppc64: 256 MiB), else 0. */
  readonly segmentBytes: number;
  /** The PTE format has a free bit for `pte_special` (x86-64 yes, s390 of 2008 no). */
  readonly pteSpecial: boolean;
  /** The cost table. */
  readonly costs: Readonly<CostTable>;
}

/** x86-64, 2 sockets × 4 cores, as in the OLTP thread (2008). */
export const X86_64: MachineProfile = Object.freeze({
  name: 'x86-64',
  description: 'x86-64, 2 sockets x 4 cores (2008), 56-byte struct page, 2.6.24 mmap placement',
  cpus: 8,
  sockets: 2,
  structPageSize: 56,
  placement: 'legacy',
  memBytes: 4 * 1024 * 1024 * 1024,
  tlbEntries: 256,
  tlbWays: 4,
  tlbTagged: false,
  segmentBytes: 0,
  pteSpecial: true,
  costs: X86_64_COSTS,
});

/** x86-64 as today's kernel lays it out: 64-byte struct page, aligned placement, 2 CPUs. */
export const X86_64_TODAY: MachineProfile = Object.freeze({
  name: 'x86-64-today',
  description: "x86-64 as this project's machine: 2 CPUs, 64-byte struct page, 2 MiB-aligned placement",
  cpus: 2,
  sockets: 1,
  structPageSize: 64,
  placement: 'aligned',
  memBytes: 4 * 1024 * 1024 * 1024,
  tlbEntries: 1536,
  tlbWays: 6,
  tlbTagged: false,
  segmentBytes: 0,
  pteSpecial: true,
  costs: X86_64_COSTS,
});

/**
 * ppc64 (POWER5-like, 2 sockets × 4 threads): 256 MiB segments, a TLB
 * keyed by segment (VSID) rather than flushed on context switch — why the
 * shared page tables thread wanted PMD-level (segment) sharing. The model
 * keeps x86-64's 4-level 4 KiB geometry and tags entries by mm and
 * segment; without shared tables every mm has its own segments.
 */
export const PPC64: MachineProfile = Object.freeze({
  name: 'ppc64',
  description: 'ppc64, 2 sockets x 4 threads, 256 MiB segments, TLB keyed by segment (no flush on switch)',
  cpus: 8,
  sockets: 2,
  structPageSize: 56,
  placement: 'legacy',
  memBytes: 4 * 1024 * 1024 * 1024,
  tlbEntries: 1024,
  tlbWays: 4,
  tlbTagged: true,
  segmentBytes: 256 * 1024 * 1024,
  pteSpecial: true,
  costs: X86_64_COSTS,
});

/**
 * s390-like: 4 CPUs and a PTE format with no spare bit for `pte_special`,
 * so VM_MIXEDMAP must fall back to the PFNMAP/MIXEDMAP rules (the case
 * Martin Schwidefsky and Carsten Otte raise in the VM_MIXEDMAP thread).
 */
export const S390: MachineProfile = Object.freeze({
  name: 's390',
  description: 's390-like, 4 CPUs, no pte_special bit in the PTE format',
  cpus: 4,
  sockets: 1,
  structPageSize: 56,
  placement: 'legacy',
  memBytes: 4 * 1024 * 1024 * 1024,
  tlbEntries: 512,
  tlbWays: 4,
  tlbTagged: false,
  segmentBytes: 0,
  pteSpecial: false,
  costs: X86_64_COSTS,
});

const MACHINES: readonly MachineProfile[] = [X86_64, X86_64_TODAY, PPC64, S390];

/** Names of the built-in machine profiles. */
export function listMachines(): string[] {
  return MACHINES.map((m) => m.name);
}

/** The built-in profile called `name`, or undefined. */
export function getMachine(name: string): MachineProfile | undefined {
  return MACHINES.find((m) => m.name === name);
}

/** All built-in profiles. */
export function allMachines(): readonly MachineProfile[] {
  return MACHINES;
}
