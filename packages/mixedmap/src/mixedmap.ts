/**
 * The feature `mixedmap`: Nick Piggin's "[patch 0/7] [rfc] VM_MIXEDMAP,
 * pte_special, xip work" (March 2008) and the lockless
 * `get_user_pages_fast` that needed `pte_special`, each use switchable on
 * its own:
 *
 * - `special`: the `pfnPte` seam sets `_PAGE_SPECIAL` on every PTE that
 *   maps a raw pfn (`remap_pfn_range`, `vm_insert_pfn`, `do_no_pfn`,
 *   `vm_insert_mixed`) where the machine's PTE format has the bit, and
 *   `vm_normal_page` (the `vmNormalPage` seam) trusts the bit. Without it,
 *   VM_MIXEDMAP refcounts the `pfn_valid()` pfns and VM_PFNMAP keeps its
 *   linearity rule ({@link vmNormalPageMixed}).
 * - `xip`: the XIP image gets no memmap (`configure`), and files of the
 *   `xip` file type map its raw pfns through VM_MIXEDMAP; private writes
 *   COW into normal anonymous pages.
 * - `gupFast`: {@link getUserPagesFast} stands in front of the
 *   `getUserPages` seam.
 *
 * The `mixed-dev` file type (RAM and device memory in one mapping) is
 * always there: VM_MIXEDMAP itself is the series' core.
 * @module
 */
import { _PAGE_SPECIAL, defineFeature, type Feature, type FileType, type Kernel, VM_MIXEDMAP } from '@mmlab/core';
import { type MixedFileCounters, registerMixedDevFileType, registerXipFileType } from './files.js';
import { type GupFastConfig, type GupFastCounters, getUserPagesFast } from './gup-fast.js';
import { pteSpecialInUse, setPteSpecialInUse, vmNormalPageMixed } from './normal-page.js';

/** The feature's name: owner of its seam links, counters, costs and file types. */
export const NAME = 'mixedmap';

/** The fast path's configuration, by kernel (a test-only mutation turns its guard off). */
const gupConfigOf = new WeakMap<Kernel, GupFastConfig>();

/** The configuration of kernel `k`'s `get_user_pages_fast`, or undefined without it (for `@mmlab/mixedmap/testing`). */
export function gupFastConfig(k: Kernel): GupFastConfig | undefined {
  return gupConfigOf.get(k);
}

/** The file types a kernel with the feature has, by kernel. */
const typesOf = new WeakMap<Kernel, { xip: FileType | null; mixedDev: FileType }>();

/**
 * The `xip` file type of a kernel built with `mixedmap:xip=true`, or null
 * (no such feature, or `xip=false`: the core's XIP with its memmap).
 */
export function xipFileType(k: Kernel): FileType | null {
  return typesOf.get(k)?.xip ?? null;
}

/** The `mixed-dev` file type of a kernel built with `mixedmap`, or null without the feature. */
export function mixedDevFileType(k: Kernel): FileType | null {
  return typesOf.get(k)?.mixedDev ?? null;
}

