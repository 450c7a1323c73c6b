/**
 * The system calls of one task as kernel paths, for programs run by
 * {@link Kernel.runThreads}.
 * @module
 */
import type { ShmemFile } from '../fs/shmem.js';
import type { KGen } from '../sched/run.js';
import type { Task } from '../sched/task.js';
import type { Kernel } from './kernel.js';
import {
  sysDirectIo,
  sysExit,
  sysFork,
  sysMadviseCall,
  sysMmap,
  sysMprotectCall,
  sysMremapCall,
  sysMunmap,
  userRead,
  userTouch,
  userWrite,
} from './syscalls.js';

/** One task's program for {@link Kernel.runThreads}. */
export interface ThreadProgram {
  /** The task it runs as. */
  readonly task: Task;
  /** The program: a generator built from {@link Sys} calls. */
  readonly program: KGen<void>;
}

/**
 * The system calls of one task as kernel paths, to compose programs for
 * {@link Kernel.runThreads} (`yield* sys.mmap(…)`).
 */
export class Sys {
  private readonly k: Kernel;
  /** The task. */
  readonly task: Task;

  constructor(k: Kernel, task: Task) {
    this.k = k;
    this.task = task;
  }

  /** `mmap()`. */
  mmap(addr: number, len: number, prot: number, flags: number, file: ShmemFile | null = null, offset = 0): KGen<number> {
    return sysMmap(this.k, this.task, addr, len, prot, flags, file, offset);
  }

  /** `munmap()`. */
  munmap(addr: number, len: number): KGen<number> {
    return sysMunmap(this.k, this.task, addr, len);
  }

  /** `mprotect()`. */
  mprotect(addr: number, len: number, prot: number): KGen<number> {
    return sysMprotectCall(this.k, this.task, addr, len, prot);
  }

  /** `mremap()`. */
  mremap(addr: number, oldLen: number, newLen: number, flags: number, newAddr = 0): KGen<number> {
    return sysMremapCall(this.k, this.task, addr, oldLen, newLen, flags, newAddr);
  }

  /** `madvise()`. */
  madvise(addr: number, len: number, advice: number): KGen<number> {
    return sysMadviseCall(this.k, this.task, addr, len, advice);
  }

  /** User accesses of every page of a range. */
  touch(addr: number, len: number, write: boolean): KGen<number> {
    return userTouch(this.k, this.task, addr, len, write);
  }

  /** One user write. */
  write(addr: number, value: number): KGen<number> {
    return userWrite(this.k, this.task, addr, value);
  }

  /** One user read: the token, or the negated signal. */
  read(addr: number): KGen<number> {
    return userRead(this.k, this.task, addr);
  }

  /** Direct I/O. */
  directIo(addr: number, nrPages: number, toMemory: boolean): KGen<number> {
    return sysDirectIo(this.k, this.task, addr, nrPages, toMemory);
  }

  /** `exit()`. */
  exit(): KGen<void> {
    return sysExit(this.k, this.task);
  }

  /** `fork()`: the child task, or a negative errno. */
  fork(): KGen<Task | number> {
    return sysFork(this.k, this.task);
  }
}
