/**
 * `xip-guests`: G guest kernels each mounting the same execute-in-place
 * image, as s390 guests under z/VM share a DCSS: the image is one piece of
 * memory, but each guest's 2.6.24 kernel needs a `struct page` for every
 * frame of it. The report sums over the guests.
 * @module
 */

import { buildKernel, type Kernel, MAP_PRIVATE, PAGE_SIZE, PAGES_PER_SECTION, PROT_READ, PROT_WRITE, type ShmemFile, type Task } from '@mmlab/core';
import { expectOk } from '../checks.js';
import { WorkloadError } from '../errors.js';
import { defineWorkload, type WorkloadContext } from '../workload.js';
import { touchInBatches } from './batches.js';

const NAME = 'xip-guests';
const MiB = 2 ** 20;

/** Pages of the image each process maps writable and private, and writes (relocations, data). */
export const XIP_GUESTS_DATA_PAGES = 16;

/** What one guest contributes to the sums. */
interface GuestFigures {
  memmapPages: number;
  imageMemmapPages: number;
  anonKb: number;
  fileKb: number;
  ptePages: number;
}

/**
 * An XIP file of `size` bytes on guest `k`: the core's (`get_xip_page`,
 * struct pages) when the image has a memmap; otherwise the `xip` file
 * type of the feature that took the memmap away (it maps the image by pfn).
 */
function xipFile(k: Kernel, size: number): ShmemFile {
  if (k.mem.xipMemmap) return k.xipFileCreate('image', size);
  const type = k.fileTypes.list.find((t) => t.name === 'xip');
  if (type === undefined) {
    throw new WorkloadError(`${NAME}: the XIP image has no memmap and no feature registered an 'xip' file type to map it by pfn`);
  }
  return k.fileCreate(type, 'image', size);
}

/**
 * One guest: mount the image, then `procs` processes each map all of it
 * read-only private (text: every page read) and its first pages writable
 * private (every page written: COW into anonymous pages). Returns the
 * guest's processes.
 */
function runGuest(k: Kernel, image: number, procs: number): Task[] {
  const f = xipFile(k, image);
  const dataLen = Math.min(image, XIP_GUESTS_DATA_PAGES * PAGE_SIZE);
  const tasks: Task[] = [];
  for (let i = 0; i < procs; i++) {
    const t = k.spawn();
    const who = `process ${i}: `;
    const text = expectOk(NAME, `${who}mmap text`, k.mmap(t, 0, image, PROT_READ, MAP_PRIVATE, f));
    touchInBatches(NAME, who, k, t, text, image, false);
    const data = expectOk(NAME, `${who}mmap data`, k.mmap(t, 0, dataLen, PROT_READ | PROT_WRITE, MAP_PRIVATE, f));
    touchInBatches(NAME, who, k, t, data, dataLen, true);
    tasks.push(t);
  }
  return tasks;
}

/** A guest's figures at its snapshot. */
function figures(k: Kernel): GuestFigures {
  const m = k.metrics();
  const ramMemmap = Math.ceil((k.mem.nrFrames * k.mem.structPageSize) / PAGE_SIZE);
  return {
    memmapPages: k.vm.nr_memmap_pages,
    imageMemmapPages: k.vm.nr_memmap_pages - ramMemmap,
    anonKb: m.procs.reduce((s, p) => s + p.RssAnon_kB, 0),
    fileKb: m.procs.reduce((s, p) => s + p.RssFile_kB, 0),
    ptePages: k.vm.nr_page_table_pages,
  };
}

/**
 * Another guest like `k` (same machine, sizes, configuration and features;
 * its own seed), run to its end; its checker's findings are reported on
 * `k`, naming the guest.
 */
