/**
 * The seam table of one kernel: the installed implementation of each seam
 * and the chain of features that installed into it, each stating whether
 * it wraps the previous implementation or replaces it.
 * @module
 */
import { baselineSeams, type SeamName, type Seams } from './seams.js';

/**
 * How an installer changes a seam: `wrap` keeps the previous
 * implementation and calls it (before, after, or for the cases it does not
 * handle); `replace` installs an implementation that never calls the
 * previous one, so whatever was there before is gone.
 */
export type SeamMode = 'wrap' | 'replace';

/** One link of a seam's chain: who installed, and how. */
export interface SeamLink {
  /** The installer (a feature's name, or a test's label). */
  readonly owner: string;
  /** Whether it wrapped or replaced the previous implementation. */
  readonly mode: SeamMode;
}

/**
 * The installed seams and who changed each, in installation order (for
 * reports and for conflict diagnostics).
 */
export class SeamTable {
  /** The current implementations. */
  readonly impl: Seams = baselineSeams();
  /** Installers of each changed seam, in installation order. */
  readonly owners: Record<string, string[]> = {};
  /** The chain of each changed seam, in installation order, with each link's mode. */
  readonly chain: Partial<Record<SeamName, SeamLink[]>> = {};

  /**
   * Wrap seam `name`: install `wrap(previous)`, recording `owner` as a
   * wrapper. The new implementation is expected to call `previous`.
   */
  wrap<K extends SeamName>(owner: string, name: K, wrap: (prev: Seams[K]) => Seams[K]): void {
    this.impl[name] = wrap(this.impl[name]);
    this.record(owner, name, 'wrap');
  }

  /**
   * Replace seam `name` with `impl`, recording `owner` as its replacer:
   * the previous implementation (the baseline, or what an earlier installer
   * put there) is discarded. {@link buildKernel} refuses a feature set in
   * which two features replace one seam (see {@link SeamTable.findClashes}).
   */
  replace<K extends SeamName>(owner: string, name: K, impl: Seams[K]): void {
    this.impl[name] = impl;
    this.record(owner, name, 'replace');
  }

  /**
   * The same as {@link SeamTable.wrap} (the name of the first seam API;
   * new code says `wrap` or `replace`).
   */
  override<K extends SeamName>(owner: string, name: K, wrap: (prev: Seams[K]) => Seams[K]): void {
    this.wrap(owner, name, wrap);
  }

  private record(owner: string, name: SeamName, mode: SeamMode): void {
    (this.owners[name] ??= []).push(owner);
    (this.chain[name] ??= []).push({ owner, mode });
  }

  /**
   * The chain of every changed seam as the run report prints it:
   * `{ tlbGather: ['a (replace)', 'b (wrap)'] }`, seams in the order they
   * were first changed. Empty when no seam was changed.
   */
  chainReport(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const [name, links] of Object.entries(this.chain)) out[name] = links.map((l) => `${l.owner} (${l.mode})`);
    return out;
  }

  /**
   * Installations that lose work silently: two owners replacing one seam,
   * or a replacement installed over another owner's wrap (the wrap is
   * discarded). Each clash names the seam and both owners; the first
   * owner is the earlier installer.
   */
  findClashes(): SeamClash[] {
    const out: SeamClash[] = [];
    for (const [name, links] of Object.entries(this.chain) as [SeamName, SeamLink[]][]) {
      for (let j = 0; j < links.length; j++) {
        const later = links[j]!;
        if (later.mode !== 'replace') continue;
        for (let i = 0; i < j; i++) {
          const earlier = links[i]!;
          if (earlier.owner === later.owner) continue;
          out.push({ seam: name, first: earlier.owner, firstMode: earlier.mode, second: later.owner });
        }
      }
    }
    return out;
  }
}

/** Two installers whose changes to one seam do not compose (see {@link SeamTable.findClashes}). */
export interface SeamClash {
  /** The seam. */
  readonly seam: SeamName;
  /** The earlier installer. */
  readonly first: string;
  /** How the earlier installer changed the seam. */
  readonly firstMode: SeamMode;
  /** The later installer, which replaced the seam. */
  readonly second: string;
}
