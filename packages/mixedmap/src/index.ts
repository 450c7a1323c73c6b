/**
 * `@mmlab/mixedmap`: Nick Piggin's VM_MIXEDMAP / pte_special / XIP series
 * (March 2008) and his lockless `get_user_pages_fast` as an mmlab feature.
 * `pte_special` marks the PTEs of raw pfns so that `vm_normal_page` needs
 * no VMA rule, VM_MIXEDMAP mixes refcounted pages and raw pfns in one
 * mapping, XIP maps an image that has no struct pages, and
 * `get_user_pages_fast` pins pages without `mmap_sem`, refusing special
 * PTEs. Test-only mutations are in `@mmlab/mixedmap/testing`.
 * @packageDocumentation
 */
export { gupFastConfig, mixedDevFileType, mixedmap, NAME, xipFileType } from './mixedmap.js';
export { MIXED_DEV_FILE_TYPE, type MixedFileCounters, registerMixedDevFileType, registerXipFileType, XIP_FILE_TYPE } from './files.js';
export { type GupFastConfig, type GupFastCounters, type GupFn, getUserPagesFast } from './gup-fast.js';
export { insertPage, insertPfn, vmInsertMixed } from './insert.js';
export { pteSpecial, pteSpecialInUse, setPteSpecialInUse, vmNormalPageMixed } from './normal-page.js';
