/**
 * `mmlab list workloads|scenarios|machines|features [--json]`.
 * @module
 */

import { allMachines, type MachineProfile } from '@mmlab/core';
import { formatParamValue, formatSize, listScenarios, listWorkloads, unknownNameMessage } from '@mmlab/workloads';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { listFeatures } from '../features.js';
import { toJson } from '../format/json.js';
import { formatTable } from '../format/table.js';
import type { Io } from '../io.js';
import { defineCommand, operands, type CliContext } from '../program.js';
import { LIST_ARGS, LIST_HELP, LIST_USAGE } from '../usage.js';

const TOPICS = ['workloads', 'scenarios', 'machines', 'features'] as const;

/**
 * Adds `mmlab list` to the program.
 * @param program - the root program
 * @param ctx - the invocation's streams and exit code
 */
export function registerList(program: Command, ctx: CliContext): void {
  defineCommand(program, {
    name: 'list',
    args: LIST_ARGS,
    summary: 'list the workloads, race scenarios, machine profiles or features',
    description: LIST_HELP,
  })
    .argument('[TOPIC]', TOPICS.join('|'))
    .option('--json', 'print a JSON array')
    .action((_topic: unknown, options: { json?: boolean }, cmd: Command) => {
      ctx.exitCode = listCommand(operands(cmd, 1, LIST_USAGE), options.json === true, ctx.io);
    });
}

/**
 * Runs `mmlab list`.
 * @param args - the operands (the topic)
 * @param json - print JSON
 * @param io - output streams
 * @returns the exit code
 * @throws {@link UsageError} on a missing or unknown topic or option
 */
export function listCommand(args: readonly string[], json: boolean, io: Io): number {
  const [topic] = args;
  if (topic === undefined) throw new UsageError('list what?', LIST_USAGE);
  switch (topic) {
    case 'workloads':
      io.stdout(json ? toJson(workloadsData()) : workloadsText());
      return 0;
    case 'scenarios':
      io.stdout(json ? toJson(scenariosData()) : scenariosText());
      return 0;
    case 'machines':
      io.stdout(json ? toJson(machinesData()) : machinesText());
      return 0;
    case 'features':
      io.stdout(json ? toJson(featuresData()) : featuresText());
      return 0;
    default:
      throw new UsageError(unknownNameMessage('list', topic, TOPICS), LIST_USAGE);
  }
}

function workloadsData(): unknown[] {
  return listWorkloads().map((w) => ({ name: w.name, summary: w.summary, params: w.params }));
}

function workloadsText(): string {
  const out: string[] = [];
  for (const w of listWorkloads()) {
    out.push(`${w.name}\n  ${w.summary}\n`);
    const rows = Object.entries(w.params).map(([key, p]) => [
      key,
      p.kind,
      `default ${formatParamValue(p, p.default)}`,
      `${formatParamValue(p, p.min ?? (p.kind === 'size' ? 4096 : 1))}..${
        p.max === undefined ? '' : formatParamValue(p, p.max)
      }`,
      p.doc,
    ]);
    out.push(formatTable(rows, undefined, 4), '\n');
  }
  out.push(
    'user workloads: --workload ./module.mjs:key=value runs a JS module whose default export is\n' +
      'a function (ctx, params) or a workload object; example: packages/workloads/examples/touch-half.mjs\n'
  );
  return out.join('');
}

/** A scenario as `list scenarios --json` shows it. */
interface ScenarioData {
  readonly name: string;
  readonly summary: string;
  readonly kernel: { readonly memBytes?: number; readonly swapBytes?: number; readonly hugePages?: number };
}

function scenariosData(): ScenarioData[] {
  return listScenarios().map((s) => ({ name: s.name, summary: s.summary, kernel: { ...(s.kernel ?? {}) } }));
}

function scenariosText(): string {
  const out = scenariosData().map((s) => `${s.name}\n${wrap(s.summary, 4, 88)}`);
  out.push('run one with: mmlab explore --scenario NAME --seeds N\n');
  return out.join('');
}

/** Wraps text at word boundaries into lines of at most `width` characters, indented. */
function wrap(text: string, indent: number, width: number): string {
  const pad = ' '.repeat(indent);
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line !== '' && pad.length + line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines.map((l) => `${pad}${l}\n`).join('');
}

/** A machine profile as `list machines --json` shows it: every field but the cost table, in a fixed order. */
interface MachineData {
  readonly name: string;
  readonly description: string;
  readonly cpus: number;
  readonly sockets: number;
  readonly structPageSize: number;
  readonly placement: string;
  readonly memBytes: number;
  readonly tlbEntries: number;
  readonly tlbWays: number;
  readonly tlbTagged: boolean;
  readonly segmentBytes: number;
  readonly pteSpecial: boolean;
}

function machineData(m: MachineProfile): MachineData {
  return {
    name: m.name,
    description: m.description,
    cpus: m.cpus,
    sockets: m.sockets,
    structPageSize: m.structPageSize,
    placement: m.placement,
    memBytes: m.memBytes,
    tlbEntries: m.tlbEntries,
    tlbWays: m.tlbWays,
    tlbTagged: m.tlbTagged,
    segmentBytes: m.segmentBytes,
    pteSpecial: m.pteSpecial,
  };
}

function machinesData(): MachineData[] {
  return allMachines().map(machineData);
}

function machinesText(): string {
  const rows = machinesData().map((m) => [
    m.name,
    m.cpus,
    m.sockets,
    m.structPageSize,
    m.placement,
    formatSize(m.memBytes),
    m.tlbEntries,
    m.tlbWays,
    m.tlbTagged ? 'yes' : 'no',
    m.segmentBytes === 0 ? '-' : formatSize(m.segmentBytes),
    m.pteSpecial ? 'yes' : 'no',
  ]);
  const table = formatTable(rows, [
    'machine',
    'cpus',
    'sockets',
    'struct page',
    'placement',
    'memory',
    'TLB entries',
    'ways',
    'tagged',
    'segment',
    'pte_special',
  ]);
  const descriptions = machinesData().map((m) => `  ${m.name}: ${m.description}\n`);
  return `${table}\n${descriptions.join('')}`;
}

function featuresData(): unknown[] {
  return listFeatures().map((f) => ({ name: f.name, summary: f.summary }));
}

function featuresText(): string {
  const features = listFeatures();
  if (features.length === 0) return 'no features are registered yet\n';
  return formatTable(
    features.map((f) => [f.name, f.summary]),
    ['feature', 'summary']
  );
}
