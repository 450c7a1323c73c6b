import { describe, expect, it } from 'vitest';
import { formatFeatureSet, parseFeatureSet, planMatrix, runAb, runCell } from '@mmlab/lab';
import { resolveWorkload } from '@mmlab/workloads';
import { InputError, prepareExperiment, resolveBuiltinWorkload, sweepPoints } from '../src/experiment.js';
import { runJob } from '../src/jobs.js';
import { DEFAULT_STATE, type ExperimentState } from '../src/state.js';

const SMALL: ExperimentState = { ...DEFAULT_STATE, workload: 'fork-exit:procs=2:size=1m', reps: 2 };

function messageOf(state: ExperimentState): string {
  try {
    prepareExperiment(state);
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return (err as Error).message;
  }
  throw new Error('no error');
}

describe('checking an experiment', () => {
  it('resolves a built-in workload as the command line does', async () => {
    const page = resolveBuiltinWorkload('shm-procs:procs=4');
    const cli = await resolveWorkload('shm-procs:procs=4');
    expect(page.spec).toBe(cli.spec);
    expect(page.params).toEqual(cli.params);
  });

  it('names the problem in the workloads\' and the lab\'s own words', () => {
    expect(messageOf({ ...SMALL, workload: 'shm-procs:procs=0' })).toBe("shm-procs: 'procs' must not be zero (got 0)");
    expect(messageOf({ ...SMALL, workload: 'shm-prcs' })).toMatch(/^unknown workload 'shm-prcs'.*did you mean shm-procs/);
    expect(messageOf({ ...SMALL, workload: './my.mjs' })).toBe("workload modules ('./my.mjs') run with the mmlab command only, not in the browser");
    expect(messageOf({ ...SMALL, b: 'mmu-notifiers:variant=both' })).toMatch(/^set B: .*variant.*both/);
    expect(messageOf({ ...SMALL, a: 'shared-pagetable' })).toMatch(/^set A: unknown feature 'shared-pagetable'.*did you mean shared-pagetables/);
    expect(messageOf({ ...SMALL, machine: 'vax' })).toMatch(/^unknown machine 'vax'/);
    expect(messageOf({ ...SMALL, mem: '12q' })).toBe("bad memory size '12q' (expected a size such as 64k, 256m or 1g)");
    expect(messageOf({ ...SMALL, reps: Number.NaN })).toBe('seeds: expected a whole number from 1 to 20');
    expect(messageOf({ ...SMALL, cpus: 999 })).toBe('CPUs: expected a whole number from 1 to 256 (got 999)');
  });

  it('accepts a good experiment', () => {
    const e = prepareExperiment({ ...SMALL, b: 'mmu-notifiers:variant=range,shared-pagetables' });
    expect(formatFeatureSet(e.b)).toBe('shared-pagetables,mmu-notifiers:variant=range');
    expect(e.settings).toEqual({ machine: 'x86-64', mode: 'sequential', preempt: false });
    expect(prepareExperiment({ ...SMALL, check: true }).settings).toEqual({ machine: 'x86-64', mode: 'sequential', preempt: false, check: true });
  });
});

describe('a sweep of a workload parameter', () => {
  it('binds the workload at each value, the other parameters kept', () => {
    const points = sweepPoints('shm-procs:procs=8:size=16m', 'procs=2, 4,16');
    expect(points.map((p) => [p.key, p.value, p.workload.spec])).toEqual([
      ['procs', 2, 'shm-procs:procs=2:size=16m'],
      ['procs', 4, 'shm-procs:procs=4:size=16m'],
      ['procs', 16, 'shm-procs:procs=16:size=16m'],
    ]);
    expect(sweepPoints('anon-touch', 'size=1m,2m').map((p) => p.value)).toEqual([2 ** 20, 2 ** 21]);
  });

  it('names what is wrong with it', () => {
    const message = (spec: string, sweep: string): string => {
      try {
        sweepPoints(spec, sweep);
        return 'no error';
      } catch (err) {
        return (err as Error).message;
      }
    };
    expect(message('shm-procs', 'procs')).toBe("sweep: expected a parameter and its values, such as procs=2,4,8 (got 'procs')");
    expect(message('anon-touch', 'procs=1,2')).toBe("sweep: workload 'anon-touch' has no parameter 'procs' (its parameters: size)");
    expect(message('shm-procs', 'procs=2')).toBe("sweep: give 2 to 12 values of 'procs' (got 1)");
    expect(message('shm-procs', 'procs=2,0')).toBe("shm-procs: 'procs' must not be zero (got 0)");
    expect(message('shm-procs', 'procs=2,02')).toBe("sweep: 'procs' takes the value 02 twice");
    expect(messageOf({ ...SMALL, view: 'sweep', sweep: 'jobs=1,2' })).toBe("sweep: workload 'fork-exit' has no parameter 'jobs' (its parameters: procs, size)");
    expect(() => prepareExperiment({ ...SMALL, view: 'ab', sweep: 'jobs=1,2' })).not.toThrow();
  });
});

