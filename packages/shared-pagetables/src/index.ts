/**
 * `@mmlab/shared-pagetables`: Dave McCracken's shared page tables
 * ("[PATCH/RFC] Shared page tables", January 2006, Hugh Dickins
 * reviewing) as an mmlab feature. Processes that map the same file region
 * shared (or read-only) at the same alignment share PTE tables (or, with
 * `level=pmd`, PMD tables) instead of building their own: at fault time,
 * through a sibling found in the file's `i_mmap`, and at fork.
 * @packageDocumentation
 */
export { sharedPagetables } from './shared-pagetables.js';
export { sharedTables, shareCounters } from './query.js';
export { NAME, type ShareCounters, type ShareLevel } from './state.js';
