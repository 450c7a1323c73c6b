/**
 * The benchmark cases: each builds a fresh kernel (checker off) in its
 * untimed set-up and times one kernel operation over 256 MiB.
 * @module
 */
import {
  buildKernel,
  HOST_BYTES_PER_FRAME,
  type Kernel,
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  MAP_SHARED,
  PAGE_SIZE,
  PROT_READ,
  PROT_WRITE,
  PTRS_PER_TABLE,
  TABLE_WORDS,
  type Task,
} from '@mmlab/core';
import { preparePrimitive, type PreparedPrimitive, type PrimitiveName } from '../src/kernel/primitives.js';
import type { Case } from './harness.js';

/** Bytes of memory each case works on. */
export const SIZE = 256 * 2 ** 20;
/** Pages in {@link SIZE}. */
export const PAGES = SIZE / PAGE_SIZE;
/** Processes of the shm-procs case. */
export const SHM_PROCS = 32;

function newKernel(): Kernel {
  return buildKernel({ check: false });
}

function ok(what: string, r: number): number {
  if (r < 0) throw new Error(`bench set-up: ${what} failed with errno ${-r}`);
  return r;
}

function noSignal(what: string, sig: number): void {
  if (sig !== 0) throw new Error(`bench set-up: ${what} raised signal ${sig}`);
}

/** A kernel with one process and a 256 MiB private anonymous mapping. */
interface AnonCtx {
  k: Kernel;
  t: Task;
  addr: number;
  /** Counter value before the timed part. */
  before: number;
}

function anonSetup(written: boolean): AnonCtx {
  const k = newKernel();
  const t = k.spawn();
  const addr = ok('mmap', k.mmap(t, 0, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS));
  if (written) noSignal('touch', k.touch(t, addr, SIZE, true));
  return { k, t, addr, before: 0 };
}

/**
 * The benchmark case of a primitive: the core's own set-up of it over
 * 256 MiB on the default kernel (checker off), timed around its run.
 */
function primitiveCase(name: PrimitiveName): Case<PreparedPrimitive> {
  return {
    setup: () => preparePrimitive(name, PAGES),
    run: (p) => { p.run(); },
    units: (p) => p.units(),
  };
}

/** ns per anonymous write fault: write every page of a fresh 256 MiB mapping. */
export const anonFault = primitiveCase('anon_fault');
/** ns per PTE copied at fork: fork a parent with 256 MiB written. */
export const forkCopy = primitiveCase('fork_pte');
/** ns per page unmapped: munmap 256 MiB of written anonymous memory. */
export const munmapPages = primitiveCase('munmap_page');
/** ns per page mprotected: mprotect RW→R over 256 MiB of written anonymous memory. */
export const mprotectPages = primitiveCase('mprotect_page');
/** ns per shared-file read fault: read every page of a MAP_SHARED tmpfs mapping whose pages are all cached. */
export const sharedFileFault = primitiveCase('shared_file_fault');
/**
 * ns per page pinned by `get_user_pages` over 256 MiB of written
 * anonymous memory (the baseline has no lockless fast path: this is the
 * mmap_sem walk the fast path replaces).
 */
export const gupPages = primitiveCase('gup_fast_page');

/** A kernel with a 256 MiB tmpfs file and the processes mapping it. */
interface ShmCtx {
  k: Kernel;
  tasks: Task[];
  /** Page-table layout at the snapshot point (all processes mapped and read). */
  layout: TableLayout | null;
}

function shmSetup(): ShmCtx {
  return { k: newKernel(), tasks: [], layout: null };
}

/** shm-procs map + read: 32 processes each map the file MAP_SHARED and read every page. */
export const shmProcsMapRead: Case<ShmCtx> = {
  setup: shmSetup,
  run(c) {
    const k = c.k;
    const file = k.shmemCreate('bench-shm', SIZE);
    for (let i = 0; i < SHM_PROCS; i++) {
      const t = k.spawn();
      const addr = ok('mmap', k.mmap(t, 0, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, file, 0));
      noSignal('touch', k.touch(t, addr, SIZE, false));
      c.tasks.push(t);
    }
  },
  units(c) {
    c.layout = tableLayout(c.k);
    return 1;
  },
};

