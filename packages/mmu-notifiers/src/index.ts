/**
 * `@mmlab/mmu-notifiers`: Andrea Arcangeli's mmu notifiers #v6 (2008) and
 * Christoph Lameter's range/sleepable alternative as options of one
 * feature, with KVM-, GRU- and XPMEM-like secondary MMUs as drivers that
 * workloads and tests use.
 * @packageDocumentation
 */
export { coherence, mmuNotifiers, NAME } from './mmu-notifiers.js';
export {
  attachNotifiers,
  type Callout,
  type CalloutCounters,
  type DriverCosts,
  type DriverCounters,
  type MmuNotifier,
  type MmuNotifierOps,
  type NotifierOptions,
  Notifiers,
  notifiersOf,
  type ReleasePlacement,
  type SecondaryMmu,
  type Variant,
} from './notifier.js';
export { type DropCause, ShadowMmu, type ShadowOptions, SPTE_WRITE, SPTE_YOUNG } from './shadow.js';
export { forEachSharer, forEachSharerOf } from './sharers.js';
export { KvmGuest } from './kvm.js';
export { GruContext } from './gru.js';
export { XpmemAttachment } from './xpmem.js';
