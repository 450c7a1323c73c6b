/**
 * The kernel: machine, memory, page tables, tasks, seams and counters, and
 * the system-call API that workloads drive. `buildKernel` makes one from a
 * configuration, a machine profile and a validated feature set.
 * @module
 */
import { EBADF, EINVAL, ENOMEM } from '../errno.js';
import { Cpu } from '../machine/cpu.js';
import type { CostTable } from '../machine/cost.js';
import { getMachine, listMachines, type MachineProfile, type Placement, X86_64 } from '../machine/profile.js';
import { PhysMem } from '../mem/alloc.js';
import type { PageArrays } from '../mem/page.js';
import { doPageFault, userAccessPage } from '../mm/access.js';
import { pgdFree, exitMmap } from '../mm/exit.js';
import { dupMmap } from '../mm/fork.js';
import { sysMadvise } from '../mm/madvise.js';
import { doMmapPgoff, doMunmap, TASK_UNMAPPED_BASE } from '../mm/mmap.js';
import { doMlock } from '../mm/mlock.js';
import { sysRemapFilePages } from '../mm/fremap.js';
import { getUserPages, makePagesPresent, putUserPage } from '../mm/gup.js';
import { unmapMappingRange, vmtruncate } from '../mm/truncate.js';
import { sysMprotect } from '../mm/mprotect.js';
import { sysMremap } from '../mm/mremap.js';
import { accountTable, basePgtableAlloc } from '../mm/pgalloc.js';
import { MmuGather } from '../mm/tlb-gather.js';
import {
  type AnonVma,
  DEFAULT_MAX_MAP_COUNT,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_GROWSDOWN,
  MAP_LOCKED,
  MAP_POPULATE,
  MAP_PRIVATE,
  MmStruct,
  PROT_READ,
  PROT_WRITE,
  type VmOperations,
} from '../mm/types.js';
import { AddressSpace } from '../fs/address-space.js';
import { createShmemVmOps, shmemFileSetup, shmemRelease, type ShmemFile } from '../fs/shmem.js';
import { LEVEL_PGD, type Level, PAGE_SIZE, TASK_SIZE } from '../pgtable/entry.js';
import { TableStore } from '../pgtable/store.js';
import { LockStats, RwSem, SpinLock } from '../sched/lock.js';
import { runSync } from '../sched/run.js';
import { Task } from '../sched/task.js';
import { checkKernel, checkNoLeaks, type Violation } from '../observe/check.js';
import { buildMetrics, type Metrics, takeSnapshot, type Snapshot } from '../observe/metrics.js';
import { Oracle } from '../observe/oracle.js';
import { VmStat } from '../observe/vmstat.js';
import { LruLists } from '../mem/lru.js';
import { SwapInfo } from '../mm/swapfile.js';
import { HPAGE_FRAMES, HPAGE_SIZE, HugePool } from '../mem/hugetlb-pool.js';
import { hugetlbfsCreate } from '../fs/hugetlbfs.js';
import { IoMem } from '../mem/iomem.js';
import { deviceCreate, type DeviceKind } from '../fs/drivers.js';
import { createXipVmOps, xipFileCreate } from '../fs/xip.js';
import { SWAP_CLUSTER_MAX, tryToFreePages } from '../mm/vmscan.js';
import { KernelConfigError, type Feature, type FeatureRequest, type ResolvedFeature, resolveFeatures } from './feature.js';
import { type Seams, SeamTable } from './seams.js';

/** Build-time kernel configuration (`.config`). */
export interface KernelConfig {
  /** `CONFIG_PREEMPT`. Off by default, as in most 2008 distribution kernels. */
  readonly preempt: boolean;
}

/** Options of {@link buildKernel}. */
export interface BuildOptions {
  /** Kernel configuration. */
  config?: Partial<KernelConfig>;
  /** Machine profile or its name (default `x86-64`). */
  machine?: string | MachineProfile;
  /** Override the profile's CPU count. */
  cpus?: number;
  /** Override the profile's RAM, in bytes. */
  memBytes?: number;
  /** Swap space in bytes (default: twice the RAM). */
  swapBytes?: number;
  /** Huge pages in the pool (`nr_hugepages`, 2 MiB each), set aside at boot. */
  hugePages?: number;
  /** Size of an execute-in-place image above RAM (with a memmap, as 2.6.24 needs). */
  xipBytes?: number;
  /** Override the profile's mmap placement. */
  placement?: Placement;
  /** The feature set. */
  features?: readonly FeatureRequest[];
  /** Features that `{ name }` requests are looked up in. */
  registry?: readonly Feature[];
  /** Seed for anything random in the kernel (tokens). */
  seed?: number;
  /** Run the invariant checker and the data-integrity oracle at every operation boundary. */
  check?: boolean;
}

