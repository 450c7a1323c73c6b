/**
 * `kvm-guest`: a KVM-like guest whose memory the host squeezes, the case
 * for mmu notifiers ("as long as .25 will be able to fully swap reliably a
 * virtualized guest OS").
 * @module
 */

import {
  _PAGE_SWP,
  type Kernel,
  lookupPteTable,
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  PAGE_SIZE,
  PROT_READ,
  PROT_WRITE,
  pteIndex,
  ptePresent,
} from '@mmlab/core';
import { KvmGuest } from '@mmlab/mmu-notifiers';
import { expectOk, expectOkOrOom } from '../checks.js';
import { formatSize } from '../size.js';
import { defineWorkload } from '../workload.js';
import { touchInBatches } from './batches.js';
import { closeAfterExit } from './drivers.js';

const NAME = 'kvm-guest';
/** Guest pages per vCPU run between two exits to the host (1 MiB). */
const RUN_PAGES = 256;

/**
 * A VMM process maps GUEST bytes of anonymous memory as the guest's RAM and
 * a vCPU thread of it runs the guest: the guest writes every page of its
 * memory (each first touch a secondary fault: `get_user_pages` and an
 * spte). A host process then writes HOST bytes of its own, which with
 * `--mem` below GUEST + HOST pushes memory out to swap. The figures
 * `guest_resident` and `guest_swapped_out` count the guest's pages in RAM
 * and out of it at that point (a page written to swap but kept in memory by
 * a pin counts as resident), `guest_written_to_swap` those behind a swap
 * entry, freed or not (2.6.24's reclaim writes a dirty page out before it
 * finds the pin that keeps it). The guest then reads every page back (the
 * oracle checks each value) and the host process exits. Snapshot; the VM
 * and the VMM exit.
 *
 * Without the `mmu-notifiers` feature the sptes keep their
 * `get_user_pages` pins, so no guest page can leave memory; with it,
 * reclaim's `try_to_unmap` invalidates the spte, which drops its pin, and
 * `age_page` lets the guest's own accesses keep its hot pages.
 */
export const kvmGuest = defineWorkload({
  name: NAME,
  summary:
    "a VMM maps GUEST bytes as a KVM-like guest's RAM; the guest writes all of it through sptes (secondary faults via get_user_pages); " +
    'a host process then writes HOST bytes (memory pressure with --mem < GUEST+HOST); figures guest_resident and guest_swapped_out; ' +
    'the guest re-reads its memory; snapshot; all exit. Without mmu-notifiers the sptes pin the guest in RAM',
  params: {
    guest: {
      kind: 'size',
      default: 64 * 2 ** 20,
      max: 4 * 2 ** 30,
      doc: "the guest's memory",
    },
    host: {
      kind: 'size',
      default: 64 * 2 ** 20,
      max: 16 * 2 ** 30,
      doc: "the host process's memory (the pressure)",
    },
  },
  run(ctx, { guest, host }) {
    const k = ctx.kernel;
    const vmm = k.spawn();
    const vcpu = k.clone(vmm);
    const base = expectOk(NAME, 'mmap guest memory', k.mmap(vmm, 0, guest, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS));
    const kvm = new KvmGuest(k, vmm.mm!, base, guest);
    KvmGuest.run(k, vmm, kvm.attach(k));
    const pages = guest / PAGE_SIZE;
    const runGuest = (write: boolean): void => {
      for (let first = 0; first < pages; first += RUN_PAGES) {
        const n = Math.min(RUN_PAGES, pages - first);
        const step = `guest ${write ? 'write' : 'read'} at +${first === 0 ? '0' : formatSize(first * PAGE_SIZE)}`;
        expectOkOrOom(NAME, step, KvmGuest.run(k, vcpu, kvm.accessRange(k, first, n, write)));
      }
    };
    closeAfterExit(k, [kvm], () => {
      runGuest(true);
      const hostTask = k.spawn();
      const haddr = expectOk(NAME, 'host mmap', k.mmap(hostTask, 0, host, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS));
      touchInBatches(NAME, 'host: ', k, hostTask, haddr, host, true);
      const { resident, swapped } = guestPages(k, kvm);
      ctx.count('guest_resident', resident);
      ctx.count('guest_swapped_out', pages - resident);
      ctx.count('guest_written_to_swap', swapped);
      runGuest(false);
      k.exit(hostTask);
      ctx.snapshot();
      if (kvm.coherent) KvmGuest.run(k, vmm, kvm.detach(k));
      k.exit(vcpu);
      k.exit(vmm);
    });
  },
});

/**
 * Guest pages in RAM (mapped by the primary PTE, or behind a swap entry
 * whose page is still in the swap cache: written out, kept by a pin) and
 * guest pages behind a swap entry (written to swap, freed or not).
 */
function guestPages(k: Kernel, kvm: KvmGuest): { resident: number; swapped: number } {
  let n = 0;
  let swapped = 0;
  for (let i = 0; i < kvm.pages; i++) {
    const addr = kvm.base + i * PAGE_SIZE;
    const pte = lookupPteTable(k, kvm.mm, addr);
    if (pte === 0) continue;
    const a = k.tables.arr(pte);
    const b = k.tables.base(pte) + pteIndex(addr) * 2;
    if (ptePresent(a[b]!)) {
      n++;
    } else if ((a[b]! & _PAGE_SWP) !== 0) {
      swapped++;
      if (k.swap.cache[a[b + 1]!] !== 0) n++;
    }
  }
  return { resident: n, swapped };
}
