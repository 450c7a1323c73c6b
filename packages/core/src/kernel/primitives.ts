/**
 * The six memory-management primitives the model is measured by, beside
 * the real kernel's (`bench/native/mmbench.c`): each builds a kernel in an
 * untimed set-up and then does one operation over a number of pages.
 * `npm run bench` times them in host time; `mmlab calibrate` reads the
 * simulated time they take on a machine profile ({@link simulatedCostPerPage})
 * and how that time depends on each cost of the profile
 * ({@link costSensitivity}).
 * @module
 */
import { COST_KEYS, type CostTable } from '../machine/cost.js';
import { getMachine, type MachineProfile, X86_64 } from '../machine/profile.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE } from '../mm/types.js';
import { PAGE_SIZE } from '../pgtable/entry.js';
import { buildKernel } from './build.js';
import type { BuildOptions } from './config.js';
import type { Kernel } from './kernel.js';
import { KernelConfigError } from '../seams/feature.js';

/** The primitives, as `npm run bench -- --json` and machine profiles name them. */
export type PrimitiveName = 'anon_fault' | 'fork_pte' | 'munmap_page' | 'mprotect_page' | 'shared_file_fault' | 'gup_fast_page';

/** Every primitive, in the order reports list them. */
export const PRIMITIVE_NAMES: readonly PrimitiveName[] = Object.freeze(['anon_fault', 'fork_pte', 'munmap_page', 'mprotect_page', 'shared_file_fault', 'gup_fast_page']);

/** What each primitive does, one line each (the model's side; `mmbench.c` does the same on the real kernel). */
export const PRIMITIVE_WORK: Readonly<Record<PrimitiveName, string>> = Object.freeze({
  anon_fault: 'write every page of a fresh private anonymous mapping (one anonymous write fault per page)',
  fork_pte: 'fork a process with every page written; per PTE copied',
  munmap_page: 'munmap written anonymous pages; per page unmapped',
  mprotect_page: 'mprotect RW to R over written anonymous pages; per PTE changed',
  shared_file_fault: 'read every page of a MAP_SHARED tmpfs mapping whose pages are all cached; per file fault',
  gup_fast_page: "get_user_pages over written anonymous pages into the caller's pages array; per page pinned (2.6.24's walk under mmap_sem: it has no fast path)",
});

/** A primitive set up and ready to run once. */
export interface PreparedPrimitive {
  /** The kernel it runs on. */
  readonly kernel: Kernel;
  /** The operation (the part a benchmark times). */
  run(): void;
  /**
   * The units the operation did (pages or PTEs), checked against the
   * counter that counts them; releases what the operation holds (gup's
   * pins). Call once, after {@link PreparedPrimitive.run}.
   */
  units(): number;
}

function ok(what: string, r: number): number {
  if (r < 0) throw new Error(`primitive set-up: ${what} failed with errno ${-r}`);
  return r;
}

function noSignal(what: string, sig: number): void {
  if (sig !== 0) throw new Error(`primitive set-up: ${what} raised signal ${sig}`);
}

function expectDelta(what: string, got: number, want: number): number {
  if (got !== want) throw new Error(`primitive: ${what} moved by ${got}, expected ${want}`);
  return got;
}

/**
 * Sets up `name` over `pages` pages on a kernel built with `build` (checker
 * off unless asked), untimed; the returned object runs it.
 * @param name - the primitive
 * @param pages - pages the operation covers
 * @param build - options of the kernel (machine, memory)
 */
