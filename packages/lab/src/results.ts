/**
 * The results format: one JSON line per matrix cell (`.jsonl`).
 * Every line carries the format name and version, the cell (workload,
 * canonical feature set, seed), the run settings, the checker's violations
 * and the flat metrics. Parsing refuses a line that does not parse, is cut
 * short, comes from elsewhere or from another format version, naming the
 * file and line. No file access here (see `results-file.ts`), so the
 * browser can read results too.
 * @module
 */

import type { Metrics } from './metrics.js';
import type { RunSettings } from './run.js';

/** The `format` field of every results line. */
export const RESULTS_FORMAT = 'mmlab-lab-results';
/** The format version this code writes and reads. */
export const RESULTS_VERSION = 1;

/** One cell of a matrix: which run. */
export interface Cell {
  /** The workload specification as given. */
  readonly workload: string;
  /** The canonical feature set. */
  readonly features: string;
  /** The seed. */
  readonly seed: number;
}

/** One line of a results file. */
export interface ResultLine extends Cell {
  /** Always {@link RESULTS_FORMAT}. */
  readonly format: typeof RESULTS_FORMAT;
  /** Always {@link RESULTS_VERSION}. */
  readonly version: typeof RESULTS_VERSION;
  /** The run settings every cell of one results file shares. */
  readonly settings: RunSettings;
  /** Invariant violations found by the checker (empty without `check`). */
  readonly violations: readonly string[];
  /** The flat metrics of the run. */
  readonly metrics: Metrics;
}

/** A results line with where it was read from. */
export interface ReadLine {
  /** The line's content. */
  readonly line: ResultLine;
  /** `file:line`, for messages. */
  readonly where: string;
}

/** A results file that cannot be used: the message names the file and line. */
export class ResultsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ResultsError';
  }
}

/**
 * The key of a cell: equal keys are the same run.
 * @param cell - workload, features and seed
 */
export function cellKey(cell: Cell): string {
  return `${cell.workload}\u0000${cell.features}\u0000${cell.seed}`;
}

/**
 * Settings as a canonical JSON text (keys sorted, absent values left out),
 * to compare the settings of two files.
 * @param settings - run settings
 */
export function settingsText(settings: RunSettings): string {
  const entries = Object.entries(settings)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(Object.fromEntries(entries));
}

/**
 * Makes a results line.
 * @param cell - the cell
 * @param settings - its run settings
 * @param violations - the checker's violations
 * @param metrics - the flat metrics
 */
export function resultLine(cell: Cell, settings: RunSettings, violations: readonly string[], metrics: Metrics): ResultLine {
  return {
    format: RESULTS_FORMAT,
    version: RESULTS_VERSION,
    workload: cell.workload,
    features: cell.features,
    seed: cell.seed,
    settings: JSON.parse(settingsText(settings)) as RunSettings,
    violations,
    metrics,
  };
}

/**
 * Parses the text of a results file, checking every line.
 * @param text - the file's contents
 * @param shown - the file's name in messages
 * @throws {@link ResultsError} naming the file and line of a line that is
 *   cut short, not JSON, not a results line, of another format version, or
 *   malformed
 */
export function parseResults(text: string, shown: string): ReadLine[] {
  if (text === '') return [];
  const lines = text.split('\n');
  const last = lines.pop();
  const out: ReadLine[] = [];
  lines.forEach((raw, i) => {
    const where = `${shown}:${i + 1}`;
    if (raw.trim() === '') throw new ResultsError(`${where}: empty line (not written by mmlab)`);
    out.push({ line: parseLine(raw, where), where });
  });
  if (last !== undefined && last !== '') {
    throw new ResultsError(
      `${shown}:${lines.length + 1}: truncated line (no end of line; not written by mmlab, or the file was cut): ${preview(last)}`
    );
  }
  return out;
}