function otherGuest(k: Kernel, g: number, image: number, procs: number): GuestFigures {
  const guest = buildKernel({
    machine: k.profile,
    cpus: k.cpus.length,
    memBytes: k.mem.nrFrames * PAGE_SIZE,
    xipBytes: k.mem.xipFrames * PAGE_SIZE,
    placement: k.placement,
    config: { preempt: k.config.preempt },
    seed: k.seed + g,
    check: k.oracle !== null,
    features: k.features.map((f) => ({ feature: f.feature, options: { ...f.options } })),
  });
  const tasks = runGuest(guest, image, procs);
  guest.snapshot();
  const fig = figures(guest);
  for (const t of tasks) guest.exit(t);
  guest.finish();
  for (const v of guest.invariants.violations) k.reportViolation(`guest ${g}: ${v.check}`, v.message);
  return fig;
}

/** Sets the workload's metrics: sums over the guests. */
function report(ctx: WorkloadContext, guests: number, image: number, all: GuestFigures[]): void {
  const sum = (f: (g: GuestFigures) => number): number => all.reduce((s, g) => s + f(g), 0);
  const imageMemmap = sum((g) => g.imageMemmapPages) * PAGE_SIZE;
  ctx.metric('guests', guests);
  ctx.metric('image_bytes', image);
  ctx.metric('image_memmap_bytes', imageMemmap);
  ctx.metric('image_memmap_pct_of_image', Math.round((imageMemmap / image) * 1000) / 10);
  ctx.metric('memmap_bytes', sum((g) => g.memmapPages) * PAGE_SIZE);
  ctx.metric('anon_bytes', sum((g) => g.anonKb) * 1024);
  ctx.metric('file_rss_bytes', sum((g) => g.fileKb) * 1024);
  ctx.metric('page_table_bytes', sum((g) => g.ptePages) * PAGE_SIZE);
}

/**
 * GUESTS guest kernels (the first is the run's kernel, the others are
 * built like it), each mounting the same IMAGE-byte XIP image; in each,
 * PROCS processes map the whole image read-only private and read every
 * page (text), and map its first 16 pages writable private and write
 * them (COW). The run's kernel is snapshotted; every guest's processes
 * exit. `metrics.workload` sums over the guests: `image_memmap_bytes`
 * (struct pages for the image: 2.6.24's XIP needs them, one memory
 * section at a time), `memmap_bytes`, `anon_bytes`, `file_rss_bytes`,
 * `page_table_bytes`, with `image_bytes` counted once (the guests share
 * the image).
 */
export const xipGuests = defineWorkload({
  name: NAME,
  summary:
    'GUESTS guest kernels each mount the same IMAGE-byte XIP image (an s390 DCSS): PROCS processes per guest map it ' +
    'read-only private and read it all, and write its first 16 pages through a private writable mapping (COW); ' +
    'metrics.workload sums over the guests the struct pages spent on the image (image_memmap_bytes) against its size',
  params: {
    guests: { kind: 'int', default: 8, min: 1, max: 1000, doc: 'guest kernels sharing the image' },
    image: { kind: 'size', default: 64 * MiB, max: 4 * 2 ** 30, doc: 'size of the XIP image (a multiple of 4k)' },
    procs: { kind: 'int', default: 2, min: 1, max: 64, doc: 'processes per guest mapping the image' },
  },
  requires({ image }, { machine }) {
    // RAM for each guest: its own memmap, and the image's (one 128 MiB section at a time) twice over
    const imageMemmap = Math.ceil(image / (PAGES_PER_SECTION * PAGE_SIZE)) * PAGES_PER_SECTION * machine.structPageSize;
    return { xipBytes: Math.ceil(image / PAGE_SIZE) * PAGE_SIZE, memBytes: Math.ceil((32 * MiB + 2 * imageMemmap) / MiB) * MiB };
  },
  run(ctx, { guests, image, procs }) {
    const k = ctx.kernel;
    const tasks = runGuest(k, image, procs);
    ctx.snapshot();
    const all = [figures(k)];
    for (const t of tasks) k.exit(t);
    for (let g = 1; g < guests; g++) all.push(otherGuest(k, g, image, procs));
    report(ctx, guests, image, all);
  },
});
