export {
  CAPTURE_FILES,
  USER_SPACE_END,
  isReplayable,
  parseCapture,
  readCapture,
  readCaptureFile,
  tryReadCaptureFile,
  type Capture,
  type CaptureFileNames,
  type CaptureFileText,
} from './capture-dir.js';
export {
  GROUP_FILE,
  GROUP_FORMAT,
  formatGroupManifest,
  parseGroupManifest,
  readCaptureGroup,
  type CaptureGroup,
  type CaptureNames,
  type CapturedProcess,
  type GroupManifest,
  type GroupMember,
  type SysvSegment,
} from './group.js';
export {
  groupReplayWorkload,
  replayGroup,
  replayMemBytes,
  sharedFiles,
  type GroupModelFigures,
  type GroupReplayOptions,
  type GroupReplayed,
  type ReplayedProcessFigures,
  type VmPteFigure,
  type GroupReplayProcess,
  type GroupReplayReport,
  type GroupReplayWorkload,
} from './group-replay.js';
export { anonymiseCapture, type AnonymisedCapture } from './anonymise.js';
export {
  HOST_PAGE_SIZE,
  PageRunBuilder,
  countPages,
  formatPresent,
  parsePresent,
  parsePresentLines,
  presentTrailer,
  type PageRun,
  type PresentLines,
} from './present.js';
export {
  createFiles,
  fileKey,
  replayCapture,
  replayProcess,
  type ReplayInvariants,
  type ReplayKernelFigures,
  type ReplayModelFigures,
  type ReplayOptions,
  type ReplayReport,
  type ReplayTables,
  type ReplayedFigures,
  type ReplayedProcess,
} from './replay.js';
export { endsWithNewline, parseSmaps, type SmapsVma } from './smaps.js';
export { parseStatus, statusKb } from './status.js';
