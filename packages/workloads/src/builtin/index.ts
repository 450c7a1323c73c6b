export { anonTouch } from './anon-touch.js';
export { dio } from './dio.js';
export { forkExit } from './fork-exit.js';
export { hugetlbShm } from './hugetlb-shm.js';
export { kbuild } from './kbuild.js';
export { oltpSga } from './oltp-sga.js';
export { shmProcs } from './shm-procs.js';
export { swapPressure } from './swap-pressure.js';
export { THREADS_FAULT_CHUNK, threadsFault } from './threads-fault.js';
