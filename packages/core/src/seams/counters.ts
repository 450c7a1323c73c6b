/**
 * Counters and gauges a feature declares, each with a one-line
 * description. A counter is a field of a plain object the feature
 * increments itself (`c.invalidates++`: no lookup on the hot path); a
 * gauge is a function sampled at the workload's snapshot. Both appear in
 * the metrics as `metrics.feature.<feature>.<name>`, and their
 * descriptions as `metrics.featureDocs.<feature>.<name>`.
 * @module
 */
import { KernelConfigError } from './feature.js';
import { checkDoc, checkOwnerName } from './names.js';

/** Counter and gauge names: `/proc/vmstat` style. */
const COUNTER_NAME = /^[a-z][a-z0-9_]*$/;

/** One gauge. */
interface Gauge {
  readonly feature: string;
  readonly name: string;
  readonly sample: () => number;
}

/** The counters and gauges every feature of one kernel declared. */
export class FeatureCounters {
  /** Counter objects per feature, in declaration order (a feature may declare several groups). */
  private readonly groups: { readonly feature: string; readonly values: Readonly<Record<string, number>> }[] = [];
  private readonly gauges: Gauge[] = [];
  /** Descriptions per feature and name, in declaration order. */
  private readonly docsOf: Record<string, Record<string, string>> = {};

  /** True when no feature declared a counter or a gauge. */
  get empty(): boolean {
    return this.groups.length === 0 && this.gauges.length === 0;
  }

  /** Check a new counter or gauge (nothing is recorded). */
  private check(feature: string, name: string, doc: string): void {
    const what = `feature '${feature}' counter '${name}'`;
    checkOwnerName(what, feature);
    if (!COUNTER_NAME.test(name)) throw new KernelConfigError(`${what}: names are lower-case words joined by '_'`);
    checkDoc(what, doc);
    if (this.docsOf[feature]?.[name] !== undefined) throw new KernelConfigError(`${what} is declared twice`);
  }

  private record(feature: string, name: string, doc: string): void {
    (this.docsOf[feature] ??= {})[name] = doc;
  }

  /**
   * Declare counters: `docs` maps each counter's name to its one-line
   * description. Returns the counters as a plain object, all 0, that the
   * feature increments.
   */
  define<K extends string>(feature: string, docs: Readonly<Record<K, string>>): Record<K, number> {
    const values = {} as Record<K, number>;
    const entries = Object.entries(docs) as [K, string][];
    for (const [name, doc] of entries) this.check(feature, name, doc);
    for (const [name, doc] of entries) {
      this.record(feature, name, doc);
      values[name] = 0;
    }
    this.groups.push({ feature, values });
    return values;
  }

  /** Declare a gauge: `sample()` is read at the snapshot. */
  defineGauge(feature: string, name: string, doc: string, sample: () => number): void {
    this.check(feature, name, doc);
    this.record(feature, name, doc);
    this.gauges.push({ feature, name, sample });
  }

  /** The gauges now, per feature (what a snapshot freezes); null without gauges. */
  sampleGauges(): Record<string, Record<string, number>> | null {
    if (this.gauges.length === 0) return null;
    const out: Record<string, Record<string, number>> = {};
    for (const g of this.gauges) (out[g.feature] ??= {})[g.name] = g.sample();
    return out;
  }

  /**
   * Every counter's current value and every gauge's value at the snapshot
   * (`gauges`, from {@link FeatureCounters.sampleGauges}), per feature, in
   * declaration order.
   */
  report(gauges: Readonly<Record<string, Readonly<Record<string, number>>>> | null): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    for (const [feature, docs] of Object.entries(this.docsOf)) {
      const row: Record<string, number> = {};
      for (const name of Object.keys(docs)) row[name] = 0;
      out[feature] = row;
    }
    for (const g of this.groups) Object.assign(out[g.feature]!, g.values);
    if (gauges !== null) for (const [feature, vals] of Object.entries(gauges)) Object.assign(out[feature] ??= {}, vals);
    return out;
  }

  /** Each counter's and gauge's description, per feature. */
  docs(): Record<string, Record<string, string>> {
    const out: Record<string, Record<string, string>> = {};
    for (const [feature, docs] of Object.entries(this.docsOf)) out[feature] = { ...docs };
    return out;
  }
}
