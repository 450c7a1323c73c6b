/**
 * User workloads: a JavaScript module on disk named in place of a built-in
 * workload (`./my.js:key=value`).
 *
 * The module's `default` export (or else its `workload` export) is either
 * - a function `(ctx, params) => void | Promise<void>`, given the raw
 *   `key=value` arguments (decimal integers as numbers, anything else as
 *   strings), or
 * - a workload object `{ name, summary, params, run }` like the built-ins,
 *   whose declared parameters are checked and given defaults (and an
 *   optional `requires(params, { machine })` hook sizing the huge page
 *   pool, as the built-ins may declare).
 * @module
 */

import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SpecError } from './errors.js';
import { describeImportError } from './module-location.js';
import type { ParamSpec } from './params.js';
import type { Workload, WorkloadContext } from './workload.js';

/** The function form of a user workload. */
export type WorkloadFunction = (
  ctx: WorkloadContext,
  params: Readonly<Record<string, number | string>>
) => void | Promise<void>;

/** A user module after loading: a function or a workload object. */
export type UserWorkload = UserWorkloadFunction | UserWorkloadObject;

/** A user module exporting a function. */
export interface UserWorkloadFunction {
  /** Discriminant. */
  readonly kind: 'function';
  /** The workload function. */
  readonly run: WorkloadFunction;
}

/** A user module exporting a workload object. */
export interface UserWorkloadObject {
  /** Discriminant. */
  readonly kind: 'object';
  /** The workload. */
  readonly workload: Workload;
}

/**
 * True when a specification names a module rather than a built-in workload:
 * it starts with `.` or `/`, or its name part ends in `.js` or `.mjs`.
 * @param spec - the workload specification
 */
export function isModuleSpec(spec: string): boolean {
  const name = spec.split(':', 1)[0] ?? '';
  return spec.startsWith('.') || spec.startsWith('/') || /\.m?js$/.test(name);
}

/**
 * Imports a user workload module.
 * @param path - the module path, relative to `cwd` unless absolute
 * @param cwd - the directory relative paths start from
 * @throws {@link SpecError} when the module cannot be loaded or exports
 *   neither form
 */
export async function loadUserWorkload(path: string, cwd: string): Promise<UserWorkload> {
  const file = isAbsolute(path) ? path : resolve(cwd, path);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (err) {
    throw new SpecError(`cannot load workload module '${path}': ${describeImportError(err, file, path)}`);
  }
  const value = mod.default ?? mod.workload;
  if (typeof value === 'function') {
    return { kind: 'function', run: value as WorkloadFunction };
  }
  if (isWorkloadShape(value)) {
    const workload: Workload = {
      name: typeof value.name === 'string' ? value.name : path,
      summary: typeof value.summary === 'string' ? value.summary : '',
      params: (value.params ?? {}) as Workload['params'],
      run: value.run as Workload['run'],
      ...(typeof value.requires === 'function' ? { requires: value.requires as Workload['requires'] } : {}),
    };
    return { kind: 'object', workload };
  }
  throw new SpecError(
    `workload module '${path}' must export default (or 'workload') as a function or a workload object`
  );
}

type WorkloadShape = Partial<Record<keyof Workload, unknown>>;

function isWorkloadShape(value: unknown): value is WorkloadShape {
  if (typeof value !== 'object' || value === null) return false;
  const w = value as WorkloadShape;
  if (typeof w.run !== 'function') return false;
  if (w.name !== undefined && typeof w.name !== 'string') return false;
  if (w.params === undefined) return true;
  if (typeof w.params !== 'object' || w.params === null) return false;
  return Object.values(w.params as Record<string, unknown>).every(isParamSpec);
}

function isParamSpec(value: unknown): value is ParamSpec {
  if (typeof value !== 'object' || value === null) return false;
  const p = value as Partial<Record<keyof ParamSpec, unknown>>;
  return (p.kind === 'int' || p.kind === 'size') && typeof p.default === 'number';
}
