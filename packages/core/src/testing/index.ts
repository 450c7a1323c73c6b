/**
 * `@mmlab/core/testing`: helpers for the tests of the mmlab packages.
 *
 * TEST-ONLY. This entry point is not part of the main export
 * (`@mmlab/core`) and not part of the supported API: it holds kernel
 * mutations that remove a guard on purpose (so a test can show the explore
 * mode finding the race the guard prevents) and the race scenarios that
 * expose them. Never build a kernel for a simulation with these features.
 * @module
 */
export * from './mutations.js';
export * from './inspect.js';
