/**
 * `struct task_struct`, the part the model needs: a pid, an mm, and the
 * CPU it runs on.
 * @module
 */
import type { MmStruct } from '../mm/types.js';

/** A process (one thread per mm for now). */
export class Task {
  /** Process id. */
  readonly pid: number;
  /** Its address space; null once exited. */
  mm: MmStruct | null;
  /** The CPU it runs on (no migration in sequential mode). */
  readonly cpu: number;

  constructor(pid: number, mm: MmStruct, cpu: number) {
    this.pid = pid;
    this.mm = mm;
    this.cpu = cpu;
  }

  /** True until `exit`. */
  get alive(): boolean {
    return this.mm !== null;
  }
}
