/**
 * `shm-procs`: many processes mapping one shared tmpfs file, the OLTP shape
 * that motivated shared page tables.
 * @module
 */

import { MAP_SHARED, PROT_READ, PROT_WRITE } from '@mmlab/core';
import { expectNoSignal, expectOk } from '../checks.js';
import { defineWorkload } from '../workload.js';

const NAME = 'shm-procs';

/**
 * One tmpfs file of `size` bytes; `procs` independent processes each map all
 * of it MAP_SHARED read/write and read every page. Snapshot once all have
 * done so; then every process exits.
 */
export const shmProcs = defineWorkload({
  name: NAME,
  summary:
    'one tmpfs file of SIZE bytes; PROCS independent processes each map all of it ' +
    'MAP_SHARED read/write and read every page; snapshot when all have; then all exit',
  standsFor: 'an OLTP database: hundreds of server processes mapping one large shared memory segment (the SGA) and reading all of it',
  threads: ['shared-pagetables'],
  params: {
    procs: { kind: 'int', default: 32, min: 1, max: 4096, doc: 'number of processes' },
    size: { kind: 'size', default: 256 * 2 ** 20, max: 16 * 2 ** 30, doc: 'size of the shared file' },
  },
  run(ctx, { procs, size }) {
    const k = ctx.kernel;
    const file = k.shmemCreate(NAME, size);
    const tasks = [];
    for (let i = 0; i < procs; i++) {
      const t = k.spawn();
      const addr = expectOk(
        NAME,
        `process ${i}: mmap`,
        k.mmap(t, 0, size, PROT_READ | PROT_WRITE, MAP_SHARED, file, 0)
      );
      expectNoSignal(NAME, `process ${i}: read`, k.touch(t, addr, size, false));
      tasks.push(t);
    }
    ctx.snapshot();
    for (const t of tasks) k.exit(t);
  },
});
