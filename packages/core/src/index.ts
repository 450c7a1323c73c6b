/**
 * `@mmlab/core`: a model of the Linux 2.6.24 memory-management subsystem —
 * physical memory and struct page, 4-level page tables, VMAs, faults,
 * fork/exit, munmap/mprotect/mremap/madvise, per-CPU TLBs and mmu_gather —
 * with seams through which proposal packages change it.
 * @packageDocumentation
 */
export * from './errno.js';
export * from './machine/cost.js';
export * from './machine/cpu.js';
export * from './machine/profile.js';
export * from './machine/tlb.js';
export * from './mem/alloc.js';
export * from './mem/hugetlb-pool.js';
export * from './mem/iomem.js';
export * from './mem/lru.js';
export * from './mem/page.js';
export * from './pgtable/entry.js';
export * from './pgtable/store.js';
export * from './sched/lock.js';
export * from './sched/rcu.js';
export * from './sched/run.js';
export * from './sched/scheduler.js';
export * from './sched/task.js';
export * from './mm/access.js';
export * from './mm/copy.js';
export * from './mm/exit.js';
export * from './mm/fault.js';
export * from './mm/fork.js';
export * from './mm/fremap.js';
export * from './mm/hugetlb.js';
export * from './mm/gup.js';
export * from './mm/lru-cache.js';
export * from './mm/free-pgtables.js';
export * from './mm/madvise.js';
export * from './mm/mlock.js';
export * from './mm/mmap.js';
export * from './mm/mprotect.js';
export * from './mm/mremap.js';
export * from './mm/page-ref.js';
export * from './mm/pfnmap.js';
export * from './mm/pgalloc.js';
export * from './mm/pt-share.js';
export * from './mm/rmap.js';
export * from './mm/swapfile.js';
export * from './mm/tlb-gather.js';
export * from './mm/tlbflush.js';
export * from './mm/truncate.js';
export * from './mm/types.js';
export * from './mm/vma.js';
export * from './mm/vma-ops.js';
export * from './mm/vmscan.js';
export * from './mm/zap.js';
export * from './fs/address-space.js';
export * from './fs/drivers.js';
export * from './fs/hugetlbfs.js';
export * from './fs/shmem.js';
export * from './fs/xip.js';
export * from './observe/check.js';
export * from './observe/metrics.js';
export * from './observe/oracle.js';
export * from './observe/touched.js';
export * from './observe/trace.js';
export * from './observe/vmstat.js';
export * from './seams/feature.js';
export * from './seams/seams.js';
export * from './seams/seam-table.js';
export * from './seams/counters.js';
export * from './seams/costs.js';
export * from './seams/file-types.js';
export * from './seams/hooks.js';
export * from './seams/slots.js';
export * from './kernel/build.js';
export * from './kernel/config.js';
export * from './kernel/kernel.js';
export * from './kernel/sys.js';
