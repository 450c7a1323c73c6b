/**
 * Property-based tests of the rest of the baseline: random sequences of
 * system calls that include reclaim pressure, truncation, get_user_pages
 * pins and put_page, direct I/O, ptrace pokes, remap_file_pages, mlock,
 * hugetlb mappings (a small pool), driver mappings (PFNMAP, vm_insert_page,
 * ->nopfn), XIP files, fork and exit — with the invariant checker and the
 * data oracle at every operation boundary, and the leak check at the end.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type BuildOptions,
  buildKernel,
  EFAULT,
  EINVAL,
  ENOMEM,
  type Kernel,
  MADV_DONTNEED,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_PRIVATE,
  MAP_SHARED,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
  type ShmemFile,
  SIGBUS,
  SIGKILL,
  SIGSEGV,
  type Task,
  type Vma,
  VM_HUGETLB,
  VM_SHARED,
  VM_WRITE,
} from '../src/index.js';
import { formatViolations, MiB, P, PRESSURE, R, RW } from './rest-helpers.js';

const H = 2 * MiB;
/** Address slots per task, 16 MiB apart (2 MiB aligned for hugetlb). */
const SLOTS = 6;
const SLOT_SPAN = 16 * MiB;
const slotBase = (s: number): number => R + s * SLOT_SPAN;

/** What a slot was last mapped as. */
const KINDS = [
  'anon-private',
  'anon-shared',
  'tmpfs-T-shared', // the file that gets truncated
  'tmpfs-T-private',
  'tmpfs-N-shared', // the file remap_file_pages is used on (never shrunk)
  'huge-private',
  'huge-shared',
  'pfnmap-private',
  'pfnmap-shared',
  'insertpage-private',
  'insertpage-shared',
  'nopfn-shared',
  'xip-shared',
  'xip-private',
] as const;
type Kind = (typeof KINDS)[number];

/** File sizes in pages. */
const T_PAGES = 32;
const N_PAGES = 32;
const PFN_PAGES = 32;
const INSERT_PAGES = 16;
const NOPFN_PAGES = 16;
const XIP_PAGES = 32;

interface Proc {
  t: Task;
  slots: ({ kind: Kind; pages: number } | null)[];
  /** Pressure regions left mapped: [address, bytes]. */
  kept: [number, number][];
}

interface World {
  k: Kernel;
  procs: Proc[];
  pins: number[][];
  files: {
    T: ShmemFile;
    N: ShmemFile;
    HP: ShmemFile;
    HS: ShmemFile;
    pfn: ShmemFile;
    ins: ShmemFile;
    nopfn: ShmemFile;
    xip: ShmemFile;
  };
  nextPressure: number;
  /** Bytes of pressure regions ever kept mapped. */
  keptBytes: number;
}

const OPS = [
  'mmap',
  'touch',
  'write',
  'read',
  'munmap',
  'fork',
  'exit',
  'pressure',
  'truncate',
  'gup',
  'put',
  'dio',
  'poke',
  'rfp',
  'mlock',
  'munlock',
  'mprotect',
  'dontneed',
  'sweep',
] as const;
type OpName = (typeof OPS)[number];

interface Op {
  op: OpName;
  a: number;
  b: number;
  c: number;
  d: number;
}

const WEIGHTS: Record<OpName, number> = {
  mmap: 8,
  touch: 8,
  write: 4,
  read: 3,
  munmap: 2,
  fork: 3,
  exit: 2,
  pressure: 2,
  truncate: 3,
  gup: 3,
  put: 2,
  dio: 2,
  poke: 2,
  rfp: 3,
  mlock: 2,
  munlock: 1,
  mprotect: 2,
  dontneed: 1,
  sweep: 3,
};

const opArb: fc.Arbitrary<Op> = fc.record({
  op: fc.oneof(...OPS.map((o) => ({ arbitrary: fc.constant(o), weight: WEIGHTS[o] }))),
  a: fc.nat(1023),
  b: fc.nat(1023),
  c: fc.nat(1023),
  d: fc.nat(1023),
});

