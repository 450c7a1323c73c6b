/**
 * The jobs the worker runs, apart from the worker's messaging so they run
 * in Node too (the unit tests): A/B comparisons with the lab's `runAb`, the
 * matrix of B's features with the lab's plan (the cells `mmlab matrix`
 * would run, as its results lines), and one traced run.
 * @module
 */

import {
  featureRequests,
  parseFeatureSet,
  planMatrix,
  resultLine,
  runAb,
  runOnce,
  type OptionValue,
  type ResultLine,
} from '@mmlab/lab';
import { runWorkloadTraced } from '@mmlab/workloads';
import { prepareExperiment, type Experiment } from './experiment.js';
import { PAGE_TRACE_EVENTS, type MatrixReply, type Reply, type RunRequest, type SweepResult } from './protocol.js';

/**
 * Runs one request.
 * @param request - what the page asks
 * @param progress - called after each run with the runs done and the runs in all
 * @returns the reply for the page
 * @throws the lab's or the model's error for input the checks let through
 */
export async function runJob(request: RunRequest, progress: (done: number, total: number) => void): Promise<Reply> {
  const experiment = prepareExperiment(request.state);
  if (request.kind === 'ab') {
    const result = await runAb({
      a: experiment.a,
      b: experiment.b,
      workload: experiment.workload,
      reps: experiment.reps,
      firstSeed: experiment.firstSeed,
      settings: experiment.settings,
      onProgress: progress,
    });
    return { type: 'ab', id: request.id, result };
  }
  if (request.kind === 'sweep') {
    const total = experiment.sweep.length * experiment.reps * 2;
    const points: SweepResult[] = [];
    for (const point of experiment.sweep) {
      const before = points.length * experiment.reps * 2;
      const result = await runAb({
        a: experiment.a,
        b: experiment.b,
        workload: point.workload,
        reps: experiment.reps,
        firstSeed: experiment.firstSeed,
        settings: experiment.settings,
        onProgress: (done) => {
          progress(before + done, total);
        },
      });
      points.push({ key: point.key, value: point.value, result });
    }
    return { type: 'sweep', id: request.id, points };
  }
  if (request.kind === 'matrix') return { id: request.id, ...(await runMatrix(experiment, progress)) };
  progress(0, 1);
  const { trace } = await runWorkloadTraced({
    workload: experiment.workload,
    features: featureRequests(experiment.b),
    seed: experiment.firstSeed,
    ...experiment.settings,
    traceEvents: PAGE_TRACE_EVENTS,
  });
  progress(1, 1);
  if (trace === null) throw new Error('the run recorded no trace');
  return { type: 'trace', id: request.id, trace, label: `${experiment.workload.spec} × ${request.state.b}, seed ${experiment.firstSeed}` };
}

/**
 * Every combination of B's features (with B's options), on the lab's plan.
 * @param experiment - the checked experiment
 * @param progress - called after each cell
 */
async function runMatrix(experiment: Experiment, progress: (done: number, total: number) => void): Promise<Omit<MatrixReply, 'id'>> {
  const features = experiment.b.items.map((c) => c.feature);
  const grid = new Map<string, readonly Readonly<Record<string, OptionValue>>[]>();
  for (const c of experiment.b.items) {
    const changed = Object.entries(c.options).filter(([key, v]) => c.feature.options[key]?.default !== v);
    if (changed.length > 0) grid.set(c.feature.name, [Object.fromEntries(changed)]);
  }
  const { cells, refused } = planMatrix({
    features,
    grid,
    workloads: [experiment.workload.spec],
    reps: experiment.reps,
    firstSeed: experiment.firstSeed,
    settings: experiment.settings,
  });
  const lines: ResultLine[] = [];
  progress(0, cells.length);
  for (const cell of cells) {
    const r = await runOnce(experiment.workload, parseFeatureSet(cell.features), cell.seed, experiment.settings);
    lines.push(resultLine(cell, experiment.settings, r.violations, r.metrics));
    progress(lines.length, cells.length);
  }
  return { type: 'matrix', lines, refused };
}
