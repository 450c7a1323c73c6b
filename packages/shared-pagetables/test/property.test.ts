/**
 * Random operation sequences (fast-check) with the feature on, the checker
 * and the data oracle after every operation: processes map one tmpfs file
 * shared or private, read-write or read-only, at aligned and misaligned
 * addresses; touch, write, mprotect, munmap, MADV_DONTNEED, mremap moves,
 * remap_file_pages, forced writes (ptrace, a private COW in a shared
 * mapping), private COW mappings, fork, exit, truncation and reclaim
 * (memory pressure from an anonymous hog) mix. Sequential mode runs each
 * sequence whole; explore mode runs the processes' operations as
 * concurrent threads in seeded interleavings, with the file-wide
 * operations between rounds. Both at the PTE and the PMD level. Each
 * process starts with the whole file mapped shared read-write.
 *
 * A sequence the baseline kernel itself reports (2.6.24 shares a forced
 * COW page writable between parent and child after mprotect back to
 * writable and fork, which the oracle flags) is skipped: the property is
 * about what sharing adds.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildKernel,
  type Kernel,
  type KGen,
  MADV_DONTNEED,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_PRIVATE,
  MAP_SHARED,
  MREMAP_FIXED,
  MREMAP_MAYMOVE,
  PROT_READ,
  type ShmemFile,
  type Task,
  VM_SHARED,
} from '@mmlab/core';
import { NAME, sharedPagetables, type ShareLevel } from '../src/index.js';
import { formatViolations, GiB, MiB, P, PRESSURE, R, RW } from './helpers.js';

/** Per level: the file's size and how far apart the processes' mappings are. */
const GEOMETRY = {
  pte: { file: 6 * MiB, slot: 2 * GiB },
  pmd: { file: 2 * GiB, slot: 8 * GiB },
} as const;
const PROCS = 3;
/** The most pages one access of the explore mode touches. */
const EXPLORE_PAGES = 32;
/** Runs per property (MMLAB_PROPERTY_RUNS scales them). */
const SCALE = Number(process.env.MMLAB_PROPERTY_RUNS ?? '1');

type Op =
  | { kind: 'map'; who: number; shared: boolean; write: boolean; misalign: boolean }
  | { kind: 'touch'; who: number; at: number; pages: number; write: boolean }
  | { kind: 'mprotect'; who: number; at: number; pages: number; write: boolean }
  | { kind: 'munmap'; who: number; at: number; pages: number }
  | { kind: 'madvise'; who: number; at: number; pages: number }
  | { kind: 'mremap'; who: number; at: number }
  | { kind: 'remap'; who: number; at: number; pgoff: number }
  | { kind: 'poke'; who: number; at: number }
  | { kind: 'fork'; who: number }
  | { kind: 'exit'; who: number }
  | { kind: 'truncate'; frac: number }
  | { kind: 'reclaim'; mib: number };

const who = fc.nat(PROCS - 1);
/** A position in a VMA, as a fraction of its pages (so it scales to either geometry). */
const at = fc.double({ min: 0, max: 0.999, noNaN: true });
const pages = fc.integer({ min: 1, max: 300 });
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('map' as const), who, shared: fc.boolean(), write: fc.boolean(), misalign: fc.boolean() }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('touch' as const), who, at, pages, write: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('mprotect' as const), who, at, pages, write: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('munmap' as const), who, at, pages }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('madvise' as const), who, at, pages }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('mremap' as const), who, at }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('remap' as const), who, at, pgoff: at }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('poke' as const), who, at }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('fork' as const), who }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('exit' as const), who }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), frac: fc.double({ min: 0, max: 1, noNaN: true }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reclaim' as const), mib: fc.integer({ min: 8, max: 20 }) }) },
);

/** The world one sequence runs in. */
class World {
  readonly file: ShmemFile;
  readonly tasks: (Task | null)[] = [];
  private slots = 0;
  private readonly hog: Task;

  constructor(
    readonly k: Kernel,
    readonly level: ShareLevel,
  ) {
    this.file = k.shmemCreate('f', GEOMETRY[level].file);
    // every process starts with the whole file mapped shared read-write, 1 GiB-aligned
    for (let i = 0; i < PROCS; i++) {
      const t = k.spawn();
      k.mmap(t, this.nextSlot(), this.file.size, RW, MAP_SHARED | MAP_FIXED, this.file);
      this.tasks.push(t);
    }
    this.hog = k.spawn();
  }

  task(i: number): Task | null {
    return this.tasks[i] ?? this.tasks.find((t) => t !== null) ?? null;
  }

