/**
 * What the workloads that drive a secondary MMU share: closing the
 * driver's file once its process has exited.
 * @module
 */

import type { Kernel } from '@mmlab/core';
import type { ShadowMmu } from '@mmlab/mmu-notifiers';
import { WorkloadStopped } from '../errors.js';

/**
 * Runs `body`, then closes every driver (`fput` in `exit_files`, after
 * `exit_mm`): without notifiers that drops the pins that kept pages
 * alive. A run stopped by a simulated fault (the OOM killer) exits every
 * process first, as the runner would, so that nothing stays pinned.
 * @param k - the kernel
 * @param drivers - the secondary MMUs the workload opened
 * @param body - the workload, which ends with every process exited
 */
export function closeAfterExit(k: Kernel, drivers: readonly ShadowMmu[], body: () => void): void {
  try {
    body();
  } catch (err) {
    if (err instanceof WorkloadStopped) {
      for (const t of k.tasks) if (t.mm !== null) k.exit(t);
      for (const d of drivers) d.close(k);
    }
    throw err;
  }
  for (const d of drivers) d.close(k);
}
