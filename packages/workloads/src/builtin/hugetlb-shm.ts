/**
 * `hugetlb-shm`: many processes sharing one hugetlbfs segment at one fixed
 * address, the way a database maps its SGA — the case 2.6.20's hugetlb PMD
 * sharing was written for.
 * @module
 */

import {
  ENOMEM,
  HPAGE_SIZE,
  MAP_FIXED,
  MAP_SHARED,
  PROT_READ,
  PROT_WRITE,
  errnoName,
  isErr,
  type Kernel,
  type Task,
} from '@mmlab/core';
import { expectNoSignal } from '../checks.js';
import { WorkloadError } from '../errors.js';
import { formatSize } from '../size.js';
import { defineWorkload } from '../workload.js';

const NAME = 'hugetlb-shm';

/**
 * Where every process maps the segment: 512 GiB, aligned to 1 GiB (a PUD
 * entry's span), so each fully covered GiB can share one PMD table.
 */
export const SGA_ADDR = 0x80_0000_0000;

/** Bytes read or written by one access call: 256 MiB, so a `--check` run checks every 128 huge pages. */
const BATCH_BYTES = 256 * 2 ** 20;

/**
 * One hugetlbfs file of `size` bytes (the SGA); `procs` independent
 * processes each map all of it MAP_SHARED | MAP_FIXED read/write at
 * {@link SGA_ADDR}. Process 0 writes every page first (the huge page
 * faults), then every process reads every page; a process after the first
 * finds the PMD table of each fully covered GiB already there and shares it
 * (`huge_pmd_share`). Snapshot; all exit; the file is unlinked, which
 * returns its huge pages to the pool.
 *
 * Without `--hugepages`, the run's pool is `size / 2 MiB` huge pages, and
 * the memory is raised to twice `size` when the machine's default cannot
 * hold the pool (the core allows a pool of at most half of memory). With a
 * pool too small, the first mmap's ENOMEM (`hugetlb_reserve_pages`) is the
 * run's result.
 */
export const hugetlbShm = defineWorkload({
  name: NAME,
  summary:
    'one hugetlbfs file of SIZE bytes (a database SGA); PROCS independent processes each map all of it ' +
    'MAP_SHARED|MAP_FIXED at 512 GiB (1 GiB-aligned, so PMD tables are shared); process 0 writes every page, ' +
    'every process reads every page; snapshot; all exit and the file is unlinked. Sizes its own huge page ' +
    'pool (and memory) unless --hugepages is given; ENOMEM from a pool too small is the result',
  standsFor: 'a database SGA on huge pages: many processes mapping one hugetlbfs segment at one fixed address',
  threads: ['hugetlb-pagetable-ops'],
  params: {
    procs: { kind: 'int', default: 8, min: 1, max: 1024, doc: 'number of processes' },
    size: {
      kind: 'size',
      default: 2 * 2 ** 30,
      min: HPAGE_SIZE,
      max: 16 * 2 ** 30,
      multipleOf: HPAGE_SIZE,
      doc: 'size of the hugetlbfs segment (a multiple of 2m)',
    },
  },
  requires({ size }, { machine }) {
    const hugePages = size / HPAGE_SIZE;
    const memBytes = 2 * size;
    return memBytes > machine.memBytes ? { hugePages, memBytes } : { hugePages };
  },
  run(ctx, { procs, size }) {
    const k = ctx.kernel;
    const file = k.hugetlbfsCreate(NAME, size);
    const tasks: Task[] = [];
    for (let i = 0; i < procs; i++) {
      const t = k.spawn();
      tasks.push(t);
      const step = `process ${i}: mmap ${formatSize(size)} hugetlbfs at 512g`;
      const ret = k.mmap(t, SGA_ADDR, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, file, 0);
      if (isErr(ret) && -ret === ENOMEM) {
        // The pool cannot reserve the segment: a result of the run, not a failure.
        ctx.snapshot();
        for (const task of tasks) k.exit(task);
        k.shmemUnlink(file);
        ctx.stop(step, { errno: ENOMEM, oom: false });
      }
      if (ret !== SGA_ADDR) {
        throw new WorkloadError(`${NAME}: ${step} failed: ${isErr(ret) ? errnoName(ret) : `mapped at ${ret}`}`);
      }
      if (i === 0) access(k, t, size, true, 'process 0: ');
      access(k, t, size, false, `process ${i}: `);
    }
    ctx.snapshot();
    for (const t of tasks) k.exit(t);
    k.shmemUnlink(file);
  },
});

/** Reads or writes every page of the segment, `BATCH_BYTES` per call. */
function access(k: Kernel, t: Task, size: number, write: boolean, who: string): void {
  for (let off = 0; off < size; off += BATCH_BYTES) {
    const n = Math.min(BATCH_BYTES, size - off);
    const step = `${who}${write ? 'write' : 'read'} at +${off === 0 ? '0' : formatSize(off)}`;
    expectNoSignal(NAME, step, k.touch(t, SGA_ADDR + off, n, write));
  }
}
