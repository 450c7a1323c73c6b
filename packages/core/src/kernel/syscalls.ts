/**
 * The system-call layer: each call a task can make, as a kernel path
 * (a generator) that takes `mmap_sem` the way the kernel's entry point did
 * and tells the data-integrity oracle what the call means. The kernel's
 * synchronous API runs these to completion; concurrent programs
 * (`Kernel.runThreads`) interleave them.
 * @see mm/mmap.c sys_mmap / sys_munmap / sys_brk, mm/mprotect.c, mm/mremap.c, mm/madvise.c, mm/mlock.c, kernel/fork.c, kernel/exit.c
 * @module
 */
import { EBADF, EINVAL, ENOMEM } from '../errno.js';
import type { ShmemFile } from '../fs/shmem.js';
import { shmemRelease } from '../fs/shmem.js';
import { deviceCreate, type DeviceKind } from '../fs/drivers.js';
import { mayFollowWalks, userAccessPage, userAccessRun, userFaultRun, walkFollows } from '../mm/access.js';
import { exitMmap, pgdFree } from '../mm/exit.js';
import { dupMmap } from '../mm/fork.js';
import { sysRemapFilePages } from '../mm/fremap.js';
import { baseGetUserPages, baseGetUserPagesInto, putUserPage } from '../mm/gup.js';
import { sysMadvise } from '../mm/madvise.js';
import { doMlock } from '../mm/mlock.js';
import { doMmapPgoff, doMunmap } from '../mm/mmap.js';
import { sysMprotect } from '../mm/mprotect.js';
import { sysMremap } from '../mm/mremap.js';
import { unmapMappingRange, vmtruncate } from '../mm/truncate.js';
import {
  MADV_DONTNEED,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_GROWSDOWN,
  MAP_LOCKED,
  MAP_POPULATE,
  MAP_PRIVATE,
  type MmStruct,
  PROT_READ,
  PROT_WRITE,
} from '../mm/types.js';
import { PAGE_SIZE, TASK_SIZE } from '../pgtable/entry.js';
import { downRead, downWrite } from '../sched/lock.js';
import { awaitPath, USER_STEP, type KGen } from '../sched/run.js';
import type { Task } from '../sched/task.js';
import type { Kernel } from './kernel.js';

/** Round a length up to whole pages. */
function pages(len: number): number {
  return Math.ceil(len / PAGE_SIZE) * PAGE_SIZE;
}

/** Enter the kernel for a system call of `task` (which must be alive). */
function entry(k: Kernel, task: Task): MmStruct {
  const mm = task.mm;
  if (mm === null) throw new Error(`task ${task.pid} has exited`);
  k.charge(k.costs.syscall);
  return mm;
}

/**
 * `sys_mmap()`: holds a reference on the file across `do_mmap_pgoff`.
 * Returns the address or a negative errno.
 */
export function* sysMmap(k: Kernel, task: Task, addr: number, len: number, prot: number, flags: number, file: ShmemFile | null, offset: number): KGen<number> {
  const mm = entry(k, task);
  if (!Number.isSafeInteger(offset) || offset < 0 || offset % PAGE_SIZE !== 0) return -EINVAL;
  const f = (flags & MAP_ANONYMOUS) !== 0 ? null : file;
  if (f !== null && !k.files.has(f.id)) return -EBADF;
  if (f !== null) f.refs++;
  const t0 = k.cpu.clock;
  k.kernelEnter();
  let r: number;
  yield* downWrite(k, mm.mmapSem);
  try {
    r = yield* doMmapPgoff(k, mm, { addr, len, prot, flags, file: f, pgoff: offset / PAGE_SIZE });
  } finally {
    mm.mmapSem.upWrite(k);
    if (f !== null) {
      f.refs--;
      shmemRelease(k, f);
    }
    k.kernelExit();
    k.traceSlice('syscall', 'mmap', t0);
  }
  if (r >= 0 && k.oracle !== null) {
    const end = r + pages(len);
    k.oracle.unmap(mm, r, end);
    // MAP_POPULATE / MAP_LOCKED fault a writable private mapping in with writes: COW broken now
    if ((flags & (MAP_POPULATE | MAP_LOCKED)) !== 0 && (prot & PROT_WRITE) !== 0) k.oracle.privatize(mm, r, end);
  }
  return r;
}

