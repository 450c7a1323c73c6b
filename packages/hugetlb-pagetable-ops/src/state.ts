/**
 * What the feature keeps per kernel: the `vma->pagetable_ops` slot, its
 * counters, the character device's file type, and the adapters through
 * which the core's special-VMA dispatch reaches a table. The helpers
 * `has_pt_op()` and `pt_op()` read the slot.
 * @module
 */
import {
  genericVmaOps,
  KernelConfigError,
  type FeatureCost,
  type FileType,
  type Kernel,
  type SpecialVmaOps,
  type Vma,
  type VmaSlot,
} from '@mmlab/core';
import type { PagetableOperations, PtOpName } from './pagetable-ops.js';

/** The feature's name: the owner of its seam link, slot, counters and file type. */
export const NAME = 'hugetlb-pagetable-ops';

/** The counters the feature declares (see the feature's `install`). */
export const COUNTER_DOCS = {
  special_checks:
    'special-VMA dispatches (specialVmaOps calls): each is an is_vm_hugetlb_page() test the baseline executes on the same run, and a vma->pagetable_ops load here',
  op_calls: 'page-table operations called through a VMA table (pt_op), all members',
  fault: 'pt_op(vma, fault) calls (hugetlb_fault)',
  copy_vma: 'pt_op(vma, copy_vma) calls at fork (copy_hugetlb_page_range)',
  pin_pages: 'pt_op(vma, pin_pages) calls in get_user_pages (follow_hugetlb_page)',
  unmap_page_range: 'pt_op(vma, unmap_page_range) calls in unmap_vmas (unmap_hugepage_range)',
  change_protection: 'pt_op(vma, change_protection) calls in mprotect (hugetlb_change_protection)',
  free_pgtable_range: 'pt_op(vma, free_pgtable_range) calls in free_pgtables (hugetlb_free_pgd_range)',
  hugetlbfs_maps: "mmaps of hugetlbfs files, each installing hugetlb_pagetable_ops on the new VMA (the series' hugetlbfs_file_mmap change)",
  device_maps: 'mmaps of the hugepages character device, each installing its table of operations',
  vmas: 'VMAs that carried the pagetable_ops pointer (given it first, or copied by split, fork or mremap)',
  vma_bytes: 'bytes of VMA memory the pointer added: vmas x pointerBytes (wli: one more pointer in every VMA)',
} as const;

/** The feature's counters. */
export type PtOpsCounters = Record<keyof typeof COUNTER_DOCS, number>;

/** The counter of each operation. */
type OpCounter = 'fault' | 'copy_vma' | 'pin_pages' | 'unmap_page_range' | 'change_protection' | 'free_pgtable_range';

/** The feature's state in one kernel. */
export interface PtOpsState {
  /** `vma->pagetable_ops`: the table, null for none, undefined while not yet decided. */
  readonly slot: VmaSlot<PagetableOperations | null>;
  /** The counters. */
  readonly counters: PtOpsCounters;
  /** Bytes one pointer adds to a VMA. */
  readonly pointerBytes: number;
  /** The cost charged per operation call, or null when the option is 0. */
  readonly callCost: FeatureCost | null;
  /** The hugepages device's file type (set once registered). */
  deviceType: FileType | null;
  /** Per table, the `SpecialVmaOps` the dispatch returns for it. */
  readonly adapters: Map<PagetableOperations, SpecialVmaOps>;
}

/** The state per kernel that installed the feature. */
const states = new WeakMap<Kernel, PtOpsState>();

/** Record the state of a kernel that installs the feature. */
export function attachState(k: Kernel, state: PtOpsState): void {
  states.set(k, state);
}

/** The feature's state in `k`, or undefined when `k` was built without it. */
export function stateOf(k: Kernel): PtOpsState | undefined {
  return states.get(k);
}

/** The state, or a `KernelConfigError` that names the feature `what` needs. */
export function requireState(k: Kernel, what: string): PtOpsState {
  const s = states.get(k);
  if (s === undefined) throw new KernelConfigError(`${what} needs the feature '${NAME}'`);
  return s;
}

/** Give `vma` its table (or none), counting the pointer it now carries. */
export function givePointer(s: PtOpsState, vma: Vma, ops: PagetableOperations | null): void {
  s.slot.set(vma, ops);
  countPointer(s);
}

/** One more VMA carries the pointer. */
export function countPointer(s: PtOpsState): void {
  s.counters.vmas++;
  s.counters.vma_bytes += s.pointerBytes;
}

/**
 * `vma->pagetable_ops` as the kernel reads it: set by hugetlbfs's mmap
 * (through the `fileMmap` seam) and by the device's mmap, copied by split,
 * fork and mremap. A VMA seen for the first time without one is given the
 * null pointer (and counted: every VMA carries the field).
 */