describe('the jobs the worker runs', () => {
  it('a sweep job is one runAb per value', async () => {
    const state: ExperimentState = { ...SMALL, view: 'sweep', sweep: 'procs=1,3', reps: 1 };
    const done: string[] = [];
    const reply = await runJob({ kind: 'sweep', id: 4, state }, (d, t) => done.push(`${d}/${t}`));
    expect(reply.type).toBe('sweep');
    if (reply.type !== 'sweep') return;
    expect(done).toEqual(['1/4', '2/4', '3/4', '4/4']);
    const settings = prepareExperiment(state).settings;
    for (const [i, procs] of [1, 3].entries()) {
      const direct = await runAb({ a: parseFeatureSet('baseline'), b: parseFeatureSet('shared-pagetables'), workload: `fork-exit:procs=${procs}:size=1m`, reps: 1, settings });
      expect(reply.points[i]).toEqual({ key: 'procs', value: procs, result: direct });
    }
  });

  it('an A/B job is the lab\'s runAb, with progress after every run', async () => {
    const done: string[] = [];
    const reply = await runJob({ kind: 'ab', id: 7, state: SMALL }, (d, t) => done.push(`${d}/${t}`));
    const direct = await runAb({ a: parseFeatureSet('baseline'), b: parseFeatureSet('shared-pagetables'), workload: SMALL.workload, reps: 2, settings: prepareExperiment(SMALL).settings });
    expect(reply.type).toBe('ab');
    if (reply.type !== 'ab') return;
    expect(reply.id).toBe(7);
    expect(reply.result).toEqual(direct);
    expect(done).toEqual(['1/4', '2/4', '3/4', '4/4']);
  });

  it('a matrix job runs the lab\'s plan and gives the lines mmlab matrix writes', async () => {
    const state: ExperimentState = { ...SMALL, view: 'matrix', b: 'mmu-gather-inplace,mixedmap:gupFast=false', reps: 1 };
    const reply = await runJob({ kind: 'matrix', id: 1, state }, () => undefined);
    expect(reply.type).toBe('matrix');
    if (reply.type !== 'matrix') return;
    const settings = prepareExperiment(state).settings;
    const { cells } = planMatrix({ features: parseFeatureSet('mmu-gather-inplace,mixedmap').items.map((c) => c.feature), grid: new Map([['mixedmap', [{ gupFast: false }]]]), workloads: ['fork-exit:procs=2:size=1m'], settings });
    expect(reply.lines.map((l) => l.features)).toEqual(cells.map((c) => c.features));
    expect(reply.lines.map((l) => l.features)).toEqual(['baseline', 'mmu-gather-inplace', 'mixedmap:gupFast=false', 'mmu-gather-inplace,mixedmap:gupFast=false']);
    for (const [i, cell] of cells.entries()) expect(reply.lines[i]).toEqual(await runCell({ cell, settings }));
  });

  it('a trace job records the trace of B on the first seed', async () => {
    const reply = await runJob({ kind: 'trace', id: 2, state: { ...SMALL, mode: 'timed', seed: 5 } }, () => undefined);
    expect(reply.type).toBe('trace');
    if (reply.type !== 'trace') return;
    expect(reply.label).toBe('fork-exit:procs=2:size=1m × shared-pagetables, seed 5');
    expect(reply.trace.traceEvents.some((e) => e.ph === 'X')).toBe(true);
    expect(reply.trace.metadata.producer).toBe('mmlab');
  });

  it('passes on the model\'s refusal of an impossible kernel as an error', async () => {
    await expect(runJob({ kind: 'ab', id: 5, state: { ...SMALL, mem: '64k' } }, () => undefined)).rejects.toThrow(/memory size/);
  });

  it('refuses bad input before running', async () => {
    await expect(runJob({ kind: 'ab', id: 3, state: { ...SMALL, workload: 'fork-exit:procs=-3' } }, () => undefined)).rejects.toThrow(
      "fork-exit: 'procs' must be positive (got -3)"
    );
  });
});
