/**
 * Replays a capture group into one model kernel: every process rebuilt at
 * its real addresses, the files and shared memory segments they have in
 * common created once, so whatever a feature set does with what processes
 * share (shared page tables, hugetlb sharing) acts as it would on the
 * captured machine; then compares each process's page tables with the
 * kernel's VmPTE.
 * @module
 */

import { getMachine, type Feature, type FeatureRequest, type Task } from '@mmlab/core';
import { WorkloadError } from '../errors.js';
import type { RunReport } from '../report.js';
import { runWorkload } from '../run.js';
import type { ResolvedWorkload } from '../workload.js';
import { isReplayable } from './capture-dir.js';
import type { CaptureGroup } from './group.js';
import { countPages } from './present.js';
import { createFiles, fileKey, replayProcess, type ReplayInvariants, type ReplayTables, type ReplayedFigures } from './replay.js';
import { statusKb } from './status.js';

/** Size of a page-table page in kB. */
const TABLE_KB = 4;

/** What was rebuilt of one process of a group, and the model's pid it got. */
export interface ReplayedProcessFigures extends ReplayedFigures {
  /** The model's pid for the process. */
  readonly modelPid: number;
}

/** A VmPTE figure. */
export interface VmPteFigure {
  /** PTE + PMD + PUD tables, kB, as today's VmPTE counts them. */
  readonly VmPTE_kB: number;
}

/** What a group replay rebuilt in all. */
export interface GroupReplayed {
  /** VMAs mapped. */
  readonly vmas: number;
  /** Pages touched. */
  readonly pages: number;
}

/** The model's figures for a whole group. */
export interface GroupModelFigures {
  /** The processes' VmPTE summed (a table shared by several counts in each, as the kernel counts it), kB. */
  readonly VmPTE_kB: number;
  /** The page-table memory: every PTE, PMD and PUD table once, kB. */
  readonly PageTables_kB: number;
  /** Those tables per level. */
  readonly tables: ReplayTables;
}

/** What a group replay rebuilt, filled in while the workload runs. */
export interface GroupReplayWorkload {
  /** The workload: rebuild every process, snapshot, make them exit. */
  readonly workload: ResolvedWorkload;
  /**
   * After a run: what was rebuilt of each process (in the group's order)
   * and the model's pid it got; empty before.
   */
  readonly replayed: () => readonly ReplayedProcessFigures[];
}

/**
 * The replay of a capture group as a workload of the lab: one kernel, one
 * process per captured process (spawned in the group's order), the files
 * the processes have in common (same device and inode; a System V
 * segment's inode is its shmid) created once as tmpfs files, every process
 * mapping them at its captured addresses and offsets and touching exactly
 * its present pages (as {@link replayCapture} does for one); then the
 * snapshot, then every process exits (so the teardown's TLB flushes and
 * table frees are counted). It draws nothing from its random source: the
 * same kernel gives the same run whatever the seed.
 * @param group - the capture group
 * @param spec - how the workload is named in reports (`replay:DIR`)
 */
export function groupReplayWorkload(group: CaptureGroup, spec: string): GroupReplayWorkload {
  let figures: ReplayedProcessFigures[] = [];
  const workload: ResolvedWorkload = {
    name: 'replay',
    spec,
    params: {},
    run(ctx) {
      const kernel = ctx.kernel;
      const sizes = segmentSizes(group);
      const files = createFiles(
        kernel,
        group.processes.map((p) => p.capture.vmas),
        sizes
      );
      const tasks: Task[] = group.processes.map(() => kernel.spawn());
      figures = group.processes.map((p, i) => {
        if (p.capture.vmas.length === 0) throw new WorkloadError(`replay: process ${p.pid} of the capture has no VMAs`);
        const task = tasks[i]!;
        return { ...replayProcess(kernel, task, p.capture, files), modelPid: task.pid };
      });
      ctx.count('processes', group.processes.length);
      ctx.count('pages', figures.reduce((n, f) => n + f.pages, 0));
      ctx.count('shared_files', sharedFiles(group));
      ctx.snapshot();
      for (const t of tasks) kernel.exit(t);
    },
  };
  return { workload, replayed: () => figures };
}