/** `sys_munmap()`: 0 or a negative errno. */
export function* sysMunmap(k: Kernel, task: Task, addr: number, len: number): KGen<number> {
  const mm = entry(k, task);
  const t0 = k.cpu.clock;
  k.kernelEnter();
  let r: number;
  yield* downWrite(k, mm.mmapSem);
  try {
    r = yield* doMunmap(k, mm, addr, len);
  } finally {
    mm.mmapSem.upWrite(k);
    k.kernelExit();
    k.traceSlice('syscall', 'munmap', t0);
  }
  if (r === 0) k.oracle?.unmap(mm, addr, addr + pages(len));
  return r;
}

/** `sys_mprotect()`: 0 or a negative errno. */
export function* sysMprotectCall(k: Kernel, task: Task, addr: number, len: number, prot: number): KGen<number> {
  const mm = entry(k, task);
  const t0 = k.cpu.clock;
  k.kernelEnter();
  yield* downWrite(k, mm.mmapSem);
  try {
    return yield* sysMprotect(k, mm, addr, len, prot);
  } finally {
    mm.mmapSem.upWrite(k);
    k.kernelExit();
    k.traceSlice('syscall', 'mprotect', t0);
  }
}

/** `sys_mremap()`: the new address or a negative errno. */
export function* sysMremapCall(k: Kernel, task: Task, addr: number, oldLen: number, newLen: number, flags: number, newAddr: number): KGen<number> {
  const mm = entry(k, task);
  const t0 = k.cpu.clock;
  k.kernelEnter();
  let r: number;
  yield* downWrite(k, mm.mmapSem);
  try {
    r = yield* sysMremap(k, mm, addr, oldLen, newLen, flags, newAddr);
  } finally {
    mm.mmapSem.upWrite(k);
    k.kernelExit();
    k.traceSlice('syscall', 'mremap', t0);
  }
  if (r >= 0) k.oracle?.remap(mm, addr, pages(oldLen), r, pages(newLen));
  return r;
}

/** `sys_madvise()` (MADV_DONTNEED, MADV_NORMAL): 0 or a negative errno. */
export function* sysMadviseCall(k: Kernel, task: Task, addr: number, len: number, advice: number): KGen<number> {
  const mm = entry(k, task);
  const t0 = k.cpu.clock;
  k.kernelEnter();
  const oracle = k.oracle;
  yield* downRead(k, mm.mmapSem);
  try {
    return yield* sysMadvise(
      k,
      mm,
      addr,
      len,
      advice,
      oracle === null || advice !== MADV_DONTNEED
        ? undefined
        : (s, e) => {
            oracle.discard(mm, s, e);
          },
    );
  } finally {
    mm.mmapSem.upRead(k);
    k.kernelExit();
    k.traceSlice('syscall', 'madvise', t0);
  }
}

/** `sys_remap_file_pages()`: 0 or a negative errno. */
export function* sysRemapFilePagesCall(k: Kernel, task: Task, start: number, size: number, pgoff: number, flags: number): KGen<number> {
  const mm = entry(k, task);
  const t0 = k.cpu.clock;
  k.kernelEnter();
  let r: number;
  yield* downWrite(k, mm.mmapSem);
  try {
    r = yield* sysRemapFilePages(k, mm, start, size, 0, pgoff, flags);
  } finally {
    mm.mmapSem.upWrite(k);
    k.kernelExit();
    k.traceSlice('syscall', 'remap_file_pages', t0);
  }
  if (r === 0) k.oracle?.remapFilePages(mm, Math.floor(start / PAGE_SIZE) * PAGE_SIZE, Math.floor(size / PAGE_SIZE) * PAGE_SIZE, pgoff);
  return r;
}

/** `sys_mlock()` / `sys_munlock()`: 0 or a negative errno. */
export function* sysMlock(k: Kernel, task: Task, addr: number, len: number, on: boolean): KGen<number> {
  const mm = entry(k, task);
  const t0 = k.cpu.clock;
  k.kernelEnter();
  let r: number;
  yield* downWrite(k, mm.mmapSem);
  try {
    r = yield* doMlock(k, mm, addr, len, on);
  } finally {
    mm.mmapSem.upWrite(k);
    k.kernelExit();
    k.traceSlice('syscall', on ? 'mlock' : 'munlock', t0);
  }
  // make_pages_present wrote to writable private pages: COW broken now
  if (on && r === 0) k.oracle?.privatize(mm, Math.floor(addr / PAGE_SIZE) * PAGE_SIZE, Math.ceil((addr + len) / PAGE_SIZE) * PAGE_SIZE);
  return r;
}

