/**
 * The kernel object: machine, memory, page tables, tasks, seams and
 * counters, with the services kernel paths use (charging time, preemption,
 * tracing, reclaim) and the synchronous system-call API that workloads
 * drive. {@link buildKernel} makes one.
 * @module
 */
import { ENOMEM } from '../errno.js';
import { Cpu } from '../machine/cpu.js';
import type { CostTable } from '../machine/cost.js';
import type { MachineProfile, Placement } from '../machine/profile.js';
import { PhysMem } from '../mem/alloc.js';
import { HPAGE_FRAMES, HPAGE_SIZE, HugePool } from '../mem/hugetlb-pool.js';
import { IoMem } from '../mem/iomem.js';
import { LruLists } from '../mem/lru.js';
import type { PageArrays } from '../mem/page.js';
import { doPageFaultPath } from '../mm/access.js';
import { TASK_UNMAPPED_BASE } from '../mm/mmap.js';
import { accountTable, basePgtableAlloc } from '../mm/pgalloc.js';
import { deleteFromSwapCache, SwapInfo } from '../mm/swapfile.js';
import { MmuGather } from '../mm/tlb-gather.js';
import { type AnonVma, DEFAULT_MAX_MAP_COUNT, MmStruct, type VmOperations } from '../mm/types.js';
import { SWAP_CLUSTER_MAX, tryToFreePages } from '../mm/vmscan.js';
import { AddressSpace } from '../fs/address-space.js';
import type { DeviceKind } from '../fs/drivers.js';
import { hugetlbfsCreate } from '../fs/hugetlbfs.js';
import { createShmemVmOps, shmemFileSetup, shmemRelease, type ShmemFile } from '../fs/shmem.js';
import { createXipVmOps, xipFileCreate } from '../fs/xip.js';
import { LEVEL_PGD, type Level, PAGE_SIZE } from '../pgtable/entry.js';
import { TableStore } from '../pgtable/store.js';
import { LockStats, Mutex, PtlTable, RwSem, SpinLock } from '../sched/lock.js';
import { Rcu } from '../sched/rcu.js';
import { awaitPath, RESCHED, runSync, type KGen } from '../sched/run.js';
import { type ExploreOptions, type Mode, Scheduler, type Thread } from '../sched/scheduler.js';
import { Task } from '../sched/task.js';
import { checkKernel, checkNoLeaks, TouchedChecker, type Violation } from '../observe/check.js';
import { DirtyList, Touched } from '../observe/touched.js';
import { buildMetrics, type Metrics, takeSnapshot, type Snapshot } from '../observe/metrics.js';
import { Oracle } from '../observe/oracle.js';
import { type TraceFile, TraceRecorder } from '../observe/trace.js';
import { VmStat } from '../observe/vmstat.js';
import { type CostSpec, type FeatureCost, FeatureCosts } from '../seams/costs.js';
import { FeatureCounters } from '../seams/counters.js';
import { KernelConfigError, type ResolvedFeature } from '../seams/feature.js';
import { type FileType, type FileTypeOps, FileTypes } from '../seams/file-types.js';
import { CheckHooks, type FrameRefs, type InvariantCheck, type OracleCheck } from '../seams/hooks.js';
import type { Seams } from '../seams/seams.js';
import { SeamTable } from '../seams/seam-table.js';
import { type MmSlot, type MmSlotRules, SlotTable, type VmaSlot, type VmaSlotRules } from '../seams/slots.js';
import type { InvariantReport, KernelConfig, KernelInit, ReadResult } from './config.js';
import { Sys, type ThreadProgram } from './sys.js';
import {
  putUserPages,
  sysAccessProcessVm,
  sysDeviceCreate,
  sysDirectIo,
  sysExecve,
  sysExit,
  sysFork,
  sysFtruncate,
  sysGetUserPages,
  sysGetUserPagesInto,
  sysInvalidate,
  sysMadviseCall,
  sysMlock,
  sysMmap,
  sysMprotectCall,
  sysMremapCall,
  sysMunmap,
  sysRemapFilePagesCall,
  userRead,
  userTouch,
  userWrite,
} from './syscalls.js';

const MAX_VIOLATIONS = 100;

