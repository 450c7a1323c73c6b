/**
 * User accesses over a large range in fixed-size batches, so that the
 * invariant checker and the data oracle, which run at every operation
 * boundary, run every batch rather than once per page or once per range.
 * @module
 */

import type { Kernel, Task } from '@mmlab/core';
import { expectNoSignal } from '../checks.js';
import { formatSize } from '../size.js';

/** Bytes accessed by one `touch` call: 1 MiB. */
export const BATCH_BYTES = 2 ** 20;

/**
 * Accesses every page of [addr, addr + len) in {@link BATCH_BYTES} batches,
 * writing a fresh data token on each page when `write`.
 * @param workload - the workload's name, for messages
 * @param who - which process, for messages (`'process 2: '`, or `''`)
 * @param kernel - the kernel
 * @param task - the accessing task
 * @param addr - start of the range
 * @param len - length of the range in bytes
 * @param write - write (true) or read (false)
 * @throws `WorkloadStopped` when the OOM killer's SIGKILL stops a batch;
 *   `WorkloadError` on any other signal
 */
export function touchInBatches(
  workload: string,
  who: string,
  kernel: Kernel,
  task: Task,
  addr: number,
  len: number,
  write: boolean
): void {
  for (let off = 0; off < len; off += BATCH_BYTES) {
    const n = Math.min(BATCH_BYTES, len - off);
    const step = `${who}${write ? 'write' : 'read'} at +${off === 0 ? '0' : formatSize(off)}`;
    expectNoSignal(workload, step, kernel.touch(task, addr + off, n, write));
  }
}
