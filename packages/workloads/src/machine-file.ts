/**
 * `--machine` as a built-in profile's name or a machine profile file (the
 * JSON `mmlab calibrate` writes): a value starting with `.` or `/`, or
 * ending in `.json`, is a file.
 * @module
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { getMachine, KernelConfigError, type MachineProfile, parseMachineProfile } from '@mmlab/core';

/**
 * True when a `--machine` value names a profile file rather than a
 * built-in profile (it starts with `.` or `/`, or ends in `.json`).
 * @param machine - the value
 */
export function isMachineFile(machine: string): boolean {
  return machine.startsWith('.') || machine.startsWith('/') || machine.endsWith('.json');
}

/**
 * Reads and checks a machine profile file.
 * @param path - the file, relative to `cwd` unless absolute
 * @param cwd - where a relative path starts (default the process's)
 * @throws `KernelConfigError` (`@mmlab/core`) when the file cannot be read, is not JSON, or is not a valid profile; the message names the file
 */
export function loadMachineProfile(path: string, cwd: string = process.cwd()): MachineProfile {
  let text: string;
  try {
    text = readFileSync(resolve(cwd, path), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a directory' : (err as Error).message;
    throw new KernelConfigError(`cannot read machine profile '${path}': ${why}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new KernelConfigError(`${path}: not JSON (${(err as Error).message})`);
  }
  return parseMachineProfile(json, path);
}

/**
 * The profile a `--machine` value selects: a built-in profile by name, or
 * the profile in a file; undefined for an unknown name.
 * @param machine - a built-in profile's name or a profile file
 * @param cwd - where a relative file path starts
 * @throws `KernelConfigError` (`@mmlab/core`) for a file that cannot be used
 */
export function machineProfileOf(machine: string, cwd?: string): MachineProfile | undefined {
  return isMachineFile(machine) ? loadMachineProfile(machine, cwd) : getMachine(machine);
}
