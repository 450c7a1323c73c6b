export {
  CAPTURE_FILES,
  USER_SPACE_END,
  isReplayable,
  parseCapture,
  readCapture,
  type Capture,
  type CaptureFileNames,
} from './capture-dir.js';
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
  replayCapture,
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
