/**
 * `@mmlab/example-tlb-shootdown`: the feature that
 * `docs/writing-a-feature.md` walks through. It counts the kernel's TLB
 * flushes and delays each one by a named cost.
 * @packageDocumentation
 */
export { tlbShootdown, NAME } from './tlb-shootdown.js';
