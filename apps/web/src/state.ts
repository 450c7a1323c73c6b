/**
 * The experiment a page shows, as plain data, and its place in the URL: a
 * link reproduces the same experiment. Workloads and feature sets are kept
 * in the command line's own notations (`shm-procs:procs=8:size=16m`,
 * `shared-pagetables,mmu-notifiers:variant=range`), so a link reads like the
 * `mmlab ab` command that does the same.
 * @module
 */

import { RUN_MODES, type RunMode } from '@mmlab/workloads';

/**
 * What the page compares: A against B, A against B at each value of one
 * workload parameter, or every combination of B's features.
 */
export type View = 'ab' | 'sweep' | 'matrix';

/** The views, in the order the page offers them. */
export const VIEWS: readonly View[] = ['ab', 'sweep', 'matrix'];

/** One experiment, as the form and the URL hold it (text as typed: checked when run). */
export interface ExperimentState {
  /** The workload specification (`name:key=value:...`). */
  readonly workload: string;
  /** Feature set A in the feature-set notation (`baseline` for none). */
  readonly a: string;
  /** Feature set B; in the matrix view, the features combined. */
  readonly b: string;
  /** A/B or matrix. */
  readonly view: View;
  /** Machine profile name. */
  readonly machine: string;
  /** Execution mode. */
  readonly mode: RunMode;
  /** CPUs, or null for the machine's. */
  readonly cpus: number | null;
  /** CONFIG_PREEMPT. */
  readonly preempt: boolean;
  /** Run the invariant checker and the data oracle. */
  readonly check: boolean;
  /** Simulated RAM as a size (`256m`), or '' for the machine's. */
  readonly mem: string;
  /** Swap as a size, or '' for twice the RAM. */
  readonly swap: string;
  /** Repetitions (seeds) per side or per combination. */
  readonly reps: number;
  /** The first seed. */
  readonly seed: number;
  /** The metric the matrix view charts. */
  readonly metric: string;
  /** The sweep view's workload parameter and its values (`procs=2,4,8,16`). */
  readonly sweep: string;
}

/** The experiment a page without parameters shows: small enough to run in a few seconds. */
export const DEFAULT_STATE: ExperimentState = {
  workload: 'shm-procs:procs=8:size=16m',
  a: 'baseline',
  b: 'shared-pagetables',
  view: 'ab',
  machine: 'x86-64',
  mode: 'sequential',
  cpus: null,
  preempt: false,
  check: false,
  mem: '',
  swap: '',
  reps: 3,
  seed: 1,
  metric: 'meminfo.PageTables',
  sweep: 'procs=2,4,8,16',
};

/** Most repetitions the page runs (each is a whole run per side or combination). */
export const MAX_REPS = 20;
/** Most CPUs the page accepts (the core has its own, machine-specific limit). */
export const MAX_CPUS = 256;

/** The URL parameter of each field. */
const KEYS = {
  workload: 'w',
  a: 'a',
  b: 'b',
  view: 'view',
  machine: 'machine',
  mode: 'mode',
  cpus: 'cpus',
  preempt: 'preempt',
  check: 'check',
  mem: 'mem',
  swap: 'swap',
  reps: 'reps',
  seed: 'seed',
  metric: 'metric',
  sweep: 'sweep',
} as const satisfies Record<keyof ExperimentState, string>;

/**
 * The URL query of a state (every field, so a link means the same thing
 * when the defaults change).
 * @param state - the experiment
 * @returns the query without `?`
 */
export function stateToQuery(state: ExperimentState): string {
  const q = new URLSearchParams();
  q.set(KEYS.workload, state.workload);
  q.set(KEYS.a, state.a);
  q.set(KEYS.b, state.b);
  q.set(KEYS.view, state.view);
  q.set(KEYS.machine, state.machine);
  q.set(KEYS.mode, state.mode);
  if (state.cpus !== null) q.set(KEYS.cpus, String(state.cpus));
  q.set(KEYS.preempt, state.preempt ? '1' : '0');
  q.set(KEYS.check, state.check ? '1' : '0');
  if (state.mem !== '') q.set(KEYS.mem, state.mem);
  if (state.swap !== '') q.set(KEYS.swap, state.swap);
  q.set(KEYS.reps, String(state.reps));
  q.set(KEYS.seed, String(state.seed));
  q.set(KEYS.metric, state.metric);
  q.set(KEYS.sweep, state.sweep);
  return q.toString();
}

/** A state read from a URL, with what could not be read. */
export interface ParsedQuery {
  /** The state: fields the URL gives and can be read, defaults for the rest. */
  readonly state: ExperimentState;
  /** One message per field the URL gives but cannot be used (that field keeps its default). */
  readonly errors: readonly string[];
}