/** What {@link Kernel.read} returns. */
export interface ReadResult {
  /** The signal that stopped the access, or 0. */
  sig: number;
  /** The data token read. */
  value: number;
}

/** What the invariant checker has done. */
export interface InvariantReport {
  /** Checks run. */
  checks: number;
  /** Violations found (empty when clean). */
  violations: Violation[];
}

const MAX_VIOLATIONS = 100;

/**
 * Build a kernel. Throws {@link KernelConfigError} for an unknown machine,
 * an impossible size, or a bad feature set.
 */
export function buildKernel(opts: BuildOptions = {}): Kernel {
  let profile: MachineProfile;
  if (opts.machine === undefined) profile = X86_64;
  else if (typeof opts.machine === 'string') {
    const m = getMachine(opts.machine);
    if (m === undefined) throw new KernelConfigError(`unknown machine '${opts.machine}' (known: ${listMachines().join(', ')})`);
    profile = m;
  } else profile = opts.machine;
  const cpus = opts.cpus ?? profile.cpus;
  if (!Number.isInteger(cpus) || cpus < 1 || cpus > 256) throw new KernelConfigError(`cpus must be an integer from 1 to 256, got ${cpus}`);
  const memBytes = opts.memBytes ?? profile.memBytes;
  if (!Number.isSafeInteger(memBytes) || memBytes < 16 * 1024 * 1024 || memBytes % PAGE_SIZE !== 0) {
    throw new KernelConfigError(`memory size must be a multiple of 4 KiB and at least 16 MiB, got ${memBytes}`);
  }
  if (memBytes > 64 * 1024 * 1024 * 1024) throw new KernelConfigError(`memory size ${memBytes} is above the model's 64 GiB limit`);
  const swapBytes = opts.swapBytes ?? 2 * memBytes;
  if (!Number.isSafeInteger(swapBytes) || swapBytes < 0 || swapBytes > 256 * 1024 * 1024 * 1024) {
    throw new KernelConfigError(`swap size must be from 0 to 256 GiB, got ${swapBytes}`);
  }
  const hugePages = opts.hugePages ?? 0;
  if (!Number.isInteger(hugePages) || hugePages < 0 || hugePages * 2 * 1024 * 1024 > memBytes / 2) {
    throw new KernelConfigError(`hugepages must be a whole number using at most half of memory, got ${hugePages}`);
  }
  const xipBytes = opts.xipBytes ?? 0;
  if (!Number.isSafeInteger(xipBytes) || xipBytes < 0 || xipBytes % PAGE_SIZE !== 0 || xipBytes > 16 * 1024 * 1024 * 1024) {
    throw new KernelConfigError(`XIP image size must be a multiple of 4 KiB up to 16 GiB, got ${xipBytes}`);
  }
  const placement = opts.placement ?? profile.placement;
  if (!['legacy', 'aligned'].includes(placement)) throw new KernelConfigError(`placement must be legacy or aligned, got '${placement}'`);
  const features = resolveFeatures(opts.features ?? [], opts.registry ?? []);
  const k = new Kernel({
    profile: { ...profile, cpus, placement },
    config: { preempt: opts.config?.preempt ?? false },
    memBytes,
    swapBytes,
    hugePages,
    xipBytes,
    seed: opts.seed ?? 1,
    check: opts.check ?? false,
    features,
  });
  for (const f of features) f.feature.install(k, f.options as never);
  k.bootDone();
  return k;
}

/** Arguments of the {@link Kernel} constructor, as {@link buildKernel} validates them. */
export interface KernelInit {
  /** The machine profile with overrides applied. */
  profile: MachineProfile;
  /** Build-time configuration. */
  config: KernelConfig;
  /** Simulated RAM in bytes. */
  memBytes: number;
  /** Swap space in bytes. */
  swapBytes: number;
  /** Huge pages in the pool. */
  hugePages: number;
  /** XIP image size in bytes. */
  xipBytes: number;
  /** Seed. */
  seed: number;
  /** Run the checker and oracle at operation boundaries. */
  check: boolean;
  /** The validated feature set. */
  features: ResolvedFeature[];
}

/**
 * A modelled kernel. The system-call methods (`mmap`, `fork`, …) run the
 * kernel path to completion on the calling task's CPU (sequential mode)
 * and then, with checking on, run the invariant checker and the oracle.
 */
