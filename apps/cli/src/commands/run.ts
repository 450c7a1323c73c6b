/**
 * `mmlab run --workload SPEC ...`.
 * @module
 */

import { KernelConfigError, PAGE_SIZE, type Placement } from '@mmlab/core';
import {
  DEFAULT_TRACE_EVENTS,
  RUN_MODES,
  parseSize,
  resolveWorkload,
  runWorkloadTraced,
  type RunMode,
} from '@mmlab/workloads';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { blameModules, resolveFeatureList, withModules } from '../features.js';
import { toJson } from '../format/json.js';
import { describeLeftRunning, formatRunReport, type TraceNote } from '../format/run-report.js';
import type { Io } from '../io.js';
import { defineCommand, withOutputOptions, multiple, operands, single, type CliContext } from '../program.js';
import { checkOutputPath, emitReport, reportTarget, writeFileAtomic } from '../outputs.js';
import { RUN_ARGS, RUN_HELP, RUN_USAGE } from '../usage.js';
import { parseCpus, parseMachine, parseSeed, parseStrategy } from './options.js';

/** The options of `mmlab run` as given (values unparsed). */
export interface RunOptions {
  readonly workload?: string;
  readonly features?: readonly string[];
  readonly seed?: string;
  readonly preempt?: boolean;
  readonly check?: boolean;
  readonly json?: boolean;
  readonly timings?: boolean;
  readonly machine?: string;
  readonly placement?: string;
  readonly mem?: string;
  readonly swap?: string;
  readonly hugepages?: string;
  readonly mode?: string;
  readonly cpus?: string;
  readonly strategy?: string;
  readonly trace?: string;
  readonly traceEvents?: string;
  readonly out?: string;
  readonly force?: boolean;
}

/** Most trace events `--trace-events` accepts. */
const MAX_TRACE_EVENTS = 10_000_000;

/**
 * Adds `mmlab run` to the program.
 * @param program - the root program
 * @param ctx - the invocation's streams and exit code
 */
export function registerRun(program: Command, ctx: CliContext): void {
  const value = (flag: string, placeholder: string): ((v: string, p: unknown) => string) =>
    single(flag, placeholder, RUN_USAGE);
  const command = defineCommand(program, {
    name: 'run',
    args: RUN_ARGS,
    summary: 'run a workload on a kernel with a feature set and print its report',
    description: RUN_HELP,
  })
    .option('--workload <SPEC>', 'built-in workload (mmlab list workloads) or ./module.mjs, with :key=value', value('--workload', 'SPEC'))
    .option('--features <SPEC,SPEC,...>', 'features by name or ./module.mjs, with :key=value (repeatable)', multiple('--features', 'SPEC,SPEC,...', RUN_USAGE))
    .option('--seed <N>', 'seed of the run, 0..4294967295 (default 1)', value('--seed', 'N'))
    .option('--preempt', 'CONFIG_PREEMPT on')
    .option('--no-preempt', 'CONFIG_PREEMPT off (the default)')
    .option('--check', 'run the invariant checker at every operation boundary (a violation: exit 1)')
    .option('--json', 'print one JSON object')
    .option('--timings', 'add host time to the report ("host")')
    .option('--machine <NAME|FILE>', 'machine profile (mmlab list machines; default x86-64) or a profile file (mmlab calibrate)', value('--machine', 'NAME|FILE'))
    .option('--placement <legacy|aligned>', "mmap placement: 2.6.24's (legacy) or 2 MiB aligned", value('--placement', 'legacy|aligned'))
    .option('--mem <SIZE>', "simulated RAM (default: the machine's)", value('--mem', 'SIZE'))
    .option('--swap <SIZE>', 'swap space (default: twice the RAM)', value('--swap', 'SIZE'))
    .option('--hugepages <N>', 'pool of 2 MiB huge pages (at most half of the RAM)', value('--hugepages', 'N'))
    .option('--mode <sequential|timed|explore>', 'how concurrent threads run (default sequential)', value('--mode', 'sequential|timed|explore'))
    .option('--cpus <N>', "CPU count (default: the machine's)", value('--cpus', 'N'))
    .option('--strategy <random|pct>', 'interleaving strategy of --mode explore', value('--strategy', 'random|pct'))
    .option('--trace <FILE>', 'write a Trace Event Format file (Perfetto, chrome://tracing)', value('--trace', 'FILE'))
    .option('--trace-events <N>', 'most events in the trace (default 200000)', value('--trace-events', 'N'));
  withOutputOptions(command, RUN_USAGE, 'replace the --out and --trace files if they exist')
    .action(async (_options: unknown, cmd: Command) => {
      operands(cmd, 0, RUN_USAGE);
      ctx.exitCode = await runCommand(cmd.opts<RunOptions>(), ctx.io);
    });
}

