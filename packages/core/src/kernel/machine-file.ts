/**
 * Machine profiles as data: the JSON form a calibrated profile is written
 * in (`mmlab calibrate`), read back with every field checked, so that a
 * profile file selects the machine as a built-in profile name does.
 *
 * The form is one JSON object: `format` (`"mmlab-machine-profile"`),
 * `version` (1), optionally `base` (a built-in profile the missing fields
 * come from), the {@link MachineProfile} fields (`costs` may name only
 * some costs when there is a base), and optionally `calibration` (how the
 * costs were obtained; kept, not interpreted).
 * @module
 */
import { COST_KEYS, type CostTable } from '../machine/cost.js';
import { getMachine, listMachines, type MachineProfile } from '../machine/profile.js';
import { KernelConfigError } from '../seams/feature.js';

/** The `format` field of a machine profile file. */
export const MACHINE_PROFILE_FORMAT = 'mmlab-machine-profile';
/** The `version` of the machine profile files this model reads and writes. */
export const MACHINE_PROFILE_VERSION = 1;

/** A machine profile file as written (JSON). */
export interface MachineProfileFile extends Omit<MachineProfile, 'costs'> {
  /** Always {@link MACHINE_PROFILE_FORMAT}. */
  readonly format: typeof MACHINE_PROFILE_FORMAT;
  /** Always {@link MACHINE_PROFILE_VERSION}. */
  readonly version: number;
  /** The built-in profile the fields not given come from. */
  readonly base?: string;
  /** The costs, ns each. */
  readonly costs: Readonly<CostTable>;
  /** How the profile was obtained (free-form, kept as is). */
  readonly calibration?: Readonly<Record<string, unknown>>;
}

type Scalar = 'string' | 'boolean' | 'count' | 'bytes';

/** The profile's fields other than `costs`, with what each must be. */
const FIELDS: Readonly<Record<Exclude<keyof MachineProfile, 'costs'>, Scalar>> = {
  name: 'string',
  description: 'string',
  cpus: 'count',
  sockets: 'count',
  structPageSize: 'count',
  placement: 'string',
  memBytes: 'bytes',
  tlbEntries: 'count',
  tlbWays: 'count',
  tlbTagged: 'boolean',
  segmentBytes: 'bytes',
  pteSpecial: 'boolean',
};

const META = new Set(['format', 'version', 'base', 'calibration', 'costs']);

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `'${v}'`;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return typeof v === 'object' ? 'an object' : typeof v;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** One scalar field, checked. */
function field(origin: string, key: string, kind: Scalar, v: unknown): string | boolean | number {
  const bad = (want: string): KernelConfigError => new KernelConfigError(`${origin}: '${key}' must be ${want}, got ${describe(v)}`);
  switch (kind) {
    case 'string':
      if (typeof v !== 'string' || v === '') throw bad('a non-empty string');
      if (key === 'placement' && v !== 'legacy' && v !== 'aligned') throw bad("'legacy' or 'aligned'");
      return v;
    case 'boolean':
      if (typeof v !== 'boolean') throw bad('true or false');
      return v;
    case 'count':
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw bad('a whole number of at least 1');
      return v;
    case 'bytes':
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v % 4096 !== 0) throw bad('a whole number of bytes, a multiple of 4096');
      return v;
  }
}

/**
 * Checks a parsed machine profile file and returns the profile it
 * describes. `origin` (the file's name) starts every message.
 * @param value - the parsed JSON
 * @param origin - where it came from, for messages
 * @throws {@link KernelConfigError} naming the first bad, missing or unknown field
 */
export function parseMachineProfile(value: unknown, origin: string): MachineProfile {
  if (!isRecord(value)) throw new KernelConfigError(`${origin}: a machine profile must be a JSON object, got ${describe(value)}`);
  if (value.format !== MACHINE_PROFILE_FORMAT) {
    throw new KernelConfigError(`${origin}: not a machine profile ('format' must be '${MACHINE_PROFILE_FORMAT}', got ${describe(value.format)})`);
  }
  if (value.version !== MACHINE_PROFILE_VERSION) {
    throw new KernelConfigError(`${origin}: machine profile version ${describe(value.version)} is not supported (this mmlab reads version ${MACHINE_PROFILE_VERSION})`);
  }
  let base: MachineProfile | undefined;
  if (value.base !== undefined) {
    base = typeof value.base === 'string' ? getMachine(value.base) : undefined;
    if (base === undefined) throw new KernelConfigError(`${origin}: 'base' must name a built-in machine profile (${listMachines().join(', ')}), got ${describe(value.base)}`);
  }
  for (const key of Object.keys(value)) {
    if (!META.has(key) && !(key in FIELDS)) throw new KernelConfigError(`${origin}: unknown field '${key}'`);
  }
  if (value.calibration !== undefined && !isRecord(value.calibration)) {
    throw new KernelConfigError(`${origin}: 'calibration' must be an object, got ${describe(value.calibration)}`);
  }
  const out: Record<string, unknown> = {};
  for (const [key, kind] of Object.entries(FIELDS)) {
    const v = value[key] ?? base?.[key as keyof MachineProfile];
    if (v === undefined) throw new KernelConfigError(`${origin}: missing field '${key}' (or a 'base' profile to take it from)`);
    out[key] = field(origin, key, kind, v);
  }
  const costs = value.costs ?? {};
  if (!isRecord(costs)) throw new KernelConfigError(`${origin}: 'costs' must be an object of costs in ns, got ${describe(costs)}`);
  for (const key of Object.keys(costs)) {
    if (!(COST_KEYS as readonly string[]).includes(key)) throw new KernelConfigError(`${origin}: unknown cost 'costs.${key}' (known: ${COST_KEYS.join(', ')})`);
  }
  const table: Partial<Record<keyof CostTable, number>> = {};
  for (const key of COST_KEYS) {
    const v = costs[key] ?? base?.costs[key];
    if (v === undefined) throw new KernelConfigError(`${origin}: missing cost 'costs.${key}' (or a 'base' profile to take it from)`);
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new KernelConfigError(`${origin}: 'costs.${key}' must be a number of ns, 0 or more, got ${describe(v)}`);
    table[key] = v;
  }
  if ((out.tlbEntries as number) % (out.tlbWays as number) !== 0) {
    throw new KernelConfigError(`${origin}: 'tlbEntries' (${String(out.tlbEntries)}) must be a multiple of 'tlbWays' (${String(out.tlbWays)})`);
  }
  return Object.freeze({ ...out, costs: Object.freeze(table as CostTable) }) as MachineProfile;
}

/**
 * The file form of a profile: every field written out, so the file reads
 * without a base; `base` and `calibration` are recorded when given.
 * @param profile - the profile
 * @param base - the built-in profile it was derived from, if any
 * @param calibration - how it was obtained, if it was calibrated
 */
export function machineProfileFile(profile: MachineProfile, base?: string, calibration?: Record<string, unknown>): MachineProfileFile {
  return {
    format: MACHINE_PROFILE_FORMAT,
    version: MACHINE_PROFILE_VERSION,
    ...(base === undefined ? {} : { base }),
    name: profile.name,
    description: profile.description,
    cpus: profile.cpus,
    sockets: profile.sockets,
    structPageSize: profile.structPageSize,
    placement: profile.placement,
    memBytes: profile.memBytes,
    tlbEntries: profile.tlbEntries,
    tlbWays: profile.tlbWays,
    tlbTagged: profile.tlbTagged,
    segmentBytes: profile.segmentBytes,
    pteSpecial: profile.pteSpecial,
    costs: { ...profile.costs },
    ...(calibration === undefined ? {} : { calibration }),
  };
}
