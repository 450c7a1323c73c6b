/**
 * `dio`: processes doing direct-I/O-like transfers on their own anonymous
 * buffers: `get_user_pages` pins 64 pages, the data moves, `put_page`.
 * @module
 */

import { MAP_ANONYMOUS, MAP_PRIVATE, PAGE_SIZE, PROT_READ, PROT_WRITE, type Task } from '@mmlab/core';
import { expectOk, expectOkOrOom } from '../checks.js';
import { WorkloadError } from '../errors.js';
import { formatSize } from '../size.js';
import { defineWorkload } from '../workload.js';
import { touchInBatches } from './batches.js';

const NAME = 'dio';

/** Pages pinned by one direct-I/O call. */
export const DIO_PAGES = 64;

/**
 * `procs` processes each map `size` bytes anonymous private and write all of
 * it. Then `passes` passes over every buffer in calls of 64 pages
 * (`kernel.directIo`: get_user_pages, data move, put_page), the processes
 * taking turns call by call; even passes move data device→memory (reads into
 * the buffer: gup with write), odd passes memory→device (writes from it).
 * Snapshot; every process exits. The result counts `gup_calls` (one per
 * direct-I/O call), `gup_pages` (pages pinned and released) and the pages
 * moved each way.
 */
export const dio = defineWorkload({
  name: NAME,
  summary:
    'PROCS processes each map SIZE bytes anonymous private and write it; then PASSES passes of ' +
    'direct-IO-like transfers of 64 pages per call (get_user_pages, data move, put_page), ' +
    'device->memory on even passes and memory->device on odd ones; snapshot; all exit. ' +
    'The result counts gup calls and pages',
  standsFor: 'a database doing direct I/O (O_DIRECT) into its own buffers: get_user_pages pins them while the device moves the data',
  threads: ['mixedmap'],
  params: {
    procs: { kind: 'int', default: 4, min: 1, max: 1024, doc: 'number of processes' },
    size: { kind: 'size', default: 64 * 2 ** 20, max: 4 * 2 ** 30, doc: 'size of each process buffer' },
    passes: { kind: 'int', default: 2, min: 1, max: 1000, doc: 'passes over every buffer (even: to memory, odd: from)' },
  },
  run(ctx, { procs, size, passes }) {
    const k = ctx.kernel;
    const buffers: { task: Task; addr: number }[] = [];
    for (let i = 0; i < procs; i++) {
      const task = k.spawn();
      const addr = expectOk(
        NAME,
        `process ${i}: mmap`,
        k.mmap(task, 0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS)
      );
      touchInBatches(NAME, `process ${i}: `, k, task, addr, size, true);
      buffers.push({ task, addr });
    }
    const totalPages = size / PAGE_SIZE;
    for (const figure of ['gup_calls', 'gup_pages', 'pages_to_memory', 'pages_from_memory']) ctx.count(figure, 0);
    for (let pass = 0; pass < passes; pass++) {
      const toMemory = pass % 2 === 0;
      for (let first = 0; first < totalPages; first += DIO_PAGES) {
        buffers.forEach(({ task, addr }, i) => {
          let page = first;
          const end = Math.min(first + DIO_PAGES, totalPages);
          // A call that pins fewer pages than asked stopped at a page it could
          // not fault in: the next call starts there (and fails if it still cannot).
          while (page < end) {
            const step = `process ${i}: pass ${pass}: direct io at +${page === 0 ? '0' : formatSize(page * PAGE_SIZE)}`;
            const moved = expectOkOrOom(NAME, step, k.directIo(task, addr + page * PAGE_SIZE, end - page, toMemory));
            if (moved === 0) throw new WorkloadError(`${NAME}: ${step} moved no pages`);
            ctx.count('gup_calls');
            ctx.count('gup_pages', moved);
            ctx.count(toMemory ? 'pages_to_memory' : 'pages_from_memory', moved);
            page += moved;
          }
        });
      }
    }
    ctx.snapshot();
    for (const { task } of buffers) k.exit(task);
  },
});
