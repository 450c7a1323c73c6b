/**
 * `npm run scaling-table`: how the model's host time and host memory grow
 * with the pages an operation covers and with the number of processes,
 * per primitive, and of reclaim, written to `docs/scaling.md` (or printed
 * with `--print`).
 * Linear growth shows as a flat ns-per-page (or per-process-page) column
 * and a flat bytes-per-page column. Each time is the median of
 * `BENCH_REPS` (default 3) runs after one warm-up, checker off; memory is
 * the growth of V8's heap plus array buffers over the timed run (what the
 * operation adds: tables, page state; not the kernel's fixed arrays), a
 * full GC before each reading. Rough figures: the machine is shared.
 * @module
 */
import { renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildKernel, type Kernel, MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, PAGE_SIZE, PROT_READ, PROT_WRITE, type Task } from '@mmlab/core';
import { collectGarbage, median } from './harness.js';

const REPS = Math.max(1, Number(process.env.BENCH_REPS ?? '3'));
const MiB = 2 ** 20;

function ok(r: number): number {
  if (r < 0) throw new Error(`scaling: a call failed with errno ${-r}`);
  return r;
}

function sig(s: number): void {
  if (s !== 0) throw new Error(`scaling: signal ${s}`);
}

/** One measurement: what to set up, what to time, and how many units (pages) it covers. */
interface Probe {
  setup: () => { k: Kernel; run: () => void };
  units: number;
}

/** The kernel measured, kept reachable until its memory was read. */
const alive: Kernel[] = [];