/**
 * `get_user_pages()` under `mmap_sem` (read), as a driver calls it for
 * the task: pinned pfns, or a negative errno.
 */
export function* sysGetUserPages(k: Kernel, task: Task, addr: number, nrPages: number, write: boolean, force: boolean): KGen<number[] | number> {
  const mm = entry(k, task);
  k.kernelEnter();
  let r: number[] | number;
  try {
    r = yield* k.seams.getUserPages(k, mm, addr, nrPages, write, force);
  } finally {
    k.kernelExit();
  }
  gupWritten(k, mm, addr, write, typeof r === 'number' ? r : r.length);
  return r;
}

/**
 * {@link sysGetUserPages} into the caller's `pages` array (`pages.length`
 * pages): how many were pinned, or a negative errno. With the baseline
 * `getUserPages` seam the walk stores into `pages` directly
 * (`baseGetUserPagesInto`); a feature's seam is called as by
 * {@link sysGetUserPages} and its answer copied.
 */
export function* sysGetUserPagesInto(k: Kernel, task: Task, addr: number, pages: Int32Array, write: boolean, force: boolean): KGen<number> {
  const mm = entry(k, task);
  k.kernelEnter();
  let r: number;
  try {
    const gup = k.seams.getUserPages;
    if (gup === baseGetUserPages) {
      r = yield* baseGetUserPagesInto(k, mm, addr, pages, write, force);
    } else {
      const got = yield* gup(k, mm, addr, pages.length, write, force);
      if (typeof got !== 'number') pages.set(got);
      r = typeof got === 'number' ? got : got.length;
    }
  } finally {
    k.kernelExit();
  }
  gupWritten(k, mm, addr, write, r);
  return r;
}

/** After a `get_user_pages` for writing: the `got` pages from `addr` are private now (COW broken). */
function gupWritten(k: Kernel, mm: MmStruct, addr: number, write: boolean, got: number): void {
  if (write && got >= 0) {
    const start = Math.floor(addr / PAGE_SIZE) * PAGE_SIZE;
    k.oracle?.privatize(mm, start, start + got * PAGE_SIZE);
  }
}

/** `put_page()` on pages pinned by get_user_pages. */
export function putUserPages(k: Kernel, pfns: ArrayLike<number>): void {
  for (let i = 0; i < pfns.length; i++) putUserPage(k, pfns[i]!);
}

/**
 * A direct-I/O-like transfer of `nrPages` pages at `addr`: pin them with
 * `get_user_pages` (write when the device writes memory, `toMemory`),
 * move the data, release the pins. Returns the pages moved or a negative
 * errno.
 */
export function* sysDirectIo(k: Kernel, task: Task, addr: number, nrPages: number, toMemory: boolean): KGen<number> {
  const t0 = k.cpu.clock;
  const r = yield* sysGetUserPages(k, task, addr, nrPages, toMemory, false);
  if (typeof r === 'number') return r;
  const mm = task.mm!;
  const base = Math.floor(addr / PAGE_SIZE) * PAGE_SIZE;
  for (let i = 0; i < r.length; i++) {
    const pfn = r[i]!;
    const a = base + i * PAGE_SIZE;
    if (toMemory) {
      const t = k.nextToken(a);
      k.setToken(pfn, t);
      k.oracle?.write(mm, a, t);
    } else {
      k.oracle?.read(k, mm, a, k.tokenOf(pfn));
    }
  }
  putUserPages(k, r);
  k.traceSlice('syscall', toMemory ? 'direct I/O read' : 'direct I/O write', t0);
  return r.length;
}

/**
 * `access_process_vm()` (ptrace PEEKDATA/POKEDATA): read, or with `value`
 * write, the data token of one page of `target` through
 * `get_user_pages(force)`. Returns the token or a negative errno.
 */
