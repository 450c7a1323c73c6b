/**
 * Reports: the snapshot a workload takes before its teardown, and the
 * metrics object (`/proc/vmstat`, `/proc/meminfo`, per-level tables,
 * per-process figures, simulated time; with features, their counters and
 * gauges and the chain installed in each changed seam) that the CLI
 * prints.
 * @module
 */
import type { Kernel } from '../kernel/kernel.js';
import type { LockStat } from '../sched/lock.js';
import { VM_EVENTS, VM_GAUGES, type VmGauge } from './vmstat.js';

/** Page tables per level. */
export interface TableCounts {
  /** PGD pages (one per mm). */
  pgd: number;
  /** PUD tables. */
  pud: number;
  /** PMD tables. */
  pmd: number;
  /** PTE tables. */
  pte: number;
}

/** One process's figures, as `/proc/PID/status` names them. */
export interface ProcFigures {
  /** Process id. */
  pid: number;
  /**
   * Model id of its `mm_struct`: the tasks of one address space (threads,
   * `clone(CLONE_VM)`) have the same, and the same mm figures, which are
   * per mm, not per task.
   */
  mm: number;
  /** Page-table kB as today's VmPTE counts it (PTE + PMD + PUD tables). */
  VmPTE_kB: number;
  /** Page-table kB as 2.6.24's VmPTE counted it (PTE tables). */
  VmPTE_2624_kB: number;
  /** Anonymous resident kB. */
  RssAnon_kB: number;
  /** File resident kB. */
  RssFile_kB: number;
  /** Mapped virtual kB. */
  VmSize_kB: number;
  /** Number of VMAs. */
  map_count: number;
}

/** The figures frozen at a snapshot point. */
export interface Snapshot {
  /** Gauge values. */
  gauges: Record<VmGauge, number>;
  /** Tables per level. */
  pagetables: TableCounts;
  /** Live processes. */
  procs: ProcFigures[];
  /** Huge page pool at the snapshot. */
  huge: HugeFigures;
  /** Features' gauges at the snapshot, per feature (absent when no feature declares one). */
  featureGauges?: Record<string, Record<string, number>>;
}

/** The huge page pool's state. */
export interface HugeFigures {
  /** Free huge pages. */
  free: number;
  /** Reserved huge pages. */
  resv: number;
}

/** One CPU's simulated time. */
export interface CpuTime {
  /** CPU number. */
  cpu: number;
  /** Busy simulated time, ns. */
  busy_ns: number;
  /** Longest stretch this CPU ran without a chance to reschedule, ns. */
  max_nonpreempt_ns: number;
}

/** Simulated time. */
export interface SimFigures {
  /** Elapsed simulated time, ns. */
  ns: number;
  /** Time spent flushing TLBs (IPIs included), ns. */
  tlb_flush_ns: number;
  /** Longest non-preemptible stretch on any CPU (the scheduling latency bound), ns. */
  max_nonpreempt_ns: number;
  /** Per-CPU busy time, ns. */
  cpus: CpuTime[];
}

/** The metrics report. */
export interface Metrics {
  /** Event counters (end of run) and gauges (at the snapshot). */
  vmstat: Record<string, number>;
  /** Each gauge's maximum over the run. */
  peak: Record<string, number>;
  /** `/proc/meminfo` figures in kB (at the snapshot). */
  meminfo: Record<string, number>;
  /** Tables per level (at the snapshot). */
  pagetables: TableCounts;
  /** Per process (at the snapshot). */
  procs: ProcFigures[];
  /** Simulated time. */
  sim: SimFigures;
  /** Lock statistics per class. */
  locks: Record<string, LockStat>;
  /**
   * Features' counters (end of run) and gauges (at the snapshot), per
   * feature and name (`feature['mmu-notifiers'].invalidates`); absent when
   * no feature declares any.
   */
  feature?: Record<string, Record<string, number>>;
  /** The one-line description of each entry of {@link Metrics.feature}, per feature and name. */
  featureDocs?: Record<string, Record<string, string>>;
  /**
   * Per changed seam, the chain installed on it in installation order, each
   * link `owner (wrap)` or `owner (replace)`; absent when no seam changed.
   */
  seams?: Record<string, string[]>;
}

