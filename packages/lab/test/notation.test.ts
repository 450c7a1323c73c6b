import { defineFeature, type Feature } from '@mmlab/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FEATURES,
  FeatureSetError,
  featureModulePaths,
  formatFeatureSet,
  makeFeatureSet,
  parseFeatureSet,
  type FeatureSet,
  type OptionValue,
} from '../src/index.js';

// Test-only features with every kind of option; their install is never run here.
const gamma = defineFeature({
  name: 'gamma',
  summary: 'test: every option type',
  thread: { subject: 'test', author: 'test', date: '2026-01' },
  options: {
    variant: { type: 'enum', default: 'pages', values: ['pages', 'range', 'both'], doc: 'test enum' },
    release: { type: 'enum', default: 'after-unmap', values: ['after-unmap', 'before-unmap'], doc: 'test enum' },
    depth: { type: 'int', default: 4, min: 0, max: 64, doc: 'test int' },
    sleepable: { type: 'boolean', default: false, doc: 'test boolean' },
  },
  install() {},
});
const delta = defineFeature({
  name: 'delta',
  summary: 'test: needs gamma',
  thread: { subject: 'test', author: 'test', date: '2026-01' },
  options: { on: { type: 'boolean', default: true, doc: 'test' } },
  requires: ['gamma'],
  install() {},
});
const eps = defineFeature({
  name: 'eps',
  summary: 'test: conflicts with delta',
  thread: { subject: 'test', author: 'test', date: '2026-01' },
  options: {},
  conflicts: ['delta'],
  install() {},
});
const REGISTRY: readonly Feature[] = [...FEATURES, gamma, delta, eps];
const parse = (text: string): FeatureSet => parseFeatureSet(text, { registry: REGISTRY });

describe('feature-set notation', () => {
  it('baseline is the empty set and all is every registered feature with defaults', () => {
    expect(parse('baseline').items).toEqual([]);
    expect(formatFeatureSet(parse(' baseline '))).toBe('baseline');
    expect(formatFeatureSet(parseFeatureSet('all'))).toBe(FEATURES.map((f) => f.name).join(','));
  });

  it('prints canonically: registry order, options in declaration order, defaults left out', () => {
    const set = parse('gamma:sleepable=1:variant=range:depth=4:release=before-unmap,hugetlb-pagetable-ops');
    expect(formatFeatureSet(set)).toBe('hugetlb-pagetable-ops,gamma:variant=range:release=before-unmap:sleepable=true');
    expect(set.items[1]?.options).toEqual({ variant: 'range', release: 'before-unmap', depth: 4, sleepable: true });
  });

  it.each([
    ['', /empty feature set/],
    ['gamma,', /empty item/],
    ['all,gamma', /'all' stands alone/],
    ['gamma,baseline', /'baseline' stands alone/],
    ['Gamma', /bad feature name 'Gamma'/],
    ['nosuch', /unknown feature 'nosuch' \(known: .*gamma/],
    ['gama', /unknown feature 'gama' \(did you mean gamma\? known: /],
    ['gamma:variant', /expected key=value, got 'variant'/],
    ['gamma:variant=', /empty value for 'variant'/],
    ['gamma:depth=1:depth=2', /'depth' given twice/],
    ['gamma:colour=red', /feature 'gamma' has no option 'colour' .*\(in 'gamma:colour=red'\)/],
    ['gamma:depth=65', /above the maximum 64 \(in 'gamma:depth=65'\)/],
    ['gamma:depth=x', /expected an integer/],
    ['gamma:variant=ranges', /expected one of pages, range, both/],
    ['gamma:sleepable=yes', /expected true or false/],
    ['gamma,gamma:depth=2', /feature 'gamma' given twice/],
    ['delta', /feature 'delta' requires 'gamma'/],
    ['gamma,delta,eps', /features 'eps' and 'delta' conflict/],
    ['./my-feature.mjs:x=1', /feature module '.\/my-feature.mjs' is not loaded/],
  ])('refuses %j naming the problem', (text, message) => {
    expect(() => parse(text)).toThrow(FeatureSetError);
    expect(() => parse(text)).toThrow(message);
  });

  it('resolves loaded feature modules by their path and prints the path', () => {
    const mine = defineFeature({ ...gamma, name: 'mine' });
    expect(featureModulePaths('gamma,./my.mjs:depth=2')).toEqual(['./my.mjs']);
    const set = parseFeatureSet('./my.mjs:depth=2,gamma', { registry: REGISTRY, modules: new Map([['./my.mjs', mine]]) });
    expect(formatFeatureSet(set)).toBe('gamma,./my.mjs:depth=2');
    expect(set.items[1]?.module).toBe('./my.mjs');
  });

  // Arbitrary valid sets: a subset of the test features, each option set or not.
  const optionValue = (spec: Feature['options'][string]): fc.Arbitrary<OptionValue> =>
    spec.type === 'boolean'
      ? fc.boolean()
      : spec.type === 'int'
        ? fc.integer({ min: spec.min ?? -1000, max: spec.max ?? 1000 })
        : fc.constantFrom(...spec.values);
  const choice = (f: Feature): fc.Arbitrary<{ feature: Feature; options: Record<string, OptionValue> }> =>
    fc
      .record(Object.fromEntries(Object.entries(f.options).map(([k, spec]) => [k, optionValue(spec)])), { requiredKeys: [] })
      .map((options) => ({ feature: f, options: options as Record<string, OptionValue> }));
  const arbitrarySet = fc
    .subarray([...FEATURES, gamma, delta], { minLength: 0 })
    .filter((fs) => !fs.includes(delta) || fs.includes(gamma))
    .chain((fs) => fc.tuple(...fs.map(choice)))
    .chain((choices) => fc.shuffledSubarray(choices, { minLength: choices.length, maxLength: choices.length }));

  it('round trip: parsing the canonical text gives the same set, and printing it again the same text', () => {
    fc.assert(
      fc.property(arbitrarySet, (choices) => {
        const set = makeFeatureSet(choices, REGISTRY);
        const text = formatFeatureSet(set);
        const again = parse(text);
        expect(again).toEqual(set);
        expect(formatFeatureSet(again)).toBe(text);
      }),
      { numRuns: 300 }
    );
  });

  it('any spelling of a set prints the same canonical text as its canonical form', () => {
    fc.assert(
      fc.property(arbitrarySet, fc.boolean(), (choices, spellDefaults) => {
        // written in any order, defaults spelt out or not, booleans as 1/0
        const text = choices
          .map(({ feature, options }) => {
            const pairs = Object.entries(feature.options).flatMap(([k, spec]) => {
              const v = options[k] ?? (spellDefaults ? spec.default : undefined);
              if (v === undefined) return [];
              return [`${k}=${typeof v === 'boolean' ? (v ? '1' : '0') : String(v)}`];
            });
            return [feature.name, ...pairs].join(':');
          })
          .join(',');
        const canonical = formatFeatureSet(makeFeatureSet(choices, REGISTRY));
        expect(formatFeatureSet(parse(text === '' ? 'baseline' : text))).toBe(canonical);
      }),
      { numRuns: 300 }
    );
  });
});
