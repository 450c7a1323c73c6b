/**
 * `@mmlab/hugetlb-pagetable-ops`: Adam Litke's pagetable_operations series
 * (2007) — hugetlb's page-table paths through a table of operations on
 * the VMA instead of `is_vm_hugetlb_page()` branches — and the series'
 * motivating example, a `/dev/hugepages`-like character device built only
 * on those operations.
 * @packageDocumentation
 */
export { hugetlbPagetableOpsFeature, NAME } from './feature.js';
export { hugetlbPagetableOps, PT_OP_NAMES, type PagetableOperations, type PtOpName } from './pagetable-ops.js';
export { hasPtOp, pagetableOps, ptOp, setPagetableOps } from './state.js';
export { HUGEPAGES_DEVICE, hugepagesDeviceCreate, hugepagesDeviceOps } from './device.js';
