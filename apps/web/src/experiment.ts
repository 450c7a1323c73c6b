/**
 * From the page's state to a runnable experiment, with the lab's and the
 * workloads' own checks: the workload against its parameter schema, the
 * feature sets against each feature's option schema, requirements and
 * conflicts, the settings against the machine profiles. Everything here
 * runs in the browser (no module loading, no files).
 * @module
 */

import { getMachine, listMachines, PAGE_SIZE } from '@mmlab/core';
import { FEATURES, parseFeatureSet, type FeatureSet, type RunSettings } from '@mmlab/lab';
import {
  bindWorkload,
  getWorkload,
  isModuleSpec,
  listWorkloads,
  parseSize,
  parseSpec,
  unknownNameMessage,
  type ResolvedWorkload,
} from '@mmlab/workloads';
import { MAX_CPUS, MAX_REPS, type ExperimentState } from './state.js';

/** Bad input: the message is shown in the page as it is. */
export class InputError extends Error {
  /** Which part of the form it is about (`workload`, `a`, `b`, `settings`). */
  readonly field: string;

  /**
   * @param field - the part of the form
   * @param message - one line naming the problem
   */
  constructor(field: string, message: string) {
    super(message);
    this.name = 'InputError';
    this.field = field;
  }
}

/** A checked experiment, ready to run. */
export interface Experiment {
  /** The workload, bound to its parameters. */
  readonly workload: ResolvedWorkload;
  /** Set A. */
  readonly a: FeatureSet;
  /** Set B (the matrix view combines its features). */
  readonly b: FeatureSet;
  /** Settings shared by every run. */
  readonly settings: RunSettings;
  /** Seeds per side or combination. */
  readonly reps: number;
  /** The first seed. */
  readonly firstSeed: number;
  /** The sweep view's points: the workload at each value of the parameter (empty in the other views). */
  readonly sweep: readonly SweepPoint[];
}

/** One value of a swept workload parameter. */
export interface SweepPoint {
  /** The parameter. */
  readonly key: string;
  /** Its value. */
  readonly value: number;
  /** The workload with that value. */
  readonly workload: ResolvedWorkload;
}

/** Most values a sweep takes. */
export const MAX_SWEEP_VALUES = 12;

/**
 * Resolves a built-in workload specification as `mmlab run --workload`
 * does; workload modules need the command line.
 * @param text - the specification
 * @throws {@link InputError} with the workloads' own message
 */
export function resolveBuiltinWorkload(text: string): ResolvedWorkload {
  try {
    if (isModuleSpec(text)) {
      throw new InputError('workload', `workload modules ('${text}') run with the mmlab command only, not in the browser`);
    }
    const parsed = parseSpec(text, 'workload');
    const workload = getWorkload(parsed.name);
    if (workload === undefined) {
      throw new InputError('workload', unknownNameMessage('workload', parsed.name, listWorkloads().map((w) => w.name)));
    }
    return bindWorkload(workload, parsed.args);
  } catch (err) {
    throw asInput('workload', err);
  }
}

/**
 * Checks a state and builds the experiment.
 * @param state - the page's state
 * @throws {@link InputError} naming the first problem
 */
export function prepareExperiment(state: ExperimentState): Experiment {
  const workload = resolveBuiltinWorkload(state.workload);
  const set = (field: 'a' | 'b'): FeatureSet => {
    try {
      return parseFeatureSet(state[field], { registry: FEATURES });
    } catch (err) {
      throw asInput(field, err, `set ${field.toUpperCase()}: `);
    }
  };
  const a = set('a');
  const b = set('b');
  wholeNumber('seeds', state.reps, 1, MAX_REPS);
  wholeNumber('first seed', state.seed, 0, 0xffffffff);
  const settings = runSettings(state);
  const sweep = state.view === 'sweep' ? sweepPoints(state.workload, state.sweep) : [];
  return { workload, a, b, settings, reps: state.reps, firstSeed: state.seed, sweep };
}

