/**
 * `swap-pressure`: one process writing, then re-reading, more anonymous
 * memory than the machine has RAM (with `--mem` smaller than SIZE).
 * @module
 */

import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '@mmlab/core';
import { expectOk } from '../checks.js';
import { defineWorkload } from '../workload.js';
import { touchInBatches } from './batches.js';

const NAME = 'swap-pressure';

/**
 * One process maps `size` bytes anonymous private, writes every page, then
 * reads every page again, both in 1 MiB batches. With less RAM than `size`
 * the writes push earlier pages out to swap (`pswpout`) and the re-reads
 * fault them back in (`pgmajfault`, `pswpin`); with check on, the oracle
 * verifies that every page reads back what was written. Snapshot; exit.
 * When RAM and swap together cannot hold `size`, the OOM killer's SIGKILL
 * ends the run and the report records it as its result.
 */
export const swapPressure = defineWorkload({
  name: NAME,
  summary:
    'one process maps SIZE bytes anonymous private, writes every page, then re-reads every page ' +
    '(1 MiB per access call); with --mem smaller than SIZE it swaps out and back in; snapshot; exit. ' +
    'An OOM kill (RAM + swap too small) is reported as the result',
  standsFor: 'a program whose working set is larger than RAM: reclaim, swap-out and swap-in',
  threads: [],
  params: {
    size: { kind: 'size', default: 512 * 2 ** 20, max: 16 * 2 ** 30, doc: 'size of the anonymous mapping' },
  },
  run(ctx, { size }) {
    const k = ctx.kernel;
    const t = k.spawn();
    const addr = expectOk(NAME, 'mmap', k.mmap(t, 0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS));
    touchInBatches(NAME, '', k, t, addr, size, true);
    touchInBatches(NAME, '', k, t, addr, size, false);
    ctx.snapshot();
    k.exit(t);
  },
});
