import { resolveWorkload } from '@mmlab/workloads';
import { describe, expect, it } from 'vitest';
import { FEATURES, SHOWCASE, findFeature, listFeatures, parseFeatureSet } from '../src/index.js';

describe('the registry', () => {
  it('lists every proposal once, by name', () => {
    const names = FEATURES.map((f) => f.name);
    expect(new Set(names).size).toBe(names.length);
    expect(listFeatures().map((f) => f.name)).toEqual(names);
    for (const f of FEATURES) expect(findFeature(f.name)).toBe(f);
    expect(findFeature('nosuch')).toBeUndefined();
  });

  it('has a showcase for every registered proposal (what npm start compares), in registry order', async () => {
    // a proposal joining FEATURES also names the workload that shows it in SHOWCASE
    expect(SHOWCASE.map((s) => parseFeatureSet(s.feature).items.map((c) => c.feature.name)).flat()).toEqual(FEATURES.map((f) => f.name));
    for (const s of SHOWCASE) await expect(resolveWorkload(s.workload)).resolves.toBeDefined();
  });
});