export class Kernel {
  /** The machine profile (with overrides applied). */
  readonly profile: MachineProfile;
  /** Build-time configuration. */
  readonly config: KernelConfig;
  /** The cost table. */
  readonly costs: Readonly<CostTable>;
  /** mmap placement. */
  readonly placement: Placement;
  /** The seed. */
  readonly seed: number;
  /** Features installed, with options. */
  readonly features: readonly ResolvedFeature[];
  /** Physical memory. */
  readonly mem: PhysMem;
  /** `struct page` arrays. */
  readonly pages: PageArrays;
  /** Page-table storage. */
  readonly tables: TableStore;
  /** CPUs. */
  readonly cpus: Cpu[];
  /** The CPU running the current kernel path. */
  cpu: Cpu;
  /** Per-CPU mmu_gather. */
  readonly gathers: MmuGather[];
  /** Counters. */
  readonly vm = new VmStat();
  /** Lock statistics. */
  readonly locks = new LockStats();
  /** The seam table; features override through it. */
  readonly seamTable = new SeamTable();
  /** Live page tables per level (PTE, PMD, PUD, PGD). */
  readonly ptLive: [number, number, number, number] = [0, 0, 0, 0];
  /** `sysctl_max_map_count`. */
  maxMapCount = DEFAULT_MAX_MAP_COUNT;
  /** Id source for mms, anon_vmas and files. */
  nextId = 1;
  /** Live anon_vmas by id. */
  readonly anonVmas = new Map<number, AnonVma>();
  /** Live files by id. */
  readonly files = new Map<number, AddressSpace>();
  /** The shmem `vm_operations`. */
  readonly shmemOps: VmOperations;
  /** Work budget of the zap in progress (`zap_work`). */
  zapWork = 0;
  /** Simulated time, ns (sequential: the sum of all charged costs). */
  clockNs = 0;
  /** Simulated time spent flushing TLBs, IPIs included. */
  tlbFlushNs = 0;
  /** Device memory above RAM. */
  readonly iomem: IoMem;
  /** The XIP `vm_operations`. */
  readonly xipOps: VmOperations;
  /** Pages of the XIP image handed out to XIP files. */
  xipNext = 0;
  /** The huge page pool. */
  readonly hugePool: HugePool;
  /** The LRU lists. */
  readonly lru: LruLists;
  /** The swap device and swap cache. */
  readonly swap: SwapInfo;
  /** `pages_min`: below this many free frames, allocation reclaims first. */
  readonly pagesMin: number;
  /** `PF_MEMALLOC`: reclaim is running (it must not recurse). */
  inReclaim = false;
  /** `zone->nr_scan_active`. */
  nrScanActive = 0;
  /** `zone->nr_scan_inactive`. */
  nrScanInactive = 0;
  /** Major faults seen by the fault handler (`maj_flt`, summed over tasks). */
  majFlt = 0;
  /** Tasks ever created. */
  readonly tasks: Task[] = [];
  /** Invariant checker results. */
  readonly invariants: InvariantReport = { checks: 0, violations: [] };
  /** The data-integrity oracle, when checking. */
  readonly oracle: Oracle | null;
  private nextPid = 1;
  private nextCpu = 0;
  private writeSeq = 0;
  private snap: Snapshot | null = null;
  private readonly mms = new Map<number, MmStruct>();

  /** Use {@link buildKernel}. */
  constructor(init: KernelInit) {
    this.profile = init.profile;
    this.config = init.config;
    this.costs = init.profile.costs;
    this.placement = init.profile.placement;
    this.seed = init.seed;
    this.features = init.features;
    try {
      this.mem = new PhysMem(init.memBytes / PAGE_SIZE, init.profile.structPageSize, init.hugePages * HPAGE_FRAMES, init.xipBytes / PAGE_SIZE);
    } catch (e) {
      throw new KernelConfigError(e instanceof Error ? e.message : String(e));
    }
    this.iomem = new IoMem(this.mem.pages.nrFrames);
    this.pages = this.mem.pages;
    this.tables = new TableStore(this.pages);
    this.cpus = [];
    const perSocket = Math.ceil(init.profile.cpus / init.profile.sockets);
    for (let i = 0; i < init.profile.cpus; i++) {
      this.cpus.push(new Cpu(i, Math.floor(i / perSocket), init.profile.tlbEntries, init.profile.tlbWays));
    }
    this.cpu = this.cpus[0]!;
    this.gathers = this.cpus.map(() => new MmuGather());
    this.shmemOps = createShmemVmOps(this);
    this.xipOps = createXipVmOps(this);
    this.oracle = init.check ? new Oracle() : null;
    this.vm.nr_memmap_pages = this.mem.nrMemmapPages;
    this.lru = new LruLists(this.pages);
    this.hugePool = new HugePool(this.pages, this.mem.hugeBase, init.hugePages);
    this.swap = new SwapInfo(init.swapBytes);
    this.pagesMin = Math.max(SWAP_CLUSTER_MAX, Math.floor(this.mem.nrFrames / 256));
  }

