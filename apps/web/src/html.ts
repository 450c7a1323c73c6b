/**
 * HTML built as text with every interpolated value escaped, so rendering
 * is a pure function the unit tests can read without a browser.
 * @module
 */

/** HTML text that is already safe (built by {@link html}). */
export class Html {
  /**
   * @param text - safe HTML text
   */
  constructor(readonly text: string) {}

  /** The HTML text. */
  toString(): string {
    return this.text;
  }
}

/** What may stand in a `${}` of {@link html}. */
export type HtmlValue = Html | string | number | boolean | null | undefined | readonly HtmlValue[];

/**
 * Escapes text for element content and quoted attribute values.
 * @param text - any text
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function piece(value: HtmlValue): string {
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return (value as readonly HtmlValue[]).map(piece).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(String(value));
}

/**
 * A template tag: literal parts are kept, values are escaped (arrays joined,
 * `null`, `undefined` and `false` left out, {@link Html} kept as it is).
 * @param strings - the literal parts
 * @param values - the values
 */
export function html(strings: TemplateStringsArray, ...values: readonly HtmlValue[]): Html {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += piece(v) + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

/**
 * Trusted markup (an SVG the page rendered itself) as {@link Html}.
 * @param text - markup that is known to be safe
 */
export function raw(text: string): Html {
  return new Html(text);
}