const SIGNALS = [0, SIGSEGV, SIGBUS, SIGKILL];
const ERRNOS = [-EFAULT, -EINVAL, -ENOMEM];

function newWorld(seed: number, opts: BuildOptions): World {
  const k = buildKernel({ memBytes: 32 * MiB, hugePages: 4, xipBytes: 1 * MiB, check: true, seed, ...opts });
  const files = {
    T: k.shmemCreate('T', T_PAGES * P),
    N: k.shmemCreate('N', N_PAGES * P),
    HP: k.hugetlbfsCreate('HP'),
    HS: k.hugetlbfsCreate('HS'),
    pfn: k.deviceCreate('fb', PFN_PAGES * P, 'pfnmap'),
    ins: k.deviceCreate('ring', INSERT_PAGES * P, 'insertpage'),
    nopfn: k.deviceCreate('spu', NOPFN_PAGES * P, 'nopfn'),
    xip: k.xipFileCreate('lib', XIP_PAGES * P),
  };
  return { k, procs: [], pins: [], files, nextPressure: 0, keptBytes: 0 };
}

/** A live process chosen by `n` (one is spawned when none is alive). */
function proc(w: World, n: number): Proc {
  if (w.procs.length === 0) w.procs.push({ t: w.k.spawn(), slots: Array<null>(SLOTS).fill(null), kept: [] });
  return w.procs[n % w.procs.length]!;
}

/** Map slot `s` of `p` as kind `kind`; `size` and `off` pick the length and file offset. */
function doMmap(w: World, p: Proc, s: number, kind: Kind, size: number, off: number, prot: number): void {
  const { k, files } = w;
  const addr = slotBase(s);
  let file: ShmemFile | null = null;
  let flags = MAP_SHARED;
  let pages = 1 + (size % 32);
  let pgoff = 0;
  switch (kind) {
    case 'anon-private':
      flags = MAP_PRIVATE | MAP_ANONYMOUS;
      break;
    case 'anon-shared':
      flags = MAP_SHARED | MAP_ANONYMOUS;
      break;
    case 'tmpfs-T-shared':
    case 'tmpfs-T-private':
      file = files.T;
      flags = kind === 'tmpfs-T-shared' ? MAP_SHARED : MAP_PRIVATE;
      pgoff = off % 16;
      break;
    case 'tmpfs-N-shared':
      file = files.N;
      pages = 4 + (size % (N_PAGES - 3));
      break;
    case 'huge-private':
    case 'huge-shared':
      file = kind === 'huge-private' ? files.HP : files.HS;
      flags = kind === 'huge-private' ? MAP_PRIVATE : MAP_SHARED;
      pages = (1 + (size % 2)) * (H / P);
      pgoff = (off % 2) * (H / P);
      break;
    case 'pfnmap-private':
    case 'pfnmap-shared':
      file = files.pfn;
      flags = kind === 'pfnmap-private' ? MAP_PRIVATE : MAP_SHARED;
      pages = 1 + (size % 16);
      pgoff = off % (PFN_PAGES - pages + 1);
      break;
    case 'insertpage-private':
    case 'insertpage-shared':
      file = files.ins;
      flags = kind === 'insertpage-private' ? MAP_PRIVATE : MAP_SHARED;
      pages = 1 + (size % 8);
      pgoff = off % (INSERT_PAGES - pages + 1);
      break;
    case 'nopfn-shared':
      file = files.nopfn;
      pages = 1 + (size % NOPFN_PAGES);
      pgoff = off % (NOPFN_PAGES - pages + 1);
      break;
    case 'xip-shared':
    case 'xip-private':
      file = files.xip;
      flags = kind === 'xip-shared' ? MAP_SHARED : MAP_PRIVATE;
      pgoff = off % 16;
      break;
  }
  const r = k.mmap(p.t, addr, pages * P, prot, flags | MAP_FIXED, file, pgoff * P);
  if (r === addr) p.slots[s] = { kind, pages };
  else expect(ERRNOS).toContain(r);
}

