/**
 * `threads-fault`: the threads of one process faulting a shared anonymous
 * region in at once, so that `mmap_sem` and the page-table locks contend.
 * @module
 */

import { MAP_ANONYMOUS, MAP_PRIVATE, PAGE_SIZE, PROT_READ, PROT_WRITE, type Task, type ThreadProgram } from '@mmlab/core';
import { expectNoSignal, expectOk } from '../checks.js';
import { defineWorkload } from '../workload.js';

const NAME = 'threads-fault';

/**
 * Pages each thread writes per round. Every round is one `runThreads`
 * (a scheduler run, a quiescent point at its end), so an explore-mode run
 * stays far below the scheduler's step bound and a trace or a checker run
 * between rounds sees a consistent kernel.
 */
export const THREADS_FAULT_CHUNK = 256;

/**
 * One process (`spawn`) and THREADS-1 threads (`clone(CLONE_VM)`), placed
 * on the CPUs round-robin. The process maps SIZE bytes anonymous private;
 * then all threads run at once (`runThreads`), thread i writing pages i,
 * i+T, i+2T, … one page per access, in rounds of
 * {@link THREADS_FAULT_CHUNK} pages per thread. Every first write is an
 * anonymous fault under `mmap_sem` (read) and the page's PTE lock; a new
 * PTE table is populated under `page_table_lock`. Snapshot; every thread
 * exits. In the sequential mode the threads run one after the other; in
 * the timed mode with at least THREADS CPUs they overlap and contend.
 */
export const threadsFault = defineWorkload({
  name: NAME,
  summary:
    'one process and THREADS-1 clone(CLONE_VM) threads; the process maps SIZE bytes anonymous private, ' +
    'then all threads run at once (runThreads), thread i writing pages i, i+T, i+2T, ... ' +
    `(rounds of ${THREADS_FAULT_CHUNK} pages per thread), so mmap_sem, page_table_lock and the split PTE ` +
    'locks contend (--mode timed --cpus >= THREADS); snapshot; all exit',
  standsFor: 'a multithreaded program faulting its memory in at once (a JVM or a threaded database starting up): mmap_sem and page-table lock contention',
  threads: [],
  params: {
    threads: { kind: 'int', default: 4, min: 1, max: 256, doc: 'number of threads (the process and its clones)' },
    size: { kind: 'size', default: 64 * 2 ** 20, max: 4 * 2 ** 30, doc: 'size of the shared anonymous mapping' },
  },
  run(ctx, { threads, size }) {
    const k = ctx.kernel;
    const leader = k.spawn();
    const tasks: Task[] = [leader];
    for (let i = 1; i < threads; i++) tasks.push(k.clone(leader));
    const addr = expectOk(NAME, 'mmap', k.mmap(leader, 0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS));
    const pages = size / PAGE_SIZE;
    const perRound = THREADS_FAULT_CHUNK * threads;
    // A thread that takes a signal stops; the signal is raised once every
    // thread is back at a quiescent point (no lock held by a dead path).
    const signals = new Array<number>(threads).fill(0);
    const where = new Array<number>(threads).fill(0);
    for (let base = 0; base < pages; base += perRound) {
      const end = Math.min(pages, base + perRound);
      const programs: ThreadProgram[] = tasks.map((task, i) => ({
        task,
        program: (function* () {
          const sys = k.sys(task);
          for (let p = base + i; p < end; p += threads) {
            const sig = yield* sys.touch(addr + p * PAGE_SIZE, PAGE_SIZE, true);
            if (sig !== 0) {
              signals[i] = sig;
              where[i] = p;
              return;
            }
          }
        })(),
      }));
      k.runThreads(programs);
      signals.forEach((sig, i) => {
        expectNoSignal(NAME, `thread ${i}: write at +${formatOffset(where[i]! * PAGE_SIZE)}`, sig);
      });
    }
    ctx.snapshot();
    for (const t of tasks) k.exit(t);
  },
});

function formatOffset(bytes: number): string {
  return bytes % 2 ** 20 === 0 ? `${bytes / 2 ** 20}m` : `${bytes / 1024}k`;
}
