export {
  anonTouch,
  dio,
  forkExit,
  gru,
  hugetlbShm,
  kbuild,
  kvmGuest,
  OLTP_ROUND,
  OLTP_SCRATCH_PAGES,
  oltpDio,
  oltpSga,
  shmProcs,
  swapPressure,
  threadsFault,
  THREADS_FAULT_CHUNK,
  XIP_GUESTS_DATA_PAGES,
  xipGuests,
} from './builtin/index.js';
export { SGA_ADDR } from './builtin/hugetlb-shm.js';
export { expectNoSignal, expectOk, expectOkOrOom, expectTask, signalName } from './checks.js';
export { CaptureLineError, SpecError, WorkloadError, WorkloadStopped } from './errors.js';
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
export { isMachineFile, loadMachineProfile, machineProfileOf } from './machine-file.js';
export type {
  HostTimings,
  HugePageFigures,
  HugePagePoint,
  InvariantFigures,
  ReportedFeature,
  ReportedWorkload,
  RunConfig,
  RunReport,
  RunResult,
  WorkloadMetrics,
} from './report.js';
export { bindWorkload, resolveWorkload } from './resolve.js';
export { createRng, type Rng } from './rng.js';
export {
  DEFAULT_MACHINE,
  DEFAULT_TRACE_EVENTS,
  RUN_MODES,
  runWorkload,
  runWorkloadTraced,
  type ExploreStrategyName,
  type KernelTrace,
  type RunMode,
  type RunOptions,
  type TracedRun,
} from './run.js';
export { describeImportError, frameIn, syntaxErrorAt, withLocation, type SyntaxErrorAt } from './module-location.js';
export { formatSize, parseSize } from './size.js';
export { closestNames, unknownNameMessage } from './suggest.js';
export { parseSpec, type ParsedSpec } from './spec.js';
export {
  isModuleSpec,
  loadUserWorkload,
  type UserWorkload,
  type UserWorkloadFunction,
  type UserWorkloadObject,
  type WorkloadFunction,
} from './user.js';
export {
  defineWorkload,
  type KernelRequirement,
  type RequirementContext,
  type ResolvedWorkload,
  type StopCause,
  type Workload,
  type WorkloadContext,
} from './workload.js';
export * from './replay/index.js';
export * from './explore/index.js';
