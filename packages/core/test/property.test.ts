/**
 * Property-based tests: random sequences of system calls and user accesses
 * on small kernels with the invariant checker and the data-integrity oracle
 * at every operation boundary. Whatever the calls return, the model must
 * stay consistent, and once every process has exited nothing may be left.
 *
 * The seed is fixed so CI is reproducible; set MMLAB_FC_SEED to explore.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildKernel,
  EINVAL,
  ENOMEM,
  type Kernel,
  MADV_DONTNEED,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_POPULATE,
  MAP_PRIVATE,
  MAP_SHARED,
  MREMAP_FIXED,
  MREMAP_MAYMOVE,
  type Placement,
  PMD_SIZE,
  PROT_EXEC,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
  PUD_SIZE,
  type ShmemFile,
  type Task,
  TASK_SIZE,
} from '../src/index.js';
import { MiB, P } from './helpers.js';

/**
 * The address window: 64 pages in two chunks of 32, one across a PUD (and
 * PMD) boundary, one across a PMD boundary of the same PMD table.
 */
const PUD_B = 1025 * PUD_SIZE;
const CHUNKS = [PUD_B - 16 * P, PUD_B + 3 * PMD_SIZE - 16 * P] as const;
function windowAddr(i: number): number {
  return (i & 32 ? CHUNKS[1] : CHUNKS[0]) + (i & 31) * P;
}

interface Where {
  /** Pick an address inside one of the task's VMAs (else a window page). */
  readonly inVma: boolean;
  readonly sel: number;
  readonly off: number;
  /** Clip the length to the end of the VMA (else it may run past it). */
  readonly clip: boolean;
}

type Op =
  | {
      readonly op: 'mmap';
      readonly t: number;
      readonly fixed: boolean;
      readonly at: number;
      readonly pages: number;
      readonly prot: number;
      readonly kind: 'anon' | 'anon-shared' | 'file-shared' | 'file-private';
      readonly file: number;
      readonly filePg: number;
      readonly populate: boolean;
    }
  | { readonly op: 'munmap'; readonly t: number; readonly where: Where; readonly pages: number }
  | { readonly op: 'mprotect'; readonly t: number; readonly where: Where; readonly pages: number; readonly prot: number }
  | {
      readonly op: 'mremap';
      readonly t: number;
      readonly where: Where;
      readonly oldPages: number;
      readonly newPages: number;
      readonly flags: number;
      readonly at: number;
    }
  | { readonly op: 'dontneed'; readonly t: number; readonly where: Where; readonly pages: number }
  | { readonly op: 'touch'; readonly t: number; readonly where: Where; readonly pages: number; readonly write: boolean }
  | { readonly op: 'fork' | 'exit' | 'execve'; readonly t: number }
  | { readonly op: 'unlink'; readonly file: number };

const RW = PROT_READ | PROT_WRITE;
const protArb = fc.constantFrom(PROT_NONE, PROT_READ, RW, RW, RW, PROT_WRITE, PROT_READ | PROT_EXEC);
const taskArb = fc.nat({ max: 7 });
const mostly = fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) });
const whereArb: fc.Arbitrary<Where> = fc.record({ inVma: mostly, sel: fc.nat({ max: 63 }), off: fc.nat({ max: 1023 }), clip: mostly });
const pagesArb = fc.integer({ min: 1, max: 24 });

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('mmap' as const),
      t: taskArb,
      fixed: fc.boolean(),
      at: fc.nat({ max: 63 }),
      pages: fc.oneof({ weight: 5, arbitrary: pagesArb }, { weight: 1, arbitrary: fc.integer({ min: 500, max: 600 }) }),
      prot: protArb,
      kind: fc.constantFrom('anon' as const, 'anon-shared' as const, 'file-shared' as const, 'file-private' as const),
      file: fc.nat({ max: 1 }),
      filePg: fc.nat({ max: 20 }),
      populate: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('munmap' as const), t: taskArb, where: whereArb, pages: pagesArb }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('mprotect' as const), t: taskArb, where: whereArb, pages: pagesArb, prot: protArb }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('mremap' as const),
      t: taskArb,
      where: whereArb,
      oldPages: fc.integer({ min: 0, max: 16 }),
      newPages: fc.integer({ min: 1, max: 24 }),
      flags: fc.constantFrom(0, MREMAP_MAYMOVE, MREMAP_MAYMOVE | MREMAP_FIXED),
      at: fc.nat({ max: 63 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('dontneed' as const), t: taskArb, where: whereArb, pages: pagesArb }) },
  { weight: 8, arbitrary: fc.record({ op: fc.constant('touch' as const), t: taskArb, where: whereArb, pages: fc.integer({ min: 1, max: 16 }), write: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('fork' as const), t: taskArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('exit' as const), t: taskArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('execve' as const), t: taskArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('unlink' as const), file: fc.nat({ max: 1 }) }) },
);