export function opsOf(s: PtOpsState, vma: Vma): PagetableOperations | null {
  const ops = s.slot.get(vma);
  if (ops !== undefined) return ops;
  givePointer(s, vma, null);
  return null;
}

/**
 * The `SpecialVmaOps` the core's dispatch calls for a VMA with table
 * `ops`: each member the table has is called through it and counted
 * (`pt_op`); each member it lacks is the generic path.
 */
export function adapterOf(s: PtOpsState, ops: PagetableOperations): SpecialVmaOps {
  const known = s.adapters.get(ops);
  if (known !== undefined) return known;
  const c = s.counters;
  const cost = s.callCost;
  const called = (op: OpCounter, k: Kernel): void => {
    c.op_calls++;
    c[op]++;
    if (cost !== null) k.chargeCost(cost);
  };
  const { fault, copyVma, pinPages, unmapPageRange, changeProtection, freePgtableRange } = ops;
  // a member the table lacks is the generic path (has_pt_op false)
  const a: SpecialVmaOps = { ...genericVmaOps, name: ops.name };
  // the series has no move operation: mremap of such a VMA stays -EINVAL, as 2.6.24's
  delete a.movePageTables;
  if (fault !== undefined) {
    a.fault = function* (k, mm, vma, address, write) {
      called('fault', k);
      return yield* fault(k, mm, vma, address, write);
    };
  }
  if (copyVma !== undefined) {
    a.copyPageRange = function* (k, dst, src, vma) {
      called('copy_vma', k);
      return yield* copyVma(k, dst, src, vma);
    };
  }
  if (pinPages !== undefined) {
    a.followPage = function* (k, mm, vma, addr, write, pin) {
      called('pin_pages', k);
      return yield* pinPages(k, mm, vma, addr, write, pin);
    };
  }
  if (unmapPageRange !== undefined) {
    a.unmapPageRange = function* (k, tlb, vma, start, end, details) {
      called('unmap_page_range', k);
      yield* unmapPageRange(k, tlb, vma, start, end, details);
    };
  }
  if (changeProtection !== undefined) {
    a.changeProtection = function* (k, vma, start, end, newprot) {
      called('change_protection', k);
      yield* changeProtection(k, vma, start, end, newprot);
    };
  }
  if (freePgtableRange !== undefined) {
    a.freePgtableRange = function* (k, tlb, mm, addr, end, floor, ceiling) {
      called('free_pgtable_range', k);
      yield* freePgtableRange(k, tlb, mm, addr, end, floor, ceiling);
    };
  }
  s.adapters.set(ops, a);
  return a;
}

/**
 * The table of operations `vma` carries (`vma->pagetable_ops`), or null.
 * @param k - a kernel built with the feature
 * @param vma - any VMA of that kernel
 * @throws KernelConfigError when `k` was built without the feature
 */
export function pagetableOps(k: Kernel, vma: Vma): PagetableOperations | null {
  return opsOf(requireState(k, 'pagetableOps'), vma);
}

/**
 * `has_pt_op(vma, op)`: whether the VMA has a table with member `op`.
 * False in a kernel built without the feature (no VMA has a table there).
 * @param k - the kernel
 * @param vma - the VMA
 * @param op - the member
 */
export function hasPtOp(k: Kernel, vma: Vma, op: PtOpName): boolean {
  const s = stateOf(k);
  return s !== undefined && opsOf(s, vma)?.[op] !== undefined;
}

/**
 * `pt_op(vma, op)`: member `op` of the VMA's table, to call.
 * @param k - a kernel built with the feature
 * @param vma - a VMA for which {@link hasPtOp} is true
 * @param op - the member
 * @throws KernelConfigError without the feature; Error when the VMA has no such operation
 */
export function ptOp<O extends PtOpName>(k: Kernel, vma: Vma, op: O): NonNullable<PagetableOperations[O]> {
  const f = opsOf(requireState(k, 'ptOp'), vma)?.[op];
  if (f === undefined) throw new Error(`pt_op: the VMA at 0x${vma.vmStart.toString(16)} has no '${op}' operation`);
  return f;
}

/**
 * Install `ops` as the table of `vma` (`vma->pagetable_ops = ops` in a
 * driver's or filesystem's mmap).
 * @param k - a kernel built with the feature
 * @param vma - the VMA being mapped
 * @param ops - its table
 * @throws KernelConfigError when `k` was built without the feature
 */
export function setPagetableOps(k: Kernel, vma: Vma, ops: PagetableOperations): void {
  const s = requireState(k, 'setPagetableOps');
  const had = s.slot.get(vma) !== undefined;
  s.slot.set(vma, ops);
  if (!had) countPointer(s);
}
