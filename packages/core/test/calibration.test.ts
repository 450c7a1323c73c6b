/**
 * Calibration without the real kernel: the primitives' simulated cost is
 * linear in the cost table, the fit matches synthetic native figures, a
 * written profile file reads back and reproduces the fitted costs, and a
 * malformed profile file is refused with a message naming the problem.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  buildKernel,
  COST_KEYS,
  costSensitivity,
  type CostTable,
  fitCosts,
  type FitFigure,
  KernelConfigError,
  machineProfileFile,
  modelledFigure,
  parseMachineProfile,
  PRIMITIVE_NAMES,
  type PrimitiveName,
  simulatedCostPerPage,
  X86_64,
  X86_64_TODAY,
} from '../src/index.js';

/** Pages per primitive in these tests (small: the costs per page do not depend on it beyond amortised set-up). */
const PAGES = 1024;

/** The native figures measured on this project's machine (shared/REFERENCE.md), ns per page. */
const REFERENCE_NATIVE: Readonly<Record<PrimitiveName, number>> = {
  anon_fault: 1450,
  fork_pte: 47,
  munmap_page: 150,
  mprotect_page: 33,
  shared_file_fault: 134,
  gup_fast_page: 44,
};

let figures: Omit<FitFigure, 'target'>[] = [];

beforeAll(() => {
  figures = PRIMITIVE_NAMES.map((name) => ({ name, ...costSensitivity(name, X86_64_TODAY, PAGES) }));
});

function fitTo(native: Readonly<Record<PrimitiveName, number>>): ReturnType<typeof fitCosts> {
  return fitCosts(
    X86_64_TODAY.costs,
    figures.map((f) => ({ ...f, target: native[f.name as PrimitiveName] }))
  );
}

describe('the simulated cost of a primitive is linear in the cost table', () => {
  it('offset + Σ sensitivity × cost gives what a run gives, for the built-in table and another', () => {
    const doubled = Object.fromEntries(COST_KEYS.map((key, i) => [key, X86_64.costs[key] * (1 + (i % 3))])) as unknown as CostTable;
    for (const f of figures) {
      const name = f.name as PrimitiveName;
      for (const costs of [X86_64_TODAY.costs, doubled]) {
        const run = simulatedCostPerPage(name, { ...X86_64_TODAY, costs }, PAGES);
        expect(modelledFigure(f, costs)).toBeCloseTo(run, 6);
      }
      // every primitive depends on some cost, and on nothing else
      expect(f.offset).toBe(0);
      expect(COST_KEYS.some((key) => f.perCost[key] > 0)).toBe(true);
    }
  });
});

describe('fitting the costs to native figures', () => {
  it.each([
    ['the reference machine', 1],
    ['a machine 8 times faster', 1 / 8],
    ['a machine 20 times slower', 20],
  ])('matches %s within 1%% (the goal is ±25%%)', (_, scale) => {
    const native = Object.fromEntries(PRIMITIVE_NAMES.map((n) => [n, REFERENCE_NATIVE[n] * scale])) as Record<PrimitiveName, number>;
    const fit = fitTo(native);
    expect(fit.maxError).toBeLessThanOrEqual(0.01);
    for (const name of PRIMITIVE_NAMES) {
      // the fitted table, run for real (not through the linear form), hits the figure
      const sim = simulatedCostPerPage(name, { ...X86_64_TODAY, costs: fit.costs }, PAGES);
      expect(Math.abs(sim / native[name] - 1)).toBeLessThan(0.02);
    }
    for (const key of COST_KEYS) expect(fit.costs[key]).toBeGreaterThanOrEqual(0);
  });

  it('matches figures that pull shared costs apart (a cheap file fault, a dear anonymous fault)', () => {
    const native = { ...REFERENCE_NATIVE, anon_fault: 40_000, shared_file_fault: 60, fork_pte: 175, gup_fast_page: 12 };
    const fit = fitTo(native);
    expect(fit.maxError).toBeLessThanOrEqual(0.01);
    // the fault entry both faults share went down for the file fault; the anonymous fault's own costs went up
    expect(fit.costs.faultEntry).toBeLessThan(X86_64_TODAY.costs.faultEntry);
    expect(fit.costs.clearPage).toBeGreaterThan(X86_64_TODAY.costs.clearPage);
  });

  it('leaves the costs no primitive uses as they were', () => {
    const fit = fitTo(REFERENCE_NATIVE);
    for (const key of ['swapIo', 'reclaimPage', 'ipiShootdown', 'contextSwitch'] as const) expect(fit.costs[key]).toBe(X86_64_TODAY.costs[key]);
  });

  it('refuses a target that is not a positive number', () => {
    expect(() => fitTo({ ...REFERENCE_NATIVE, munmap_page: 0 })).toThrow(/target of munmap_page must be a positive number/);
    expect(() => fitTo({ ...REFERENCE_NATIVE, fork_pte: Number.NaN })).toThrow(/target of fork_pte/);
  });
});