/**
 * Joins the lines of several results files (a matrix's shards) in cell
 * order (workload, features, seed). A cell in two inputs must be the same
 * line; the settings must agree.
 * @param lines - the lines read, with where they come from
 * @throws {@link ResultsError} for disagreeing settings or cells
 */
export function mergeLines(lines: readonly ReadLine[]): ResultLine[] {
  checkSameSettings(lines);
  const byKey = new Map<string, ReadLine>();
  for (const r of lines) {
    const key = cellKey(r.line);
    const seen = byKey.get(key);
    if (seen === undefined) byKey.set(key, r);
    else if (JSON.stringify(seen.line) !== JSON.stringify(r.line)) {
      throw new ResultsError(`${r.where}: cell ${describeCell(r.line)} differs from ${seen.where}`);
    }
  }
  return sortCells([...byKey.values()].map((r) => r.line));
}

function preview(raw: string): string {
  return raw.length > 60 ? `${raw.slice(0, 60)}…` : raw;
}

function parseLine(raw: string, where: string): ResultLine {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new ResultsError(`${where}: not JSON (corrupted or truncated): ${preview(raw)}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ResultsError(`${where}: not an mmlab results line: ${preview(raw)}`);
  }
  const v = value as Record<string, unknown>;
  if (v.format !== RESULTS_FORMAT) {
    throw new ResultsError(`${where}: not an mmlab results line (format ${v.format === undefined ? 'missing' : JSON.stringify(v.format)})`);
  }
  if (v.version !== RESULTS_VERSION) {
    throw new ResultsError(
      `${where}: written in results format version ${v.version === undefined ? '(none)' : JSON.stringify(v.version)}; this mmlab reads version ${RESULTS_VERSION}`
    );
  }
  const bad = (field: string): ResultsError => new ResultsError(`${where}: malformed results line (bad '${field}')`);
  if (typeof v.workload !== 'string' || v.workload === '') throw bad('workload');
  if (typeof v.features !== 'string' || v.features === '') throw bad('features');
  if (typeof v.seed !== 'number' || !Number.isSafeInteger(v.seed)) throw bad('seed');
  if (v.settings === null || typeof v.settings !== 'object' || Array.isArray(v.settings)) throw bad('settings');
  if (!Array.isArray(v.violations) || !v.violations.every((x) => typeof x === 'string')) throw bad('violations');
  if (v.metrics === null || typeof v.metrics !== 'object' || Array.isArray(v.metrics)) throw bad('metrics');
  if (!Object.values(v.metrics).every((x) => typeof x === 'number')) throw bad('metrics');
  return v as unknown as ResultLine;
}

/**
 * Checks that every line shares the settings of the first (or `expected`).
 * @param lines - lines read
 * @param expected - the settings they must have (default: the first line's)
 * @throws {@link ResultsError} naming the first line with other settings
 */
export function checkSameSettings(lines: readonly ReadLine[], expected?: RunSettings): void {
  const want = expected === undefined ? undefined : settingsText(expected);
  const first = lines[0];
  if (first === undefined) return;
  const ref = want ?? settingsText(first.line.settings);
  for (const { line, where } of lines) {
    const got = settingsText(line.settings);
    if (got !== ref) {
      throw new ResultsError(`${where}: run with other settings (${got}, expected ${ref}); use another results file`);
    }
  }
}

/**
 * A cell in words: `kbuild:jobs=2 × mmu-gather-inplace, seed 3`.
 * @param cell - the cell
 */
export function describeCell(cell: Cell): string {
  return `${cell.workload} × ${cell.features}, seed ${cell.seed}`;
}

/**
 * Lines sorted by workload, features and seed (a stable, total order).
 * @param lines - results lines
 */
export function sortCells<T extends Cell>(lines: readonly T[]): T[] {
  const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  return [...lines].sort((a, b) => cmp(a.workload, b.workload) || cmp(a.features, b.features) || a.seed - b.seed);
}