/** A slot of `p` chosen by `n`: mostly a mapped one (any slot when none is, or one time in eight). */
function pickSlot(p: Proc, n: number): number {
  const mapped = p.slots.flatMap((x, i) => (x === null ? [] : [i]));
  if (mapped.length === 0 || n % 8 === 7) return n % SLOTS;
  return mapped[(n >> 3) % mapped.length]!;
}

/** The VMA of `p` containing `addr`, if any. */
function vmaOf(p: Proc, addr: number): Vma | undefined {
  return p.t.mm?.vmas.find((v) => v.vmStart <= addr && addr < v.vmEnd);
}

/** An address inside slot `s` of `p` (its first page when unmapped). */
function addrIn(p: Proc, s: number, page: number): number {
  const sl = p.slots[s] ?? null;
  return slotBase(s) + (sl === null ? 0 : (page % sl.pages) * P);
}

/** Pages (at least 1, at most `max`) from `n`, within slot `s`. */
function span(p: Proc, s: number, page: number, n: number, max: number): number {
  const sl = p.slots[s] ?? null;
  const avail = sl === null ? 1 : sl.pages - (page % sl.pages);
  return Math.max(1, Math.min(avail, 1 + (n % max)));
}

/**
 * Read (or write) every mapped slot of `p` (up to 64 pages of each), and the
 * first MiB of each pressure region it kept.
 */
function sweep(w: World, p: Proc, write: boolean): void {
  for (let i = 0; i < SLOTS; i++) {
    const sl = p.slots[i] ?? null;
    if (sl !== null) expect(SIGNALS).toContain(w.k.touch(p.t, slotBase(i), Math.min(sl.pages, 64) * P, write));
  }
  for (const [addr] of p.kept) expect(SIGNALS).toContain(w.k.touch(p.t, addr, MiB, write));
}