export function* sysAccessProcessVm(k: Kernel, target: Task, addr: number, value: number | undefined): KGen<number> {
  const write = value !== undefined;
  const r = yield* sysGetUserPages(k, target, addr, 1, write, true);
  if (typeof r === 'number') return r;
  const pfn = r[0]!;
  const mm = target.mm!;
  const page = Math.floor(addr / PAGE_SIZE) * PAGE_SIZE;
  let out: number;
  if (write) {
    out = value >>> 0;
    k.setToken(pfn, out);
    k.oracle?.forceWrite(mm, page, out);
  } else {
    out = k.tokenOf(pfn);
    k.oracle?.read(k, mm, page, out);
  }
  putUserPages(k, r);
  return out;
}

/** `ftruncate()` of a tmpfs or hugetlbfs file: 0 or a negative errno. */
export function* sysFtruncate(k: Kernel, file: ShmemFile, size: number): KGen<number> {
  if (!Number.isSafeInteger(size) || size < 0) return -EINVAL;
  if (!k.files.has(file.id)) return -EBADF;
  if (file.device !== null || file.xipBase !== 0) return -EINVAL;
  k.charge(k.costs.syscall);
  k.kernelEnter();
  k.oracle?.truncate(k, file.id, size, [...file.iMmap, ...file.iMmapNonlinear]);
  try {
    yield* vmtruncate(k, file, size);
  } finally {
    k.kernelExit();
  }
  return 0;
}

/** Invalidate a file range (`unmap_mapping_range` with `even_cows` 0). */
export function* sysInvalidate(k: Kernel, file: ShmemFile, offset: number, len: number): KGen<void> {
  k.kernelEnter();
  try {
    yield* unmapMappingRange(k, file, offset, len, false);
  } finally {
    k.kernelExit();
  }
}

/** Create a device (its driver allocates its pages): the file, or -ENOMEM. */
export function* sysDeviceCreate(k: Kernel, name: string, size: number, kind: DeviceKind): KGen<ShmemFile | number> {
  return yield* deviceCreate(k, name, size, kind);
}

/**
 * User accesses of every page of [addr, addr+len), writing a fresh data
 * token on each page when `write`. Between two pages other CPUs may run
 * (a `user` scheduling point). Returns 0 or the signal that stopped it.
 * A page in the same PTE table as the one before can follow that one's
 * walk (`userAccessPage`'s `follows`), and the pages after it up to the
 * first that faults are then accessed as one run (`userAccessRun`); a
 * read's pages from there that fault on a tmpfs file's cached pages, as
 * another (`userFaultRun`).
 */
export function* userTouch(k: Kernel, task: Task, addr: number, len: number, write: boolean): KGen<number> {
  const mm = task.mm;
  if (mm === null) throw new Error(`task ${task.pid} has exited`);
  const end = addr + len;
  const oracle = k.oracle;
  const token = k.pages.token;
  const nFrames = k.pages.nrFrames;
  const interleave = k.interleaving;
  // the next page's access may take its PTE from the table this one's walk ended in
  let mayFollow = mayFollowWalks(k);
  let follows = false;
  for (let a = Math.floor(addr / PAGE_SIZE) * PAGE_SIZE; a < end; a += PAGE_SIZE) {
    if (follows && oracle === null) {
      let n = userAccessRun(k, mm, a, end, write, runPfns);
      if (n === 0 && !write) n = userFaultRun(k, mm, a, end);
      if (n > 0) {
        if (write) writeTokens(k, a, runPfns, n);
        a += (n - 1) * PAGE_SIZE;
        follows = walkFollows(a);
        continue;
      }
    }
    const p = userAccessPage(k, mm, a, write, follows);
    let r: number;
    if (typeof p === 'number') {
      r = p;
    } else {
      r = yield* p;
      // others ran during the fault
      mayFollow = mayFollowWalks(k);
    }
    if (r < 0) return -r;
    follows = mayFollow && walkFollows(a);
    if (write) {
      const t = k.nextToken(a);
      if (r < nFrames) token[r] = t;
      else k.iomem.setToken(r, t);
      oracle?.write(mm, a, t);
    } else if (oracle !== null) {
      oracle.read(k, mm, a, k.tokenOf(r));
    }
    if (interleave) yield USER_STEP;
  }
  return 0;
}

/** The frames of a touch's run of accesses (`userAccessRun`: at most one PTE table's). */
const runPfns = new Int32Array(512);

/** A fresh data token written to each of frames `pfns[0..n)`, the pages from `addr` on (a touch's run of writes). */
function writeTokens(k: Kernel, addr: number, pfns: Int32Array, n: number): void {
  for (let i = 0; i < n; i++) k.setToken(pfns[i]!, k.nextToken(addr + i * PAGE_SIZE));
}