/** Freeze the gauges and per-process figures now. */
export function takeSnapshot(k: Kernel): Snapshot {
  const gauges = {} as Record<VmGauge, number>;
  for (const g of VM_GAUGES) gauges[g] = k.vm[g];
  const procs: ProcFigures[] = [];
  for (const t of k.tasks) {
    const mm = t.mm;
    if (mm === null) continue;
    procs.push({
      pid: t.pid,
      mm: mm.id,
      VmPTE_kB: (mm.nrPtes + mm.nrPmds + mm.nrPuds) * 4,
      VmPTE_2624_kB: mm.nrPtes * 4,
      RssAnon_kB: mm.anonRss * 4,
      RssFile_kB: mm.fileRss * 4,
      VmSize_kB: mm.totalVm * 4,
      map_count: mm.mapCount,
    });
  }
  const [pte, pmd, pud, pgd] = k.ptLive;
  const snap: Snapshot = { gauges, pagetables: { pgd, pud, pmd, pte }, procs, huge: { free: k.hugePool.nrFree, resv: k.hugePool.resv } };
  const featureGauges = k.featureCounters.sampleGauges();
  if (featureGauges !== null) snap.featureGauges = featureGauges;
  return snap;
}

/** Assemble the metrics report from the counters and a snapshot. */
export function buildMetrics(k: Kernel, snap: Snapshot): Metrics {
  const vmstat: Record<string, number> = {};
  for (const e of VM_EVENTS) vmstat[e] = k.vm[e];
  for (const g of VM_GAUGES) vmstat[g] = snap.gauges[g];
  const peak: Record<string, number> = {};
  for (const g of VM_GAUGES) peak[g] = Math.max(k.vm.peak[g], snap.gauges[g]);
  const g = snap.gauges;
  // Each key's comment is its entry in the documentation's metrics glossary.
  const meminfo = {
    /** RAM the kernel manages (`MemTotal`): every frame but frame 0 and the memmap, kB. */
    MemTotal: (k.mem.nrFrames - 1 - k.mem.nrMemmapPages) * 4,
    /** Free RAM (`MemFree`, `nr_free_pages`), kB. */
    MemFree: g.nr_free_pages * 4,
    /** Mapped anonymous pages (`AnonPages`, `NR_ANON_PAGES`), kB. */
    AnonPages: g.nr_anon_pages * 4,
    /** Mapped page-cache pages (`Mapped`, `NR_FILE_MAPPED`), kB. */
    Mapped: g.nr_mapped * 4,
    /** Page-cache pages, tmpfs included (`Cached`, `NR_FILE_PAGES`), kB. */
    Cached: g.nr_file_pages * 4,
    /** PTE tables (`PageTables`, `NR_PAGETABLE`, which counted PTE tables only in 2.6.24), kB. */
    PageTables: g.nr_page_table_pages * 4,
    /** Tables of every level, PGDs included (what today's `PageTables` comes closer to), kB. */
    PageTablesAllLevels: (snap.pagetables.pte + snap.pagetables.pmd + snap.pagetables.pud + snap.pagetables.pgd) * 4,
    /** Frames holding the memmap (`struct page` array; no `/proc/meminfo` line in 2.6.24), kB. */
    Memmap: g.nr_memmap_pages * 4,
    /** Huge pages in the pool (`HugePages_Total`, `nr_hugepages`), 2 MiB pages. */
    HugePages_Total: k.hugePool.nrHugePages,
    /** Free huge pages (`HugePages_Free`), 2 MiB pages. */
    HugePages_Free: snap.huge.free,
    /** Huge pages reserved by mappings but not yet faulted in (`HugePages_Rsvd`), 2 MiB pages. */
    HugePages_Rsvd: snap.huge.resv,
    /** Swap space (`SwapTotal`), kB. */
    SwapTotal: k.swap.totalPages * 4,
    /** Swap space not in use (`SwapFree`), kB. */
    SwapFree: (k.swap.totalPages - g.nr_swap_used) * 4,
  };
  const out: Metrics = {
    vmstat,
    peak,
    meminfo,
    pagetables: snap.pagetables,
    procs: snap.procs,
    sim: {
      ns: Math.round(k.simNs()),
      tlb_flush_ns: Math.round(k.tlbFlushNs),
      max_nonpreempt_ns: Math.round(Math.max(0, ...k.cpus.map((c) => c.maxNonpreemptNs))),
      cpus: k.cpus.map((c) => ({ cpu: c.id, busy_ns: Math.round(c.busyNs), max_nonpreempt_ns: Math.round(c.maxNonpreemptNs) })),
    },
    locks: k.locks.toJSON(),
  };
  if (!k.featureCounters.empty) {
    out.feature = k.featureCounters.report(snap.featureGauges ?? null);
    out.featureDocs = k.featureCounters.docs();
  }
  const seams = k.seamTable.chainReport();
  if (Object.keys(seams).length > 0) out.seams = seams;
  return out;
}
