/**
 * `gru`: processes that let a GRU-like device reference their memory,
 * unmap parts of it and exit: Jack Steiner's GRU regression runs in the
 * small, where the TLB invalidates are counted.
 * @module
 */

import { MAP_ANONYMOUS, MAP_PRIVATE, PAGE_SIZE, PROT_READ, PROT_WRITE, type Task } from '@mmlab/core';
import { GruContext } from '@mmlab/mmu-notifiers';
import { expectOk, expectOkOrOom, expectTask } from '../checks.js';
import { SpecError } from '../errors.js';
import { defineWorkload } from '../workload.js';
import { touchInBatches } from './batches.js';
import { closeAfterExit } from './drivers.js';

const NAME = 'gru';

/**
 * PROCS processes each map SIZE bytes anonymous private, write them, and
 * open a GRU context over them; the GRU references every page (each first
 * reference a TLB miss filled from the primary PTE). Each process then
 * unmaps the first half of its memory in UNMAPS munmap calls of equal size
 * (the GRU keeps referencing what is left between them), and the GRU
 * references the second half again. With COW > 0 each process then forks
 * and writes COW pages of the second half while the child lives: each
 * write breaks COW (`do_wp_page`'s `ptep_clear_flush`, a per-page
 * invalidate in every variant); the child exits. Snapshot; the processes exit one after
 * the other with their GRU context attached, so the teardown's callouts
 * reach it. With the `mmu-notifiers` feature the counters
 * `gru_tlb_invalidates` and `gru_tlb_invalidated_pages` say how many TLB
 * invalidate instructions this cost; without it the GRU pins what it
 * references and issues none.
 */
export const gru = defineWorkload({
  name: NAME,
  summary:
    'PROCS processes each map SIZE bytes, write them and let a GRU-like context reference every page; each unmaps the first half ' +
    'in UNMAPS munmap calls while the GRU references the rest; with COW, writes COW pages while a forked child lives; snapshot; the processes exit with their GRU context attached. ' +
    'With mmu-notifiers, gru_tlb_invalidates counts the GRU TLB invalidate instructions',
  params: {
    procs: { kind: 'int', default: 4, min: 1, max: 256, doc: 'processes, each with its own GRU context' },
    size: { kind: 'size', default: 4 * 2 ** 20, max: 2 ** 30, doc: "each process's memory referenced by the GRU" },
    unmaps: { kind: 'int', default: 8, min: 1, max: 4096, doc: 'munmap calls over the first half of each process memory' },
    cow: { kind: 'int', default: 0, min: 0, max: 1 << 20, doc: 'pages of the second half each process writes while a forked child lives (COW breaks)' },
  },
  run(ctx, { procs, size, unmaps, cow }) {
    const k = ctx.kernel;
    const pages = size / PAGE_SIZE;
    const half = Math.floor(pages / 2);
    if (half < unmaps) throw new SpecError(`${NAME}: SIZE ${pages} pages cannot be unmapped in ${unmaps} calls over its first half`);
    if (cow > pages - half) throw new SpecError(`${NAME}: COW ${cow} is more than the ${pages - half} pages of the second half`);
    const users: { task: Task; addr: number; ctx: GruContext }[] = [];
    const contexts: GruContext[] = [];
    const chunk = Math.floor(half / unmaps);
    closeAfterExit(k, contexts, () => {
      for (let p = 0; p < procs; p++) {
        const task = k.spawn();
        const addr = expectOk(NAME, `process ${p}: mmap`, k.mmap(task, 0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS));
        touchInBatches(NAME, `process ${p}: `, k, task, addr, size, true);
        const g = new GruContext(k, task.mm!, addr, size);
        contexts.push(g);
        GruContext.run(k, task, g.attach(k));
        expectOkOrOom(NAME, `process ${p}: gru references`, GruContext.run(k, task, g.accessRange(k, 0, pages, true)));
        users.push({ task, addr, ctx: g });
      }
      users.forEach(({ task, addr, ctx: g }, p) => {
        for (let u = 0; u < unmaps; u++) {
          expectOk(NAME, `process ${p}: munmap ${u}`, k.munmap(task, addr + u * chunk * PAGE_SIZE, chunk * PAGE_SIZE));
          expectOkOrOom(NAME, `process ${p}: gru references`, GruContext.run(k, task, g.accessRange(k, half, pages - half, false)));
        }
        if (cow > 0) {
          const child = expectTask(NAME, k.fork(task));
          touchInBatches(NAME, `process ${p}: cow `, k, task, addr + half * PAGE_SIZE, cow * PAGE_SIZE, true);
          expectOkOrOom(NAME, `process ${p}: gru references`, GruContext.run(k, task, g.accessRange(k, half, cow, true)));
          k.exit(child);
        }
      });
      ctx.snapshot();
      for (const { task } of users) k.exit(task);
    });
  },
});
