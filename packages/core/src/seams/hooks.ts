/**
 * Checker and oracle hooks of features: invariant checks a feature adds
 * (run by the invariant checker at every boundary where the core's run,
 * reported as `<feature>:<name>`), checks against the data oracle's
 * expectations, and the references a feature holds on frames (a secondary
 * MMU's pages), which the checker's refcount accounting adds in.
 * @module
 */
import type { Kernel } from '../kernel/kernel.js';
import type { MmStruct } from '../mm/types.js';
import { checkOwnerName } from './names.js';
import { KernelConfigError } from './feature.js';

/**
 * A feature's invariant check: the messages of what it found wrong (empty
 * when its state is consistent).
 */
export type InvariantCheck = (k: Kernel) => Iterable<string>;

/**
 * The data oracle's expectation: the token a user read of `addr` in `mm`
 * must return now, from the semantics of the calls alone.
 */
export type OracleExpect = (mm: MmStruct, addr: number) => number;

/**
 * A feature's check against the data oracle (a secondary MMU's view of
 * memory must hold what the oracle expects): the messages of the
 * mismatches found.
 */
export type OracleCheck = (k: Kernel, expected: OracleExpect) => Iterable<string>;

/**
 * A feature's declaration of the references it holds on frames: it calls
 * `add(pfn, n)` for every frame it holds `n` references on (`get_page`
 * done by the feature and not yet dropped).
 */
export type FrameRefs = (k: Kernel, add: (pfn: number, n: number) => void) => void;

/** A named hook of a feature. */
export interface FeatureHook<F> {
  /** The feature. */
  readonly feature: string;
  /** The check's name. */
  readonly name: string;
  /** The check. */
  readonly fn: F;
}

/** The checker and oracle hooks of one kernel's features. */
export class CheckHooks {
  /** Invariant checks, run by `checkKernel`. */
  readonly invariants: FeatureHook<InvariantCheck>[] = [];
  /** Oracle checks, run after the oracle's own comparison. */
  readonly oracle: FeatureHook<OracleCheck>[] = [];
  /** Frame-reference declarations, added into the checker's expected refcounts. */
  readonly frameRefs: FeatureHook<FrameRefs>[] = [];

  private checkName(list: readonly FeatureHook<unknown>[], what: string, feature: string, name: string): void {
    checkOwnerName(what, feature);
    if (!/^[a-z][a-z0-9-]*$/.test(name)) throw new KernelConfigError(`${what} '${name}' of feature '${feature}': names are lower-case words joined by '-'`);
    if (list.some((h) => h.feature === feature && h.name === name)) throw new KernelConfigError(`${what} '${name}' of feature '${feature}' is added twice`);
  }

  /** Add an invariant check, reported as `<feature>:<name>`. */
  addInvariantCheck(feature: string, name: string, fn: InvariantCheck): void {
    this.checkName(this.invariants, 'invariant check', feature, name);
    this.invariants.push({ feature, name, fn });
  }

  /** Add an oracle check, reported as `<feature>:<name>`. */
  addOracleCheck(feature: string, name: string, fn: OracleCheck): void {
    this.checkName(this.oracle, 'oracle check', feature, name);
    this.oracle.push({ feature, name, fn });
  }

  /** Declare the frame references a feature holds (a feature may declare several sets). */
  addFrameRefs(feature: string, fn: FrameRefs): void {
    checkOwnerName('frame references', feature);
    this.frameRefs.push({ feature, name: 'refs', fn });
  }
}