  /**
   * Direct reclaim (`try_to_free_pages`) on behalf of an allocation;
   * counts an OOM when nothing could be freed and memory is exhausted.
   */
  reclaim(): void {
    this.inReclaim = true;
    let freed: number;
    try {
      freed = tryToFreePages(this);
    } finally {
      this.inReclaim = false;
    }
    if (freed === 0 && this.mem.nrFree === 0) this.vm.oom_kill++;
  }

  /** Refresh the gauges that are read off other structures. */
  private refreshGauges(): void {
    this.vm.nr_free_pages = this.mem.nrFree;
    this.vm.nr_active = this.lru.nr[1];
    this.vm.nr_inactive = this.lru.nr[0];
    this.vm.nr_swap_used = this.swap.inuse;
  }

  /** The installed seams. */
  get seams(): Seams {
    return this.seamTable.impl;
  }

  /** Called by buildKernel after features are installed. */
  bootDone(): void {
    this.refreshGauges();
    this.vm.sample();
  }

  // ---- services for kernel paths ------------------------------------------

  /** Charge `ns` of simulated time to the running CPU. */
  charge(ns: number): void {
    this.cpu.busyNs += ns;
    this.clockNs += ns;
  }

  /** Charge TLB-flush time (also counted in `tlbFlushNs`). */
  chargeFlush(ns: number): void {
    this.charge(ns);
    this.tlbFlushNs += ns;
  }

  /** `need_resched()`: nothing else is runnable in sequential mode. */
  needResched(): boolean {
    return false;
  }

  /** Account a table page at `level` (+1 or -1). */
  accountTable(mm: MmStruct, level: Level, delta: number): void {
    accountTable(this, mm, level, delta);
  }

  /** `make_pages_present()` (see the gup module); the caller holds mmap_sem. */
  makePagesPresent(mm: MmStruct, start: number, end: number): void {
    makePagesPresent(this, mm, start, end);
  }

  // ---- processes ------------------------------------------------------------

  private mmAlloc(): MmStruct {
    const id = this.nextId++;
    const mm = new MmStruct(id, 0, this.cpus.length, TASK_UNMAPPED_BASE, new RwSem(this.locks, 'mmap_sem'), new SpinLock(this.locks, 'page_table_lock'));
    const pgd = basePgtableAlloc(this, mm, LEVEL_PGD);
    if (pgd === 0) throw new KernelConfigError('out of memory allocating a PGD');
    mm.pgd = pgd;
    this.mms.set(id, mm);
    return mm;
  }

  /** Live mms (for the checker and metrics). */
  liveMms(): MmStruct[] {
    return [...this.mms.values()];
  }

  /** Switch the task's CPU to it: `switch_mm` (CR3 load flushes the TLB without ASIDs). */
  private enter(task: Task): MmStruct {
    const mm = task.mm;
    if (mm === null) throw new Error(`task ${task.pid} has exited`);
    const cpu = this.cpus[task.cpu]!;
    this.cpu = cpu;
    if (cpu.activeMm !== mm) {
      if (this.profile.tlbTagged) {
        // tagged TLB: no flush; the CPU stays in the old mm's mask
        this.charge(this.costs.contextSwitch);
      } else {
        if (cpu.activeMm !== null) cpu.activeMm.cpuVmMask[cpu.id] = 0;
        cpu.tlb.flushAll();
        this.charge(this.costs.contextSwitch + this.costs.tlbFlushAll);
      }
      cpu.activeMm = mm;
      mm.cpuVmMask[cpu.id] = 1;
      this.vm.mmlab_context_switch++;
    }
    return mm;
  }

  /** End of an operation: sample gauges and, when checking, run the checker. */
  private opDone(op: string): void {
    this.refreshGauges();
    this.vm.sample();
    if (this.oracle !== null) this.runCheck(op);
  }

  private runCheck(op: string): void {
    this.invariants.checks++;
    const found = checkKernel(this);
    for (const v of this.oracle!.verify(this)) found.push(v);
    for (const v of found) {
      if (this.invariants.violations.length < MAX_VIOLATIONS) this.invariants.violations.push({ ...v, op });
    }
  }

  /** Run the invariant checker and oracle now; returns what they found. */
  check(): Violation[] {
    const found = checkKernel(this);
    if (this.oracle !== null) for (const v of this.oracle.verify(this)) found.push(v);
    return found;
  }

  /** A new process with an empty address space, on the next CPU round-robin. */
  spawn(): Task {
    const mm = this.mmAlloc();
    const t = new Task(this.nextPid++, mm, this.nextCpu);
    this.nextCpu = (this.nextCpu + 1) % this.cpus.length;
    this.tasks.push(t);
    this.opDone('spawn');
    return t;
  }