  nextSlot(): number {
    return R + this.slots++ * GEOMETRY[this.level].slot;
  }

  /** A VMA of `t` and an address in it at fraction `f`, or null. */
  where(t: Task, f: number): { start: number; end: number; addr: number; shared: boolean } | null {
    const vmas = t.mm?.vmas ?? [];
    if (vmas.length === 0) return null;
    const v = vmas[Math.floor(f * vmas.length)]!;
    const n = (v.vmEnd - v.vmStart) / P;
    return { start: v.vmStart, end: v.vmEnd, addr: v.vmStart + Math.floor(((f * vmas.length) % 1) * n) * P, shared: (v.vmFlags & VM_SHARED) !== 0 };
  }

  /** The length of `n` pages from `addr`, clipped to the VMA. */
  static clip(w: { end: number; addr: number }, n: number): number {
    return Math.min(n * P, w.end - w.addr);
  }

  /** The ops of one process, for the sequential mode; file-wide ops too. */
  apply(o: Op): void {
    const k = this.k;
    switch (o.kind) {
      case 'truncate':
        k.ftruncate(this.file, Math.floor((o.frac * this.file.size) / P) * P);
        return;
      case 'reclaim':
        if (k.mmap(this.hog, PRESSURE, o.mib * MiB, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, null) === PRESSURE) {
          k.touch(this.hog, PRESSURE, o.mib * MiB, true);
          k.munmap(this.hog, PRESSURE, o.mib * MiB);
        }
        return;
      default:
    }
    const t = this.task(o.who);
    if (t === null) return;
    if (o.kind === 'map') {
      const addr = this.nextSlot() + (o.misalign ? 16 * P : 0);
      k.mmap(t, addr, this.file.size, o.write ? RW : PROT_READ, (o.shared ? MAP_SHARED : MAP_PRIVATE) | MAP_FIXED, this.file);
      return;
    }
    if (o.kind === 'fork') {
      const c = k.fork(t);
      if (typeof c !== 'number') {
        const free = this.tasks.indexOf(null);
        if (free >= 0) this.tasks[free] = c;
        else this.tasks.push(c);
      }
      return;
    }
    if (o.kind === 'exit') {
      if (this.tasks.filter((x) => x !== null).length > 1) {
        k.exit(t);
        this.tasks[this.tasks.indexOf(t)] = null;
      }
      return;
    }
    const w = this.where(t, o.at);
    if (w === null) return;
    switch (o.kind) {
      case 'touch':
        k.touch(t, w.addr, World.clip(w, o.pages), o.write);
        return;
      case 'mprotect':
        k.mprotect(t, w.addr, World.clip(w, o.pages), o.write ? RW : PROT_READ);
        return;
      case 'munmap':
        k.munmap(t, w.addr, World.clip(w, o.pages));
        return;
      case 'madvise':
        k.madvise(t, w.addr, World.clip(w, o.pages), MADV_DONTNEED);
        return;
      case 'mremap':
        k.mremap(t, w.start, w.end - w.start, w.end - w.start, MREMAP_MAYMOVE | MREMAP_FIXED, this.nextSlot());
        return;
      case 'remap':
        if (w.shared) k.remapFilePages(t, w.addr, P, Math.floor(o.pgoff * (this.file.size / P)));
        return;
      case 'poke':
        k.accessProcessVm(t, w.addr, 0xf00d0000 + (w.addr / P) % 0xffff);
        return;
    }
  }

  /** One process's op as a thread program (explore mode). */
  *program(t: Task, ops: readonly Op[]): KGen<void> {
    const s = this.k.sys(t);
    for (const o of ops) {
      if (t.mm === null) return;
      const w = this.where(t, 'at' in o ? o.at : 0);
      switch (o.kind) {
        case 'map':
          yield* s.mmap(this.nextSlot() + (o.misalign ? 16 * P : 0), this.file.size, o.write ? RW : PROT_READ, (o.shared ? MAP_SHARED : MAP_PRIVATE) | MAP_FIXED, this.file);
          break;
        case 'touch':
          // (a quiescent-point check per page touched: short touches)
          if (w !== null) yield* s.touch(w.addr, World.clip(w, Math.min(o.pages, EXPLORE_PAGES)), o.write);
          break;
        case 'mprotect':
          if (w !== null) yield* s.mprotect(w.addr, World.clip(w, o.pages), o.write ? RW : PROT_READ);
          break;
        case 'munmap':
          if (w !== null) yield* s.munmap(w.addr, World.clip(w, o.pages));
          break;
        case 'madvise':
          if (w !== null) yield* s.madvise(w.addr, World.clip(w, o.pages), MADV_DONTNEED);
          break;
        case 'mremap':
          if (w !== null) yield* s.mremap(w.start, w.end - w.start, w.end - w.start, MREMAP_MAYMOVE | MREMAP_FIXED, this.nextSlot());
          break;
        default:
          // fork, exit, remap_file_pages, poke, truncate, reclaim run between rounds
          break;
      }
    }
  }

