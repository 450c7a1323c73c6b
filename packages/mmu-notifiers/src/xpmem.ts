/**
 * An XPMEM-like secondary MMU: another partition attached to a range of
 * this process's memory. The remote mappings keep their `get_user_pages`
 * references; every invalidate is a message to the other partition that
 * waits for its answer, so the notifier's methods sleep. Registered with
 * `sleepable=false`, every callout is a sleep inside `rcu_read_lock()`;
 * with `sleepable=true` the callouts of munmap, mprotect, mremap and fork
 * may sleep, those under `i_mmap_lock` (truncation) or the PTE lock
 * (reclaim's `try_to_unmap`, COW) still may not. Each is reported as the
 * kernel reports it.
 * @see the XPMEM driver Robin Holt described in the thread (out of tree, SGI)
 * @module
 */
import type { Kernel } from '@mmlab/core';
import { type DropCause, ShadowMmu } from './shadow.js';

/** A remote attachment of `bytes` of a process's memory from `base`. */
export class XpmemAttachment extends ShadowMmu {
  /** `xpmem`. */
  readonly name = 'xpmem';


  /** The remote partition's mappings keep their references. */
  protected get holdsPins(): boolean {
    return true;
  }

  /** Its methods send a message and wait for the answer. */
  protected override get sleeps(): boolean {
    return true;
  }

  /** One message per callout; the remote side drops what it had. */
  protected invalidated(_k: Kernel, cause: DropCause, dropped: number): void {
    const n = this.notifiers;
    if (n === null) return;
    if (cause !== 'detach') n.drivers.xpmem_messages++;
    n.drivers.xpmem_detached += dropped;
  }

  protected filled(): void {
    // remote attaches are counted by the callouts they cost, not by their faults
  }

  protected retried(): void {
    // as filled()
  }
}