/**
 * The size of each System V segment of the group, by the {@link fileKey}
 * of its mappings (a mapping named `/SYSV…`, or `<sysv N>` once
 * anonymised, whose inode is the segment's shmid), so the model's segment
 * is as large as the real one even where no process maps all of it.
 */
function segmentSizes(group: CaptureGroup): Map<string, number> {
  const byId = new Map(group.segments.map((s) => [s.shmid, s.size] as const));
  const sizes = new Map<string, number>();
  for (const p of group.processes) {
    for (const v of p.capture.vmas) {
      const size = byId.get(v.inode);
      if (size !== undefined && (v.path.startsWith('/SYSV') || v.path.startsWith('<sysv '))) sizes.set(fileKey(v), size);
    }
  }
  return sizes;
}

/**
 * Files (device and inode) that more than one process of the group maps:
 * what the processes can share.
 * @param group - the capture group
 */
export function sharedFiles(group: CaptureGroup): number {
  const users = new Map<string, Set<number>>();
  group.processes.forEach((p, i) => {
    for (const v of p.capture.vmas) {
      if (!isReplayable(v) || v.inode === 0) continue;
      const key = fileKey(v);
      const set = users.get(key) ?? new Set<number>();
      set.add(i);
      users.set(key, set);
    }
  });
  return [...users.values()].filter((s) => s.size > 1).length;
}

/**
 * Simulated RAM a group replay needs when the machine's default is too
 * small: the present pages of every process (each counted as if private),
 * their page tables, and a margin, rounded up to 1 GiB; undefined when the
 * machine's default holds them.
 * @param group - the capture group
 * @param machine - the machine profile (default `x86-64`)
 */
export function replayMemBytes(group: CaptureGroup, machine = 'x86-64'): number | undefined {
  const pages = group.processes.reduce((n, p) => n + countPages(p.capture.present), 0);
  const need = Math.ceil(pages * 1.25 + pages / 256 + 65_536) * 4096;
  const profile = getMachine(machine);
  if (profile !== undefined && need <= profile.memBytes) return undefined;
  const gib = 2 ** 30;
  return Math.ceil(need / gib) * gib;
}

/** One process of a group replay: the model's page tables against the kernel's VmPTE. */
export interface GroupReplayProcess {
  /** Its pid on the captured machine. */
  readonly pid: number;
  /** Its name. */
  readonly name: string;
  /** The model's pid for it. */
  readonly modelPid: number;
  /** What was rebuilt. */
  readonly replayed: ReplayedFigures;
  /** The model's VmPTE (the tables the process reaches, shared ones included). */
  readonly model: VmPteFigure;
  /** The kernel's, from the captured status. */
  readonly kernel: VmPteFigure;
  /** Whether they are equal. */
  readonly match: boolean;
}

/** The result of {@link replayGroup}. */
export interface GroupReplayReport {
  /** The feature set the model ran with (`baseline` for none). */
  readonly features: string;
  /** Whether the capture's paths were anonymised. */
  readonly names: 'anonymised' | 'kept';
  /** Files (device and inode) more than one process maps. */
  readonly sharedFiles: number;
  /** Each process, in the group's order. */
  readonly processes: readonly GroupReplayProcess[];
  /** What was rebuilt in all. */
  readonly replayed: GroupReplayed;
  /** The model in total. */
  readonly model: GroupModelFigures;
  /** The kernel in total: the processes' VmPTE summed (no table is shared there). */
  readonly kernel: VmPteFigure;
  /**
   * Page-table memory the model saves against the kernel, kB
   * (`kernel.VmPTE_kB − model.PageTables_kB`; 0 for a faithful baseline).
   */
  readonly saving_kB: number;
  /** Every process's model VmPTE equals the kernel's, and the total too. */
  readonly match: boolean;
  /** The run's report (metrics of the whole group, config). */
  readonly run: RunReport;
  /** Invariant checks (with `check`). */
  readonly invariants?: ReplayInvariants;
}

