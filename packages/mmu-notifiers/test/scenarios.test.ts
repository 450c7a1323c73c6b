/**
 * Scenarios with the checker and the oracle on: where each callout comes
 * in each variant, what each driver does with it, release placement,
 * reclaim through age_page and invalidate_page, and sleeping callouts.
 */
import { describe, expect, it } from 'vitest';
import { MAP_SHARED, PAGE_SIZE, PROT_READ, PROT_WRITE, type Kernel } from '@mmlab/core';
import { GruContext, KvmGuest, NAME, XpmemAttachment } from '../src/index.js';
import { kernel, MiB, process, run, type Opts } from './helpers.js';

const P = PAGE_SIZE;

function counters(k: Kernel): Record<string, number> {
  return k.metrics().feature?.[NAME] ?? {};
}

describe('registration', () => {
  it('refuses a bad option value, naming it', () => {
    expect(() => kernel({ variant: 'ranges' as 'range' })).toThrow("feature 'mmu-notifiers': bad value for option 'variant'");
  });

  it('a KVM guest registers one notifier and its sptes hold visible references', () => {
    const k = kernel({});
    const { task, addr } = process(k, MiB);
    const kvm = new KvmGuest(k, task.mm!, addr, MiB);
    run(k, task, kvm.attach(k));
    expect(run(k, task, kvm.accessRange(k, 0, 256, true))).toBe(0);
    expect(kvm.mapped).toBe(256);
    expect(counters(k).registered).toBe(1);
    expect(counters(k).kvm_spte_faults).toBe(256);
    // the checker counted the sptes' pins in every refcount: no violation
    expect(k.invariants.violations).toEqual([]);
    run(k, task, kvm.detach(k));
    expect(kvm.mapped).toBe(0);
    k.exit(task);
    k.finish();
    expect(k.invariants.violations).toEqual([]);
  });
});

describe('munmap: #v6 per page, range variant once', () => {
  function munmap(o: Opts): { k: Kernel; gru: GruContext } {
    const k = kernel(o);
    const { task, addr } = process(k, MiB);
    const gru = new GruContext(k, task.mm!, addr, MiB);
    run(k, task, gru.attach(k));
    expect(run(k, task, gru.accessRange(k, 0, 256, false))).toBe(0);
    expect(k.munmap(task, addr, 64 * P)).toBe(0);
    expect(gru.mapped).toBe(192);
    expect(k.invariants.violations).toEqual([]);
    return { k, gru };
  }

  it('v6: one invalidate_page and one GRU instruction per unmapped page', () => {
    const { k } = munmap({ variant: 'v6' });
    expect(counters(k).invalidate_page).toBe(64);
    expect(counters(k).range_begin).toBe(0);
    expect(counters(k).gru_tlb_invalidates).toBe(64);
    expect(counters(k).gru_tlb_invalidated_pages).toBe(64);
  });

  it('range: one begin/end pair and one GRU instruction for the whole range', () => {
    const { k } = munmap({ variant: 'range' });
    expect(counters(k).invalidate_page).toBe(0);
    expect(counters(k).range_begin).toBe(1);
    expect(counters(k).range_end).toBe(1);
    expect(counters(k).gru_tlb_invalidates).toBe(1);
    expect(counters(k).gru_tlb_invalidated_pages).toBe(64);
  });
});

describe('exit: release after or before unmap_vmas', () => {
  function exit(o: Opts): Record<string, number> {
    const k = kernel(o);
    const { task, addr } = process(k, MiB);
    const gru = new GruContext(k, task.mm!, addr, MiB);
    run(k, task, gru.attach(k));
    run(k, task, gru.accessRange(k, 0, 256, true));
    k.exit(task);
    k.finish();
    expect(k.invariants.violations).toEqual([]);
    expect(gru.mapped).toBe(0);
    return counters(k);
  }

  it('after-unmap (#v6): the teardown flushes page by page, then release once', () => {
    const c = exit({ release: 'after-unmap' });
    expect(c.release).toBe(1);
    // every present PTE of the process (its 256 pages) is invalidated one by one
    expect(c.invalidate_page).toBe(256);
    expect(c.gru_tlb_invalidates).toBe(257);
  });

  it('before-unmap (Christoph Lameter): one instruction at release, none during the teardown', () => {
    const c = exit({ release: 'before-unmap' });
    expect(c.release).toBe(1);
    expect(c.invalidate_page).toBe(0);
    expect(c.gru_tlb_invalidates).toBe(1);
    expect(c.gru_tlb_invalidated_pages).toBe(256);
  });
});

describe('mprotect, fork and mremap keep secondary MMUs coherent', () => {
  it.each(['v6', 'range'] as const)('%s', (variant) => {
    const k = kernel({ variant });
    const { task, addr } = process(k, MiB);
    const kvm = new KvmGuest(k, task.mm!, addr, MiB);
    run(k, task, kvm.attach(k));
    run(k, task, kvm.accessRange(k, 0, 256, true));
    expect(k.mprotect(task, addr, 16 * P, PROT_READ)).toBe(0);
    expect(k.invariants.violations).toEqual([]);
    expect(k.mprotect(task, addr, 16 * P, PROT_READ | PROT_WRITE)).toBe(0);
    run(k, task, kvm.accessRange(k, 0, 256, true));
    const child = k.fork(task);
    if (typeof child === 'number') throw new Error('fork');
    // fork write-protected the parent: no writable spte may survive it
    expect(k.invariants.violations).toEqual([]);
    run(k, task, kvm.accessRange(k, 0, 256, true));
    expect(k.touch(child, addr, MiB, false)).toBe(0);
    const moved = k.mremap(task, addr + 128 * P, 32 * P, 32 * P, 3, addr + 4 * MiB);
    expect(moved).toBeGreaterThan(0);
    expect(k.invariants.violations).toEqual([]);
    run(k, task, kvm.detach(k));
    k.exit(child);
    k.exit(task);
    k.finish();
    expect(k.invariants.violations).toEqual([]);
    const c = counters(k);
    if (variant === 'v6') expect(c.invalidate_pages).toBeGreaterThan(0);
    else expect(c.range_begin).toBeGreaterThan(0);
  });
});

