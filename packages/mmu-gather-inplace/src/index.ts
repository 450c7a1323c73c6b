/**
 * `@mmlab/mmu-gather-inplace`: Nick Piggin's in-place `mmu_gather` RFC
 * (March 2006) as an mmlab feature. The per-CPU gather and its 506-entry
 * page vector give way to a small gather per zap that keeps the pages to
 * free in the page tables themselves: unhook, flush once, then a second
 * walk frees the pages and the tables. It is preemptible, so the zap no
 * longer ends its batch every `ZAP_BLOCK_SIZE` pages.
 * @packageDocumentation
 */
export { mmuGatherInplace, NAME } from './mmu-gather-inplace.js';
export { _PAGE_GATHERED, InplaceGather, inPlaceAllowed, pteGathered } from './gather.js';