  /** `fork()`: the child's Task, or a negative errno. */
  fork(parent: Task): Task | number {
    const oldmm = this.enter(parent);
    this.charge(this.costs.syscall);
    const mm = this.mmAlloc();
    const r = runSync(dupMmap(this, mm, oldmm));
    if (r !== 0) {
      const child = new Task(this.nextPid++, mm, this.cpu.id);
      this.mmput(child);
      this.opDone('fork');
      return r;
    }
    const child = new Task(this.nextPid++, mm, this.nextCpu);
    this.nextCpu = (this.nextCpu + 1) % this.cpus.length;
    this.tasks.push(child);
    this.oracle?.fork(oldmm, mm);
    this.opDone('fork');
    return child;
  }

  /** `mmput()` → `exit_mmap()` and the PGD freed; the CPUs drop the mm. */
  private mmput(task: Task): void {
    const mm = task.mm!;
    mm.users--;
    if (mm.users === 0) {
      runSync(exitMmap(this, mm));
      for (const cpu of this.cpus) {
        if (cpu.activeMm === mm) {
          cpu.activeMm = null;
          cpu.tlb.flushAll();
        } else if (mm.cpuVmMask[cpu.id] !== 0) {
          cpu.tlb.flushMm(mm.id);
        }
      }
      mm.cpuVmMask.fill(0);
      pgdFree(this, mm);
      this.mms.delete(mm.id);
      this.oracle?.exit(mm);
    }
    task.mm = null;
  }

  /** `exit()`: tear down the task's address space. */
  exit(task: Task): void {
    this.enter(task);
    this.charge(this.costs.syscall);
    this.mmput(task);
    this.opDone('exit');
  }

  /**
   * `execve()`: a fresh address space with a one-page stack at the top of
   * user space holding the arguments; the old one is torn down.
   */
  execve(task: Task): number {
    this.enter(task);
    this.charge(this.costs.syscall);
    const mm = this.mmAlloc();
    this.mmput(task);
    task.mm = mm;
    const stackTop = TASK_SIZE;
    const r = this.mmap(task, stackTop - PAGE_SIZE, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_GROWSDOWN);
    if (r < 0) return r;
    const sig = this.touch(task, stackTop - PAGE_SIZE, PAGE_SIZE, true);
    return sig === 0 ? 0 : -ENOMEM;
  }

  // ---- memory system calls -------------------------------------------------

  /**
   * `mmap()`: map `len` bytes at `addr` (a hint unless MAP_FIXED), of a
   * tmpfs file at byte `offset` or anonymous memory. Returns the address
   * or a negative errno.
   */
  mmap(task: Task, addr: number, len: number, prot: number, flags: number, file: ShmemFile | null = null, offset = 0): number {
    const mm = this.enter(task);
    this.charge(this.costs.syscall);
    let r: number;
    if (!Number.isSafeInteger(offset) || offset < 0 || offset % PAGE_SIZE !== 0) r = -EINVAL;
    else if ((flags & MAP_ANONYMOUS) === 0 && file !== null && !this.files.has(file.id)) r = -EBADF;
    else {
      const f = (flags & MAP_ANONYMOUS) !== 0 ? null : file;
      // sys_mmap holds a reference on the file (fget) across do_mmap_pgoff
      if (f !== null) f.refs++;
      if (!mm.mmapSem.tryWrite()) throw new Error('mmap_sem contended in sequential mode');
      try {
        r = runSync(doMmapPgoff(this, mm, { addr, len, prot, flags, file: f, pgoff: offset / PAGE_SIZE }));
      } finally {
        mm.mmapSem.upWrite();
        if (f !== null) {
          f.refs--;
          shmemRelease(this, f);
        }
      }
    }
    if (r >= 0 && this.oracle !== null) {
      const end = r + Math.ceil(len / PAGE_SIZE) * PAGE_SIZE;
      this.oracle.unmap(mm, r, end);
      // MAP_POPULATE / MAP_LOCKED fault a writable private mapping in with writes: COW broken now
      if ((flags & (MAP_POPULATE | MAP_LOCKED)) !== 0 && (prot & PROT_WRITE) !== 0) this.oracle.privatize(mm, r, end);
    }
    this.opDone('mmap');
    return r;
  }

  /** `munmap()`: 0 or a negative errno. */
  munmap(task: Task, addr: number, len: number): number {
    const mm = this.enter(task);
    this.charge(this.costs.syscall);
    if (!mm.mmapSem.tryWrite()) throw new Error('mmap_sem contended in sequential mode');
    let r: number;
    try {
      r = runSync(doMunmap(this, mm, addr, len));
    } finally {
      mm.mmapSem.upWrite();
    }
    if (r === 0) this.oracle?.unmap(mm, addr, addr + Math.ceil(len / PAGE_SIZE) * PAGE_SIZE);
    this.opDone('munmap');
    return r;
  }

