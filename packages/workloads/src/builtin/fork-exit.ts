/**
 * `fork-exit`: a parent with written anonymous memory and children that
 * each copy-on-write all of it.
 * @module
 */

import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '@mmlab/core';
import { expectNoSignal, expectOk, expectTask } from '../checks.js';
import { defineWorkload } from '../workload.js';

const NAME = 'fork-exit';

/**
 * The parent writes `size` bytes of anonymous memory, forks `procs` children
 * that stay alive together, and each child writes every page (a COW fault
 * per page, since the parent still maps it). Snapshot; then the children
 * exit, then the parent.
 */
export const forkExit = defineWorkload({
  name: NAME,
  summary:
    'the parent writes SIZE bytes of anonymous memory and forks PROCS children that stay ' +
    'alive together, each writing every page (COW); snapshot; children exit, then the parent',
  standsFor: 'a forking server (Apache prefork) whose children write to the memory they inherit: fork, copy-on-write and exit',
  threads: [],
  params: {
    procs: { kind: 'int', default: 8, min: 1, max: 1024, doc: 'number of children' },
    size: { kind: 'size', default: 64 * 2 ** 20, max: 4 * 2 ** 30, doc: 'size of the anonymous mapping' },
  },
  run(ctx, { procs, size }) {
    const k = ctx.kernel;
    const parent = k.spawn();
    const addr = expectOk(
      NAME,
      'parent: mmap',
      k.mmap(parent, 0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS)
    );
    expectNoSignal(NAME, 'parent: write', k.touch(parent, addr, size, true));
    const children = [];
    for (let i = 0; i < procs; i++) children.push(expectTask(NAME, k.fork(parent)));
    children.forEach((child, i) => {
      expectNoSignal(NAME, `child ${i}: write`, k.touch(child, addr, size, true));
    });
    ctx.snapshot();
    for (const child of children) k.exit(child);
    k.exit(parent);
  },
});
