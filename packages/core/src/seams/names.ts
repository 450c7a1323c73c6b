/**
 * Checks of the names and descriptions features give what they declare
 * (internal to the seams folder).
 * @module
 */
import { KernelConfigError } from './feature.js';

/** Feature names: lower-case words joined by `-` (as `defineFeature` requires). */
const FEATURE_NAME = /^[a-z][a-z0-9-]*$/;

/** Check an owner's name (a feature's name). */
export function checkOwnerName(what: string, feature: string): void {
  if (!FEATURE_NAME.test(feature)) throw new KernelConfigError(`${what}: feature name '${feature}' must be lower-case words joined by '-'`);
}

/** Check a one-line description. */
export function checkDoc(what: string, doc: string): void {
  if (doc.trim() === '' || doc.includes('\n')) throw new KernelConfigError(`${what}: the description must be one non-empty line`);
}