  /** `mprotect()`: 0 or a negative errno. */
  mprotect(task: Task, addr: number, len: number, prot: number): number {
    const mm = this.enter(task);
    this.charge(this.costs.syscall);
    if (!mm.mmapSem.tryWrite()) throw new Error('mmap_sem contended in sequential mode');
    let r: number;
    try {
      r = sysMprotect(this, mm, addr, len, prot);
    } finally {
      mm.mmapSem.upWrite();
    }
    this.opDone('mprotect');
    return r;
  }

  /** `mremap()`: the new address or a negative errno. */
  mremap(task: Task, addr: number, oldLen: number, newLen: number, flags: number, newAddr = 0): number {
    const mm = this.enter(task);
    this.charge(this.costs.syscall);
    if (!mm.mmapSem.tryWrite()) throw new Error('mmap_sem contended in sequential mode');
    let r: number;
    try {
      r = runSync(sysMremap(this, mm, addr, oldLen, newLen, flags, newAddr));
    } finally {
      mm.mmapSem.upWrite();
    }
    if (r >= 0) this.oracle?.remap(mm, addr, Math.ceil(oldLen / PAGE_SIZE) * PAGE_SIZE, r, Math.ceil(newLen / PAGE_SIZE) * PAGE_SIZE);
    this.opDone('mremap');
    return r;
  }

  /** `madvise()` (MADV_DONTNEED, MADV_NORMAL): 0 or a negative errno. */
  madvise(task: Task, addr: number, len: number, advice: number): number {
    const mm = this.enter(task);
    this.charge(this.costs.syscall);
    if (!mm.mmapSem.tryRead()) throw new Error('mmap_sem contended in sequential mode');
    let r: number;
    const oracle = this.oracle;
    try {
      r = runSync(sysMadvise(this, mm, addr, len, advice, oracle === null ? undefined : (s, e) => {
        oracle.discard(mm, s, e);
      }));
    } finally {
      mm.mmapSem.upRead();
    }
    this.opDone('madvise');
    return r;
  }

  /**
   * `remap_file_pages()`: show file pages from `pgoff` at [start,
   * start+size) of a shared file mapping (making it nonlinear). 0 or a
   * negative errno.
   */
  remapFilePages(task: Task, start: number, size: number, pgoff: number, flags = 0): number {
    const mm = this.enter(task);
    this.charge(this.costs.syscall);
    if (!mm.mmapSem.tryWrite()) throw new Error('mmap_sem contended in sequential mode');
    let r: number;
    try {
      r = sysRemapFilePages(this, mm, start, size, 0, pgoff, flags);
    } finally {
      mm.mmapSem.upWrite();
    }
    if (r === 0) this.oracle?.remapFilePages(mm, Math.floor(start / PAGE_SIZE) * PAGE_SIZE, Math.floor(size / PAGE_SIZE) * PAGE_SIZE, pgoff);
    this.opDone('remap_file_pages');
    return r;
  }

  /** `mlock()`: 0 or a negative errno. */
  mlock(task: Task, addr: number, len: number): number {
    return this.mlockOp(task, addr, len, true);
  }

  /** `munlock()`: 0 or a negative errno. */
  munlock(task: Task, addr: number, len: number): number {
    return this.mlockOp(task, addr, len, false);
  }

  private mlockOp(task: Task, addr: number, len: number, on: boolean): number {
    const mm = this.enter(task);
    this.charge(this.costs.syscall);
    if (!mm.mmapSem.tryWrite()) throw new Error('mmap_sem contended in sequential mode');
    let r: number;
    try {
      r = doMlock(this, mm, addr, len, on);
    } finally {
      mm.mmapSem.upWrite();
    }
    // make_pages_present wrote to writable private pages: COW broken now
    if (on && r === 0) this.oracle?.privatize(mm, Math.floor(addr / PAGE_SIZE) * PAGE_SIZE, Math.ceil((addr + len) / PAGE_SIZE) * PAGE_SIZE);
    this.opDone(on ? 'mlock' : 'munlock');
    return r;
  }

  /**
   * `get_user_pages()` under mmap_sem (read): pin `nrPages` pages from
   * `addr`. Returns the pinned pfns (release each with
   * {@link putUserPages}) or a negative errno.
   */
  getUserPages(task: Task, addr: number, nrPages: number, write: boolean, force = false): number[] | number {
    const mm = this.enter(task);
    if (!mm.mmapSem.tryRead()) throw new Error('mmap_sem contended in sequential mode');
    let r: number[] | number;
    try {
      r = getUserPages(this, mm, addr, nrPages, write, force);
    } finally {
      mm.mmapSem.upRead();
    }
    if (write && typeof r !== 'number') {
      const start = Math.floor(addr / PAGE_SIZE) * PAGE_SIZE;
      this.oracle?.privatize(mm, start, start + r.length * PAGE_SIZE);
    }
    this.opDone('get_user_pages');
    return r;
  }

