/**
 * `kbuild`: a kernel build's process churn, the workload the in-place
 * mmu_gather RFC measured. Many short-lived compiler processes fork from
 * `make`, exec, fault in a binary, a C library and a heap, and exit, JOBS
 * at a time; every exit tears a few thousand PTEs down through the TLB
 * gather.
 * @module
 */

import { MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE, type Task, type ThreadProgram } from '@mmlab/core';
import { expectNoSignal, expectOk, expectTask } from '../checks.js';
import { defineWorkload } from '../workload.js';

const NAME = 'kbuild';

/**
 * Two tmpfs files stand in for the compiler binary (`BIN` bytes) and the C
 * library (`LIB` bytes). A `make` process (`spawn`) runs OBJS compile jobs
 * in rounds of JOBS: it forks JOBS children, each child execs (a fresh
 * address space), then the JOBS children run at once (`runThreads`): each
 * maps the binary and the library shared read-only and reads every page,
 * maps a HEAP-byte anonymous private heap and writes every page, and
 * exits. In the timed mode with at least JOBS CPUs the children of a round
 * overlap. Snapshot after the last round; `make` exits.
 */
export const kbuild = defineWorkload({
  name: NAME,
  summary:
    'make forks OBJS short-lived compile jobs, JOBS at a time: each execs, maps a BIN-byte binary and a ' +
    'LIB-byte library (shared tmpfs files) and reads them, writes a HEAP-byte anonymous heap, and exits ' +
    '(the JOBS of a round run at once); snapshot; make exits',
  standsFor: 'a parallel kernel build (make -jN): short-lived compiler processes that fork, exec, fault in their binary and exit',
  threads: ['mmu-gather-inplace'],
  params: {
    jobs: { kind: 'int', default: 4, min: 1, max: 256, doc: 'compile jobs running at once (make -jJOBS)' },
    objs: { kind: 'int', default: 32, min: 1, max: 100_000, doc: 'compile jobs in all (one process each)' },
    bin: { kind: 'size', default: 4 * 2 ** 20, max: 2 ** 30, doc: 'size of the compiler binary (a tmpfs file), read whole by each job' },
    lib: { kind: 'size', default: 2 * 2 ** 20, max: 2 ** 30, doc: 'size of the C library (a tmpfs file), read whole by each job' },
    heap: { kind: 'size', default: 2 * 2 ** 20, max: 2 ** 30, doc: "size of each job's anonymous heap, written whole" },
  },
  run(ctx, { jobs, objs, bin, lib, heap }) {
    const k = ctx.kernel;
    const cc1 = k.shmemCreate('cc1', bin);
    const libc = k.shmemCreate('libc.so', lib);
    const make = k.spawn();
    const signals: number[] = [];
    const errors: number[] = [];
    for (let done = 0; done < objs; done += jobs) {
      const n = Math.min(jobs, objs - done);
      const children: Task[] = [];
      for (let i = 0; i < n; i++) {
        const child = expectTask(NAME, k.fork(make));
        expectOk(NAME, `job ${done + i}: execve`, k.execve(child));
        children.push(child);
      }
      signals.length = n;
      signals.fill(0);
      errors.length = n;
      errors.fill(0);
      const programs: ThreadProgram[] = children.map((task, i) => ({
        task,
        program: (function* () {
          const sys = k.sys(task);
          const text = yield* sys.mmap(0, bin, PROT_READ, MAP_SHARED, cc1, 0);
          const so = yield* sys.mmap(0, lib, PROT_READ, MAP_SHARED, libc, 0);
          const brk = yield* sys.mmap(0, heap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
          if (text < 0 || so < 0 || brk < 0) {
            errors[i] = Math.min(text, so, brk);
          } else {
            signals[i] =
              (yield* sys.touch(text, bin, false)) || (yield* sys.touch(so, lib, false)) || (yield* sys.touch(brk, heap, true));
          }
          yield* sys.exit();
        })(),
      }));
      k.runThreads(programs);
      signals.forEach((sig, i) => {
        expectOk(NAME, `job ${done + i}: mmap`, errors[i]!);
        expectNoSignal(NAME, `job ${done + i}: run`, sig);
      });
    }
    ctx.snapshot();
    k.exit(make);
  },
});
