/**
 * A small seeded pseudo-random number generator (mulberry32) so that a
 * workload makes the same choices for the same seed on every host.
 * @module
 */

/** A deterministic random source handed to workloads. */
export interface Rng {
  /** The next 32-bit unsigned integer. */
  readonly u32: () => number;
  /** A float in [0, 1). */
  readonly float: () => number;
  /** An integer in [lo, hi] (both inclusive). */
  readonly int: (lo: number, hi: number) => number;
  /** Shuffles `items` in place (Fisher–Yates) and returns it. */
  readonly shuffle: <T>(items: T[]) => T[];
}

/**
 * Creates a mulberry32 generator. The seed is mixed once (splitmix32-style
 * finaliser) so that nearby seeds such as 1 and 2 give unrelated streams.
 * @param seed - any integer; only its low 32 bits are used
 */
export function createRng(seed: number): Rng {
  let state = mix32(seed >>> 0);
  const u32 = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return (z ^ (z >>> 14)) >>> 0;
  };
  const float = (): number => u32() / 4294967296;
  const int = (lo: number, hi: number): number => lo + Math.floor(float() * (hi - lo + 1));
  return {
    u32,
    float,
    int,
    shuffle: <T>(items: T[]): T[] => {
      for (let i = items.length - 1; i > 0; i--) {
        const j = int(0, i);
        const tmp = items[i]!;
        items[i] = items[j]!;
        items[j] = tmp;
      }
      return items;
    },
  };
}

function mix32(x: number): number {
  let z = (x + 0x9e3779b9) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}
