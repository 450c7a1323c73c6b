/**
 * Rebuilds a captured address space in the model and compares the model's
 * page-table bytes with the kernel's `VmPTE`.
 * @module
 */

import {
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_PRIVATE,
  MAP_SHARED,
  PROT_READ,
  PROT_WRITE,
  PROT_EXEC,
  buildKernel,
  errnoName,
  isErr,
  type Kernel,
  type ShmemFile,
  type Task,
  type Violation,
} from '@mmlab/core';
import { WorkloadError } from '../errors.js';
import { isReplayable, type Capture } from './capture-dir.js';
import type { PageRun } from './present.js';
import type { SmapsVma } from './smaps.js';
import { statusKb } from './status.js';

/** The result of a replay. */
export interface ReplayReport {
  /** The process the capture came from. */
  readonly process: ReplayedProcess;
  /** What was rebuilt: VMAs mapped, VMAs skipped, pages touched. */
  readonly replayed: ReplayedFigures;
  /** The model's page tables, counted as today's VmPTE counts them. */
  readonly model: ReplayModelFigures;
  /** The kernel's figure, from the captured status. */
  readonly kernel: ReplayKernelFigures;
  /** Whether the model's figure equals the kernel's. */
  readonly match: boolean;
  /** Invariant checks (present when the replay ran with the checker). */
  readonly invariants?: ReplayInvariants;
}

/** The captured process. */
export interface ReplayedProcess {
  /** Its pid. */
  readonly pid: number;
  /** Its name (`Name:` in status). */
  readonly name: string;
}

/** What a replay rebuilt. */
export interface ReplayedFigures {
  /** VMAs mapped. */
  readonly vmas: number;
  /** VMAs skipped, with why. */
  readonly skipped: readonly string[];
  /** Pages touched. */
  readonly pages: number;
}

/** The model's page tables after a replay. */
export interface ReplayModelFigures {
  /** PTE + PMD + PUD tables in kB, as today's VmPTE counts them. */
  readonly PageTables_kB: number;
  /** Tables per level. */
  readonly tables: ReplayTables;
}

/** Page tables per level. */
export interface ReplayTables {
  /** PTE tables. */
  readonly pte: number;
  /** PMD tables. */
  readonly pmd: number;
  /** PUD tables. */
  readonly pud: number;
}

/** The kernel's own figure from the capture. */
export interface ReplayKernelFigures {
  /** `VmPTE` from the captured status, in kB. */
  readonly VmPTE_kB: number;
}

/** Invariant checks of a replay. */
export interface ReplayInvariants {
  /** Checks run. */
  readonly checks: number;
  /** Violations found. */
  readonly violations: readonly Violation[];
}

/** Options of {@link replayCapture}. */
export interface ReplayOptions {
  /** Machine profile (default `x86-64`). */
  readonly machine?: string;
  /** Run the invariant checker at operation boundaries (default false). */
  readonly check?: boolean;
}

const PAGE_TABLE_KB = 4;

/**
 * Maps every replayable VMA of the capture at its real address (MAP_FIXED;
 * file-backed VMAs as tmpfs files of the needed size at the captured offset,
 * shared or private as captured; anonymous ones anonymous), touches exactly
 * the present pages (a write in private writable VMAs, a read elsewhere),
 * and measures the page tables.
 * @param capture - a parsed capture folder
 * @param options - kernel options
 * @throws {@link WorkloadError} when the model refuses a mapping or an access
 */
export function replayCapture(capture: Capture, options: ReplayOptions = {}): ReplayReport {
  const kernel = buildKernel({
    config: { preempt: false },
    machine: options.machine ?? 'x86-64',
    features: [],
    seed: 1,
    check: options.check ?? false,
  });
  if (capture.vmas.length === 0) throw new WorkloadError('replay: the capture has no VMAs');
  const task = kernel.spawn();
  const files = createFiles(kernel, [capture.vmas]);
  const { vmas: mapped, skipped, pages } = replayProcess(kernel, task, capture, files);
  kernel.snapshot();
  const metrics = kernel.metrics();
  const proc = metrics.procs[0];
  const tables = { pte: metrics.pagetables.pte, pmd: metrics.pagetables.pmd, pud: metrics.pagetables.pud };
  kernel.exit(task);
  kernel.finish();
  const modelKb = proc?.VmPTE_kB ?? (tables.pte + tables.pmd + tables.pud) * PAGE_TABLE_KB;
  const kernelKb = statusKb(capture.status, 'VmPTE');
  const check = options.check ?? false;
  return {
    process: { pid: Number(capture.status.Pid ?? 0), name: capture.status.Name ?? '' },
    replayed: { vmas: mapped, skipped, pages },
    model: { PageTables_kB: modelKb, tables },
    kernel: { VmPTE_kB: kernelKb },
    match: modelKb === kernelKb,
    ...(check
      ? { invariants: { checks: kernel.invariants.checks, violations: [...kernel.invariants.violations] } }
      : {}),
  };
}

