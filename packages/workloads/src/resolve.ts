/**
 * From a specification string to a runnable workload: built-in names and
 * user modules alike.
 * @module
 */

import { isAbsolute, resolve } from 'node:path';
import { SpecError, WorkloadError, WorkloadStopped } from './errors.js';
import { withLocation } from './module-location.js';
import { formatParamValue, resolveParams } from './params.js';
import { getWorkload, listWorkloads } from './registry.js';
import { parseSpec } from './spec.js';
import { unknownNameMessage } from './suggest.js';
import { isModuleSpec, loadUserWorkload } from './user.js';
import type { RequirementContext, ResolvedWorkload, Workload } from './workload.js';

/**
 * Binds a workload to the raw arguments of a specification.
 * @param workload - the workload
 * @param args - raw `key=value` pairs
 * @param label - the name used in messages and in the canonical spec
 * @throws {@link SpecError} on an unknown key or a bad value
 */
export function bindWorkload(
  workload: Workload,
  args: ReadonlyMap<string, string>,
  label = workload.name
): ResolvedWorkload {
  const params = resolveParams(label, workload.params, args);
  const spec = [
    label,
    ...Object.entries(workload.params).map(([key, p]) => `${key}=${formatParamValue(p, params[key] ?? p.default)}`),
  ].join(':');
  return {
    name: label,
    spec,
    params,
    run: (ctx) => workload.run(ctx, params),
    ...(workload.requires === undefined
      ? {}
      : { requires: (context: RequirementContext) => workload.requires?.(params, context) ?? {} }),
  };
}

/**
 * Resolves a workload specification (`shm-procs:procs=4:size=64m`, or
 * `./my.mjs:key=value` for a user module).
 * @param text - the specification
 * @param cwd - directory that relative module paths start from
 * @throws {@link SpecError} for an unknown workload, unknown key, bad value,
 *   or a module that cannot be loaded
 */
export async function resolveWorkload(text: string, cwd = process.cwd()): Promise<ResolvedWorkload> {
  const parsed = parseSpec(text, 'workload');
  if (isModuleSpec(text)) {
    const user = await loadUserWorkload(parsed.name, cwd);
    const where = { label: parsed.name, file: isAbsolute(parsed.name) ? parsed.name : resolve(cwd, parsed.name) };
    if (user.kind === 'object') {
      const bound = bindWorkload(user.workload, parsed.args, parsed.name);
      const requires = bound.requires;
      return {
        ...bound,
        run: guarded(where, bound.run),
        ...(requires === undefined ? {} : { requires: guardedRequires(where, requires) }),
      };
    }
    const params = rawParams(parsed.args);
    const spec = [parsed.name, ...[...parsed.args].map(([k, v]) => `${k}=${v}`)].join(':');
    return { name: parsed.name, spec, params, run: guarded(where, (ctx) => user.run(ctx, params)) };
  }
  const workload = getWorkload(parsed.name);
  if (workload === undefined) {
    throw new SpecError(unknownNameMessage('workload', parsed.name, listWorkloads().map((w) => w.name)));
  }
  return bindWorkload(workload, parsed.args);
}

/** A user module: the path as written, and the absolute file. */
interface ModuleWhere {
  readonly label: string;
  readonly file: string;
}

/** The first line of what was thrown, and where in the user's module it was thrown. */
function thrownBy(err: unknown, where: ModuleWhere): string {
  const why = (err instanceof Error ? err.message : String(err)).split('\n', 1)[0] ?? '';
  return withLocation(why, err, where.file, where.label);
}

/**
 * Reports anything a user module throws as a {@link WorkloadError} naming
 * the module and the line it threw at ({@link WorkloadStopped}, a result
 * of the run, passes through).
 */
function guarded(where: ModuleWhere, run: ResolvedWorkload['run']): ResolvedWorkload['run'] {
  return async (ctx) => {
    try {
      await run(ctx);
    } catch (err) {
      if (err instanceof WorkloadError || err instanceof WorkloadStopped) throw err;
      throw new WorkloadError(`${where.label}: ${thrownBy(err, where)}`);
    }
  };
}

/** Reports anything a user module's `requires` hook throws as a {@link WorkloadError}. */
function guardedRequires(
  where: ModuleWhere,
  requires: NonNullable<ResolvedWorkload['requires']>
): NonNullable<ResolvedWorkload['requires']> {
  return (context) => {
    try {
      return requires(context);
    } catch (err) {
      throw new WorkloadError(`${where.label}: requires: ${thrownBy(err, where)}`);
    }
  };
}

function rawParams(args: ReadonlyMap<string, string>): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const [key, value] of args) {
    const n = Number(value);
    out[key] = /^\d+$/.test(value) && Number.isSafeInteger(n) ? n : value;
  }
  return out;
}
