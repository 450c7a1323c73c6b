export { anonTouch, dio, forkExit, shmProcs, swapPressure } from './builtin/index.js';
export { expectNoSignal, expectOk, expectOkOrOom, expectTask, signalName } from './checks.js';
export { SpecError, WorkloadError, WorkloadStopped } from './errors.js';
export {
  checkParam,
  formatParamValue,
  parseParam,
  resolveParams,
  type ParamKind,
  type ParamSpec,
  type ParamSpecs,
  type ParamValues,
} from './params.js';
export { getWorkload, listWorkloads } from './registry.js';
export type { ReportedFeature, RunConfig, RunReport, RunResult } from './report.js';
export { bindWorkload, resolveWorkload } from './resolve.js';
export { createRng, type Rng } from './rng.js';
export { DEFAULT_MACHINE, runWorkload, type RunOptions } from './run.js';
export { formatSize, parseSize } from './size.js';
export { parseSpec, type ParsedSpec } from './spec.js';
export { isModuleSpec, loadUserWorkload, type UserWorkload, type WorkloadFunction } from './user.js';
export { defineWorkload, type ResolvedWorkload, type Workload, type WorkloadContext } from './workload.js';
export * from './replay/index.js';