export function preparePrimitive(name: PrimitiveName, pages: number, build: BuildOptions = {}): PreparedPrimitive {
  const size = pages * PAGE_SIZE;
  const k = buildKernel({ check: false, ...build });
  const t = k.spawn();
  const anon = (written: boolean): number => {
    const addr = ok('mmap', k.mmap(t, 0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS));
    if (written) noSignal('touch', k.touch(t, addr, size, true));
    return addr;
  };
  const vm = k.vm;
  switch (name) {
    case 'anon_fault': {
      const addr = anon(false);
      const before = vm.mmlab_anon_fault;
      return { kernel: k, run: () => { noSignal('touch', k.touch(t, addr, size, true)); }, units: () => expectDelta('mmlab_anon_fault', vm.mmlab_anon_fault - before, pages) };
    }
    case 'fork_pte': {
      anon(true);
      const before = vm.mmlab_fork_pte_copied;
      const run = (): void => {
        const child = k.fork(t);
        if (typeof child === 'number') throw new Error(`primitive: fork failed with errno ${-child}`);
      };
      return { kernel: k, run, units: () => expectDelta('mmlab_fork_pte_copied', vm.mmlab_fork_pte_copied - before, pages) };
    }
    case 'munmap_page': {
      const addr = anon(true);
      const before = vm.mmlab_zap_pte;
      return { kernel: k, run: () => void ok('munmap', k.munmap(t, addr, size)), units: () => expectDelta('mmlab_zap_pte', vm.mmlab_zap_pte - before, pages) };
    }
    case 'mprotect_page': {
      const addr = anon(true);
      const before = vm.mmlab_mprotect_pte;
      return { kernel: k, run: () => void ok('mprotect', k.mprotect(t, addr, size, PROT_READ)), units: () => expectDelta('mmlab_mprotect_pte', vm.mmlab_mprotect_pte - before, pages) };
    }
    case 'shared_file_fault': {
      const file = k.shmemCreate('primitive-file', size);
      const w = ok('mmap', k.mmap(t, 0, size, PROT_READ | PROT_WRITE, MAP_SHARED, file, 0));
      noSignal('touch', k.touch(t, w, size, true));
      ok('munmap', k.munmap(t, w, size));
      const addr = ok('mmap', k.mmap(t, 0, size, PROT_READ, MAP_SHARED, file, 0));
      const before = vm.mmlab_file_fault;
      return { kernel: k, run: () => { noSignal('touch', k.touch(t, addr, size, false)); }, units: () => expectDelta('mmlab_file_fault', vm.mmlab_file_fault - before, pages) };
    }
    case 'gup_fast_page': {
      const addr = anon(true);
      // the caller's pages array, as a driver passes get_user_pages one
      const out = new Int32Array(pages);
      let pinned = 0;
      return {
        kernel: k,
        run: () => {
          pinned = k.getUserPagesInto(t, addr, out, false);
        },
        units: () => {
          if (pinned < 0) throw new Error(`primitive: get_user_pages failed with errno ${-pinned}`);
          const n = expectDelta('pages pinned', pinned, pages);
          k.putUserPages(out.subarray(0, n));
          return n;
        },
      };
    }
  }
}

/** Pages the simulated costs are measured over by default (16 MiB). */
export const SIMULATED_PAGES = 4096;

/** Simulated RAM for a primitive over `pages` pages: room for them, their tables and a copy (fork). */
function memFor(pages: number): number {
  return Math.max(64 * 2 ** 20, 4 * pages * PAGE_SIZE);
}

function profileOf(machine: MachineProfile | string): MachineProfile {
  if (typeof machine !== 'string') return machine;
  const m = getMachine(machine);
  if (m === undefined) throw new KernelConfigError(`unknown machine '${machine}'`);
  return m;
}

/**
 * Simulated ns per unit (page or PTE) of `name` on `machine`: the
 * simulated time the operation took (`Kernel.now`, sequential mode) over
 * the units it did.
 * @param name - the primitive
 * @param machine - a profile or a built-in profile's name (default x86-64)
 * @param pages - pages the operation covers (default {@link SIMULATED_PAGES})
 */
export function simulatedCostPerPage(name: PrimitiveName, machine: MachineProfile | string = X86_64, pages = SIMULATED_PAGES): number {
  const p = preparePrimitive(name, pages, { machine: profileOf(machine), memBytes: memFor(pages) });
  const t0 = p.kernel.now;
  p.run();
  const ns = p.kernel.now - t0;
  return ns / p.units();
}

/** What {@link costSensitivity} measured. */
export interface CostSensitivity {
  /** Simulated ns per unit with every cost 0. */
  readonly offset: number;
  /** Simulated ns per unit per ns of each cost. */
  readonly perCost: Record<keyof CostTable, number>;
}

/**
 * How the simulated cost per unit of `name` depends on the profile's
 * costs: the simulated time is a sum of costs times how often the path
 * charges them, so it is `offset + Σ perCost[key] × costs[key]`; each
 * `perCost[key]` is measured by a run where that cost alone is 1 ns and
 * every other is 0 (and `offset` by a run with every cost 0).
 * @param name - the primitive
 * @param machine - the profile whose other fields (CPUs, TLB, placement) the runs use
 * @param pages - pages the operation covers (default {@link SIMULATED_PAGES})
 */
export function costSensitivity(name: PrimitiveName, machine: MachineProfile | string = X86_64, pages = SIMULATED_PAGES): CostSensitivity {
  const profile = profileOf(machine);
  const zero = Object.fromEntries(COST_KEYS.map((key) => [key, 0])) as unknown as CostTable;
  const offset = simulatedCostPerPage(name, { ...profile, costs: zero }, pages);
  const perCost = { ...zero };
  for (const key of COST_KEYS) {
    perCost[key] = simulatedCostPerPage(name, { ...profile, costs: { ...zero, [key]: 1 } }, pages) - offset;
  }
  return { offset, perCost };
}
