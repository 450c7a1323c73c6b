/**
 * The built-in race scenarios.
 * @module
 */

import {
  MAP_ANONYMOUS,
  MAP_POPULATE,
  MAP_PRIVATE,
  PAGE_SIZE,
  PROT_READ,
  PROT_WRITE,
  SIGSEGV,
  errnoName,
  isErr,
  type KGen,
  type Kernel,
  type LockRef,
  type Task,
} from '@mmlab/core';
import { signalName } from '../checks.js';
import { defineScenario, type Scenario } from './scenario.js';

const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const RW = PROT_READ | PROT_WRITE;

/** A process and one `clone(CLONE_VM)` thread of it (on the next CPU). */
function processAndThread(k: Kernel): [Task, Task] {
  const a = k.spawn();
  return [a, k.clone(a)];
}

/** mmap for a set-up: the address, or an Error (a set-up that cannot fail on a fresh kernel). */
function setupMmap(k: Kernel, task: Task, pages: number): number {
  const addr = k.mmap(task, 0, pages * PAGE_SIZE, RW, ANON);
  if (isErr(addr)) throw new Error(`scenario set-up: mmap of ${pages} pages failed: ${errnoName(addr)}`);
  return addr;
}

/** A set-up write that must not fault. */
function setupWrite(k: Kernel, task: Task, addr: number, pages: number): void {
  const sig = k.touch(task, addr, pages * PAGE_SIZE, true);
  if (sig !== 0) throw new Error(`scenario set-up: write of ${pages} pages raised ${signalName(sig)}`);
}

/** Reports a system call's errno as a scenario violation. */
function expectZero(k: Kernel, what: string, ret: number): void {
  if (ret !== 0) k.reportViolation('scenario', `${what} returned ${isErr(ret) ? errnoName(ret) : String(ret)}`);
}

/**
 * A thread program sleeps, as on a futex, until `cond()` holds: it is not
 * runnable meanwhile (the scheduler sees a sleeping lock wait), so it
 * neither spins nor starves the thread it waits for under PCT's
 * priorities. `cond` must become true through another thread's steps.
 */
function* sleepUntil(cond: () => boolean): KGen<void> {
  const futex: LockRef = {
    className: 'futex',
    get busy() {
      return !cond();
    },
    spins: false,
  };
  while (!cond()) yield { kind: 'lock', lock: futex };
}

/**
 * Accesses [addr, addr+pages) up to `times` times; a SIGSEGV ends it
 * (the race allows it), any other signal is a violation.
 */
function* accessUntilSegv(k: Kernel, task: Task, what: string, addr: number, pages: number, times: number, write: boolean): KGen<void> {
  const sys = k.sys(task);
  for (let i = 0; i < times; i++) {
    const sig = yield* sys.touch(addr, pages * PAGE_SIZE, write);
    if (sig === SIGSEGV) return;
    if (sig !== 0) {
      k.reportViolation('scenario', `${what} pass ${i} raised ${signalName(sig)} (only SIGSEGV may end it)`);
      return;
    }
  }
}

/**
 * `munmap-vs-access`: one thread unmaps a written range while another
 * reads it; the reader ends with SIGSEGV once the range is gone. The race
 * of the zap and the TLB shootdown against accesses through the reader's
 * TLB.
 */
export const munmapVsAccess = defineScenario({
  name: 'munmap-vs-access',
  summary:
    'task a and thread b = clone(a); a maps 4 pages and writes them; then at once a munmaps them while b ' +
    'reads the range up to 8 times, stopping at SIGSEGV (the only signal allowed)',
  setup(k) {
    const [a, b] = processAndThread(k);
    const pages = 4;
    const addr = setupMmap(k, a, pages);
    setupWrite(k, a, addr, pages);
    return [
      {
        task: a,
        program: (function* () {
          expectZero(k, 'munmap', yield* k.sys(a).munmap(addr, pages * PAGE_SIZE));
        })(),
      },
      { task: b, program: accessUntilSegv(k, b, 'read', addr, pages, 8, false) },
    ];
  },
});

/**
 * `fault-race`: two threads take the first-touch anonymous fault on the
 * same pages at once; one installs the page, the other finds the PTE
 * already there (`pte_same` fails) and retries.
 */
export const faultRace = defineScenario({
  name: 'fault-race',
  summary:
    'task a and thread b = clone(a); a maps 2 anonymous pages never touched; then a and b both write both ' +
    'pages at once (two first-touch faults racing on each PTE)',
  setup(k) {
    const [a, b] = processAndThread(k);
    const pages = 2;
    const addr = setupMmap(k, a, pages);
    const writer = (t: Task): KGen<void> =>
      (function* () {
        const sig = yield* k.sys(t).touch(addr, pages * PAGE_SIZE, true);
        if (sig !== 0) k.reportViolation('scenario', `write by pid ${t.pid} raised ${signalName(sig)}`);
      })();
    return [
      { task: a, program: writer(a) },
      { task: b, program: writer(b) },
    ];
  },
});

/**
 * `fork-vs-write`: one thread forks while another writes the parent's
 * memory: fork write-protects the parent's PTEs and flushes its TLB under
 * `mmap_sem`; the writer's stale writable TLB entries must not let a write
 * reach a page the child shares.
 */