/**
 * A modelled kernel. The synchronous system-call methods (`mmap`, `fork`,
 * …) run the kernel path to completion on the calling task's CPU and then,
 * with checking on, run the invariant checker and the oracle.
 * {@link Kernel.runThreads} runs several tasks' programs at once in the
 * timed and explore modes.
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
  /** Execution mode. */
  readonly mode: Mode;
  /** True in the timed and explore modes: kernel paths yield where other CPUs may run. */
  readonly interleaving: boolean;
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
  /** Split PTE locks. */
  readonly ptl: PtlTable;
  /** `hugetlb_instantiation_mutex`. */
  readonly hugetlbInstantiationMutex: Mutex;
  /** RCU. */
  readonly rcu: Rcu;
  /** The seam table; features wrap or replace seams through it. */
  readonly seamTable = new SeamTable();
  /** The mms sharing each shared page table, by the table's pfn (see `pgtableShare`). */
  readonly sharedTables = new Map<number, MmStruct[]>();
  /**
   * The present anonymous and file pages below each shared PTE table, two
   * words by the table's pfn, kept while the table is shared so that a
   * share or unshare need not count its 512 entries (allocated at the first
   * share; see `pgtableShare`).
   */
  sharedTableRss: Int32Array | null = null;
  /** Whether {@link Kernel.sharedTableRss} holds table `pfn`'s count, by pfn. */
  sharedTableRssValid: Uint8Array | null = null;
  /** Counters and gauges the features declared ({@link Kernel.defineCounters}, {@link Kernel.defineGauge}). */
  readonly featureCounters = new FeatureCounters();
  /** Invariant checks, oracle checks and frame references the features added. */
  readonly checkHooks = new CheckHooks();
  /** Per-VMA and per-mm extension slots the features declared. */
  readonly slots = new SlotTable();
  /** File types and character devices the features registered. */
  readonly fileTypes = new FileTypes();
  /** Named costs the features added ({@link Kernel.defineCost}). */
  readonly featureCosts = new FeatureCosts();
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
  /** `zone->nr_scan_active`. */
  nrScanActive = 0;
  /** `zone->nr_scan_inactive`. */
  nrScanInactive = 0;
  /** `zone->pages_scanned`: LRU pages reclaim scanned since a page was last freed. */
  pagesScanned = 0;
  /** `ZONE_ALL_UNRECLAIMABLE`: the zone was scanned six times over without a page freed. */
  allUnreclaimable = false;
  /** The `pgfree` count when reclaim last looked at the zone (a page freed since resets `pagesScanned`). */
  pgfreeAtScan = 0;
  /** Major faults seen by the fault handler (`maj_flt`, summed over tasks). */
  majFlt = 0;
  /** Simulated time at the end of the last operation (sequential mode). */
  now = 0;
  /** Simulated time spent flushing TLBs, IPIs included. */
  tlbFlushNs = 0;
  /** Tasks ever created. */
  readonly tasks: Task[] = [];
  /**
   * With checking on: what the operations touched since the checker last
   * ran (tables, frames, swap slots), marked by the core as it goes.
   */
  readonly touched: Touched | null;
  private touchedChecker: TouchedChecker | null = null;
  /**
   * Check the whole machine at every operation boundary instead of what
   * the operations touched (the reference the incremental checker is
   * tested against; slower by the size of the machine).
   */
  fullCheck = false;
  /** Invariant checker results. */
  readonly invariants: InvariantReport = { checks: 0, violations: [] };
  /** The data-integrity oracle, when checking. */
  readonly oracle: Oracle | null;
  /** The trace being recorded, if any. */
  readonly trace: TraceRecorder | null;
  /** Explore options (explore mode). */
  readonly exploreOptions: ExploreOptions | null;
  /** The scheduler of the last {@link runThreads} (its interleaving, in explore mode). */
  lastScheduler: Scheduler | null = null;
  private nextPid = 1;
  private nextCpu = 0;
  private writeSeq = 0;
  private snap: Snapshot | null = null;
  private readonly mms = new Map<number, MmStruct>();
  private currentOp = '';

  /** Use {@link buildKernel}. */
  constructor(init: KernelInit) {
    this.profile = init.profile;
    this.config = init.config;
    this.costs = init.profile.costs;
    this.placement = init.profile.placement;
    this.seed = init.seed;
    this.mode = init.mode;
    this.interleaving = init.mode !== 'sequential';
    this.exploreOptions = init.explore;
    this.features = init.features;
    try {
      this.mem = new PhysMem(init.memBytes / PAGE_SIZE, init.profile.structPageSize, init.hugePages * HPAGE_FRAMES, init.xipBytes / PAGE_SIZE, init.xipMemmap);
    } catch (e) {
      throw new KernelConfigError(e instanceof Error ? e.message : String(e));
    }
    this.iomem = new IoMem(this.mem.pages.nrFrames);
    // an XIP image without a memmap is memory without struct page, like a device's
    if (this.mem.xipFrames > 0 && !this.mem.xipMemmap && this.iomem.alloc('xip image', this.mem.xipFrames) !== this.mem.xipBase) {
      throw new Error('XIP image misplaced in the physical address map');
    }
    this.pages = this.mem.pages;
    this.tables = new TableStore(this.pages);
    this.cpus = [];
    const perSocket = Math.ceil(init.profile.cpus / init.profile.sockets);
    for (let i = 0; i < init.profile.cpus; i++) {
      this.cpus.push(new Cpu(i, Math.floor(i / perSocket), init.profile.tlbEntries, init.profile.tlbWays));
    }
    this.cpu = this.cpus[0]!;
    this.gathers = this.cpus.map(() => new MmuGather());
    this.ptl = new PtlTable(this.locks, this.pages.nrFrames);
    this.hugetlbInstantiationMutex = new Mutex(this.locks, 'hugetlb_instantiation_mutex', this.cpus.length);
    this.rcu = new Rcu(this.cpus.length);
    this.shmemOps = createShmemVmOps(this);
    this.xipOps = createXipVmOps(this);
    this.oracle = init.check ? new Oracle() : null;
    this.trace = init.traceEvents > 0 ? new TraceRecorder(init.traceEvents) : null;
    this.vm.nr_memmap_pages = this.mem.nrMemmapPages;
    this.lru = new LruLists(this.pages);
    this.hugePool = new HugePool(this.pages, this.mem.hugeBase, init.hugePages);
    this.swap = new SwapInfo(init.swapBytes);
    this.touched = init.check ? new Touched(this.pages.nrFrames, this.swap.nrSlots) : null;
    if (this.touched !== null) {
      this.tables.touched = this.touched.tables;
      this.mem.touched = this.touched.frames;
      this.lru.touched = this.touched.frames;
      this.hugePool.touched = this.touched.frames;
      for (const c of this.cpus) c.tlb.touched = new DirtyList(c.tlb.entries + 1);
    }
    this.pagesMin = Math.max(SWAP_CLUSTER_MAX, Math.floor(this.mem.nrFrames / 256));
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
    const cpu = this.cpu;
    cpu.busyNs += ns;
    cpu.clock += ns;
  }

  /** Charge TLB-flush time (also counted in `tlbFlushNs`). */
  chargeFlush(ns: number): void {
    this.charge(ns);
    this.tlbFlushNs += ns;
  }

  /** Charge a feature's named cost (see {@link Kernel.defineCost}) to the running CPU. */
  chargeCost(cost: FeatureCost): void {
    cost.charged++;
    this.charge(cost.ns);
  }

  // ---- extension plumbing: what a feature declares at install ----------------

  /**
   * Declare counters of `feature`: `docs` maps each counter's name to a
   * one-line description. Returns a plain object of counters, all 0, that
   * the feature increments (`c.invalidates++`); the metrics report them as
   * `metrics.feature.<feature>.<name>`, their descriptions as
   * `metrics.featureDocs.<feature>.<name>`.
   */
  defineCounters<K extends string>(feature: string, docs: Readonly<Record<K, string>>): Record<K, number> {
    return this.featureCounters.define(feature, docs);
  }

  /**
   * Declare a gauge of `feature`: `sample()` is read at the workload's
   * snapshot and reported as `metrics.feature.<feature>.<name>`.
   */
  defineGauge(feature: string, name: string, doc: string, sample: () => number): void {
    this.featureCounters.defineGauge(feature, name, doc, sample);
  }

  /**
   * Add an invariant check of `feature`, run by the checker wherever the
   * core's checks run (every operation boundary with checking on,
   * {@link Kernel.check}, {@link Kernel.finish}); what it returns is
   * reported as violations of check `<feature>:<name>`.
   */
  addInvariantCheck(feature: string, name: string, check: InvariantCheck): void {
    this.checkHooks.addInvariantCheck(feature, name, check);
  }

  /**
   * Add a check of `feature` against the data oracle (with checking on):
   * it gets the oracle's expectation for any user address and returns the
   * mismatches, reported as violations of check `<feature>:<name>`.
   */
  addOracleCheck(feature: string, name: string, check: OracleCheck): void {
    this.checkHooks.addOracleCheck(feature, name, check);
  }

  /**
   * Declare the references `feature` holds on frames (a secondary MMU's
   * pages): the checker adds them to each frame's expected refcount. Once
   * every mm has exited, a frame still held is reported as a leak.
   */
  addFrameRefs(feature: string, refs: FrameRefs): void {
    this.checkHooks.addFrameRefs(feature, refs);
  }

  /**
   * Declare a per-VMA extension slot of `feature`, with the rule `split_vma`,
   * `vma_merge`, `dup_mmap` and mremap apply to its value.
   */
  vmaSlot<T>(feature: string, name: string, rules: VmaSlotRules<T>): VmaSlot<T> {
    return this.slots.vmaSlot(feature, name, rules);
  }

  /** Declare a per-mm extension slot of `feature`, with the rule `dup_mmap` applies to its value. */
  mmSlot<T>(feature: string, name: string, rules: MmSlotRules<T>): MmSlot<T> {
    return this.slots.mmSlot(feature, name, rules);
  }

  /**
   * Register a file type or character device of `feature`: its
   * `file_operations` (`mmap`, optional `release`) and an optional setup.
   * Create files of it with {@link Kernel.fileCreate}.
   */
  registerFileType(feature: string, name: string, ops: FileTypeOps): FileType {
    return this.fileTypes.register(feature, name, ops);
  }

  /**
   * Add a named cost of `feature` (a secondary TLB's flush instruction):
   * `ns` for every machine, or per machine profile name with an optional
   * `default`. Returns the cost on this kernel's machine; charge it with
   * {@link Kernel.chargeCost}.
   */
  defineCost(feature: string, name: string, doc: string, ns: CostSpec): FeatureCost {
    return this.featureCosts.define(feature, name, doc, ns, this.profile.name);
  }

  /** Account a table page at `level` (+1 or -1). */
  accountTable(mm: MmStruct, level: Level, delta: number): void {
    accountTable(this, mm, level, delta);
  }

  /** `preempt_disable()`: with PREEMPT, the start of a non-preemptible stretch. */
  preemptDisable(): void {
    const cpu = this.cpu;
    if (cpu.preemptCount++ === 0 && this.config.preempt) cpu.npStart = cpu.clock;
  }

  /** `preempt_enable()`. */
  preemptEnable(): void {
    const cpu = this.cpu;
    if (cpu.preemptCount <= 0) preemptUnderflow(cpu);
    if (--cpu.preemptCount === 0 && this.config.preempt) this.closeStretch(cpu, -1);
  }

  /** `local_irq_disable()`: IPIs wait until interrupts are back on. */
  localIrqDisable(): void {
    this.cpu.irqsOff++;
    this.preemptDisable();
  }

  /** `local_irq_enable()`. */
  localIrqEnable(): void {
    if (this.cpu.irqsOff <= 0) throw new Error(`local_irq_enable with interrupts on, cpu ${this.cpu.id}`);
    this.cpu.irqsOff--;
    this.preemptEnable();
  }

  /**
   * `might_sleep()`: sleeping in atomic context (a spinlock held, preemption
   * or interrupts off) is reported in the kernel's words.
   */
  mightSleep(what: string): void {
    const cpu = this.cpu;
    if (cpu.preemptCount > 0 || cpu.irqsOff > 0) {
      this.reportViolation('atomic', `BUG: sleeping function called from invalid context: ${what} on cpu ${cpu.id} (preempt_count ${cpu.preemptCount}, irqs ${cpu.irqsOff > 0 ? 'off' : 'on'})`);
    }
  }

  /** A kernel path begins (system call or fault entry). */
  kernelEnter(): void {
    const cpu = this.cpu;
    if (cpu.kernelDepth++ === 0) {
      cpu.inKernel = true;
      if (!this.config.preempt) cpu.npStart = cpu.clock;
    }
  }

  /** A kernel path returns to user mode. */
  kernelExit(): void {
    const cpu = this.cpu;
    if (--cpu.kernelDepth === 0) {
      cpu.inKernel = false;
      if (!this.config.preempt) this.closeStretch(cpu, -1);
    }
  }

  /**
   * A voluntary schedule point without PREEMPT (`cond_resched`, a sleep):
   * ends the current non-preemptible stretch and starts the next.
   */
  npBreak(): void {
    const cpu = this.cpu;
    if (!this.config.preempt && cpu.npStart >= 0) this.closeStretch(cpu, cpu.clock);
  }

  private closeStretch(cpu: Cpu, restart: number): void {
    if (cpu.npStart >= 0) {
      const d = cpu.clock - cpu.npStart;
      if (d > cpu.maxNonpreemptNs) cpu.maxNonpreemptNs = d;
    }
    cpu.npStart = restart;
  }

  /** `cond_resched()`: a point where another task may run. */
  *condResched(): KGen<void> {
    this.npBreak();
    if (this.interleaving) yield RESCHED;
  }

  /** Report a violation found while running (not at a boundary): recorded at once. */
  reportViolation(check: string, message: string): void {
    if (this.invariants.violations.length < MAX_VIOLATIONS) {
      this.invariants.violations.push({ check, message, op: this.currentOp === '' ? 'running' : this.currentOp });
    }
  }

  /** Trace: a slice from `t0` to now on the running CPU. */
  traceSlice(cat: string, name: string, t0: number): void {
    this.trace?.slice(this.cpu.id, cat, name, t0, this.cpu.clock);
  }

  /** Trace: an instant event on the running CPU. */
  traceInstant(cat: string, name: string, args?: Record<string, number | string>): void {
    this.trace?.instant(this.cpu.id, cat, name, this.cpu.clock, args);
  }

  /** Trace: the end of a lock wait (as a slice from `t0`). */
  traceLockWait(className: string, begin: boolean, t0 = 0): void {
    if (this.trace === null || begin) return;
    this.trace.slice(this.cpu.id, 'lock', `wait ${className}`, t0, this.cpu.clock);
  }

  /**
   * The slow path of an allocation below the `pages_min` watermark: direct
   * reclaim (`try_to_free_pages`) until free memory is above the watermark
   * again — an order-0 allocation retries while reclaim makes progress —
   * or, once reclaim reports no progress (the zone is all-unreclaimable),
   * `out_of_memory()`: counted in `oom_kill`, and the allocation fails
   * (the model's OOM victim is the allocating task, which the fault path
   * then kills). Returns true when the allocation may take a frame.
   * @see mm/page_alloc.c __alloc_pages (the rebalance loop), mm/oom_kill.c out_of_memory
   */
  *reclaim(): KGen<boolean> {
    const cpu = this.cpu;
    for (;;) {
      cpu.inReclaim = true;
      let progress: boolean;
      try {
        progress = yield* tryToFreePages(this);
      } finally {
        cpu.inReclaim = false;
      }
      if (!progress) {
        this.vm.oom_kill++;
        return false;
      }
      if (this.mem.nrFree > this.pagesMin) return true;
    }
  }

  /** Every CPU passes a quiescent state (sequential mode, between operations). */
  rcuQuiesceAll(): void {
    for (const cpu of this.cpus) this.rcu.quiescent(cpu.id);
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

  /** A fresh non-zero data token for a write to `addr`. */
  nextToken(addr: number): number {
    const x = (Math.imul(++this.writeSeq ^ this.seed, 0x9e3779b1) ^ Math.floor(addr / PAGE_SIZE)) >>> 0;
    return x === 0 ? 1 : x;
  }

  // ---- processes ------------------------------------------------------------

  /** `mm_alloc()` + `pgd_alloc()`: a new empty mm, or -ENOMEM. */
  *mmAlloc(): KGen<MmStruct | number> {
    const id = this.nextId++;
    const mm = new MmStruct(id, 0, this.cpus.length, TASK_UNMAPPED_BASE, new RwSem(this.locks, 'mmap_sem', this.cpus.length), new SpinLock(this.locks, 'page_table_lock'));
    const pgd = yield* awaitPath(basePgtableAlloc(this, mm, LEVEL_PGD));
    if (pgd === 0) return -ENOMEM;
    mm.pgd = pgd;
    this.mms.set(id, mm);
    return mm;
  }

  /** Forget a torn-down mm. */
  forgetMm(mm: MmStruct): void {
    this.mms.delete(mm.id);
  }

  /** The live mm with id `id`, if any. */
  liveMm(id: number): MmStruct | undefined {
    return this.mms.get(id);
  }

  /** Live mms (for the checker and metrics). */
  liveMms(): MmStruct[] {
    return [...this.mms.values()];
  }

  /**
   * `switch_mm()` on the task's CPU: loading CR3 flushes the TLB without
   * ASIDs; a tagged TLB keeps the old entries and the CPU stays in the old
   * mm's mask.
   */
  switchMm(task: Task): void {
    const mm = task.mm;
    if (mm === null) return;
    const cpu = this.cpus[task.cpu]!;
    if (cpu.activeMm === mm) return;
    const saved = this.cpu;
    this.cpu = cpu;
    if (this.profile.tlbTagged) {
      this.charge(this.costs.contextSwitch);
    } else {
      if (cpu.activeMm !== null) cpu.activeMm.cpuVmMask[cpu.id] = 0;
      cpu.tlb.flushAll();
      this.charge(this.costs.contextSwitch + this.costs.tlbFlushAll);
    }
    cpu.activeMm = mm;
    mm.cpuVmMask[cpu.id] = 1;
    this.vm.mmlab_context_switch++;
    this.cpu = saved;
  }

  /** Run one operation of `task` to completion (the synchronous API). */
  private run<T>(task: Task | null, op: string, path: KGen<T>): T {
    if (task !== null) {
      const cpu = this.cpus[task.cpu]!;
      this.cpu = cpu;
      // the synchronous API runs in program order: an operation starts after the previous one
      if (this.mode !== 'explore') cpu.clock = Math.max(cpu.clock, this.now);
      this.switchMm(task);
    }
    this.currentOp = op;
    let r: T;
    if (this.interleaving) {
      const box: { v?: T } = {};
      const t = task ?? this.tasks[0] ?? null;
      if (t === null) {
        r = runSync(path);
      } else {
        const program = (function* (): KGen<void> {
          box.v = yield* path;
        })();
        this.schedule([{ task: t, program }]);
        r = box.v as T;
      }
    } else {
      r = runSync(path);
    }
    if (this.mode !== 'explore') this.now = Math.max(this.now, this.cpu.clock);
    this.opDone(op);
    return r;
  }

  /** End of an operation: sample gauges and, when checking, run the checker. */
  private opDone(op: string): void {
    this.currentOp = '';
    if (!this.interleaving) this.rcuQuiesceAll();
    this.refreshGauges();
    this.vm.sample();
    if (this.oracle !== null) this.runCheck(op);
  }

  /** Run the checker now and record what it finds under `op` (explore mode's quiescent points). */
  checkpoint(op: string): void {
    this.refreshGauges();
    this.vm.sample();
    if (this.oracle !== null) this.runCheck(op);
  }

  private refreshGauges(): void {
    this.vm.nr_free_pages = this.mem.nrFree;
    this.vm.nr_active = this.lru.nr[1];
    this.vm.nr_inactive = this.lru.nr[0];
    this.vm.nr_swap_used = this.swap.inuse;
  }

  /**
   * The checker at an operation boundary: what the operations touched
   * since the last check (`TouchedChecker`); the whole machine with
   * `full`.
   */
  private runCheck(op: string, full = false): void {
    if (!full) this.invariants.checks++;
    const found = full || this.fullCheck ? this.check() : this.unmarked(() => (this.touchedChecker ??= new TouchedChecker(this)).run());
    for (const v of found) {
      if (this.invariants.violations.length < MAX_VIOLATIONS) this.invariants.violations.push({ ...v, op });
    }
  }

  /** Run `fn` (a checker) without marking the tables it reads as touched. */
  private unmarked<T>(fn: () => T): T {
    const saved = this.tables.touched;
    this.tables.touched = null;
    try {
      return fn();
    } finally {
      this.tables.touched = saved;
    }
  }

  /** Run the invariant checker and oracle on the whole machine now; returns what they found. */
  check(): Violation[] {
    return this.unmarked(() => {
      const found = checkKernel(this);
      if (this.oracle !== null) for (const v of this.oracle.verify(this)) found.push(v);
      return found;
    });
  }

  /** A new process with an empty address space, on the next CPU round-robin. */
  spawn(): Task {
    const mm = runSync(this.mmAlloc());
    if (typeof mm === 'number') throw new KernelConfigError('out of memory creating a process');
    const t = new Task(this.nextPid++, mm, this.nextCpu);
    this.nextCpu = (this.nextCpu + 1) % this.cpus.length;
    this.tasks.push(t);
    this.opDone('spawn');
    return t;
  }

  /**
   * `clone(CLONE_VM)`: a thread sharing `task`'s address space, on the next
   * CPU round-robin.
   */
  clone(task: Task): Task {
    const mm = task.mm;
    if (mm === null) throw new Error(`task ${task.pid} has exited`);
    mm.users++;
    const t = new Task(this.nextPid++, mm, this.nextCpu);
    this.nextCpu = (this.nextCpu + 1) % this.cpus.length;
    this.tasks.push(t);
    this.opDone('clone');
    return t;
  }

  /** `fork()`: the child's Task, or a negative errno. */
  fork(parent: Task): Task | number {
    return this.run(parent, 'fork', sysFork(this, parent));
  }

  /** A new task for a forked child's mm, on the next CPU round-robin (`copy_process`). */
  adoptChild(mm: MmStruct): Task {
    const child = new Task(this.nextPid++, mm, this.nextCpu);
    this.nextCpu = (this.nextCpu + 1) % this.cpus.length;
    this.tasks.push(child);
    return child;
  }

  /** `exit()`: tear down the task's address space (or drop a thread's share). */
  exit(task: Task): void {
    this.run(task, 'exit', sysExit(this, task));
  }

  /**
   * `execve()`: a fresh address space with a one-page stack at the top of
   * user space holding the arguments; the old one is torn down.
   */
  execve(task: Task): number {
    return this.run(task, 'execve', sysExecve(this, task));
  }

  // ---- memory system calls -------------------------------------------------

  /**
   * `mmap()`: map `len` bytes at `addr` (a hint unless MAP_FIXED), of a
   * file at byte `offset` or anonymous memory. Returns the address or a
   * negative errno.
   */
  mmap(task: Task, addr: number, len: number, prot: number, flags: number, file: ShmemFile | null = null, offset = 0): number {
    return this.run(task, 'mmap', sysMmap(this, task, addr, len, prot, flags, file, offset));
  }

  /** `munmap()`: 0 or a negative errno. */
  munmap(task: Task, addr: number, len: number): number {
    return this.run(task, 'munmap', sysMunmap(this, task, addr, len));
  }

  /** `mprotect()`: 0 or a negative errno. */
  mprotect(task: Task, addr: number, len: number, prot: number): number {
    return this.run(task, 'mprotect', sysMprotectCall(this, task, addr, len, prot));
  }

  /** `mremap()`: the new address or a negative errno. */
  mremap(task: Task, addr: number, oldLen: number, newLen: number, flags: number, newAddr = 0): number {
    return this.run(task, 'mremap', sysMremapCall(this, task, addr, oldLen, newLen, flags, newAddr));
  }

  /** `madvise()` (MADV_DONTNEED, MADV_NORMAL): 0 or a negative errno. */
  madvise(task: Task, addr: number, len: number, advice: number): number {
    return this.run(task, 'madvise', sysMadviseCall(this, task, addr, len, advice));
  }

  /**
   * `remap_file_pages()`: show file pages from `pgoff` at [start,
   * start+size) of a shared file mapping (making it nonlinear). 0 or a
   * negative errno.
   */
  remapFilePages(task: Task, start: number, size: number, pgoff: number, flags = 0): number {
    return this.run(task, 'remap_file_pages', sysRemapFilePagesCall(this, task, start, size, pgoff, flags));
  }

  /** `mlock()`: 0 or a negative errno. */
  mlock(task: Task, addr: number, len: number): number {
    return this.run(task, 'mlock', sysMlock(this, task, addr, len, true));
  }

  /** `munlock()`: 0 or a negative errno. */
  munlock(task: Task, addr: number, len: number): number {
    return this.run(task, 'munlock', sysMlock(this, task, addr, len, false));
  }

  /**
   * `get_user_pages()` under mmap_sem (read): pin `nrPages` pages from
   * `addr`. Returns the pinned pfns (release each with
   * {@link putUserPages}) or a negative errno.
   */
  getUserPages(task: Task, addr: number, nrPages: number, write: boolean, force = false): number[] | number {
    return this.run(task, 'get_user_pages', sysGetUserPages(this, task, addr, nrPages, write, force));
  }

  /**
   * `get_user_pages()` under mmap_sem (read) into the caller's `pages`
   * array, as the kernel's callers pass one: pin `pages.length` pages from
   * `addr`, storing their pfns from `pages[0]` on. Returns how many were
   * pinned (release them with {@link putUserPages} on
   * `pages.subarray(0, n)`), or a negative errno. The same walk, charges
   * and pins as {@link getUserPages}, without a new array per call.
   */
  getUserPagesInto(task: Task, addr: number, pages: Int32Array, write: boolean, force = false): number {
    return this.run(task, 'get_user_pages', sysGetUserPagesInto(this, task, addr, pages, write, force));
  }

  /** `put_page()` on pages pinned by {@link getUserPages} or {@link getUserPagesInto}. */
  putUserPages(pfns: ArrayLike<number>): void {
    putUserPages(this, pfns);
    this.opDone('put_page');
  }

  /**
   * A direct-I/O-like transfer of `nrPages` pages at `addr`: pin them with
   * `get_user_pages` (write when the device writes memory, `toMemory`),
   * move the data, release the pins. Returns the pages moved or a negative
   * errno.
   */
  directIo(task: Task, addr: number, nrPages: number, toMemory: boolean): number {
    return this.run(task, 'direct I/O', sysDirectIo(this, task, addr, nrPages, toMemory));
  }

  /**
   * `access_process_vm()` (ptrace PEEKDATA/POKEDATA): read, or with
   * `value` write, the data token of one page of `target` through
   * `get_user_pages(force)`. A forced write to a read-only shared mapping
   * lands in a COW copy. Returns the token read/written or a negative errno.
   */
  accessProcessVm(target: Task, addr: number, value?: number): number {
    return this.run(target, 'access_process_vm', sysAccessProcessVm(this, target, addr, value));
  }

  /**
   * `ftruncate()` of a tmpfs or hugetlbfs file: shrinking unmaps the
   * cut-off part from every mapping and frees its pages.
   */
  ftruncate(file: ShmemFile, size: number): number {
    return this.run(null, 'ftruncate', sysFtruncate(this, file, size));
  }

  /**
   * Invalidate a file range (`unmap_mapping_range` with `even_cows` 0):
   * page-cache pages are unmapped, private COWed pages stay.
   */
  invalidateMapping(file: ShmemFile, offset: number, len: number): void {
    this.run(null, 'invalidate', sysInvalidate(this, file, offset, len));
  }

  /**
   * Create a device of `size` bytes whose driver maps it with
   * `remap_pfn_range` (`pfnmap`), `vm_insert_page` (`insertpage`) or
   * `->nopfn` (`nopfn`). Map it with {@link mmap}.
   */
  deviceCreate(name: string, size: number, kind: DeviceKind): ShmemFile {
    if (!Number.isSafeInteger(size) || size <= 0) throw new KernelConfigError(`device size must be a positive integer, got ${size}`);
    const r = this.run(null, 'device', sysDeviceCreate(this, name, size, kind));
    if (typeof r === 'number') throw new KernelConfigError(`out of memory creating device ${name}`);
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

  /**
   * Create a file (or character device) of a type a feature registered
   * ({@link Kernel.registerFileType}), `size` bytes; map it with
   * {@link Kernel.mmap}, which calls the type's `mmap`.
   */
  fileCreate(type: FileType, name: string, size: number): ShmemFile {
    if (!this.fileTypes.list.includes(type)) throw new KernelConfigError(`file type '${type.name}' is not registered in this kernel`);
    if (!Number.isSafeInteger(size) || size < 0) throw new KernelConfigError(`file size must be a non-negative integer, got ${size}`);
    const f = new AddressSpace(this.nextId++, name, size, false, new SpinLock(this.locks, 'i_mmap_lock'), type.ops);
    type.ops.setup?.(this, f);
    this.files.set(f.id, f);
    this.opDone(type.name);
    return f;
  }

  /** Create a tmpfs file of `size` bytes. */
  shmemCreate(name: string, size: number): ShmemFile {
    if (!Number.isSafeInteger(size) || size < 0) throw new KernelConfigError(`file size must be a non-negative integer, got ${size}`);
    return shmemFileSetup(this, name, size);
  }

  /** Unlink a file: its pages go when its last mapping does. */
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
    return this.run(task, write ? 'write' : 'read', userTouch(this, task, addr, len, write));
  }

  /** Write `value` as the data token of the page at `addr`; 0 or a signal. */
  write(task: Task, addr: number, value: number): number {
    return this.run(task, 'write', userWrite(this, task, addr, value));
  }

  /** Read the data token of the page at `addr`: `{ sig: 0, value }` or `{ sig }`. */
  read(task: Task, addr: number): ReadResult {
    const r = this.run(task, 'read', userRead(this, task, addr));
    return r < 0 ? { sig: -r, value: 0 } : { sig: 0, value: r };
  }

  /** Page-fault entry for tests: handle a fault at `addr` as the CPU would. */
  fault(task: Task, addr: number, write: boolean): number {
    return this.run(task, 'fault', doPageFaultPath(this, task.mm!, addr, write));
  }

  // ---- concurrency ---------------------------------------------------------

  /**
   * The system calls as kernel paths, for a task's program in
   * {@link runThreads}: each returns a generator to `yield*`.
   */
  sys(task: Task): Sys {
    return new Sys(this, task);
  }

  /**
   * Run several tasks' programs at once — in the timed mode as discrete
   * events on their CPUs, in the explore mode as a seeded interleaving; in
   * the sequential mode one after the other. With checking, the checker
   * runs when they are all done.
   */
  runThreads(programs: readonly ThreadProgram[]): void {
    this.currentOp = 'threads';
    if (!this.interleaving) {
      for (const p of programs) {
        this.cpu = this.cpus[p.task.cpu]!;
        this.cpu.clock = Math.max(this.cpu.clock, this.now);
        this.switchMm(p.task);
        runSync(p.program);
        this.now = Math.max(this.now, this.cpu.clock);
      }
    } else {
      // the threads start together, after what came before them
      if (this.mode === 'timed') for (const p of programs) this.cpus[p.task.cpu]!.clock = Math.max(this.cpus[p.task.cpu]!.clock, this.now);
      this.schedule(programs);
      if (this.mode === 'timed') for (const c of this.cpus) this.now = Math.max(this.now, c.clock);
    }
    this.opDone('threads');
  }

  private schedule(programs: readonly ThreadProgram[]): void {
    const sched = new Scheduler(this, this.exploreOptions === null ? null : { ...this.exploreOptions, seed: this.exploreOptions.seed + this.schedRuns++ });
    this.lastScheduler = sched;
    const threads: Thread[] = programs.map((p, i) => ({ task: p.task, gen: p.program, done: false, waiting: null, blockedAt: 0, priority: 0, index: i }));
    sched.run(threads);
  }

  private schedRuns = 0;

  // ---- reports -------------------------------------------------------------

  /** Record the gauges and per-process figures at the workload's snapshot point. */
  snapshot(): void {
    this.refreshGauges();
    this.vm.sample();
    this.snap = takeSnapshot(this);
    // the whole machine once, besides the touched parts at each boundary
    if (this.oracle !== null) this.runCheck('snapshot', true);
  }

  /** Simulated elapsed time: the latest CPU clock. */
  simNs(): number {
    let t = this.now;
    for (const c of this.cpus) if (c.clock > t) t = c.clock;
    return t;
  }

  /** The metrics (gauges from the snapshot if one was taken). */
  metrics(): Metrics {
    return buildMetrics(this, this.snap ?? takeSnapshot(this));
  }

  /** The trace recorded so far (Trace Event Format), or null when not tracing. */
  traceFile(): TraceFile | null {
    return this.trace?.toJSON(this.cpus.length) ?? null;
  }

  /**
   * End of a run: with checking on, verify that nothing leaked once every
   * process has exited.
   */
  finish(): void {
    // what reclaim would do next: free swap-cache pages nobody maps or holds
    // (a pinned page whose last user went while pinned)
    const p = this.pages;
    for (let slot = 1; slot < this.swap.nrSlots; slot++) {
      const pfn = this.swap.cache[slot]!;
      if (pfn !== 0 && p.count[pfn] === 1 && p.mapcount[pfn] === 0 && p.pinned[pfn] === 0 && this.swap.map[slot] === 1) deleteFromSwapCache(this, pfn);
    }
    if (this.oracle === null) return;
    this.invariants.checks++;
    for (const v of this.unmarked(() => checkNoLeaks(this))) {
      if (this.invariants.violations.length < MAX_VIOLATIONS) this.invariants.violations.push({ ...v, op: 'finish' });
    }
  }
}

/** `preempt_enable()` without a matching disable: a model bug (out of line, so the hot `preemptEnable` stays small enough to be inlined). */
function preemptUnderflow(cpu: Cpu): never {
  throw new Error(`preempt_count underflow on cpu ${cpu.id}`);
}
