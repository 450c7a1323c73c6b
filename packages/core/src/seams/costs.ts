/**
 * Named costs a feature adds to the running machine's cost table (a
 * secondary TLB's flush instruction, a hypercall), per machine profile,
 * and charges with `Kernel.chargeCost`.
 * @module
 */
import { checkDoc, checkOwnerName } from './names.js';
import { KernelConfigError } from './feature.js';

/**
 * A cost's simulated nanoseconds: one figure for every machine, or one per
 * machine profile name with an optional `default` for the others.
 */
export type CostSpec = number | Readonly<Record<string, number>>;

/** A feature's named cost on the running machine. */
export interface FeatureCost {
  /** The feature. */
  readonly feature: string;
  /** The cost's name (`secondaryTlbFlush`). */
  readonly name: string;
  /** What it stands for, in one line. */
  readonly doc: string;
  /** Simulated nanoseconds on this kernel's machine profile. */
  readonly ns: number;
  /** Times charged. */
  charged: number;
}

/** The costs the features of one kernel added. */
export class FeatureCosts {
  /** Every cost, in definition order. */
  readonly list: FeatureCost[] = [];

  /**
   * Add cost `name` of `feature` for machine profile `profile`; throws
   * {@link KernelConfigError} when `spec` gives no figure for it.
   */
  define(feature: string, name: string, doc: string, spec: CostSpec, profile: string): FeatureCost {
    const what = `feature '${feature}' cost '${name}'`;
    checkOwnerName(what, feature);
    if (!/^[a-z][A-Za-z0-9]*$/.test(name)) throw new KernelConfigError(`${what}: names are camelCase, as the cost table's`);
    checkDoc(what, doc);
    if (this.list.some((c) => c.feature === feature && c.name === name)) throw new KernelConfigError(`${what} is defined twice`);
    const ns = typeof spec === 'number' ? spec : (spec[profile] ?? spec.default);
    if (ns === undefined) throw new KernelConfigError(`${what} has no figure for machine '${profile}' and no default`);
    if (!Number.isFinite(ns) || ns < 0) throw new KernelConfigError(`${what} must be a non-negative number of ns, got ${ns}`);
    const c: FeatureCost = { feature, name, doc, ns, charged: 0 };
    this.list.push(c);
    return c;
  }
}
