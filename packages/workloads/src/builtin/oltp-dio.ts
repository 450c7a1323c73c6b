/**
 * `oltp-dio`: the OLTP direct-I/O load of the lockless get_user_pages
 * thread (DB2 on a 2-socket machine): database agents pin 64 pages per
 * I/O with `get_user_pages`, while other threads of the same processes
 * take `mmap_sem` with page faults and mmap/munmap.
 * @module
 */

import { MAP_ANONYMOUS, MAP_PRIVATE, PAGE_SIZE, PROT_READ, PROT_WRITE, type Task, type ThreadProgram, USER_STEP } from '@mmlab/core';
import { expectOk } from '../checks.js';
import { WorkloadError } from '../errors.js';
import { defineWorkload } from '../workload.js';
import { touchInBatches } from './batches.js';
import { DIO_PAGES } from './dio.js';

const NAME = 'oltp-dio';

/** Transactions per agent in one `runThreads` round (a quiescent point, and a checker run, between rounds). */
export const OLTP_ROUND = 8;
/** Pages of the scratch area each helper thread maps at the start of a round, faults in (two per transaction) and unmaps at its end. */
export const OLTP_SCRATCH_PAGES = 16;

/**
 * PROCS database processes, each with a buffer pool of POOL bytes
 * (anonymous, written once) and two threads: the agent and a helper,
 * placed round-robin on CPUS CPUs. Then every thread runs at once, in
 * rounds of {@link OLTP_ROUND} transactions: an agent's transaction reads
 * 64 pages from "disk" into its pool by direct I/O (`get_user_pages` with
 * write, data move, `put_page`) and reads them (the rows); the helper
 * maps 16 pages of scratch memory at the start of each round (`mmap_sem`
 * for write), write-faults two of them per transaction (`mmap_sem` for
 * read) and unmaps them at the end of the round (for write). Each thread
 * then spends WORK ns in user mode per transaction (SQL processing). Snapshot; all
 * exit. `metrics.workload`: `throughput` (agent transactions per simulated
 * second of the transaction phase), `transactions`, `elapsed_ns`, and
 * `mmap_sem_wait_ns` and `mmap_sem_share_pct` (time waited on `mmap_sem`
 * over the CPU time of the phase). Use `--mode timed` for the threads to
 * overlap and contend.
 */
