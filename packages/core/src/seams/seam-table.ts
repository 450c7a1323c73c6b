/**
 * The seam table of one kernel: the installed implementation of each seam
 * and the chain of features that installed into it.
 * @module
 */
import { baselineSeams, type SeamName, type Seams } from './seams.js';

/**
 * The installed seams and who overrode each (for reports and for conflict
 * diagnostics).
 */
export class SeamTable {
  /** The current implementations. */
  readonly impl: Seams = baselineSeams();
  /** Features that overrode each seam, in installation order. */
  readonly owners: Record<string, string[]> = {};

  /**
   * Replace seam `name` with `wrap(previous)`, recording `owner`.
   */
  override<K extends SeamName>(owner: string, name: K, wrap: (prev: Seams[K]) => Seams[K]): void {
    this.impl[name] = wrap(this.impl[name]);
    const list = this.owners[name] ?? [];
    list.push(owner);
    this.owners[name] = list;
  }
}
