/**
 * "Did you mean" for names: the known names closest to a mistyped one.
 * @module
 */

/** Edit distance with transpositions (optimal string alignment): `anon-tuoch` is 1 from `anon-touch`. */
function distance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d = new Uint16Array(rows * cols);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[(i - 1) * cols + j]! + 1, d[i * cols + j - 1]! + 1, d[(i - 1) * cols + j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[(i - 2) * cols + j - 2]! + 1);
      d[i * cols + j] = v;
    }
  }
  return d[rows * cols - 1]!;
}

/**
 * The known names a mistyped one is closest to: those at the smallest edit
 * distance, when it is at most a third of the name's length (at least 1),
 * or else those the name begins (`threads` → `threads-fault`).
 * @param name - what was typed
 * @param known - the names that exist
 * @returns the suggestions, best first (empty when none is close)
 */
export function closestNames(name: string, known: readonly string[]): string[] {
  const lower = name.toLowerCase();
  let best = Infinity;
  let out: string[] = [];
  for (const k of known) {
    const d = distance(lower, k.toLowerCase());
    if (d < best) {
      best = d;
      out = [k];
    } else if (d === best) {
      out.push(k);
    }
  }
  if (best <= Math.max(1, Math.floor(name.length / 3))) return out;
  return lower.length >= 3 ? known.filter((k) => k.toLowerCase().startsWith(lower)) : [];
}

/**
 * The message for an unknown name: `unknown workload 'anon-tuoch' (did you
 * mean anon-touch? known: shm-procs, anon-touch, ...)`.
 * @param what - what kind of name (`workload`, `feature`, `parameter`)
 * @param name - what was typed
 * @param known - the names that exist
 */
export function unknownNameMessage(what: string, name: string, known: readonly string[]): string {
  const close = closestNames(name, known);
  const hint = close.length === 0 ? '' : `did you mean ${close.join(' or ')}? `;
  return `unknown ${what} '${name}' (${hint}known: ${known.length === 0 ? 'none' : known.join(', ')})`;
}