/** Run one operation; any answer outside the listed ones fails. */
function step(w: World, o: Op): void {
  const { k } = w;
  const s = o.op === 'mmap' ? o.a % SLOTS : pickSlot(proc(w, o.d), o.a);
  switch (o.op) {
    case 'mmap': {
      const p = proc(w, o.d);
      const kind = KINDS[o.b % KINDS.length]!;
      const prot = o.c % 7 === 0 ? PROT_READ : RW;
      doMmap(w, p, s, kind, o.c, o.d >> 3, prot);
      return;
    }
    case 'touch': {
      const p = proc(w, o.d);
      const addr = addrIn(p, s, o.b);
      const n = span(p, s, o.b, o.c, 64);
      expect(SIGNALS).toContain(k.touch(p.t, addr, n * P, (o.d & 1) === 1));
      return;
    }
    case 'write': {
      const p = proc(w, o.d);
      expect(SIGNALS).toContain(k.write(p.t, addrIn(p, s, o.b), 0x10000 * o.c + o.d + 1));
      return;
    }
    case 'read': {
      const p = proc(w, o.d);
      expect(SIGNALS).toContain(k.read(p.t, addrIn(p, s, o.b)).sig);
      return;
    }
    case 'munmap': {
      const p = proc(w, o.d);
      const sl = p.slots[s] ?? null;
      const whole = sl === null || o.c % 3 === 0;
      const r = whole ? k.munmap(p.t, slotBase(s), SLOT_SPAN) : k.munmap(p.t, addrIn(p, s, o.b), span(p, s, o.b, o.c, 32) * P);
      expect([0, -EINVAL, -ENOMEM]).toContain(r);
      if (r === 0 && whole) p.slots[s] = null;
      return;
    }
    case 'fork': {
      if (w.procs.length >= 5) return;
      const p = proc(w, o.d);
      const c = k.fork(p.t);
      if (typeof c === 'number') {
        expect(c).toBe(-ENOMEM);
        return;
      }
      w.procs.push({ t: c, slots: p.slots.map((x) => (x === null ? null : { ...x })), kept: [...p.kept] });
      return;
    }
    case 'exit': {
      if (w.procs.length === 0) return;
      const i = o.d % w.procs.length;
      k.exit(w.procs[i]!.t);
      w.procs.splice(i, 1);
      return;
    }
    case 'pressure': {
      // anonymous memory near or beyond RAM (32 MiB) forces direct reclaim
      const p = proc(w, o.d);
      if ((o.a & 1) === 1) sweep(w, p, true);
      const bytes = (24 + (o.b % 17)) * MiB;
      const addr = PRESSURE + w.nextPressure++ * 64 * MiB;
      expect(k.mmap(p.t, addr, bytes, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED)).toBe(addr);
      expect(SIGNALS).toContain(k.touch(p.t, addr, bytes, true));
      // keep at most 40 MiB of pressure regions mapped, so that RAM + swap
      // (96 MiB) is not always exhausted
      if (o.c % 4 !== 0 || w.keptBytes + bytes > 40 * MiB) expect(k.munmap(p.t, addr, bytes)).toBe(0);
      else {
        p.kept.push([addr, bytes]);
        w.keptBytes += bytes;
      }
      if ((o.a & 2) === 2) for (const q of w.procs) sweep(w, q, false);
      return;
    }
    case 'truncate': {
      // Release the pins first: a page-cache page truncated while pinned keeps
      // its stale page->mapping in the model, and reclaim then corrupts the
      // file (see the report)
      for (const pins of w.pins) k.putUserPages(pins);
      w.pins.length = 0;
      if (o.a % 3 === 0) {
        expect(k.ftruncate(w.files.HS, (o.b % 3) * H)).toBe(0);
      } else {
        expect(k.ftruncate(w.files.T, (o.b % (T_PAGES + 9)) * P + (o.c % 2) * (o.d % P))).toBe(0);
      }
      return;
    }
    case 'gup': {
      const p = proc(w, o.d);
      const n = span(p, s, o.b, o.c, 8);
      const addr = addrIn(p, s, o.b);
      const vma = vmaOf(p, addr);
      // force: not into a read-only hugetlb mapping (a forced write leaves the huge
      // PTE writable, see the report) nor a read-only shared one (the COW copy made
      // there without a data write is invisible to the oracle)
      const flags = vma?.vmFlags ?? 0;
      const force = (o.d & 2) === 2 && ((flags & VM_WRITE) !== 0 || (flags & (VM_SHARED | VM_HUGETLB)) === 0);
      const r = k.getUserPages(p.t, addr, n, (o.d & 1) === 1, force);
      if (typeof r === 'number') expect(ERRNOS).toContain(r);
      else {
        expect(r.length).toBeGreaterThan(0);
        expect(r.length).toBeLessThanOrEqual(n);
        w.pins.push(r);
      }
      return;
    }
    case 'put': {
      if (w.pins.length === 0) return;
      const i = o.a % w.pins.length;
      k.putUserPages(w.pins[i]!);
      w.pins.splice(i, 1);
      return;
    }
    case 'dio': {
      const p = proc(w, o.d);
      const n = span(p, s, o.b, o.c, 8);
      const r = k.directIo(p.t, addrIn(p, s, o.b), n, (o.d & 1) === 1);
      if (r < 0) expect(ERRNOS).toContain(r);
      else expect(r).toBeLessThanOrEqual(n);
      return;
    }
    case 'poke': {
      const p = proc(w, o.d);
      const addr = addrIn(p, s, o.b);
      const r = (o.c & 1) === 1 ? k.accessProcessVm(p.t, addr, 0x90ce0000 + o.c) : k.accessProcessVm(p.t, addr);
      if (r < 0) expect(ERRNOS).toContain(r);
      return;
    }
    case 'rfp': {
      // only on the file that is never shrunk (see the report on truncating nonlinear mappings)
      const p = proc(w, o.d);
      const sl = p.slots[s] ?? null;
      if (sl?.kind !== 'tmpfs-N-shared') return;
      const n = span(p, s, o.b, o.c, 8);
      const pgoff = (o.c >> 3) % (N_PAGES - n + 1);
      const addr = addrIn(p, s, o.b);
      // the slot may have been partly unmapped since: then the answer is -EINVAL
      const vma = vmaOf(p, addr);
      const ok = vma !== undefined && vma.vmFile === w.files.N && (vma.vmFlags & VM_SHARED) !== 0 && addr + n * P <= vma.vmEnd;
      expect(k.remapFilePages(p.t, addr, n * P, pgoff, (o.d & 1) === 1 ? 0x10000 : 0)).toBe(ok ? 0 : -EINVAL);
      return;
    }
    case 'mlock':
    case 'munlock': {
      const p = proc(w, o.d);
      const n = span(p, s, o.b, o.c, 16);
      const addr = addrIn(p, s, o.b);
      const r = o.op === 'mlock' ? k.mlock(p.t, addr, n * P) : k.munlock(p.t, addr, n * P);
      expect([0, -ENOMEM, -EINVAL]).toContain(r);
      return;
    }
    case 'mprotect': {
      const p = proc(w, o.d);
      const n = span(p, s, o.b, o.c, 16);
      const prot = [PROT_NONE, PROT_READ, RW, PROT_WRITE | PROT_READ][o.c % 4]!;
      const addr = addrIn(p, s, o.b);
      expect([0, -ENOMEM, -EINVAL]).toContain(k.mprotect(p.t, addr, n * P, prot));
      return;
    }
    case 'sweep': {
      // read (or write) every mapped slot of a process: brings swapped pages back
      sweep(w, proc(w, o.d), (o.b & 1) === 1);
      return;
    }
    case 'dontneed': {
      const p = proc(w, o.d);
      const n = span(p, s, o.b, o.c, 16);
      const addr = addrIn(p, s, o.b);
      expect([0, -ENOMEM, -EINVAL]).toContain(k.madvise(p.t, addr, n * P, MADV_DONTNEED));
      return;
    }
  }
}