function memBytes(): number {
  collectGarbage();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** Median host ns per unit and host bytes per unit of a probe. */
function time(p: Probe): { ns: number; bytes: number } {
  const times: number[] = [];
  let bytes = 0;
  for (let r = 0; r <= REPS; r++) {
    const { k, run } = p.setup();
    const m0 = memBytes();
    const t0 = process.hrtime.bigint();
    run();
    const t = Number(process.hrtime.bigint() - t0);
    alive.push(k);
    const m1 = memBytes();
    alive.length = 0;
    if (r > 0) {
      times.push(t / p.units);
      bytes = Math.max(bytes, (m1 - m0) / p.units);
    }
  }
  return { ns: median(times), bytes };
}

function anonProc(mem: number, size: number, written: boolean): { k: Kernel; t: Task; addr: number } {
  const k = buildKernel({ check: false, memBytes: mem });
  const t = k.spawn();
  const addr = ok(k.mmap(t, 0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS));
  if (written) sig(k.touch(t, addr, size, true));
  return { k, t, addr };
}

/** Memory for `size` bytes of user pages and their tables, with room to spare. */
const memFor = (size: number): number => Math.max(64 * MiB, 2 * size + 64 * MiB);

/** The primitives over `size` bytes in one process. */
const PAGE_PROBES: readonly [string, (size: number) => Probe][] = [
  ['anon write fault', (size) => ({ units: size / PAGE_SIZE, setup: () => { const c = anonProc(memFor(size), size, false); return { k: c.k, run: () => { sig(c.k.touch(c.t, c.addr, size, true)); } }; } })],
  ['fork (per PTE)', (size) => ({ units: size / PAGE_SIZE, setup: () => { const c = anonProc(memFor(size), size, true); return { k: c.k, run: () => { if (typeof c.k.fork(c.t) === 'number') throw new Error('fork failed'); } }; } })],
  ['munmap', (size) => ({ units: size / PAGE_SIZE, setup: () => { const c = anonProc(memFor(size), size, true); return { k: c.k, run: () => ok(c.k.munmap(c.t, c.addr, size)) }; } })],
  ['mprotect', (size) => ({ units: size / PAGE_SIZE, setup: () => { const c = anonProc(memFor(size), size, true); return { k: c.k, run: () => ok(c.k.mprotect(c.t, c.addr, size, PROT_READ)) }; } })],
  ['shared-file read fault', (size) => ({ units: size / PAGE_SIZE, setup: () => {
    const k = buildKernel({ check: false, memBytes: memFor(size) });
    const t = k.spawn();
    const f = k.shmemCreate('f', size);
    const w = ok(k.mmap(t, 0, size, PROT_READ | PROT_WRITE, MAP_SHARED, f));
    sig(k.touch(t, w, size, true));
    ok(k.munmap(t, w, size));
    const addr = ok(k.mmap(t, 0, size, PROT_READ, MAP_SHARED, f));
    return { k, run: () => { sig(k.touch(t, addr, size, false)); } };
  } })],
  ['get_user_pages', (size) => ({ units: size / PAGE_SIZE, setup: () => { const c = anonProc(memFor(size), size, true); return { k: c.k, run: () => { const r = c.k.getUserPages(c.t, c.addr, size / PAGE_SIZE, false); if (typeof r === 'number') throw new Error('gup failed'); } }; } })],
];

/** `procs` processes each mapping one 16 MiB tmpfs file shared and reading it all (shm-procs), then exiting. */
function procsProbe(procs: number): Probe {
  const size = 16 * MiB;
  return {
    units: procs * (size / PAGE_SIZE),
    setup: () => {
      const k = buildKernel({ check: false, memBytes: 64 * MiB + procs * MiB });
      const f = k.shmemCreate('shm', size);
      return {
        k,
        run: () => {
          const ts: Task[] = [];
          for (let i = 0; i < procs; i++) {
            const t = k.spawn();
            sig(k.touch(t, ok(k.mmap(t, 0, size, PROT_READ | PROT_WRITE, MAP_SHARED, f)), size, false));
            ts.push(t);
          }
          for (const t of ts) k.exit(t);
        },
      };
    },
  };
}

/**
 * Reclaim to the OOM: one process writes four times RAM on a machine with
 * RAM and swap of `mem` each: direct reclaim swaps RAM + swap out page by
 * page, then finds nothing reclaimable and the OOM kills the process. Units:
 * the pages of RAM + swap; also the pages reclaim scanned per such page.
 */
function reclaimProbe(mem: number): Probe & { scanned: () => number } {
  let scanned = 0;
  const units = (2 * mem) / PAGE_SIZE;
  return {
    units,
    scanned: () => scanned / units,
    setup: () => {
      const k = buildKernel({ check: false, memBytes: mem, swapBytes: mem });
      const t = k.spawn();
      const addr = ok(k.mmap(t, 0, 4 * mem, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS));
      return {
        k,
        run: () => {
          if (k.touch(t, addr, 4 * mem, true) === 0) throw new Error('scaling: no OOM beyond RAM + swap');
          scanned = k.vm.pgscan_direct + k.vm.pgrefill;
        },
      };
    },
  };
}

/**
 * Reclaim through one anon_vma shared by `procs` forked processes: a
 * parent writes 4 MiB, forks `procs` children that each write all of it
 * (a COW copy per page), on a machine with RAM for three quarters of the
 * copies. 2.6.24's rmap walk of an anonymous page probes the anon_vma's
 * VMAs in order until it has found every mapping (anon_vma_chain came in
 * 2.6.34), so the PTE-lock probes per page grow with the processes; what
 * should stay flat is the host time per probe. Units: the pages written.
 */
function anonVmaProbe(procs: number): Probe & { probes: () => number } {
  const size = 4 * MiB;
  const units = ((procs + 1) * size) / PAGE_SIZE;
  let probes = 0;
  return {
    units,
    probes: () => probes,
    setup: () => {
      const k = buildKernel({ check: false, memBytes: (3 * (procs + 1) * size) / 4, swapBytes: ((procs + 1) * size) / 2 });
      const parent = k.spawn();
      const addr = ok(k.mmap(parent, 0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS));
      sig(k.touch(parent, addr, size, true));
      return {
        k,
        run: () => {
          const ptl0 = k.metrics().locks.ptl?.acquisitions ?? 0;
          for (let i = 0; i < procs; i++) {
            const c = k.fork(parent);
            if (typeof c === 'number') throw new Error(`scaling: fork failed with errno ${-c}`);
            sig(k.touch(c, addr, size, true));
          }
          if (k.vm.pgsteal_direct === 0) throw new Error('scaling: no reclaim');
          probes = (k.metrics().locks.ptl?.acquisitions ?? 0) - ptl0;
        },
      };
    },
  };
}

const SIZES = [16 * MiB, 64 * MiB, 256 * MiB];
const PROCS = [4, 16, 64];
const SHARERS = [64, 128, 256];

const lines: string[] = [];
const out = (s = ''): void => {
  lines.push(s);
  process.stderr.write('.');
};
out('# How host time and memory grow');
out();
out('Generated by `npm run scaling-table` (`packages/core/bench/scaling.ts`); do not edit.');
out(`Median of ${REPS} runs after a warm-up, checker off, node ${process.version}; rough figures from a shared machine.`);
out('A flat row is linear growth: the cost per page does not grow with the pages or the processes.');
out();
out('## With the pages one operation covers (one process)');
out();
out(`| primitive | ${SIZES.map((s) => `ns/page at ${s / MiB} MiB`).join(' | ')} | ${SIZES.map((s) => `B/page at ${s / MiB} MiB`).join(' | ')} |`);
out(`|---|${SIZES.map(() => '---:').join('|')}|${SIZES.map(() => '---:').join('|')}|`);
for (const [name, probe] of PAGE_PROBES) {
  // the JIT's warm-up: one run at the largest size first, not counted
  time(probe(SIZES[SIZES.length - 1]!));
  const r = SIZES.map((s) => time(probe(s)));
  out(`| ${name} | ${r.map((x) => x.ns.toFixed(0)).join(' | ')} | ${r.map((x) => x.bytes.toFixed(0)).join(' | ')} |`);
}
out();
out('## Reclaim to the OOM (one process writes 4 × RAM; swap = RAM)');
out();
out('Direct reclaim swaps RAM and swap out, then finds nothing reclaimable: per page of RAM + swap.');
out();
out(`| figure | ${SIZES.map((s) => `RAM = swap = ${s / MiB} MiB`).join(' | ')} |`);
out(`|---|${SIZES.map(() => '---:').join('|')}|`);
time(reclaimProbe(SIZES[1]!)); // warm-up, not counted
const rc = SIZES.map((s) => {
  const p = reclaimProbe(s);
  return { ...time(p), scanned: p.scanned() };
});
out(`| ns per page (faults, swap-out, reclaim, the OOM) | ${rc.map((x) => x.ns.toFixed(0)).join(' | ')} |`);
out(`| pages scanned per page | ${rc.map((x) => x.scanned.toFixed(2)).join(' | ')} |`);
out();
out('## With the processes (each maps one 16 MiB tmpfs file shared, reads it all, exits)');
out();
out(`| figure | ${PROCS.map((p) => `${p} processes`).join(' | ')} |`);
out(`|---|${PROCS.map(() => '---:').join('|')}|`);
time(procsProbe(PROCS[1]!)); // warm-up, not counted
const pr = PROCS.map((p) => time(procsProbe(p)));
out(`| ns per process-page (map + read fault + exit) | ${pr.map((x) => x.ns.toFixed(0)).join(' | ')} |`);
out(`| host bytes per process-page | ${pr.map((x) => x.bytes.toFixed(1)).join(' | ')} |`);
out();
out('## Reclaim through one anon_vma shared by forked processes (a parent writes 4 MiB; each child writes all of it; RAM for 3/4 of it)');
out();
out("2.6.24's rmap walk of an anonymous page probes the anon_vma's VMAs in order until it has found every mapping, so probes per page grow with the processes, as on the kernel; the host time per probe is what should stay flat.");
out();
out(`| figure | ${SHARERS.map((p) => `${p} children`).join(' | ')} |`);
out(`|---|${SHARERS.map(() => '---:').join('|')}|`);
time(anonVmaProbe(SHARERS[0]!)); // warm-up, not counted
const av = SHARERS.map((p) => {
  const probe = anonVmaProbe(p);
  const r = time(probe);
  return { ...r, probes: probe.probes() / probe.units };
});
out(`| PTE-lock probes per page written | ${av.map((x) => x.probes.toFixed(1)).join(' | ')} |`);
out(`| host ns per page written (fork, COW faults, reclaim) | ${av.map((x) => x.ns.toFixed(0)).join(' | ')} |`);
out(`| host ns per probe (all of it over the probes) | ${av.map((x) => (x.ns / x.probes).toFixed(1)).join(' | ')} |`);
process.stderr.write('\n');

const text = lines.join('\n') + '\n';
if (process.argv.includes('--print')) {
  process.stdout.write(text);
} else {
  const file = join(dirname(fileURLToPath(import.meta.url)), '../../../docs/scaling.md');
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
  console.log(`wrote ${file}`);
}
