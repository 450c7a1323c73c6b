/**
 * The feature: Adam Litke's `pagetable_operations` series (V2, March
 * 2007) on the 2.6.24 model. The core's special-VMA dispatch (the
 * `specialVmaOps` seam, which stands at each `is_vm_hugetlb_page()` branch
 * point) is replaced by a read of the VMA's own table of operations, kept
 * in a per-VMA slot that split, fork and mremap copy as the kernel copies
 * `vm_area_struct` fields.
 * @module
 */
import { defineFeature, type Feature, HUGETLBFS_FILE_OPS } from '@mmlab/core';
import { registerHugepagesDevice } from './device.js';
import { COUNTER_DOCS, NAME, adapterOf, attachState, countPointer, givePointer, opsOf, type PtOpsState } from './state.js';
import { hugetlbPagetableOps, type PagetableOperations } from './pagetable-ops.js';

export { NAME } from './state.js';

/**
 * `hugetlb-pagetable-ops`: every hugetlb page-table path goes through the
 * VMA's `pagetable_operations_struct`; none of the baseline's
 * `is_vm_hugetlb_page()` branches is taken. Also registers the
 * `hugepages` character device ({@link hugepagesDeviceCreate}).
 *
 * Counters (`metrics.feature['hugetlb-pagetable-ops']`): `special_checks`
 * (dispatches, each an `is_vm_hugetlb_page()` test the baseline executes on
 * the same run), `op_calls` and one counter per operation, `hugetlbfs_maps`
 * (hugetlbfs mmaps that installed `hugetlb_pagetable_ops` through the
 * `fileMmap` seam), `device_maps`, and wli's cost:
 * `vmas` that carried the pointer and `vma_bytes` they added.
 */
export const hugetlbPagetableOpsFeature: Feature = defineFeature({
  name: NAME,
  summary:
    "hugetlb's page-table paths through a per-VMA pagetable_operations table instead of is_vm_hugetlb_page() branches; adds the hugepages character device",
  thread: { subject: '[PATCH 0/7] [RFC] hugetlb: pagetable_operations API (V2)', author: 'Adam Litke', date: '2007-03' },
  options: {
    pointerBytes: {
      type: 'int',
      default: 8,
      min: 4,
      max: 8,
      doc: 'bytes the pagetable_ops pointer adds to every VMA (8 on 64-bit, 4 on 32-bit), for the vma_bytes figure',
    },
    indirectCallNs: {
      type: 'int',
      default: 0,
      min: 0,
      max: 1000,
      doc: 'simulated ns charged per operation called through a table (an indirect call); 0 keeps time identical to the baseline',
    },
  },
  install(k, { pointerBytes, indirectCallNs }) {
    const counters = k.defineCounters(NAME, COUNTER_DOCS);
    // the pointer is a vm_area_struct field: split, fork and mremap copy it
    const copied = (ops: PagetableOperations | null): PagetableOperations | null => {
      countPointer(state);
      return ops;
    };
    const slot = k.vmaSlot<PagetableOperations | null>(NAME, 'pagetable_ops', { split: copied, merge: 'keep', fork: copied, mremap: copied });
    const callCost = indirectCallNs > 0 ? k.defineCost(NAME, 'indirect_call', 'an operation called through a VMA table', indirectCallNs) : null;
    const state: PtOpsState = { slot, counters, pointerBytes, callCost, deviceType: null, adapters: new Map() };
    attachState(k, state);
    // hugetlbfs_file_mmap installs hugetlb_pagetable_ops on the new VMA
    k.seamTable.wrap(NAME, 'fileMmap', (prev) =>
      function* (kk, file, vma) {
        const err = yield* prev(kk, file, vma);
        if (err === 0 && file.fileOps === HUGETLBFS_FILE_OPS) {
          counters.hugetlbfs_maps++;
          givePointer(state, vma, hugetlbPagetableOps);
        }
        return err;
      });
    // the VMA's table replaces is_vm_hugetlb_page(): the baseline is never asked
    k.seamTable.replace(NAME, 'specialVmaOps', (vma) => {
      counters.special_checks++;
      const ops = opsOf(state, vma);
      return ops === null ? null : adapterOf(state, ops);
    });
    state.deviceType = registerHugepagesDevice(k, state);
  },
});