export const forkVsWrite = defineScenario({
  name: 'fork-vs-write',
  summary:
    'task a and thread b = clone(a); a maps 4 pages and writes them; then at once a forks while b writes ' +
    'the 4 pages twice; the child then holds a copy of the memory as it was at the fork',
  setup(k) {
    const [a, b] = processAndThread(k);
    const pages = 4;
    const addr = setupMmap(k, a, pages);
    setupWrite(k, a, addr, pages);
    return [
      {
        task: a,
        program: (function* () {
          const child = yield* k.sys(a).fork();
          if (typeof child === 'number') k.reportViolation('scenario', `fork returned ${errnoName(child)}`);
        })(),
      },
      {
        task: b,
        program: (function* () {
          const sys = k.sys(b);
          for (let i = 0; i < 2; i++) {
            const sig = yield* sys.touch(addr, pages * PAGE_SIZE, true);
            if (sig !== 0) k.reportViolation('scenario', `write pass ${i} raised ${signalName(sig)}`);
          }
        })(),
      },
    ];
  },
});

/**
 * `mprotect-vs-write`: one thread makes a written range read-only while
 * another writes it; a SIGSEGV is a result (the write came after the
 * change), a write that lands after mprotect returned is not.
 */
export const mprotectVsWrite = defineScenario({
  name: 'mprotect-vs-write',
  summary:
    'task a and thread b = clone(a); a maps 4 pages and writes them; then at once a mprotects them ' +
    'read-only while b writes the range up to 8 times; a SIGSEGV ends b (a result, not a violation)',
  setup(k) {
    const [a, b] = processAndThread(k);
    const pages = 4;
    const addr = setupMmap(k, a, pages);
    setupWrite(k, a, addr, pages);
    return [
      {
        task: a,
        program: (function* () {
          expectZero(k, 'mprotect', yield* k.sys(a).mprotect(addr, pages * PAGE_SIZE, PROT_READ));
        })(),
      },
      { task: b, program: accessUntilSegv(k, b, 'write', addr, pages, 8, true) },
    ];
  },
});

/** RAM of `reclaim-vs-fault`: the core's smallest. */
const RECLAIM_MEM = 16 * 2 ** 20;
/** Pages `reclaim-vs-fault`'s writer writes past the free memory. */
const RECLAIM_OVER = 32;

/**
 * `reclaim-vs-fault`: on a kernel with little RAM one thread writes more
 * than is free, so its allocations reclaim (swap out) the process's
 * oldest pages, while another thread re-reads exactly those pages,
 * faulting them back in from swap. Another process's mapping takes most
 * of the RAM, faulted in by `MAP_POPULATE` in one system call (cheap under
 * the checker); being another mm, reclaim's flushes of its pages need no
 * IPI to b's CPU, which keeps the interleavings short.
 */
export const reclaimVsFault = defineScenario({
  name: 'reclaim-vs-fault',
  summary:
    'a 16m kernel; task a and thread b = clone(a); a writes 16 pages (the oldest on the LRU), another ' +
    `process fills the RAM (MAP_POPULATE), and a maps ${RECLAIM_OVER} pages more than are free; then at once a ` +
    'writes those (direct reclaim swaps the oldest pages out) while b, once the first page is swapped out, ' +
    're-reads the 16 pages twice (swap-ins racing the reclaim); b sleeps until then',
  kernel: { memBytes: RECLAIM_MEM, swapBytes: 2 * RECLAIM_MEM },
  setup(k) {
    const [a, b] = processAndThread(k);
    const hot = 16;
    const hotAddr = setupMmap(k, a, hot);
    setupWrite(k, a, hotAddr, hot);
    // another process fills the RAM: reclaim's young-bit flushes of its
    // pages then need no IPI to b's CPU (it is not in that mm's mask)
    const filler = k.mem.nrFree - k.pagesMin - 16;
    if (filler > 0) {
      const f = k.spawn();
      const r = k.mmap(f, 0, filler * PAGE_SIZE, RW, ANON | MAP_POPULATE);
      if (isErr(r)) throw new Error(`scenario set-up: populate of ${filler} pages failed: ${errnoName(r)}`);
    }
    const over = k.mem.nrFree + RECLAIM_OVER;
    const addr = setupMmap(k, a, over);
    let writerDone = false;
    return [
      {
        task: a,
        program: (function* () {
          const sig = yield* k.sys(a).touch(addr, over * PAGE_SIZE, true);
          writerDone = true;
          if (sig !== 0) k.reportViolation('scenario', `write raised ${signalName(sig)}`);
        })(),
      },
      {
        task: b,
        program: (function* () {
          const sys = k.sys(b);
          // sleep (as on a futex) until reclaim has begun swapping out
          const swapped = k.vm.pswpout;
          yield* sleepUntil(() => k.vm.pswpout !== swapped || writerDone);
          for (let i = 0; i < 2; i++) {
            const sig = yield* sys.touch(hotAddr, hot * PAGE_SIZE, false);
            if (sig !== 0) k.reportViolation('scenario', `re-read pass ${i} raised ${signalName(sig)}`);
          }
        })(),
      },
    ];
  },
});

/** Every built-in scenario, in the order `mmlab list scenarios` shows them. */
export const SCENARIOS: readonly Scenario[] = [munmapVsAccess, faultRace, forkVsWrite, mprotectVsWrite, reclaimVsFault];
