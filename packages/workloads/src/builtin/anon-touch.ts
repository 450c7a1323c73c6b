/**
 * `anon-touch`: one process writing every page of an anonymous mapping.
 * @module
 */

import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '@mmlab/core';
import { expectNoSignal, expectOk } from '../checks.js';
import { defineWorkload } from '../workload.js';

const NAME = 'anon-touch';

/**
 * One process maps `size` bytes anonymous private and writes every page
 * (one anonymous fault per page); snapshot; exit.
 */
export const anonTouch = defineWorkload({
  name: NAME,
  summary: 'one process maps SIZE bytes anonymous private and writes every page; snapshot; exit',
  standsFor: 'any program filling its heap: first-touch anonymous faults, page by page',
  threads: [],
  params: {
    size: { kind: 'size', default: 256 * 2 ** 20, max: 16 * 2 ** 30, doc: 'size of the anonymous mapping' },
  },
  run(ctx, { size }) {
    const k = ctx.kernel;
    const t = k.spawn();
    const addr = expectOk(NAME, 'mmap', k.mmap(t, 0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS));
    expectNoSignal(NAME, 'write', k.touch(t, addr, size, true));
    ctx.snapshot();
    k.exit(t);
  },
});