function replayVma(
  kernel: Kernel,
  task: Task,
  vma: SmapsVma,
  file: ShmemFile | null,
  present: readonly PageRun[]
): number {
  const len = vma.end - vma.start;
  const prot = (vma.read ? PROT_READ : 0) | (vma.write ? PROT_WRITE : 0) | (vma.exec ? PROT_EXEC : 0);
  const write = vma.write && !vma.shared;
  // A page present in a VMA the access could not reach (PROT_NONE, exec-only)
  // is faulted through a readable mapping, then the captured protection is set.
  const access = prot | PROT_READ | (write ? PROT_WRITE : 0);
  const mapProt = present.length > 0 ? access : prot;
  const flags = MAP_FIXED | (vma.shared ? MAP_SHARED : MAP_PRIVATE) | (file === null ? MAP_ANONYMOUS : 0);
  const addr =
    file === null
      ? kernel.mmap(task, vma.start, len, mapProt, flags)
      : kernel.mmap(task, vma.start, len, mapProt, flags, file, vma.offset);
  if (isErr(addr)) throw new WorkloadError(`replay: mmap of ${describe(vma)} failed: ${errnoName(addr)}`);
  let pages = 0;
  for (const r of present) {
    const sig = kernel.touch(task, r.start, r.end - r.start, write);
    if (sig !== 0) throw new WorkloadError(`replay: touching ${hexRange(r)} in ${describe(vma)} raised signal ${sig}`);
    pages += (r.end - r.start) / 4096;
  }
  if (mapProt !== prot) {
    const ret = kernel.mprotect(task, vma.start, len, prot);
    if (isErr(ret)) throw new WorkloadError(`replay: mprotect of ${describe(vma)} failed: ${errnoName(ret)}`);
  }
  return pages;
}

/**
 * Rebuilds one captured process in `task`: maps every replayable VMA at its
 * real address and touches exactly its present pages (see
 * {@link replayCapture}).
 * @param kernel - the kernel
 * @param task - the process to rebuild it in (a fresh address space)
 * @param capture - its capture
 * @param files - the files of {@link createFiles}, by {@link fileKey}
 * @throws {@link WorkloadError} when the model refuses a mapping or an access
 */
export function replayProcess(
  kernel: Kernel,
  task: Task,
  capture: Capture,
  files: ReadonlyMap<string, ShmemFile>
): ReplayedFigures {
  const skipped: string[] = [];
  let mapped = 0;
  let pages = 0;
  let run = 0;
  for (const vma of capture.vmas) {
    if (!isReplayable(vma)) {
      skipped.push(vma.path === '' ? hexRange(vma) : vma.path);
      continue;
    }
    while (run < capture.present.length && capture.present[run]!.end <= vma.start) run++;
    const inside: PageRun[] = [];
    for (let r = run; r < capture.present.length && capture.present[r]!.start < vma.end; r++) {
      const p = capture.present[r]!;
      inside.push({ start: Math.max(p.start, vma.start), end: Math.min(p.end, vma.end) });
    }
    pages += replayVma(kernel, task, vma, files.get(fileKey(vma)) ?? null, inside);
    mapped++;
  }
  return { vmas: mapped, skipped, pages };
}

/**
 * One tmpfs file per captured file (device and inode), big enough for every
 * VMA of it in every process, and for its size when known (`minSize`, a
 * System V segment's): the processes of a group map the same file.
 * @param kernel - the kernel
 * @param vmaLists - the VMAs of each process
 * @param minSize - sizes known from elsewhere, by {@link fileKey}
 */
export function createFiles(
  kernel: Kernel,
  vmaLists: readonly (readonly SmapsVma[])[],
  minSize: ReadonlyMap<string, number> = new Map()
): Map<string, ShmemFile> {
  const sizes = new Map<string, { name: string; size: number }>();
  for (const vmas of vmaLists) {
    for (const vma of vmas) {
      if (!isReplayable(vma) || vma.inode === 0) continue;
      const key = fileKey(vma);
      const need = Math.max(vma.offset + (vma.end - vma.start), minSize.get(key) ?? 0);
      const prev = sizes.get(key);
      if (prev === undefined || prev.size < need) sizes.set(key, { name: vma.path || key, size: need });
    }
  }
  const files = new Map<string, ShmemFile>();
  for (const [key, { name, size }] of sizes) files.set(key, kernel.shmemCreate(name, size));
  return files;
}

/**
 * The identity of a VMA's file, `dev:inode` as smaps writes them (a System
 * V segment's inode is its shmid).
 * @param vma - a VMA of smaps
 */
export function fileKey(vma: SmapsVma): string {
  return `${vma.dev}:${vma.inode}`;
}

function describe(vma: SmapsVma): string {
  return `${hexRange(vma)}${vma.path === '' ? '' : ` (${vma.path})`}`;
}

function hexRange(r: { start: number; end: number }): string {
  return `${r.start.toString(16)}-${r.end.toString(16)}`;
}