/** Run a sequence, then release pins, exit everyone and unlink every file. */
function run(seed: number, ops: readonly Op[], opts: BuildOptions = {}): void {
  const w = newWorld(seed, opts);
  const { k } = w;
  proc(w, 0);
  for (const o of ops) {
    step(w, o);
    if (k.invariants.violations.length > 0) break;
  }
  for (const pins of w.pins) k.putUserPages(pins);
  for (const p of w.procs) k.exit(p.t);
  for (const f of [...k.files.values()]) if (!f.unlinked) k.shmemUnlink(f);
  // A swap-cache page that get_user_pages still held when its last user went
  // (free_swap_and_cache and remove_mapping both see the extra reference)
  // stays in the swap cache after put_page; 2.6.24 frees it at the next
  // reclaim: give it one, from a process that fills RAM and exits.
  if (k.swap.inuse > 0) {
    const hog = k.spawn();
    expect(k.mmap(hog, PRESSURE, 36 * MiB, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED)).toBe(PRESSURE);
    expect(k.touch(hog, PRESSURE, 36 * MiB, true)).toBe(0);
    k.exit(hog);
  }
  k.finish();
  const v = k.invariants.violations;
  expect(v.length, formatViolations(v)).toBe(0);
  expect(k.hugePool.nrFree).toBe(k.hugePool.nrHugePages);
  expect(k.swap.inuse).toBe(0);
}

const sequences = fc.array(opArb, { minLength: 20, maxLength: 45 });

describe('random sequences with reclaim, truncate, gup, nonlinear, hugetlb and driver mappings', () => {
  it('keep every invariant and the data at every operation boundary (x86-64, 8 CPUs)', () => {
    fc.assert(
      fc.property(fc.nat(1 << 20), sequences, (seed, ops) => {
        run(seed, ops);
      }),
      { numRuns: 60, seed: 0x2624 },
    );
  });

  it('keep them with CONFIG_PREEMPT (8-page zap blocks) on 2 CPUs', () => {
    fc.assert(
      fc.property(fc.nat(1 << 20), sequences, (seed, ops) => {
        run(seed, ops, { cpus: 2, config: { preempt: true } });
      }),
      { numRuns: 40, seed: 0x6a7e },
    );
  });
});