/** VM_MIXEDMAP, pte_special, XIP without struct page and lockless get_user_pages. */
export const mixedmap: Feature = defineFeature({
  name: NAME,
  summary: 'VM_MIXEDMAP and pte_special (vm_normal_page without VMA rules), XIP without struct pages, lockless get_user_pages_fast',
  thread: { subject: '[patch 0/7] [rfc] VM_MIXEDMAP, pte_special, xip work (and lockless get_user_pages)', author: 'Nick Piggin', date: '2008-03' },
  options: {
    special: {
      type: 'boolean',
      default: true,
      doc: 'set _PAGE_SPECIAL on raw-pfn PTEs where the machine has the bit (x86-64 yes, s390-like no); false: the VM_MIXEDMAP/VM_PFNMAP rules everywhere',
    },
    gupFast: {
      type: 'boolean',
      default: true,
      doc: 'lockless get_user_pages_fast in front of the mmap_sem walk (it needs the special bit at the PTE level, else it falls back)',
    },
    xip: {
      type: 'boolean',
      default: true,
      doc: "the XIP image gets no memmap; XIP files (file type 'xip') map its pfns through VM_MIXEDMAP. false: the core's XIP with struct pages",
    },
  },
  configure(machine, { xip }) {
    if (xip) machine.xipMemmap = false;
  },
  install(k, { special, gupFast, xip }) {
    const useBit = setPteSpecialInUse(k, special);
    const counters = k.defineCounters(NAME, {
      special_ptes: 'PTEs written with _PAGE_SPECIAL (raw pfns: remap_pfn_range, vm_insert_pfn, do_no_pfn, vm_insert_mixed)',
      xip_faults: 'XIP faults that inserted an image pfn with vm_insert_mixed',
      mixed_dev_faults: "faults of 'mixed-dev' files that inserted a page with vm_insert_mixed",
      gup_fast_pages: 'pages pinned by the lockless get_user_pages_fast walk',
      gup_slow_pages: 'pages pinned by get_user_pages under mmap_sem (the slow path behind the fast one, or every call without gupFast)',
      gup_fast_fallbacks: 'get_user_pages_fast calls that handed pages to the slow path',
    });
    k.defineGauge(NAME, 'xip_memmap_pages', 'memmap pages spent on the XIP image (0: the image has no struct pages)', () =>
      k.mem.xipMemmap ? Math.ceil((Math.ceil(k.mem.xipFrames / 32768) * 32768 * k.mem.structPageSize) / 4096) : 0,
    );
    k.defineGauge(NAME, 'pte_special', 'whether raw-pfn PTEs carry _PAGE_SPECIAL (1) or the VMA rules apply (0)', () => (pteSpecialInUse(k) ? 1 : 0));
    if (useBit) {
      k.seamTable.wrap(NAME, 'pfnPte', (prev) => (kk, vma, addr, pfn, prot) => {
        counters.special_ptes++;
        return prev(kk, vma, addr, pfn, prot) | _PAGE_SPECIAL;
      });
    }
    k.seamTable.wrap(NAME, 'vmNormalPage', (prev) => (kk, vma, addr, flags, pfn) => {
      // the 2.6.24 fast path stays in front: nothing special about a normal VMA without the bit
      if (!useBit && (vma.vmFlags & VM_MIXEDMAP) === 0) return prev(kk, vma, addr, flags, pfn);
      return vmNormalPageMixed(kk, vma, addr, flags, pfn, useBit, prev);
    });
    const files: MixedFileCounters = counters;
    typesOf.set(k, {
      xip: xip ? registerXipFileType(k, NAME, files) : null,
      mixedDev: registerMixedDevFileType(k, NAME, files),
    });
    if (gupFast) {
      const cfg: GupFastConfig = {
        irqGuard: true,
        pteSpecial: useBit,
        perPage: k.defineCost(NAME, 'gupFastPage', 'get_user_pages_fast: one PTE loaded and its page referenced, no locks', 30),
        irqPair: k.defineCost(NAME, 'gupFastIrq', 'get_user_pages_fast: local_irq_disable/enable around the walk', 20),
      };
      gupConfigOf.set(k, cfg);
      const gup: GupFastCounters = counters;
      k.seamTable.wrap(NAME, 'getUserPages', (prev) =>
        function* (kk, mm, start, nrPages, write, force) {
          return yield* getUserPagesFast(kk, mm, start, nrPages, write, force, prev, cfg, gup);
        },
      );
    } else {
      k.seamTable.wrap(NAME, 'getUserPages', (prev) =>
        function* (kk, mm, start, nrPages, write, force) {
          const r = yield* prev(kk, mm, start, nrPages, write, force);
          if (typeof r !== 'number') counters.gup_slow_pages += r.length;
          return r;
        },
      );
    }
  },
});