describe('machine profile files', () => {
  it('a written profile reads back and reproduces the fitted costs within ±25%', () => {
    const fit = fitTo(REFERENCE_NATIVE);
    const profile = { ...X86_64_TODAY, name: 'calibrated', description: 'calibrated in a test', costs: fit.costs };
    const text = JSON.stringify(machineProfileFile(profile, 'x86-64-today', { native_ns: REFERENCE_NATIVE }), null, 2);
    const loaded = parseMachineProfile(JSON.parse(text), 'profile.json');
    expect(loaded.costs).toEqual(fit.costs);
    expect(loaded.name).toBe('calibrated');
    for (const name of PRIMITIVE_NAMES) {
      const sim = simulatedCostPerPage(name, loaded, PAGES);
      expect(Math.abs(sim / REFERENCE_NATIVE[name] - 1)).toBeLessThanOrEqual(0.25);
    }
    // and a kernel builds from it
    const k = buildKernel({ machine: loaded, memBytes: 64 * 2 ** 20 });
    expect(k.costs.clearPage).toBe(fit.costs.clearPage);
  });

  it('a file with a base needs only what differs', () => {
    const p = parseMachineProfile({ format: 'mmlab-machine-profile', version: 1, base: 's390', name: 'mine', costs: { clearPage: 7 } }, 'f.json');
    expect(p.pteSpecial).toBe(false);
    expect(p.costs.clearPage).toBe(7);
    expect(p.costs.copyPte).toBe(X86_64.costs.copyPte);
  });

  const good = (): Record<string, unknown> => ({ ...machineProfileFile(X86_64) });
  it.each<[string, (f: Record<string, unknown>) => unknown, RegExp]>([
    ['not an object', () => [1, 2], /p\.json: a machine profile must be a JSON object, got an array/],
    ['another format', (f) => ({ ...f, format: 'something' }), /p\.json: not a machine profile \('format' must be 'mmlab-machine-profile', got 'something'\)/],
    ['a newer version', (f) => ({ ...f, version: 2 }), /machine profile version 2 is not supported/],
    ['an unknown field', (f) => ({ ...f, tlbSize: 3 }), /unknown field 'tlbSize'/],
    ['a missing field', (f) => { delete f.cpus; return f; }, /missing field 'cpus' \(or a 'base' profile to take it from\)/],
    ['a bad count', (f) => ({ ...f, cpus: 0 }), /'cpus' must be a whole number of at least 1, got 0/],
    ['a bad placement', (f) => ({ ...f, placement: 'random' }), /'placement' must be 'legacy' or 'aligned', got 'random'/],
    ['a bad boolean', (f) => ({ ...f, tlbTagged: 'yes' }), /'tlbTagged' must be true or false, got 'yes'/],
    ['a memory size off the page size', (f) => ({ ...f, memBytes: 1000 }), /'memBytes' must be a whole number of bytes, a multiple of 4096/],
    ['a TLB whose entries do not fill its ways', (f) => ({ ...f, tlbEntries: 10, tlbWays: 4 }), /'tlbEntries' \(10\) must be a multiple of 'tlbWays' \(4\)/],
    ['an unknown base', (f) => ({ ...f, base: 'vax' }), /'base' must name a built-in machine profile \(x86-64, .*\), got 'vax'/],
    ['costs that are not an object', (f) => ({ ...f, costs: [] }), /'costs' must be an object of costs in ns, got an array/],
    ['an unknown cost', (f) => ({ ...f, costs: { ...(f.costs as object), warpDrive: 1 } }), /unknown cost 'costs\.warpDrive'/],
    ['a negative cost', (f) => ({ ...f, costs: { ...(f.costs as object), clearPage: -1 } }), /'costs\.clearPage' must be a number of ns, 0 or more, got -1/],
    ['a cost that is a string', (f) => ({ ...f, costs: { ...(f.costs as object), clearPage: '490' } }), /'costs\.clearPage' must be a number of ns, 0 or more, got '490'/],
    ['a missing cost', (f) => { const c = { ...(f.costs as object) } as Record<string, unknown>; delete c.gupPage; return { ...f, costs: c }; }, /missing cost 'costs\.gupPage'/],
    ['calibration that is not an object', (f) => ({ ...f, calibration: 'yes' }), /'calibration' must be an object, got 'yes'/],
  ])('refuses %s', (_, mutate, message) => {
    const bad = mutate(good());
    expect(() => parseMachineProfile(bad, 'p.json')).toThrow(KernelConfigError);
    expect(() => parseMachineProfile(bad, 'p.json')).toThrow(message);
  });
});