  /** `put_page()` on pages pinned by {@link getUserPages}. */
  putUserPages(pfns: readonly number[]): void {
    for (const pfn of pfns) putUserPage(this, pfn);
    this.opDone('put_page');
  }

  /**
   * A direct-I/O-like transfer of `nrPages` pages at `addr`: pin them with
   * `get_user_pages` (write when the device writes memory, `toMemory`),
   * move the data, release the pins. Returns the pages moved or a negative
   * errno.
   */
  directIo(task: Task, addr: number, nrPages: number, toMemory: boolean): number {
    const mm = this.enter(task);
    this.charge(this.costs.syscall);
    const r = this.getUserPages(task, addr, nrPages, toMemory);
    if (typeof r === 'number') return r;
    const base = Math.floor(addr / PAGE_SIZE) * PAGE_SIZE;
    for (let i = 0; i < r.length; i++) {
      const pfn = r[i]!;
      const a = base + i * PAGE_SIZE;
      if (toMemory) {
        const t = this.nextToken(a);
        this.setToken(pfn, t);
        this.oracle?.write(mm, a, t);
      } else {
        this.oracle?.read(this, mm, a, this.tokenOf(pfn));
      }
    }
    this.putUserPages(r);
    return r.length;
  }

  /**
   * `access_process_vm()` (ptrace PEEKDATA/POKEDATA): read, or with
   * `value` write, the data token of one page of `target` through
   * `get_user_pages(force)`. A forced write to a read-only shared mapping
   * lands in a COW copy. Returns the token read/written or a negative errno.
   */
  accessProcessVm(target: Task, addr: number, value?: number): number {
    const write = value !== undefined;
    const r = this.getUserPages(target, addr, 1, write, true);
    if (typeof r === 'number') return r;
    const pfn = r[0]!;
    const mm = target.mm!;
    const page = Math.floor(addr / PAGE_SIZE) * PAGE_SIZE;
    let out: number;
    if (write) {
      out = value >>> 0;
      this.setToken(pfn, out);
      this.oracle?.forceWrite(mm, page, out);
    } else {
      out = this.tokenOf(pfn);
      this.oracle?.read(this, mm, page, out);
    }
    this.putUserPages(r);
    return out;
  }

  /**
   * `ftruncate()` of a tmpfs file: shrinking unmaps the cut-off part from
   * every mapping and frees its pages.
   */
  ftruncate(file: ShmemFile, size: number): number {
    if (!Number.isSafeInteger(size) || size < 0) return -EINVAL;
    if (!this.files.has(file.id)) return -EBADF;
    this.oracle?.truncate(this, file.id, size, [...file.iMmap, ...file.iMmapNonlinear]);
    vmtruncate(this, file, size);
    this.opDone('ftruncate');
    return 0;
  }

  /**
   * Invalidate a file range (`unmap_mapping_range` with `even_cows` 0):
   * page-cache pages are unmapped, private COWed pages stay.
   */
  invalidateMapping(file: ShmemFile, offset: number, len: number): void {
    unmapMappingRange(this, file, offset, len, false);
    this.opDone('invalidate');
  }

  /** The data token of frame `pfn` (RAM, XIP image, or device memory). */
  tokenOf(pfn: number): number {
    return pfn < this.pages.nrFrames ? this.pages.token[pfn]! : this.iomem.tokenOf(pfn);
  }

  /** Write the data token of frame `pfn`. */
  setToken(pfn: number, value: number): void {
    if (pfn < this.pages.nrFrames) this.pages.token[pfn] = value;
    else this.iomem.setToken(pfn, value);
  }

  /**
   * Create a device of `size` bytes whose driver maps it with
   * `remap_pfn_range` (`pfnmap`), `vm_insert_page` (`insertpage`) or
   * `->nopfn` (`nopfn`). Map it with {@link mmap}.
   */
  deviceCreate(name: string, size: number, kind: DeviceKind): ShmemFile {
    if (!Number.isSafeInteger(size) || size <= 0) throw new KernelConfigError(`device size must be a positive integer, got ${size}`);
    const r = deviceCreate(this, name, size, kind);
    if (typeof r === 'number') throw new KernelConfigError(`out of memory creating device ${name}`);
    this.opDone('device');
    return r;
  }

