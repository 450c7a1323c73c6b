/**
 * `mmlab list workloads|machines|features [--json]`.
 * @module
 */

import { getMachine, listMachines } from '@mmlab/core';
import { formatParamValue, listWorkloads } from '@mmlab/workloads';
import { parseArgs } from '../argv.js';
import { UsageError } from '../errors.js';
import { listFeatures } from '../features.js';
import { toJson } from '../format/json.js';
import { formatTable } from '../format/table.js';
import type { Io } from '../io.js';
import { LIST_USAGE } from '../usage.js';

const TOPICS = ['workloads', 'machines', 'features'] as const;

/**
 * Runs `mmlab list`.
 * @param args - arguments after `list`
 * @param io - output streams
 * @returns the exit code
 * @throws {@link UsageError} on a missing or unknown topic or option
 */
export function listCommand(args: readonly string[], io: Io): number {
  const parsed = parseArgs(args, { json: { kind: 'flag' } }, LIST_USAGE);
  const [topic, ...rest] = parsed.positionals;
  if (topic === undefined) throw new UsageError('list what?', LIST_USAGE);
  if (rest.length > 0) throw new UsageError(`unexpected argument '${rest[0] ?? ''}'`, LIST_USAGE);
  const json = parsed.flags.get('json') === true;
  switch (topic) {
    case 'workloads':
      io.stdout(json ? toJson(workloadsData()) : workloadsText());
      return 0;
    case 'machines':
      io.stdout(json ? toJson(machinesData()) : machinesText());
      return 0;
    case 'features':
      io.stdout(json ? toJson(featuresData()) : featuresText());
      return 0;
    default:
      throw new UsageError(`unknown list '${topic}' (known: ${TOPICS.join(', ')})`, LIST_USAGE);
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

function machinesData(): unknown[] {
  return listMachines().map((name) => {
    const m = getMachine(name);
    return {
      name,
      description: m?.description ?? '',
      cpus: m?.cpus ?? 0,
      structPageSize: m?.structPageSize ?? 0,
      placement: m?.placement ?? 'legacy',
      memBytes: m?.memBytes ?? 0,
    };
  });
}

function machinesText(): string {
  const rows = listMachines().map((name) => {
    const m = getMachine(name);
    return [name, m?.cpus ?? 0, m?.placement ?? '', m?.description ?? ''];
  });
  return formatTable(rows, ['machine', 'cpus', 'placement', 'description']);
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
