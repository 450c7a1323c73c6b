/**
 * Stand-ins for the Node built-ins that `@mmlab/workloads` imports for user
 * workload modules and capture folders (see `vite.config.ts`). The app never
 * reaches them; if it did, the message says why.
 * @module
 */

function unavailable(name: string): never {
  throw new Error(`${name} is not available in the browser (workload modules and capture folders need the mmlab command)`);
}

/** Stand-in for `node:fs`'s `existsSync`. */
export const existsSync = (): never => unavailable('existsSync');
/** Stand-in for `node:fs`'s `statSync`. */
export const statSync = (): never => unavailable('statSync');
/** Stand-in for `node:fs/promises`'s `readFile`. */
export const readFile = (): never => unavailable('readFile');
/** Stand-in for `node:url`'s `fileURLToPath`. */
export const fileURLToPath = (): never => unavailable('fileURLToPath');
/** Stand-in for `node:url`'s `pathToFileURL`. */
export const pathToFileURL = (): never => unavailable('pathToFileURL');
/** Stand-in for `node:path`'s `isAbsolute`. */
export const isAbsolute = (): never => unavailable('isAbsolute');
/** Stand-in for `node:path`'s `resolve`. */
export const resolve = (): never => unavailable('resolve');
/** Stand-in for `node:path`'s `join`. */
export const join = (): never => unavailable('join');
/** Stand-in for `node:child_process`'s `spawnSync`. */
export const spawnSync = (): never => unavailable('spawnSync');