/** One user write of `value` to the page at `addr`: 0 or a signal. */
export function* userWrite(k: Kernel, task: Task, addr: number, value: number): KGen<number> {
  const mm = task.mm!;
  const r = yield* awaitPath(userAccessPage(k, mm, addr, true));
  if (r < 0) return -r;
  k.setToken(r, value >>> 0);
  k.oracle?.write(mm, Math.floor(addr / PAGE_SIZE) * PAGE_SIZE, value >>> 0);
  return 0;
}

/** One user read of the page at `addr`: the token read, or the negated signal. */
export function* userRead(k: Kernel, task: Task, addr: number): KGen<number> {
  const mm = task.mm!;
  const r = yield* awaitPath(userAccessPage(k, mm, addr, false));
  if (r < 0) return r;
  const value = k.tokenOf(r);
  k.oracle?.read(k, mm, Math.floor(addr / PAGE_SIZE) * PAGE_SIZE, value);
  return value;
}

/**
 * `dup_mm()` for `fork()`: a new mm with the parent's VMAs and page
 * tables (`dup_mmap`). Returns the new mm, or a negative errno (the
 * half-built mm torn down).
 */
export function* sysForkMm(k: Kernel, parent: Task): KGen<MmStruct | number> {
  const oldmm = entry(k, parent);
  const t0 = k.cpu.clock;
  k.kernelEnter();
  try {
    const mm = yield* k.mmAlloc();
    if (typeof mm === 'number') return mm;
    yield* downWrite(k, oldmm.mmapSem);
    let r: number;
    try {
      r = yield* dupMmap(k, mm, oldmm);
    } finally {
      oldmm.mmapSem.upWrite(k);
    }
    if (r !== 0) {
      yield* mmput(k, mm);
      return r;
    }
    k.oracle?.fork(oldmm, mm);
    return mm;
  } finally {
    k.kernelExit();
    k.traceSlice('syscall', 'fork', t0);
  }
}

/**
 * `mmput()`: drop a user of `mm`; the last one tears it down
 * (`exit_mmap`), frees the PGD and makes every CPU drop the mm.
 */
export function* mmput(k: Kernel, mm: MmStruct): KGen<void> {
  mm.users--;
  if (mm.users > 0) return;
  yield* exitMmap(k, mm);
  for (const cpu of k.cpus) {
    if (cpu.activeMm === mm) {
      cpu.activeMm = null;
      cpu.tlb.flushAll();
    } else if (mm.cpuVmMask[cpu.id] !== 0) {
      cpu.tlb.flushMm(mm.id);
    }
  }
  mm.cpuVmMask.fill(0);
  pgdFree(k, mm);
  k.forgetMm(mm);
  k.oracle?.exit(mm);
}

/** `exit()` of a task: its mm loses a user. */
export function* sysExit(k: Kernel, task: Task): KGen<void> {
  const mm = entry(k, task);
  const t0 = k.cpu.clock;
  k.kernelEnter();
  try {
    yield* mmput(k, mm);
    task.mm = null;
  } finally {
    k.kernelExit();
    k.traceSlice('syscall', 'exit', t0);
  }
}

/**
 * `execve()`: a fresh address space with a one-page stack at the top of
 * user space holding the arguments; the old one loses this task.
 */
export function* sysExecve(k: Kernel, task: Task): KGen<number> {
  const old = entry(k, task);
  const mm = yield* k.mmAlloc();
  if (typeof mm === 'number') return mm;
  k.kernelEnter();
  try {
    yield* mmput(k, old);
  } finally {
    k.kernelExit();
  }
  task.mm = mm;
  k.switchMm(task);
  const stackTop = TASK_SIZE;
  const r = yield* sysMmap(k, task, stackTop - PAGE_SIZE, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_GROWSDOWN, null, 0);
  if (r < 0) return r;
  const sig = yield* userTouch(k, task, stackTop - PAGE_SIZE, PAGE_SIZE, true);
  return sig === 0 ? 0 : -ENOMEM;
}

/** `fork()` as a kernel path: `dup_mm`, then the child task (`copy_process`). */
export function* sysFork(k: Kernel, parent: Task): KGen<Task | number> {
  const r = yield* sysForkMm(k, parent);
  if (typeof r === 'number') return r;
  return k.adoptChild(r);
}