interface Params {
  readonly preempt: boolean;
  readonly cpus: number;
  readonly placement: Placement;
  readonly seed: number;
}
const paramsArb: fc.Arbitrary<Params> = fc.record({
  preempt: fc.boolean(),
  cpus: fc.constantFrom(1, 2, 8),
  placement: fc.constantFrom('legacy' as const, 'aligned' as const),
  seed: fc.nat(),
});

const MAX_TASKS = 6;

class Run {
  readonly k: Kernel;
  readonly live: Task[] = [];
  readonly files: ShmemFile[];
  readonly bootFree: number;

  constructor(p: Params) {
    this.k = buildKernel({ memBytes: 64 * MiB, cpus: p.cpus, placement: p.placement, config: { preempt: p.preempt }, seed: p.seed, check: true });
    this.bootFree = this.k.vm.nr_free_pages;
    this.files = [this.k.shmemCreate('f0', 16 * P), this.k.shmemCreate('f1', 40 * P + 100)];
    this.live.push(this.spawn());
  }

  /** A new process with a few mappings to start from. */
  spawn(): Task {
    const k = this.k;
    const t = k.spawn();
    expect(k.mmap(t, windowAddr(8), 16 * P, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED)).toBe(windowAddr(8));
    expect(k.mmap(t, windowAddr(40), 8 * P, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED)).toBe(windowAddr(40));
    const f = this.files.find((x) => k.files.has(x.id));
    if (f !== undefined) expect(k.mmap(t, 0, 16 * P, RW, MAP_SHARED, f, 0)).toBeGreaterThan(0);
    expect(k.mmap(t, 0, 8 * P, RW, MAP_PRIVATE | MAP_ANONYMOUS)).toBeGreaterThan(0);
    return t;
  }

  task(i: number): Task {
    if (this.live.length === 0) this.live.push(this.spawn());
    return this.live[i % this.live.length]!;
  }

  addr(t: Task, w: Where): number {
    const vmas = t.mm?.vmas ?? [];
    if (!w.inVma || vmas.length === 0) return windowAddr(w.sel);
    const v = vmas[w.sel % vmas.length]!;
    return v.vmStart + (w.off % ((v.vmEnd - v.vmStart) / P)) * P;
  }

  /** `pages` pages from `a`, clipped to the end of the VMA holding `a` when asked. */
  len(t: Task, a: number, w: Where, pages: number): number {
    const v = t.mm?.vmas.find((x) => x.vmStart <= a && a < x.vmEnd);
    return w.clip && v !== undefined ? Math.min(pages * P, v.vmEnd - a) : pages * P;
  }