/**
 * Reads a state from a URL query. Text fields (workload, sets, sizes) are
 * taken as written and checked when the experiment runs; the others are
 * checked here, and a bad one keeps its default with a message.
 * @param query - the query, with or without `?`
 */
export function stateFromQuery(query: string): ParsedQuery {
  const q = new URLSearchParams(query.startsWith('?') ? query.slice(1) : query);
  const errors: string[] = [];
  const text = (key: string, fallback: string): string => {
    const v = q.get(key);
    return v === null ? fallback : v.trim();
  };
  const int = (key: string, min: number, max: number, fallback: number): number => {
    const v = q.get(key);
    if (v === null) return fallback;
    const n = Number(v);
    if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      errors.push(`link parameter '${key}': expected a whole number from ${min} to ${max}, got '${v}'`);
      return fallback;
    }
    return n;
  };
  const choice = <T extends string>(key: string, allowed: readonly T[], fallback: T): T => {
    const v = q.get(key);
    if (v === null) return fallback;
    const found = allowed.find((x) => x === v);
    if (found === undefined) {
      errors.push(`link parameter '${key}': expected ${allowed.join(' or ')}, got '${v}'`);
      return fallback;
    }
    return found;
  };
  const d = DEFAULT_STATE;
  const preemptText = choice(KEYS.preempt, ['0', '1'], d.preempt ? '1' : '0');
  const checkText = choice(KEYS.check, ['0', '1'], d.check ? '1' : '0');
  const cpusText = q.get(KEYS.cpus);
  const state: ExperimentState = {
    workload: text(KEYS.workload, d.workload),
    a: text(KEYS.a, d.a),
    b: text(KEYS.b, d.b),
    view: choice(KEYS.view, VIEWS, d.view),
    machine: text(KEYS.machine, d.machine),
    mode: choice(KEYS.mode, RUN_MODES, d.mode),
    cpus: cpusText === null || cpusText.trim() === '' ? null : int(KEYS.cpus, 1, MAX_CPUS, -1),
    preempt: preemptText === '1',
    check: checkText === '1',
    mem: text(KEYS.mem, d.mem),
    swap: text(KEYS.swap, d.swap),
    reps: int(KEYS.reps, 1, MAX_REPS, d.reps),
    seed: int(KEYS.seed, 0, 0xffffffff, d.seed),
    metric: text(KEYS.metric, d.metric),
    sweep: text(KEYS.sweep, d.sweep),
  };
  return { state: state.cpus === -1 ? { ...state, cpus: null } : state, errors };
}

/**
 * The `mmlab` command that runs the same experiment: `mmlab ab` for A/B,
 * `mmlab matrix` (B's features, their options as a one-value grid) for the
 * matrix view.
 * @param state - the experiment
 */
export function commandLine(state: ExperimentState): string {
  const quote = (s: string): string => (/^[\w.,:=/@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  const settings = [
    ...(state.machine === DEFAULT_STATE.machine ? [] : ['--machine', state.machine]),
    ...(state.mode === 'sequential' ? [] : ['--mode', state.mode]),
    ...(state.cpus === null ? [] : ['--cpus', String(state.cpus)]),
    ...(state.preempt ? ['--preempt'] : []),
    ...(state.check ? ['--check'] : []),
    ...(state.mem === '' ? [] : ['--mem', state.mem]),
    ...(state.swap === '' ? [] : ['--swap', state.swap]),
    '--reps',
    String(state.reps),
    '--seed',
    String(state.seed),
  ];
  const ab = (workload: string): string => ['mmlab', 'ab', '--workload', workload, '--a', state.a, '--b', state.b, ...settings].map(quote).join(' ');
  if (state.view === 'ab') return ab(state.workload);
  if (state.view === 'sweep') {
    const eq = state.sweep.indexOf('=');
    const key = state.sweep.slice(0, eq);
    const values = state.sweep.slice(eq + 1).split(',');
    const [name = '', ...args] = state.workload.split(':');
    const spec = [name, ...args.filter((a) => !a.startsWith(`${key}=`)), `${key}=$v`].join(':');
    return `for v in ${values.map(quote).join(' ')}; do ${ab(spec).replace(quote(spec), `"${spec}"`)}; done`;
  }
  const items = state.b === 'baseline' || state.b === 'all' ? [] : state.b.split(',');
  const names = items.map((i) => i.split(':', 1)[0] ?? i);
  const grid = items.filter((i) => i.includes(':'));
  return [
    'mmlab',
    'matrix',
    '--workloads',
    state.workload,
    '--features',
    state.b === 'all' ? 'all' : names.join(',') || 'baseline',
    ...(grid.length === 0 ? [] : ['--options-grid', grid.join(',')]),
    ...settings,
    '--out',
    'results.jsonl',
  ]
    .map(quote)
    .join(' ');
}