  /** Create a file of `size` bytes on the XIP filesystem (the kernel needs `xipBytes`). */
  xipFileCreate(name: string, size: number): ShmemFile {
    const f = xipFileCreate(this, name, size);
    this.opDone('xip');
    return f;
  }

  /** Create a hugetlbfs file of `size` bytes (mmap extends it). */
  hugetlbfsCreate(name: string, size = 0): ShmemFile {
    if (!Number.isSafeInteger(size) || size < 0 || size % HPAGE_SIZE !== 0) {
      throw new KernelConfigError(`hugetlbfs file size must be a multiple of 2 MiB, got ${size}`);
    }
    return hugetlbfsCreate(this, name, size);
  }

  /** Create a tmpfs file of `size` bytes. */
  shmemCreate(name: string, size: number): ShmemFile {
    if (!Number.isSafeInteger(size) || size < 0) throw new KernelConfigError(`file size must be a non-negative integer, got ${size}`);
    return shmemFileSetup(this, name, size);
  }

  /** Unlink a tmpfs file: its pages go when its last mapping does. */
  shmemUnlink(file: ShmemFile): void {
    file.unlinked = true;
    shmemRelease(this, file);
    this.opDone('unlink');
  }

  // ---- user accesses -------------------------------------------------------

  /**
   * Access every page of [addr, addr+len) from user space through the
   * task's CPU, writing a fresh data token on each page when `write`.
   * Returns 0, or the signal that stopped it (SIGSEGV, SIGBUS, SIGKILL).
   */
  touch(task: Task, addr: number, len: number, write: boolean): number {
    const mm = this.enter(task);
    const end = addr + len;
    const oracle = this.oracle;
    const token = this.pages.token;
    const nFrames = this.pages.nrFrames;
    let sig = 0;
    for (let a = Math.floor(addr / PAGE_SIZE) * PAGE_SIZE; a < end; a += PAGE_SIZE) {
      const r = userAccessPage(this, mm, a, write);
      if (r < 0) {
        sig = -r;
        break;
      }
      if (write) {
        const t = this.nextToken(a);
        if (r < nFrames) token[r] = t;
        else this.iomem.setToken(r, t);
        oracle?.write(mm, a, t);
      } else if (oracle !== null) {
        oracle.read(this, mm, a, this.tokenOf(r));
      }
    }
    this.opDone(write ? 'write' : 'read');
    return sig;
  }

  /** Write `value` as the data token of the page at `addr`; 0 or a signal. */
  write(task: Task, addr: number, value: number): number {
    const mm = this.enter(task);
    const r = userAccessPage(this, mm, addr, true);
    if (r > 0) {
      this.setToken(r, value >>> 0);
      this.oracle?.write(mm, Math.floor(addr / PAGE_SIZE) * PAGE_SIZE, value >>> 0);
    }
    this.opDone('write');
    return r < 0 ? -r : 0;
  }

  /** Read the data token of the page at `addr`: `{ sig: 0, value }` or `{ sig }`. */
  read(task: Task, addr: number): ReadResult {
    const mm = this.enter(task);
    const r = userAccessPage(this, mm, addr, false);
    let value = 0;
    if (r > 0) {
      value = this.tokenOf(r);
      this.oracle?.read(this, mm, Math.floor(addr / PAGE_SIZE) * PAGE_SIZE, value);
    }
    this.opDone('read');
    return { sig: r < 0 ? -r : 0, value };
  }

  /** A fresh non-zero data token for a write to `addr`. */
  nextToken(addr: number): number {
    const x = (Math.imul(++this.writeSeq ^ this.seed, 0x9e3779b1) ^ Math.floor(addr / PAGE_SIZE)) >>> 0;
    return x === 0 ? 1 : x;
  }

  // ---- reports -------------------------------------------------------------

  /** Record the gauges and per-process figures at the workload's snapshot point. */
  snapshot(): void {
    this.refreshGauges();
    this.vm.sample();
    this.snap = takeSnapshot(this);
  }

  /** The metrics (gauges from the snapshot if one was taken). */
  metrics(): Metrics {
    return buildMetrics(this, this.snap ?? takeSnapshot(this));
  }

  /**
   * End of a run: with checking on, verify that nothing leaked once every
   * process has exited.
   */
  finish(): void {
    if (this.oracle === null) return;
    this.invariants.checks++;
    for (const v of checkNoLeaks(this)) {
      if (this.invariants.violations.length < MAX_VIOLATIONS) this.invariants.violations.push({ ...v, op: 'finish' });
    }
  }

  /** Page-fault entry for tests: handle a fault at `addr` as the CPU would. */
  fault(task: Task, addr: number, write: boolean): number {
    const mm = this.enter(task);
    const r = doPageFault(this, mm, addr, write);
    this.opDone('fault');
    return r;
  }
}