  finish(): void {
    for (const t of this.tasks) if (t !== null && t.mm !== null) this.k.exit(t);
    this.k.exit(this.hog);
    this.k.finish();
  }
}

function kernel(level: ShareLevel | null, mode: 'sequential' | 'explore', seed: number): Kernel {
  return buildKernel({
    mode,
    seed,
    cpus: 4,
    memBytes: 16 * MiB,
    check: true,
    ...(level === null ? {} : { features: [{ feature: sharedPagetables, options: { level } }] }),
  });
}

function sequential(level: ShareLevel | null, ops: readonly Op[], shareLevel: ShareLevel): Kernel {
  const k = kernel(level, 'sequential', 1);
  const w = new World(k, shareLevel);
  for (const o of ops) {
    w.apply(o);
    if (k.invariants.violations.length > 0) break;
  }
  if (k.invariants.violations.length === 0) w.finish();
  return k;
}

/** Explore mode: rounds of per-process programs run as concurrent threads, the other ops between rounds. */
function explore(level: ShareLevel | null, rounds: readonly (readonly Op[])[], shareLevel: ShareLevel, seed: number): Kernel {
  const k = kernel(level, 'explore', seed);
  const w = new World(k, shareLevel);
  for (const round of rounds) {
    const threads = w.tasks
      .map((t, i) => ({ t, ops: round.filter((o) => 'who' in o && o.who === i) }))
      .filter((x): x is { t: Task; ops: Op[] } => x.t !== null && x.t.mm !== null && x.ops.length > 0);
    k.runThreads(threads.map(({ t, ops }) => ({ task: t, program: w.program(t, ops) })));
    if (k.invariants.violations.length > 0) return k;
    for (const o of round) if (!('who' in o) || ['fork', 'exit', 'remap', 'poke'].includes(o.kind)) w.apply(o);
    if (k.invariants.violations.length > 0) return k;
  }
  w.finish();
  return k;
}

const totals = { share_fault: 0, share_fork: 0, unshare_zap: 0, unshare_copy: 0, flush_sharers: 0 };

function count(k: Kernel): void {
  const c = k.metrics().feature?.[NAME] ?? {};
  for (const key of Object.keys(totals) as (keyof typeof totals)[]) totals[key] += c[key] ?? 0;
}

describe.each(['pte', 'pmd'] as const)('shared-pagetables:level=%s under random operation sequences', (level) => {
  it('sequential: the checker and the oracle stay clean after every operation', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 20 }), (ops) => {
        const base = sequential(null, ops, level);
        fc.pre(base.invariants.violations.length === 0);
        const k = sequential(level, ops, level);
        expect(k.invariants.violations.length, formatViolations(k.invariants.violations)).toBe(0);
        count(k);
      }),
      { numRuns: Math.ceil((level === 'pte' ? 20 : 10) * SCALE), seed: 20060124 },
    );
  });

  it('explore: concurrent processes in seeded interleavings stay clean', () => {
    fc.assert(
      fc.property(fc.array(fc.array(op, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 3 }), fc.nat(1000), (rounds, seed) => {
        const base = explore(null, rounds, level, seed);
        fc.pre(base.invariants.violations.length === 0);
        const k = explore(level, rounds, level, seed);
        expect(k.invariants.violations.length, formatViolations(k.invariants.violations)).toBe(0);
        count(k);
      }),
      { numRuns: Math.ceil((level === 'pte' ? 8 : 4) * SCALE), seed: 20060124 },
    );
  });
});

describe('the random sequences exercised the feature', () => {
  it('shared at fault and at fork, dropped shares, made private copies and flushed other sharers', () => {
    expect(totals.share_fault).toBeGreaterThan(0);
    expect(totals.share_fork).toBeGreaterThan(0);
    expect(totals.unshare_zap).toBeGreaterThan(0);
    expect(totals.unshare_copy).toBeGreaterThan(0);
    expect(totals.flush_sharers).toBeGreaterThan(0);
  });
});
