/**
 * `mmlab run --workload SPEC ...`.
 * @module
 */

import { PAGE_SIZE, getMachine, listMachines, type Placement } from '@mmlab/core';
import {
  DEFAULT_TRACE_EVENTS,
  RUN_MODES,
  parseSize,
  resolveWorkload,
  runWorkloadTraced,
  type RunMode,
} from '@mmlab/workloads';
import { optionValue, parseArgs, type OptionSpec } from '../argv.js';
import { UsageError } from '../errors.js';
import { blameModules, resolveFeatureList, withModules } from '../features.js';
import { toJson } from '../format/json.js';
import { formatRunReport, type TraceNote } from '../format/run-report.js';
import type { Io } from '../io.js';
import { checkTraceTarget, writeJsonAtomic } from '../trace-file.js';
import { RUN_USAGE } from '../usage.js';
import { parseCpus, parseSeed, parseStrategy } from './options.js';

const OPTIONS: Readonly<Record<string, OptionSpec>> = {
  workload: { kind: 'value', placeholder: 'SPEC' },
  features: { kind: 'value', multiple: true, placeholder: 'SPEC,SPEC,...' },
  seed: { kind: 'value', placeholder: 'N' },
  preempt: { kind: 'flag', negatable: true },
  check: { kind: 'flag' },
  json: { kind: 'flag' },
  timings: { kind: 'flag' },
  machine: { kind: 'value', placeholder: 'NAME' },
  placement: { kind: 'value', placeholder: 'legacy|aligned' },
  mem: { kind: 'value', placeholder: 'SIZE' },
  swap: { kind: 'value', placeholder: 'SIZE' },
  hugepages: { kind: 'value', placeholder: 'N' },
  mode: { kind: 'value', placeholder: 'sequential|timed|explore' },
  cpus: { kind: 'value', placeholder: 'N' },
  strategy: { kind: 'value', placeholder: 'random|pct' },
  trace: { kind: 'value', placeholder: 'FILE' },
  'trace-events': { kind: 'value', placeholder: 'N' },
};

/** Most trace events `--trace-events` accepts. */
const MAX_TRACE_EVENTS = 10_000_000;

/**
 * Runs `mmlab run`: builds the kernel, runs the workload, prints the report.
 * @param args - arguments after `run`
 * @param io - output streams and working directory
 * @returns 0, or 1 when `--check` found a violation. A workload stopped by
 *   the OOM killer is a result (recorded in the report), not a failure: 0.
 * @throws {@link UsageError}, `SpecError` or `KernelConfigError` on bad
 *   input (a feature module that cannot be loaded or exports no valid
 *   feature is a `UsageError`; the core refuses impossible memory, swap or
 *   huge page pool sizes, and bad feature options, with
 *   `KernelConfigError`); `WorkloadError` when the workload fails on the
 *   model; `FeatureModuleError` when a feature module's `install` throws. A pool too small for the workload is a result (ENOMEM), 0.
 */
