/**
 * How reports show the features a kernel was built with.
 * @module
 */

import type { ReportedFeature } from '@mmlab/workloads';

/** A reported feature, with the module it came from when it was loaded from one. */
export interface ShownFeature extends ReportedFeature {
  /** The module path as given on the command line (features from modules only). */
  readonly module?: string;
}

/**
 * The feature set in one line: `none`, or each feature as
 * `name:key=value:...` with every option (defaults included), followed by
 * `(./path.mjs)` for a feature loaded from a module, joined by commas.
 * @param features - the report's features
 */
export function formatFeatureList(features: readonly ShownFeature[]): string {
  if (features.length === 0) return 'none';
  return features
    .map((f) => {
      const spec = [f.name, ...Object.entries(f.options).map(([k, v]) => `${k}=${String(v)}`)].join(':');
      return f.module === undefined ? spec : `${spec} (${f.module})`;
    })
    .join(',');
}