/** Options of {@link replayGroup}. */
export interface GroupReplayOptions {
  /** Features to build the kernel with (default none: the baseline). */
  readonly features?: readonly FeatureRequest[];
  /** How the feature set is written in the report (default `baseline`). */
  readonly featureText?: string;
  /** Features that `{ name }` requests are looked up in. */
  readonly registry?: readonly Feature[];
  /** Run the invariant checker and the oracle (default false). */
  readonly check?: boolean;
  /** Machine profile (default `x86-64`). */
  readonly machine?: string;
  /** Simulated RAM (default: {@link replayMemBytes}, else the machine's). */
  readonly memBytes?: number;
  /** How the workload is named in the run report (default `replay`). */
  readonly spec?: string;
}

/**
 * Replays a capture group into one kernel (see {@link groupReplayWorkload})
 * and compares each process's VmPTE and the total with the kernel's.
 * Deterministic: the same group and options give the same report.
 * @param group - the capture group
 * @param options - features, checking, machine
 * @throws {@link WorkloadError} when the model refuses a mapping or an access
 */
export async function replayGroup(group: CaptureGroup, options: GroupReplayOptions = {}): Promise<GroupReplayReport> {
  const machine = options.machine ?? 'x86-64';
  const { workload, replayed } = groupReplayWorkload(group, options.spec ?? 'replay');
  const memBytes = options.memBytes ?? replayMemBytes(group, machine);
  const run = await runWorkload({
    workload,
    features: options.features ?? [],
    registry: options.registry ?? [],
    check: options.check ?? false,
    machine,
    seed: 1,
    ...(memBytes === undefined ? {} : { memBytes }),
  });
  if (run.result?.step !== undefined) {
    throw new WorkloadError(`replay: stopped at ${run.result.step}; give more simulated memory (--mem)`);
  }
  const byPid = new Map(run.metrics.procs.map((p) => [p.pid, p] as const));
  const figures = replayed();
  const processes = group.processes.map((p, i): GroupReplayProcess => {
    const f = figures[i]!;
    const model = byPid.get(f.modelPid)?.VmPTE_kB ?? 0;
    const kernel = statusKb(p.capture.status, 'VmPTE');
    return {
      pid: p.pid,
      name: p.name,
      modelPid: f.modelPid,
      replayed: { vmas: f.vmas, skipped: f.skipped, pages: f.pages },
      model: { VmPTE_kB: model },
      kernel: { VmPTE_kB: kernel },
      match: model === kernel,
    };
  });
  const t = run.metrics.pagetables;
  const tables = { pte: t.pte, pmd: t.pmd, pud: t.pud };
  const pageTables = (tables.pte + tables.pmd + tables.pud) * TABLE_KB;
  const modelSum = processes.reduce((n, p) => n + p.model.VmPTE_kB, 0);
  const kernelSum = processes.reduce((n, p) => n + p.kernel.VmPTE_kB, 0);
  return {
    features: options.featureText ?? 'baseline',
    names: group.names,
    sharedFiles: sharedFiles(group),
    processes,
    replayed: {
      vmas: processes.reduce((n, p) => n + p.replayed.vmas, 0),
      pages: processes.reduce((n, p) => n + p.replayed.pages, 0),
    },
    model: { VmPTE_kB: modelSum, PageTables_kB: pageTables, tables },
    kernel: { VmPTE_kB: kernelSum },
    saving_kB: kernelSum - pageTables,
    match: processes.every((p) => p.match) && pageTables === kernelSum,
    run,
    ...(run.invariants === undefined ? {} : { invariants: run.invariants }),
  };
}