describe('reclaim', () => {
  it('age_page: a page the guest keeps using is referenced through its spte', () => {
    const k = kernel({}, { memBytes: 16 * MiB, swapBytes: 64 * MiB });
    const { task, addr } = process(k, 4 * MiB);
    const kvm = new KvmGuest(k, task.mm!, addr, 4 * MiB);
    run(k, task, kvm.attach(k));
    run(k, task, kvm.accessRange(k, 0, 1024, true));
    // memory pressure from another process
    const host = process(k, 24 * MiB);
    expect(counters(k).age_page).toBeGreaterThan(0);
    expect(counters(k).invalidate_page).toBeGreaterThan(0);
    expect(counters(k).kvm_sptes_dropped).toBeGreaterThan(0);
    expect(k.vm.pswpout).toBeGreaterThan(0);
    // the guest reads back what it wrote, from swap where it went
    expect(run(k, task, kvm.accessRange(k, 0, 1024, false))).toBe(0);
    expect(k.invariants.violations).toEqual([]);
    run(k, task, kvm.detach(k));
    k.exit(host.task);
    k.exit(task);
    k.finish();
    expect(k.invariants.violations).toEqual([]);
  });
});

describe('sleeping callouts (XPMEM)', () => {
  type Change = 'munmap' | 'mprotect' | 'truncate';
  function xpmem(sleepable: boolean, change: Change): Kernel {
    const k = kernel({ variant: 'range', sleepable });
    let owner = k.spawn();
    const file = k.shmemCreate('shared', MiB);
    let addr: number;
    if (change === 'truncate') {
      addr = k.mmap(owner, 0, MiB, PROT_READ | PROT_WRITE, MAP_SHARED, file);
      expect(k.touch(owner, addr, MiB, true)).toBe(0);
    } else {
      ({ task: owner, addr } = process(k, MiB));
    }
    const x = new XpmemAttachment(k, owner.mm!, addr, MiB);
    run(k, owner, x.attach(k));
    run(k, owner, x.accessRange(k, 0, 16, false));
    if (change === 'truncate') expect(k.ftruncate(file, 0)).toBe(0);
    else if (change === 'munmap') expect(k.munmap(owner, addr, 16 * P)).toBe(0);
    else expect(k.mprotect(owner, addr, 16 * P, PROT_READ)).toBe(0);
    return k;
  }

  const bug = (k: Kernel): string[] => k.invariants.violations.filter((v) => v.check === 'atomic').map((v) => v.message);
  const BUG = /^BUG: sleeping function called from invalid context: xpmem invalidate_range_begin on cpu \d \(preempt_count [12], irqs on\)$/;

  it('under RCU (not sleepable) every sleeping callout is a BUG, reported as a result', () => {
    const k = xpmem(false, 'mprotect');
    expect(bug(k)[0]).toMatch(BUG);
    expect(counters(k).atomic_sleeps).toBe(2);
  });

  it('sleepable: mprotect may sleep (mmap_sem only)', () => {
    const k = xpmem(true, 'mprotect');
    expect(bug(k)).toEqual([]);
    expect(counters(k).xpmem_messages).toBe(1);
    expect(counters(k).xpmem_detached).toBe(16);
    expect(k.invariants.violations).toEqual([]);
  });

  it("sleepable: munmap's unmap_vmas runs inside 2.6.24's per-CPU mmu_gather (preemption off)", () => {
    const k = xpmem(true, 'munmap');
    expect(bug(k)[0]).toMatch(BUG);
  });

  it("sleepable: truncation calls out under i_mmap_lock, a spinlock in 2.6.24: Andrea Arcangeli's point", () => {
    const k = xpmem(true, 'truncate');
    expect(bug(k)[0]).toMatch(BUG);
  });
});

describe('the coherence check', () => {
  it('reports an spte the primary no longer backs, a writable spte over a read-only PTE, and a freed frame', () => {
    const k = kernel({});
    const { task, addr } = process(k, MiB);
    const kvm = new KvmGuest(k, task.mm!, addr, MiB);
    run(k, task, kvm.attach(k));
    expect(k.mprotect(task, addr + P, P, PROT_READ)).toBe(0);
    run(k, task, kvm.accessRange(k, 0, 2, false));
    expect(k.check()).toEqual([]);
    const good = kvm.pfn[0]!;
    // plant: page 0's spte names page 1's frame, page 1's is writable over a read-only PTE
    kvm.pfn[0] = kvm.pfn[1]!;
    kvm.flags[1]! |= 2;
    const found = k.check().filter((v) => v.check === `${NAME}:coherence`).map((v) => v.message);
    expect(found).toEqual([
      `kvm: mm ${task.mm!.id} address 0x${addr.toString(16)} maps frame ${kvm.pfn[1]!}; the primary maps frame ${good} there`,
      `kvm: mm ${task.mm!.id} address 0x${(addr + P).toString(16)} maps frame ${kvm.pfn[1]!} writable; the primary PTE is read-only`,
    ]);
    kvm.pfn[0] = k.mem.nrFrames - 1;
    expect(k.check().some((v) => v.message.endsWith(`reaches frame ${k.mem.nrFrames - 1}, which is free`))).toBe(true);
  });
});
