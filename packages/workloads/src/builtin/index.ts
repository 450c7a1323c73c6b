export { anonTouch } from './anon-touch.js';
export { forkExit } from './fork-exit.js';
export { shmProcs } from './shm-procs.js';
