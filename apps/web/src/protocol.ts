/**
 * Messages between the page and the worker that runs the model.
 * @module
 */

import type { AbResult, RefusedSet, ResultLine } from '@mmlab/lab';
import type { KernelTrace } from '@mmlab/workloads';
import type { ExperimentState } from './state.js';

/** What the page asks: an A/B comparison, one at each value of a parameter, the matrix of B's features, or a traced run. */
export interface RunRequest {
  /** Which job. */
  readonly kind: 'ab' | 'sweep' | 'matrix' | 'trace';
  /** Tells replies to this request from older ones. */
  readonly id: number;
  /** The experiment. */
  readonly state: ExperimentState;
}

/** Runs done so far. */
export interface ProgressReply {
  /** Kind. */
  readonly type: 'progress';
  /** The request. */
  readonly id: number;
  /** Runs done. */
  readonly done: number;
  /** Runs in all. */
  readonly total: number;
}

/** An A/B comparison's result. */
export interface AbReply {
  /** Kind. */
  readonly type: 'ab';
  /** The request. */
  readonly id: number;
  /** What `runAb` returned. */
  readonly result: AbResult;
}

/** One A/B comparison at one value of the swept parameter. */
export interface SweepResult {
  /** The parameter. */
  readonly key: string;
  /** Its value. */
  readonly value: number;
  /** What `runAb` returned at that value. */
  readonly result: AbResult;
}

/** A sweep's results, in the order of its values. */
export interface SweepReply {
  /** Kind. */
  readonly type: 'sweep';
  /** The request. */
  readonly id: number;
  /** One comparison per value. */
  readonly points: readonly SweepResult[];
}

/** A matrix's results, as `mmlab matrix` writes them. */
export interface MatrixReply {
  /** Kind. */
  readonly type: 'matrix';
  /** The request. */
  readonly id: number;
  /** One results line per cell. */
  readonly lines: readonly ResultLine[];
  /** Combinations the features' rules refuse. */
  readonly refused: readonly RefusedSet[];
}

/** One traced run of set B on the first seed. */
export interface TraceReply {
  /** Kind. */
  readonly type: 'trace';
  /** The request. */
  readonly id: number;
  /** The Trace Event Format file (Perfetto, chrome://tracing). */
  readonly trace: KernelTrace;
  /** What ran, for the file name and the title. */
  readonly label: string;
}

/** A request that failed: bad input, or the model refused it. */
export interface ErrorReply {
  /** Kind. */
  readonly type: 'error';
  /** The request. */
  readonly id: number;
  /** One line for the page. */
  readonly message: string;
}

/** Everything the worker sends. */
export type Reply = ProgressReply | AbReply | SweepReply | MatrixReply | TraceReply | ErrorReply;

/** Most events a traced run in the page records. */
export const PAGE_TRACE_EVENTS = 50_000;
