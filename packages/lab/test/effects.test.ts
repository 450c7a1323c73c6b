import { describe, expect, it } from 'vitest';
import { factorialEffects } from '../src/index.js';

// Box, Hunter & Hunter, Statistics for Experimenters (2nd ed.), the pilot
// plant 2^3 experiment: temperature T, concentration C, catalyst K, yields
// in standard order. The book's effects: T 23.0, C −5.0, K 1.5, TC 1.5,
// TK 10.0, CK 0.0. The lab's interaction is twice the book's (what the pair
// does beyond each alone, not half of it).
const YIELD: Readonly<Record<string, number>> = {
  '': 60,
  T: 72,
  C: 54,
  'T,C': 68,
  K: 52,
  'T,K': 83,
  'C,K': 45,
  'T,C,K': 80,
};

describe('factorial effects against published values', () => {
  it("reproduces the pilot plant's main effects and interactions", () => {
    const factors = ['T', 'C', 'K'];
    const effects = factorialEffects(factors, (on) => [YIELD[factors.filter((f) => on.has(f)).join(',')]!]);
    const of = (...fs: string[]): number | undefined => effects.find((e) => e.features.join(',') === fs.join(','))?.effect.mean;
    expect(of('T')).toBeCloseTo(23, 10);
    expect(of('C')).toBeCloseTo(-5, 10);
    expect(of('K')).toBeCloseTo(1.5, 10);
    expect(of('T', 'C')).toBeCloseTo(2 * 1.5, 10);
    expect(of('T', 'K')).toBeCloseTo(2 * 10, 10);
    expect(of('C', 'K')).toBeCloseTo(0, 10);
    expect(effects).toHaveLength(6);
  });

  it('gives intervals over seeds, exact when the seeds agree', () => {
    // two seeds; f adds 10 ± noise, g adds exactly 1, no interaction
    const y = (on: ReadonlySet<string>): number[] => {
      const base = (on.has('f') ? 10 : 0) + (on.has('g') ? 1 : 0);
      return [base + (on.has('f') ? 1 : 0), base - (on.has('f') ? 1 : 0), base];
    };
    const [f, g, fg] = factorialEffects(['f', 'g'], y);
    expect(f?.effect).toMatchObject({ mean: 10, exact: false, withinNoise: false });
    expect(g?.effect).toMatchObject({ mean: 1, exact: true });
    expect(fg?.effect).toMatchObject({ mean: 0, exact: true, withinNoise: true });
  });
});