/** A kernel at the shm-procs snapshot point, whose processes exit in the timed part. */
interface ShmExitCtx {
  k: Kernel;
  tasks: Task[];
}

/** shm-procs teardown: the 32 processes exit. */
export const shmProcsExit: Case<ShmExitCtx> = {
  setup() {
    const c = shmSetup();
    shmProcsMapRead.run(c);
    return c;
  },
  run(c) {
    for (const t of c.tasks) c.k.exit(t);
  },
  units(c) {
    if (c.k.liveMms().length !== 0) throw new Error('bench: shm-procs processes still alive after exit');
    return 1;
  },
};

/** Host memory of the page-table store against the tables it holds. */
export interface TableLayout {
  /** Live page tables, all levels. */
  tables: number;
  /** Host bytes held by the table store. */
  hostBytes: number;
  /** hostBytes / (tables × 512). */
  bytesPerPte: number;
  /** Bytes per PTE of one table slot alone (no slack from chunk rounding). */
  slotBytesPerPte: number;
}

/** The table store's host bytes per simulated PTE in `k` now. */
export function tableLayout(k: Kernel): TableLayout {
  const tables = k.ptLive[0] + k.ptLive[1] + k.ptLive[2] + k.ptLive[3];
  const hostBytes = k.tables.hostBytes;
  return {
    tables,
    hostBytes,
    bytesPerPte: hostBytes / (tables * PTRS_PER_TABLE),
    slotBytesPerPte: (TABLE_WORDS * Uint32Array.BYTES_PER_ELEMENT) / PTRS_PER_TABLE,
  };
}

/** Per-frame host memory, from the typed arrays themselves. */
export interface FrameLayout {
  /** Frames of simulated RAM. */
  frames: number;
  /** Bytes per frame of the `struct page` arrays (PageArrays). */
  pageArrays: number;
  /** Bytes per frame of the allocator's own arrays (the free stack). */
  allocator: number;
  /** Sum of the two. */
  total: number;
  /** `HOST_BYTES_PER_FRAME` as declared in src/mem/page.ts. */
  declared: number;
}

/** Bytes of the host buffers behind `obj`'s typed arrays (a buffer several views share counted once), less the buffers in `skip`. */
function typedArrayBytes(obj: object, skip: ReadonlySet<unknown>): number {
  const buffers = new Set<ArrayBufferLike>();
  for (const v of Object.values(obj)) {
    if (ArrayBuffer.isView(v) && !skip.has(v.buffer)) buffers.add(v.buffer);
  }
  let n = 0;
  for (const b of buffers) n += b.byteLength;
  return n;
}

/**
 * Host bytes per simulated frame: every typed array owned by PageArrays,
 * plus every typed array owned by PhysMem itself (its free stack), over
 * the frame count.
 */
export function frameLayout(k: Kernel = newKernel()): FrameLayout {
  const frames = k.mem.nrFrames;
  const pageBytes = typedArrayBytes(k.pages, new Set());
  const pageArrays = new Set<unknown>(Object.values(k.pages).flatMap((v) => (ArrayBuffer.isView(v) ? [v.buffer] : [])));
  const allocBytes = typedArrayBytes(k.mem, pageArrays);
  return {
    frames,
    pageArrays: pageBytes / frames,
    allocator: allocBytes / frames,
    total: (pageBytes + allocBytes) / frames,
    declared: HOST_BYTES_PER_FRAME,
  };
}

/** Table layout of one process with 256 MiB of written anonymous memory. */
export function anonTableLayout(): TableLayout {
  return tableLayout(anonSetup(true).k);
}

/** A primitive's model case, handed to `use` (each case has a context type of its own). */
export type Primitive = <R>(use: <C>(c: Case<C>) => R) => R;

/** The side-by-side primitives (`npm run bench`), in their order, each with the model case that times it. */
export const PRIMITIVE_CASES: Readonly<Record<string, Primitive>> = {
  anon_fault: (use) => use(anonFault),
  fork_pte: (use) => use(forkCopy),
  munmap_page: (use) => use(munmapPages),
  mprotect_page: (use) => use(mprotectPages),
  shared_file_fault: (use) => use(sharedFileFault),
  gup_fast_page: (use) => use(gupPages),
};