  apply(o: Op): void {
    const k = this.k;
    switch (o.op) {
      case 'mmap': {
        const t = this.task(o.t);
        const anon = o.kind === 'anon' || o.kind === 'anon-shared';
        const shared = o.kind === 'anon-shared' || o.kind === 'file-shared';
        let flags = (shared ? MAP_SHARED : MAP_PRIVATE) | (anon ? MAP_ANONYMOUS : 0);
        const pages = o.fixed ? Math.min(o.pages, 64) : o.pages;
        if (o.fixed) flags |= MAP_FIXED;
        if (o.populate && pages <= 32) flags |= MAP_POPULATE;
        const r = k.mmap(t, o.fixed ? windowAddr(o.at) : 0, pages * P, o.prot, flags, anon ? null : this.files[o.file]!, o.filePg * P);
        if (o.fixed && r >= 0) expect(r).toBe(windowAddr(o.at));
        break;
      }
      case 'munmap': {
        const t = this.task(o.t);
        const a = this.addr(t, o.where);
        const len = this.len(t, a, o.where, o.pages);
        // only a range running past TASK_SIZE (the stack's) is refused
        expect(k.munmap(t, a, len)).toBe(a + len > TASK_SIZE ? -EINVAL : 0);
        break;
      }
      case 'mprotect': {
        const t = this.task(o.t);
        const a = this.addr(t, o.where);
        k.mprotect(t, a, this.len(t, a, o.where, o.pages), o.prot);
        break;
      }
      case 'mremap': {
        const t = this.task(o.t);
        const a = this.addr(t, o.where);
        const to = windowAddr(o.at);
        k.mremap(t, a, this.len(t, a, o.where, o.oldPages), o.newPages * P, o.flags, to);
        break;
      }
      case 'dontneed': {
        const t = this.task(o.t);
        const a = this.addr(t, o.where);
        const len = this.len(t, a, o.where, o.pages);
        const r = k.madvise(t, a, len, MADV_DONTNEED);
        expect([0, -ENOMEM, -EINVAL]).toContain(r);
        break;
      }
      case 'touch': {
        const t = this.task(o.t);
        const a = this.addr(t, o.where);
        const sig = k.touch(t, a, this.len(t, a, o.where, o.pages), o.write);
        expect([0, 7, 11]).toContain(sig);
        break;
      }
      case 'fork': {
        if (this.live.length >= MAX_TASKS) break;
        const c = k.fork(this.task(o.t));
        if (typeof c === 'number') throw new Error(`fork failed with ${c}`);
        this.live.push(c);
        break;
      }
      case 'exit': {
        const t = this.task(o.t);
        k.exit(t);
        this.live.splice(this.live.indexOf(t), 1);
        break;
      }
      case 'execve':
        expect(k.execve(this.task(o.t))).toBe(0);
        break;
      case 'unlink': {
        const f = this.files[o.file]!;
        if (!f.unlinked) k.shmemUnlink(f);
        break;
      }
    }
  }

  /** Exit everything, unlink the files: all memory must come back. */
  teardown(): void {
    const k = this.k;
    for (const t of this.live.splice(0)) k.exit(t);
    for (const f of this.files) if (!f.unlinked) k.shmemUnlink(f);
    k.finish();
    expect(k.invariants.violations).toEqual([]);
    expect(k.liveMms()).toEqual([]);
    expect(k.ptLive).toEqual([0, 0, 0, 0]);
    expect(k.anonVmas.size).toBe(0);
    expect(k.files.size).toBe(0);
    expect(k.vm.nr_page_table_pages).toBe(0);
    expect(k.vm.nr_anon_pages).toBe(0);
    expect(k.vm.nr_file_pages).toBe(0);
    expect(k.vm.nr_free_pages).toBe(this.bootFree);
  }
}

function runOps(p: Params, ops: readonly Op[]): void {
  const run = new Run(p);
  ops.forEach((o, i) => {
    run.apply(o);
    if (run.k.invariants.violations.length > 0) {
      throw new Error(`after op ${i} ${JSON.stringify(o)}: ${JSON.stringify(run.k.invariants.violations.slice(0, 5))}`);
    }
  });
  expect(run.k.invariants.checks).toBeGreaterThan(0);
  run.teardown();
}

const SEED = Number(process.env.MMLAB_FC_SEED ?? 20080124);

describe('random operation sequences keep the model consistent', () => {
  it('checker and oracle find nothing at any boundary, and exit frees everything', () => {
    fc.assert(
      fc.property(paramsArb, fc.array(opArb, { minLength: 1, maxLength: 40 }), (p, ops) => {
        runOps(p, ops);
      }),
      { numRuns: 160, seed: SEED },
    );
  });

  it('long sequences on one machine shape at a time', () => {
    for (const cpus of [1, 2, 8]) {
      fc.assert(
        fc.property(paramsArb, fc.array(opArb, { minLength: 60, maxLength: 120 }), (p, ops) => {
          runOps({ ...p, cpus }, ops);
        }),
        { numRuns: 10, seed: SEED + cpus },
      );
    }
  });
});