/**
 * The workload at each value of a sweep (`procs=2,4,8`), each checked
 * against the workload's parameter schema.
 * @param spec - the workload specification (the other parameters keep their values)
 * @param sweep - the parameter and its values
 * @throws {@link InputError} naming the problem
 */
export function sweepPoints(spec: string, sweep: string): SweepPoint[] {
  const m = /^([A-Za-z][\w-]*)=(.+)$/.exec(sweep.trim());
  if (m === null) throw new InputError('sweep', `sweep: expected a parameter and its values, such as procs=2,4,8 (got '${sweep}')`);
  const key = m[1]!;
  const texts = m[2]!.split(',').map((v) => v.trim());
  const parsed = parseSpec(spec, 'workload');
  const workload = getWorkload(parsed.name);
  if (workload === undefined) return [];
  const keys = Object.keys(workload.params);
  if (!keys.includes(key)) {
    throw new InputError('sweep', `sweep: workload '${workload.name}' has no parameter '${key}' (its parameters: ${keys.join(', ')})`);
  }
  if (texts.length < 2 || texts.length > MAX_SWEEP_VALUES) {
    throw new InputError('sweep', `sweep: give 2 to ${MAX_SWEEP_VALUES} values of '${key}' (got ${texts.length})`);
  }
  const points = texts.map((text) => {
    const bound = resolveBuiltinWorkload([parsed.name, ...[...parsed.args].filter(([k]) => k !== key).map(([k, v]) => `${k}=${v}`), `${key}=${text}`].join(':'));
    return { key, value: bound.params[key] as number, workload: bound };
  });
  const twice = points.find((p, i) => points.findIndex((q) => q.value === p.value) !== i);
  if (twice !== undefined) throw new InputError('sweep', `sweep: '${key}' takes the value ${texts[points.indexOf(twice)] ?? ''} twice`);
  return points;
}

/**
 * The run settings of a state, checked: a known machine, memory and swap
 * sizes in the workloads' size notation (the core checks what the machine
 * can hold when the kernel is built).
 * @param state - the page's state
 * @throws {@link InputError} for an unknown machine or a bad size
 */
export function runSettings(state: ExperimentState): RunSettings {
  if (getMachine(state.machine) === undefined) {
    throw new InputError('settings', unknownNameMessage('machine', state.machine, listMachines()));
  }
  const size = (what: string, text: string): number | undefined => {
    if (text === '') return undefined;
    const n = parseSize(text);
    if (n === undefined) throw new InputError('settings', `bad ${what} size '${text}' (expected a size such as 64k, 256m or 1g)`);
    if (n % PAGE_SIZE !== 0) throw new InputError('settings', `${what} must be a multiple of the page size ${PAGE_SIZE} (got ${text})`);
    return n;
  };
  if (state.cpus !== null) wholeNumber('CPUs', state.cpus, 1, MAX_CPUS);
  const memBytes = size('memory', state.mem);
  const swapBytes = size('swap', state.swap);
  return {
    machine: state.machine,
    mode: state.mode,
    preempt: state.preempt,
    ...(state.check ? { check: true } : {}),
    ...(state.cpus === null ? {} : { cpus: state.cpus }),
    ...(memBytes === undefined ? {} : { memBytes }),
    ...(swapBytes === undefined ? {} : { swapBytes }),
  };
}

/** Checks a whole number of the settings. */
function wholeNumber(what: string, n: number, min: number, max: number): void {
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new InputError('settings', `${what}: expected a whole number from ${min} to ${max}${Number.isNaN(n) ? '' : ` (got ${n})`}`);
  }
}

/**
 * Any error as an {@link InputError}: the lab's and the workloads' errors
 * keep their message.
 * @param field - the part of the form
 * @param err - what was thrown
 * @param prefix - put before the message
 */
export function asInput(field: string, err: unknown, prefix = ''): InputError {
  if (err instanceof InputError) return prefix === '' ? err : new InputError(field, `${prefix}${err.message}`);
  const message = err instanceof Error ? err.message : String(err);
  return new InputError(field, `${prefix}${message}`);
}
