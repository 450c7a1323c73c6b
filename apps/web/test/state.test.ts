import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { commandLine, DEFAULT_STATE, MAX_REPS, stateFromQuery, stateToQuery, VIEWS, type ExperimentState } from '../src/state.js';
import { RUN_MODES } from '@mmlab/workloads';

const arbState: fc.Arbitrary<ExperimentState> = fc.record({
  workload: fc.string(),
  a: fc.string(),
  b: fc.string(),
  view: fc.constantFrom(...VIEWS),
  machine: fc.string(),
  mode: fc.constantFrom(...RUN_MODES),
  cpus: fc.option(fc.integer({ min: 1, max: 256 }), { nil: null }),
  preempt: fc.boolean(),
  check: fc.boolean(),
  mem: fc.string(),
  swap: fc.string(),
  reps: fc.integer({ min: 1, max: MAX_REPS }),
  seed: fc.integer({ min: 0, max: 0xffffffff }),
  metric: fc.string(),
  sweep: fc.string(),
});

/** What a form field holds after reading: text fields are trimmed. */
function trimmed(s: ExperimentState): ExperimentState {
  return { ...s, workload: s.workload.trim(), a: s.a.trim(), b: s.b.trim(), machine: s.machine.trim(), mem: s.mem.trim(), swap: s.swap.trim(), metric: s.metric.trim(), sweep: s.sweep.trim() };
}

describe('state in the URL', () => {
  it('reads back every state it writes', () => {
    fc.assert(
      fc.property(arbState, (s) => {
        const back = stateFromQuery(stateToQuery(s));
        expect(back.errors).toEqual([]);
        expect(back.state).toEqual(trimmed(s));
      })
    );
  });

  it('gives the defaults for an empty query, with or without ?', () => {
    expect(stateFromQuery('')).toEqual({ state: DEFAULT_STATE, errors: [] });
    expect(stateFromQuery('?')).toEqual({ state: DEFAULT_STATE, errors: [] });
  });

  it('keeps the notations readable in the link', () => {
    const q = stateToQuery({ ...DEFAULT_STATE, b: 'shared-pagetables,mmu-notifiers:variant=range' });
    expect(q).toContain('w=shm-procs%3Aprocs%3D8%3Asize%3D16m');
    expect(new URLSearchParams(q).get('b')).toBe('shared-pagetables,mmu-notifiers:variant=range');
    expect(q).toContain('preempt=0');
    expect(q).not.toContain('cpus=');
  });

  it('names each field of a link it cannot use and keeps its default', () => {
    const r = stateFromQuery('?reps=abc&seed=-1&view=table&mode=fast&cpus=0&preempt=yes&b=mixedmap');
    expect(r.state).toEqual({ ...DEFAULT_STATE, b: 'mixedmap' });
    expect(r.errors).toEqual([
      "link parameter 'preempt': expected 0 or 1, got 'yes'",
      "link parameter 'view': expected ab or sweep or matrix, got 'table'",
      "link parameter 'mode': expected sequential or timed or explore, got 'fast'",
      "link parameter 'cpus': expected a whole number from 1 to 256, got '0'",
      `link parameter 'reps': expected a whole number from 1 to ${MAX_REPS}, got 'abc'`,
      "link parameter 'seed': expected a whole number from 0 to 4294967295, got '-1'",
    ]);
  });

  it('says the same experiment as an mmlab command', () => {
    expect(commandLine(DEFAULT_STATE)).toBe('mmlab ab --workload shm-procs:procs=8:size=16m --a baseline --b shared-pagetables --reps 3 --seed 1');
    const s: ExperimentState = { ...DEFAULT_STATE, view: 'matrix', b: 'shared-pagetables,mmu-notifiers:variant=range', mode: 'timed', cpus: 4, preempt: true, check: true, mem: '64m' };
    expect(commandLine(s)).toBe(
      'mmlab matrix --workloads shm-procs:procs=8:size=16m --features shared-pagetables,mmu-notifiers --options-grid mmu-notifiers:variant=range --mode timed --cpus 4 --preempt --check --mem 64m --reps 3 --seed 1 --out results.jsonl'
    );
    expect(commandLine({ ...DEFAULT_STATE, a: "it's" })).toContain(`--a 'it'\\''s'`);
    expect(commandLine({ ...DEFAULT_STATE, view: 'sweep', sweep: 'procs=2,4,8' })).toBe(
      'for v in 2 4 8; do mmlab ab --workload "shm-procs:size=16m:procs=$v" --a baseline --b shared-pagetables --reps 3 --seed 1; done'
    );
  });
});
