/**
 * JSON output: one object, two-space indentation, keys in the order the
 * object was built (reports build their keys in a fixed order), a final
 * newline.
 * @module
 */

/**
 * Serialises a report for `--json`.
 * @param value - a JSON-able value
 */
export function toJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