/**
 * Runs `mmlab run`: builds the kernel, runs the workload, prints the report.
 * @param options - the options given
 * @param io - output streams and working directory
 * @returns 0, or 1 when `--check` found a violation or the workload left
 *   tasks running (the report says which). A workload stopped by
 *   the OOM killer is a result (recorded in the report), not a failure: 0.
 * @throws {@link UsageError}, `SpecError` or `KernelConfigError` on bad
 *   input (a feature module that cannot be loaded or exports no valid
 *   feature is a `UsageError`; the core refuses impossible memory, swap or
 *   huge page pool sizes, and bad feature options, with
 *   `KernelConfigError`); `WorkloadError` when the workload fails on the
 *   model; `FeatureModuleError` when a feature module's `install` throws. A pool too small for the workload is a result (ENOMEM), 0.
 */
export async function runCommand(options: RunOptions, io: Io): Promise<number> {
  const spec = options.workload;
  if (spec === undefined) throw new UsageError('missing --workload SPEC', RUN_USAGE);
  const seed = parseSeed(options.seed, RUN_USAGE) ?? 1;
  const machine = parseMachine(options.machine, io.cwd, RUN_USAGE);
  const placement = parsePlacement(options.placement);
  const memBytes = parseSizeOption('mem', options.mem);
  const swapBytes = parseSizeOption('swap', options.swap);
  if (swapBytes !== undefined && swapBytes % PAGE_SIZE !== 0) {
    throw new UsageError(`--swap must be a multiple of the page size ${PAGE_SIZE} (got ${swapBytes})`, RUN_USAGE);
  }
  const hugePages = parseHugePages(options.hugepages);
  const mode = parseMode(options.mode);
  const cpus = parseCpus(options.cpus, RUN_USAGE);
  const strategy = parseStrategy(options.strategy, RUN_USAGE);
  if (options.strategy !== undefined && mode !== 'explore') {
    throw new UsageError('--strategy applies to --mode explore only', RUN_USAGE);
  }
  const traceFile = options.trace;
  const traceEvents = parseTraceEvents(options.traceEvents);
  if (traceEvents !== undefined && traceFile === undefined) {
    throw new UsageError('--trace-events needs --trace FILE', RUN_USAGE);
  }
  const force = options.force === true;
  const tracePath =
    traceFile === undefined ? undefined : checkOutputPath(traceFile, io.cwd, { what: 'trace', force, usage: RUN_USAGE });
  const target = reportTarget(options.out, force, io.cwd, RUN_USAGE);
  if (tracePath !== undefined && tracePath === target.path) {
    throw new UsageError(`--trace and --out name the same file '${traceFile ?? ''}'`, RUN_USAGE);
  }
  const { requests: features, modules } = await resolveFeatureList(options.features ?? [], io.cwd);
  const workload = await resolveWorkload(spec, io.cwd);
  const check = options.check === true;
  const json = options.json === true;
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
      preempt: options.preempt ?? false,
      check,
      machine,
      ...(placement === undefined ? {} : { placement }),
      ...(memBytes === undefined ? {} : { memBytes }),
      ...(swapBytes === undefined ? {} : { swapBytes }),
      ...(hugePages === undefined ? {} : { hugePages }),
      timings: !json || options.timings === true,
    });
  } catch (err) {
    // Seam code of feature modules runs inside the model: name the modules.
    throw blameModules(echoSizes(err, options, memBytes, swapBytes), modules, io.cwd);
  }
  const { report, trace } = traced;
  let traceNote: TraceNote | undefined;
  if (tracePath !== undefined && trace !== null) {
    writeFileAtomic(tracePath, `${JSON.stringify(trace)}\n`, force);
    traceNote = { file: traceFile ?? tracePath, events: trace.metadata.events, truncated: trace.metadata.truncated };
  }
  const shown = withModules(report, modules);
  emitReport(target, json ? toJson(shown) : formatRunReport(shown, traceNote), io);
  const left = report.result?.leftRunning ?? [];
  if (left.length > 0) {
    // the module contract: every task a workload starts has exited when it returns
    io.stderr(`mmlab: ${report.workload.name} ${describeLeftRunning(left)}: a workload must make every task it starts exit before it returns\n`);
  }
  return (report.invariants?.violations.length ?? 0) > 0 || left.length > 0 ? 1 : 0;
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
 * The core checks memory and swap sizes in bytes and says so in bytes;
 * say them as the user typed them (`--mem 1k`, not 1024).
 */
function echoSizes(err: unknown, options: RunOptions, memBytes?: number, swapBytes?: number): unknown {
  if (!(err instanceof KernelConfigError)) return err;
  const typed = [
    { prefix: 'memory size', flag: '--mem', text: options.mem, bytes: memBytes },
    { prefix: 'swap size', flag: '--swap', text: options.swap, bytes: swapBytes },
  ].find((t) => t.text !== undefined && err.message.startsWith(t.prefix));
  if (typed?.text === undefined || typed.bytes === undefined) return err;
  const message = err.message.replace(new RegExp(`\\b${typed.bytes}\\b`), typed.text);
  return new KernelConfigError(`${typed.flag} ${typed.text}: ${message}`);
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