export const oltpDio = defineWorkload({
  name: NAME,
  summary:
    'PROCS database processes on CPUS CPUs, each with a POOL-byte buffer pool: an agent thread per process does ' +
    'TXNS transactions of one 64-page direct I/O (get_user_pages) into the pool, a read of those rows and WORK ns ' +
    'of user-mode work, while a ' +
    'helper thread of the same process mmaps 16 pages per 8 transactions, write-faults 2 per transaction and munmaps them (mmap_sem); ' +
    'metrics.workload.throughput is transactions per simulated second (use --mode timed)',
  params: {
    procs: { kind: 'int', default: 4, min: 1, max: 256, doc: 'database processes (an agent and a helper thread each)' },
    cpus: { kind: 'int', default: 8, min: 1, max: 64, doc: 'CPUs to run on (unless --cpus is given)' },
    txns: { kind: 'int', default: 32, min: 1, max: 100_000, doc: 'transactions per agent' },
    pool: { kind: 'size', default: 4 * 2 ** 20, max: 2 ** 30, doc: 'buffer pool of each process (at least 64 pages)' },
    work: { kind: 'int', default: 20_000, min: 0, max: 10_000_000, doc: 'simulated ns of user-mode work (SQL processing) per transaction of each thread' },
  },
  requires({ cpus }) {
    return { cpus };
  },
  run(ctx, { procs, txns, pool, work }) {
    const k = ctx.kernel;
    const poolPages = Math.floor(pool / PAGE_SIZE);
    if (poolPages < DIO_PAGES) throw new WorkloadError(`${NAME}: pool must hold at least ${DIO_PAGES} pages, got ${poolPages}`);
    const agents: { task: Task; addr: number }[] = [];
    const helpers: Task[] = [];
    for (let i = 0; i < procs; i++) {
      const task = k.spawn();
      const addr = expectOk(NAME, `process ${i}: mmap pool`, k.mmap(task, 0, poolPages * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS));
      touchInBatches(NAME, `process ${i}: `, k, task, addr, poolPages * PAGE_SIZE, true);
      agents.push({ task, addr });
      helpers.push(k.clone(task));
    }
    const sem = k.locks.of('mmap_sem');
    const wait0 = sem.wait_ns;
    const t0 = k.simNs();
    const slots = Math.floor(poolPages / DIO_PAGES);
    for (let first = 0; first < txns; first += OLTP_ROUND) {
      const last = Math.min(txns, first + OLTP_ROUND);
      const failed: string[] = [];
      const programs: ThreadProgram[] = [];
      agents.forEach(({ task, addr }, i) => {
        programs.push({
          task,
          program: (function* () {
            const sys = k.sys(task);
            for (let t = first; t < last; t++) {
              const rows = addr + ((t * 7 + i) % slots) * DIO_PAGES * PAGE_SIZE;
              const moved = yield* sys.directIo(rows, DIO_PAGES, true);
              if (moved !== DIO_PAGES) {
                failed.push(`process ${i}: transaction ${t}: direct I/O moved ${moved} of ${DIO_PAGES} pages`);
                return;
              }
              // back in user mode: a step of the timed mode ends here, so a waiter wakes at the release
              yield USER_STEP;
              const sig = yield* sys.touch(rows, DIO_PAGES * PAGE_SIZE, false);
              if (sig !== 0) {
                failed.push(`process ${i}: transaction ${t}: read of the rows took signal ${sig}`);
                return;
              }
              // user-mode work, then back to the scheduler (a user point) so that the other CPUs catch up
              k.charge(work);
              yield USER_STEP;
            }
          })(),
        });
        const helper = helpers[i]!;
        programs.push({
          task: helper,
          program: (function* () {
            const sys = k.sys(helper);
            const len = OLTP_SCRATCH_PAGES * PAGE_SIZE;
            const scratch = yield* sys.mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
            if (scratch < 0) {
              failed.push(`process ${i}: helper: mmap returned ${scratch}`);
              return;
            }
            const per = Math.floor(OLTP_SCRATCH_PAGES / OLTP_ROUND) * PAGE_SIZE;
            for (let t = first; t < last; t++) {
              const sig = yield* sys.touch(scratch + (t - first) * per, per, true);
              if (sig !== 0) {
                failed.push(`process ${i}: helper: write took signal ${sig}`);
                break;
              }
              yield USER_STEP;
              // user-mode work, then back to the scheduler (a user point) so that the other CPUs catch up
              k.charge(work);
              yield USER_STEP;
            }
            yield* sys.munmap(scratch, len);
          })(),
        });
      });
      k.runThreads(programs);
      if (failed.length > 0) throw new WorkloadError(`${NAME}: ${failed[0]!}`);
    }
    const elapsed = k.simNs() - t0;
    const waited = sem.wait_ns - wait0;
    const transactions = procs * txns;
    ctx.metric('transactions', transactions);
    ctx.metric('elapsed_ns', Math.round(elapsed));
    ctx.metric('throughput', elapsed > 0 ? Math.round((transactions / elapsed) * 1e9) : 0);
    ctx.metric('mmap_sem_wait_ns', Math.round(waited));
    ctx.metric('mmap_sem_share_pct', elapsed > 0 ? Math.round((waited / (elapsed * k.cpus.length)) * 1e5) / 1e3 : 0);
    ctx.snapshot();
    for (const t of [...helpers, ...agents.map((a) => a.task)]) k.exit(t);
  },
});
