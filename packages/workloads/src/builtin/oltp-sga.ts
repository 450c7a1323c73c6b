/**
 * `oltp-sga`: a database instance's processes attaching one large shared
 * segment (an Oracle or DB2 SGA in tmpfs-backed SysV shared memory) and
 * touching it: the page-table cost the shared page tables thread and the
 * later mshare proposals set out to remove.
 * @module
 */

import { MAP_FIXED, MAP_SHARED, PAGE_SIZE, PROT_READ, PROT_WRITE, errnoName, isErr, type Task } from '@mmlab/core';
import { touchInBatches } from './batches.js';
import { expectNoSignal } from '../checks.js';
import { WorkloadError } from '../errors.js';
import { formatSize } from '../size.js';
import { defineWorkload } from '../workload.js';
import { SGA_ADDR } from './hugetlb-shm.js';

const NAME = 'oltp-sga';

/** The unit each process reads a window of: 2 MiB, what one PTE table maps. */
const REGION = 2 * 2 ** 20;

/**
 * One tmpfs segment of `sga` bytes; the first process (the instance
 * startup) attaches it at 512 GiB (1 GiB-aligned, as databases attach
 * their SGA at a fixed address) and writes every page; then each of
 * `procs` processes (the first included) attaches it there and reads
 * `window` bytes at a seeded random page offset in every 2 MiB of it (the
 * blocks its queries visit). Snapshot once all have; then all exit and the segment is
 * removed.
 */
export const oltpSga = defineWorkload({
  name: NAME,
  summary:
    'a database SGA: one tmpfs segment of SGA bytes attached MAP_SHARED at 512 GiB (1 GiB-aligned) by PROCS ' +
    'processes; the first writes every page, then each reads WINDOW bytes at a random offset in every 2 MiB; ' +
    'snapshot when all have; then all exit and the segment is removed',
  standsFor: 'the processes of one database instance attaching one large shared segment (an Oracle or DB2 SGA in SysV shared memory) and touching it',
  threads: ['shared-pagetables'],
  params: {
    procs: { kind: 'int', default: 64, min: 1, max: 4096, doc: 'number of database processes' },
    sga: { kind: 'size', default: 2 ** 30, min: 2 * 2 ** 20, max: 16 * 2 ** 30, multipleOf: PAGE_SIZE, doc: 'size of the shared segment' },
    window: {
      kind: 'size',
      default: 64 * 1024,
      min: PAGE_SIZE,
      max: REGION,
      multipleOf: PAGE_SIZE,
      doc: 'bytes each process reads in every 2 MiB of the segment, at a random offset',
    },
  },
  run(ctx, { procs, sga, window }) {
    const k = ctx.kernel;
    const file = k.shmemCreate(NAME, sga);
    const tasks: Task[] = [];
    for (let i = 0; i < procs; i++) {
      const t = k.spawn();
      tasks.push(t);
      const ret = k.mmap(t, SGA_ADDR, sga, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, file, 0);
      if (ret !== SGA_ADDR) {
        throw new WorkloadError(`${NAME}: process ${i}: shmat of ${formatSize(sga)} at 512g failed: ${isErr(ret) ? errnoName(ret) : `attached at ${ret}`}`);
      }
      // the instance startup writes every page
      if (i === 0) touchInBatches(NAME, 'process 0: ', k, t, SGA_ADDR, sga, true);
      for (let off = 0; off < sga; off += REGION) {
        const len = Math.min(window, sga - off);
        const at = off + ctx.rng.int(0, (Math.min(REGION, sga - off) - len) / PAGE_SIZE) * PAGE_SIZE;
        const sig = k.touch(t, SGA_ADDR + at, len, false);
        // the step is named only when it failed (half a million reads)
        if (sig !== 0) expectNoSignal(NAME, `process ${i}: read at +${formatSize(at)}`, sig);
      }
    }
    ctx.snapshot();
    for (const t of tasks) k.exit(t);
    k.shmemUnlink(file);
  },
});