export async function runCommand(args: readonly string[], io: Io): Promise<number> {
  const parsed = parseArgs(args, OPTIONS, RUN_USAGE);
  if (parsed.positionals.length > 0) {
    throw new UsageError(`unexpected argument '${parsed.positionals[0] ?? ''}'`, RUN_USAGE);
  }
  const spec = optionValue(parsed, 'workload');
  if (spec === undefined) throw new UsageError('missing --workload SPEC', RUN_USAGE);
  const seed = parseSeed(optionValue(parsed, 'seed'), RUN_USAGE) ?? 1;
  const machine = optionValue(parsed, 'machine') ?? 'x86-64';
  if (getMachine(machine) === undefined) {
    throw new UsageError(`unknown machine '${machine}' (known: ${listMachines().join(', ')})`, RUN_USAGE);
  }
  const placement = parsePlacement(optionValue(parsed, 'placement'));
  const memBytes = parseSizeOption('mem', optionValue(parsed, 'mem'));
  const swapBytes = parseSizeOption('swap', optionValue(parsed, 'swap'));
  if (swapBytes !== undefined && swapBytes % PAGE_SIZE !== 0) {
    throw new UsageError(`--swap must be a multiple of the page size ${PAGE_SIZE} (got ${swapBytes})`, RUN_USAGE);
  }
  const hugePages = parseHugePages(optionValue(parsed, 'hugepages'));
  const mode = parseMode(optionValue(parsed, 'mode'));
  const cpus = parseCpus(optionValue(parsed, 'cpus'), RUN_USAGE);
  const strategyText = optionValue(parsed, 'strategy');
  const strategy = parseStrategy(strategyText, RUN_USAGE);
  if (strategyText !== undefined && mode !== 'explore') {
    throw new UsageError('--strategy applies to --mode explore only', RUN_USAGE);
  }
  const traceFile = optionValue(parsed, 'trace');
  const traceEvents = parseTraceEvents(optionValue(parsed, 'trace-events'));
  if (traceEvents !== undefined && traceFile === undefined) {
    throw new UsageError('--trace-events needs --trace FILE', RUN_USAGE);
  }
  const tracePath = traceFile === undefined ? undefined : checkTraceTarget(traceFile, io.cwd, RUN_USAGE);
  const { requests: features, modules } = await resolveFeatureList(parsed.values.get('features') ?? [], io.cwd);
  const workload = await resolveWorkload(spec, io.cwd);
  const check = parsed.flags.get('check') === true;
  const json = parsed.flags.get('json') === true;
  let traced;
  try {
    traced = await runWorkloadTraced({
      workload,
      mode,
      ...(cpus === undefined ? {} : { cpus }),
      ...(strategy === undefined ? {} : { strategy }),
      ...(tracePath === undefined ? {} : { traceEvents: traceEvents ?? DEFAULT_TRACE_EVENTS }),
      features,
      seed,
      preempt: parsed.flags.get('preempt') ?? false,
      check,
      machine,
      ...(placement === undefined ? {} : { placement }),
      ...(memBytes === undefined ? {} : { memBytes }),
      ...(swapBytes === undefined ? {} : { swapBytes }),
      ...(hugePages === undefined ? {} : { hugePages }),
      timings: !json || parsed.flags.get('timings') === true,
    });
  } catch (err) {
    // Seam code of feature modules runs inside the model: name the modules.
    throw blameModules(err, modules);
  }
  const { report, trace } = traced;
  let traceNote: TraceNote | undefined;
  if (tracePath !== undefined && trace !== null) {
    writeJsonAtomic(tracePath, trace);
    traceNote = { file: traceFile ?? tracePath, events: trace.metadata.events, truncated: trace.metadata.truncated };
  }
  const shown = withModules(report, modules);
  io.stdout(json ? toJson(shown) : formatRunReport(shown, traceNote));
  return (report.invariants?.violations.length ?? 0) > 0 ? 1 : 0;
}

function parseMode(text: string | undefined): RunMode {
  if (text === undefined) return 'sequential';
  const mode = RUN_MODES.find((m) => m === text);
  if (mode === undefined) throw new UsageError(`bad --mode '${text}' (expected ${RUN_MODES.join(', ')})`, RUN_USAGE);
  return mode;
}

/** Parses `--trace-events N`: a whole number of events from 1. */
function parseTraceEvents(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > MAX_TRACE_EVENTS) {
    throw new UsageError(`bad --trace-events '${text}' (expected an integer from 1 to ${MAX_TRACE_EVENTS})`, RUN_USAGE);
  }
  return n;
}

/**
 * Parses `--hugepages N`: a whole number of 2 MiB huge pages. Whether the
 * memory can hold them is the core's check (`KernelConfigError`).
 */
function parseHugePages(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n)) {
    throw new UsageError(`bad --hugepages '${text}' (expected a whole number of 2 MiB huge pages)`, RUN_USAGE);
  }
  return n;
}

function parsePlacement(text: string | undefined): Placement | undefined {
  if (text === undefined || text === 'legacy' || text === 'aligned') return text;
  throw new UsageError(`bad placement '${text}' (expected legacy or aligned)`, RUN_USAGE);
}

/**
 * Parses the value of a size option (`--mem 256m`); range checks are the
 * core's (`KernelConfigError`).
 */
function parseSizeOption(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const bytes = parseSize(text);
  if (bytes === undefined) {
    throw new UsageError(`bad --${name} size '${text}' (expected a size such as 256m or 1g)`, RUN_USAGE);
  }
  return bytes;
}
