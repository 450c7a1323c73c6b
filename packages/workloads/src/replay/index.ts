export { CAPTURE_FILES, USER_SPACE_END, isReplayable, parseCapture, readCapture, type Capture } from './capture-dir.js';
export { HOST_PAGE_SIZE, PageRunBuilder, countPages, formatPresent, parsePresent, type PageRun } from './present.js';
export { replayCapture, type ReplayOptions, type ReplayReport } from './replay.js';
export { parseSmaps, type SmapsVma } from './smaps.js';
export { parseStatus, statusKb } from './status.js';
