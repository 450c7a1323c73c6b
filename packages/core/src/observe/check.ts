/**
 * The invariant checker, run at operation boundaries.
 *
 * Walks every live mm's page tables and compares what it finds with the
 * model's bookkeeping: refcounts and mapcounts against the PTEs and the
 * page cache, per-level table counts against reachable tables, RSS
 * counters, VMA order and `vm_pgoff` (every mapped page's index must be
 * its linear index in its VMA), PTE permissions against the VMA, TLB
 * entries against PTEs (never more permissive, never a freed or reused
 * frame), and the vmstat gauges. Features add their own checks and the
 * references they hold on frames (`Kernel.addInvariantCheck`,
 * `Kernel.addFrameRefs`).
 * @module
 */
import {
  _PAGE_PRESENT,
  _PAGE_PSE,
  _PAGE_FILE,
  _PAGE_RW,
  _PAGE_SWP,
  PAGE_SIZE,
  PGDIR_SIZE,
  PMD_SIZE,
  PUD_SIZE,
  pmdIndex,
  pteIndex,
  ptePresent,
} from '../pgtable/entry.js';
import { PG_active, PG_allocated, PG_anon, PG_driver, PG_huge, PG_huge_tail, PG_lru, PG_swapcache, PG_table, PG_xip } from '../mem/page.js';
import { TLB_WRITE } from '../machine/tlb.js';
import { vmGetPageProt } from '../mm/mmap.js';
import { lookupPmdTable } from '../mm/pgalloc.js';
import { linearPageIndex } from '../mm/page-ref.js';
import { type MmStruct, type Vma, VM_INSERTPAGE, VM_MIXEDMAP, VM_NONLINEAR, VM_SHARED, VM_WRITE, isCowMapping } from '../mm/types.js';
import type { Kernel } from '../kernel/kernel.js';
import type { Cpu } from '../machine/cpu.js';
import type { AddressSpace } from '../fs/address-space.js';
import type { Touched } from './touched.js';

/** One violated invariant. */
export interface Violation {
  /** Which check (`refcount`, `tlb`, `vma`, `oracle`, …). */
  check: string;
  /** What was found, in words. */
  message: string;
  /** The operation after which it was found (set by the kernel). */
  op?: string;
}

const LIMIT = 50;

class Findings {
  readonly list: Violation[] = [];
  add(check: string, message: string): void {
    if (this.list.length < LIMIT) this.list.push({ check, message });
  }
}

const hex = (n: number): string => `0x${n.toString(16)}`;

function checkVmas(k: Kernel, mm: MmStruct, out: Findings): void {
  let prevEnd = 0;
  for (const v of mm.vmas) {
    if (v.mm !== mm) out.add('vma', `mm ${mm.id}: VMA ${hex(v.vmStart)} belongs to another mm`);
    if (v.vmStart % PAGE_SIZE !== 0 || v.vmEnd % PAGE_SIZE !== 0 || v.vmStart >= v.vmEnd) {
      out.add('vma', `mm ${mm.id}: bad VMA [${hex(v.vmStart)}, ${hex(v.vmEnd)})`);
    }
    if (v.vmStart < prevEnd) out.add('vma', `mm ${mm.id}: VMA ${hex(v.vmStart)} overlaps or is out of order`);
    prevEnd = v.vmEnd;
    if (v.anonVma !== null && !v.anonVma.vmas.includes(v)) out.add('vma', `mm ${mm.id}: VMA ${hex(v.vmStart)} missing from its anon_vma`);
    if (v.anonVma !== null && !k.anonVmas.has(v.anonVma.id)) out.add('vma', `mm ${mm.id}: VMA ${hex(v.vmStart)} has a freed anon_vma`);
    if (v.vmFile !== null && !((v.vmFlags & VM_NONLINEAR) !== 0 ? v.vmFile.iMmapNonlinear : v.vmFile.iMmap).includes(v)) out.add('vma', `mm ${mm.id}: VMA ${hex(v.vmStart)} missing from i_mmap`);
    if (v.vmPageProt !== vmGetPageProt(v.vmFlags)) out.add('vma', `mm ${mm.id}: VMA ${hex(v.vmStart)} vm_page_prot does not match its flags`);
  }
}

interface Scratch {
  mapped: Int32Array;
  cached: Uint8Array;
  swapRefs: Int32Array;
  /** One past the highest slot counted in `swapRefs` (every slot from it on holds 0). */
  refsEnd: number;
}
const scratchOf = new WeakMap<Kernel, Scratch>();

function scratch(k: Kernel): Scratch {
  let s = scratchOf.get(k);
  if (s === undefined) {
    s = { mapped: new Int32Array(k.pages.nrFrames), cached: new Uint8Array(k.pages.nrFrames), swapRefs: new Int32Array(k.swap.nrSlots), refsEnd: 0 };
    scratchOf.set(k, s);
  }
  s.mapped.fill(0);
  s.cached.fill(0);
  s.swapRefs.fill(0, 0, s.refsEnd);
  s.refsEnd = 0;
  return s;
}

/** One reference to swap slot `slot` found (a swap PTE, a file's page on swap). */
function countSwapRef(s: Scratch, slot: number): void {
  if (slot < 0 || slot >= s.swapRefs.length) return;
  s.swapRefs[slot]!++;
  if (slot >= s.refsEnd) s.refsEnd = slot + 1;
}

/** What one PTE counts for: nothing (empty, a file PTE, a special mapping, a violation). */
const KIND_NONE = 0;
/** An anonymous page (`anon_rss`). */
const KIND_ANON = 1;
/** A page-cache or driver page (`file_rss`). */
const KIND_FILE = 2;
/** A swap entry (a `swap_map` reference). */
const KIND_SWAP = 3;

/** The frame or swap slot the last {@link checkPteEntry} counted. */
const counted = { v: 0 };

/**
 * Check one non-empty PTE (flags `f`, value `val`) at `addr` of `mm`,
 * inside `vma` (null: outside every VMA); returns what it counts for, the
 * frame or slot in {@link counted}.
 */
function checkPteEntry(k: Kernel, mm: MmStruct, vma: Vma | null, addr: number, f: number, val: number, out: Findings): number {
  const p = k.pages;
  if (vma === null) {
    out.add('pte', `mm ${mm.id}: PTE at ${hex(addr)} outside every VMA`);
    return KIND_NONE;
  }
  if (!ptePresent(f)) {
    if (f === _PAGE_FILE) {
      // (truncation leaves file PTEs beyond the end in place, as 2.6.24 did)
      if ((vma.vmFlags & VM_NONLINEAR) === 0) out.add('pte', `mm ${mm.id}: file PTE at ${hex(addr)} in a linear VMA`);
    } else if (f === _PAGE_SWP) {
      const valid = !(val <= 0 || val >= k.swap.nrSlots || k.swap.map[val] === 0);
      if (!valid) out.add('swap', `mm ${mm.id}: swap PTE at ${hex(addr)} names free slot ${val}`);
      if (vma.anonVma === null) out.add('swap', `mm ${mm.id}: swap PTE at ${hex(addr)} in a VMA without anon_vma`);
      counted.v = val;
      return valid ? KIND_SWAP : KIND_NONE;
    } else {
      out.add('pte', `mm ${mm.id}: unexpected non-present PTE at ${hex(addr)} (flags ${hex(f)})`);
    }
    return KIND_NONE;
  }
  if ((f & _PAGE_RW) !== 0 && (vma.vmFlags & VM_WRITE) === 0) out.add('pte', `mm ${mm.id}: writable PTE at ${hex(addr)} in a VMA without VM_WRITE`);
  const pfn = k.seams.vmNormalPage(k, vma, addr, f, val);
  if (pfn === 0) return KIND_NONE;
  if (pfn <= 0 || pfn >= k.pages.nrFrames || (p.flags[pfn]! & PG_allocated) === 0) {
    out.add('pte', `mm ${mm.id}: PTE at ${hex(addr)} maps free frame ${pfn}`);
    return KIND_NONE;
  }
  if ((p.flags[pfn]! & PG_table) !== 0) {
    out.add('pte', `mm ${mm.id}: PTE at ${hex(addr)} maps page-table page ${pfn}`);
    return KIND_NONE;
  }
  counted.v = pfn;
  if ((p.flags[pfn]! & PG_driver) !== 0) {
    // vm_insert_page (or insert_page for a VM_MIXEDMAP VMA): a driver's page, no mapping of its own
    if ((vma.vmFlags & (VM_INSERTPAGE | VM_MIXEDMAP)) === 0) out.add('rmap', `mm ${mm.id}: driver page ${pfn} at ${hex(addr)} outside a VM_INSERTPAGE or VM_MIXEDMAP VMA`);
    return KIND_FILE;
  }
  const anon = (p.flags[pfn]! & PG_anon) !== 0;
  if (anon) {
    if (vma.anonVma === null || p.mapping[pfn] !== vma.anonVma.id) out.add('rmap', `mm ${mm.id}: anon page ${pfn} at ${hex(addr)} not in the VMA's anon_vma`);
    // (a COW copy forced into a shared VMA may be shared writable after fork, as in 2.6.24)
    if ((f & _PAGE_RW) !== 0 && p.mapcount[pfn]! > 1 && isCowMapping(vma.vmFlags)) out.add('cow', `mm ${mm.id}: writable PTE at ${hex(addr)} to anon page shared by ${p.mapcount[pfn]!} mappings`);
  } else {
    if (vma.vmFile === null || p.mapping[pfn] !== vma.vmFile.id) out.add('rmap', `mm ${mm.id}: file page ${pfn} at ${hex(addr)} not from the VMA's file`);
    if ((f & _PAGE_RW) !== 0 && (vma.vmFlags & VM_SHARED) === 0) out.add('cow', `mm ${mm.id}: writable PTE to a page-cache page in a private VMA at ${hex(addr)}`);
  }
  if ((vma.vmFlags & VM_NONLINEAR) === 0 && p.index[pfn] !== linearPageIndex(vma, addr)) {
    out.add('pgoff', `mm ${mm.id}: page ${pfn} at ${hex(addr)} has index ${p.index[pfn]!}, VMA gives ${linearPageIndex(vma, addr)}`);
  }
  return anon ? KIND_ANON : KIND_FILE;
}

/** The VMA of `mm` holding `addr`, trying `hint` first. */
function vmaAt(mm: MmStruct, hint: Vma | null, addr: number): Vma | null {
  if (hint !== null && addr >= hint.vmStart && addr < hint.vmEnd) return hint;
  return mm.vmas.find((v) => v.vmStart <= addr && addr < v.vmEnd) ?? null;
}

/**
 * Check one PTE table as `mm` sees it. A table reached again (shared
 * between mms: `repeat`) is checked against this mm's VMAs and counted in
 * this mm's RSS, but its mappings and swap references count once.
 */
function walkPteTable(k: Kernel, mm: MmStruct, pte: number, base: number, s: Scratch, out: Findings, rss: { anon: number; file: number }, repeat: boolean): void {
  const a = k.tables.arr(pte);
  const b0 = k.tables.base(pte);
  let vma: Vma | null = null;
  for (let i = 0; i < 512; i++) {
    const f = a[b0 + 2 * i]!;
    const val = a[b0 + 2 * i + 1]!;
    if (f === 0 && val === 0) continue;
    const addr = base + i * PAGE_SIZE;
    vma = vmaAt(mm, vma, addr);
    const kind = checkPteEntry(k, mm, vma, addr, f, val, out);
    if (kind === KIND_NONE) continue;
    if (kind === KIND_SWAP) {
      if (!repeat) countSwapRef(s, counted.v);
      continue;
    }
    if (!repeat) s.mapped[counted.v]!++;
    if (kind === KIND_ANON) rss.anon++;
    else rss.file++;
  }
}

function checkTable(k: Kernel, mm: MmStruct, pfn: number, what: string, out: Findings): boolean {
  if (!liveTable(k, pfn)) {
    out.add('pgtable', `mm ${mm.id}: ${what} points at frame ${pfn}, which is not a live table`);
    return false;
  }
  return true;
}

/** Frame `pfn` is an allocated page table with a slot in the store. */
function liveTable(k: Kernel, pfn: number): boolean {
  const f = k.pages.flags[pfn]!;
  return (f & PG_allocated) !== 0 && (f & PG_table) !== 0 && k.pages.tableSlot[pfn]! >= 0;
}

/**
 * The first entry at or after `from` whose two words differ between the
 * table (`a` from word `b`) and the copy `raw`, or 512.
 */
function nextChanged(a: Uint32Array, b: number, raw: Uint32Array, from: number): number {
  for (let w = 2 * from; w < 1024; w++) if (a[b + w] !== raw[w]) return w >> 1;
  return 512;
}

/** Count a reach of table `pfn`; true on its first reach (descend then). */
function reachTable(reach: Map<number, number>, pfn: number): boolean {
  const n = reach.get(pfn) ?? 0;
  reach.set(pfn, n + 1);
  return n === 0;
}

/** A huge PMD entry (hugetlb): must be in a hugetlb VMA and map a live huge page; true when it counts as a mapping. */
function checkHugeEntry(k: Kernel, mm: MmStruct, head: number, addr: number, out: Findings): boolean {
  const vma = mm.vmas.find((v) => v.vmStart <= addr && addr < v.vmEnd) ?? null;
  if (vma === null || k.seams.specialVmaOps(vma) === null) {
    out.add('hugetlb', `mm ${mm.id}: huge PMD entry at ${hex(addr)} outside a hugetlb VMA`);
    return false;
  }
  if ((k.pages.flags[head]! & (PG_allocated | PG_huge)) !== (PG_allocated | PG_huge)) {
    out.add('hugetlb', `mm ${mm.id}: huge PMD entry at ${hex(addr)} maps frame ${head}, not a live huge page`);
    return false;
  }
  // (2.6.24 hugetlb_cow makes a forced (ptrace) write's copy writable even without VM_WRITE,
  // in private and shared mappings alike: not flagged)
  return true;
}

function walkMm(k: Kernel, mm: MmStruct, s: Scratch, out: Findings, reach: Map<number, number>): void {
  const t = k.tables;
  let pud = 0;
  let pmd = 0;
  let pte = 0;
  const rss = { anon: 0, file: 0 };
  if (!checkTable(k, mm, mm.pgd, 'mm->pgd', out)) return;
  reachTable(reach, mm.pgd);
  const ga = t.arr(mm.pgd);
  const gb = t.base(mm.pgd);
  for (let gi = 0; gi < 512; gi++) {
    if (ga[gb + 2 * gi] === 0) continue;
    const u = ga[gb + 2 * gi + 1]!;
    if (!checkTable(k, mm, u, `pgd[${gi}]`, out)) continue;
    pud++;
    if (!reachTable(reach, u)) continue;
    const ua = t.arr(u);
    const ub = t.base(u);
    for (let ui = 0; ui < 512; ui++) {
      if (ua[ub + 2 * ui] === 0) continue;
      const m = ua[ub + 2 * ui + 1]!;
      if (!checkTable(k, mm, m, `pud[${gi}][${ui}]`, out)) continue;
      pmd++;
      // a shared PMD table (hugetlb sharing, or a feature's) is counted in every
      // sharer; below it, only this mm's own counts (tables, RSS) are taken again
      const pmdFirst = reachTable(reach, m);
      const ma = t.arr(m);
      const mb = t.base(m);
      for (let mi = 0; mi < 512; mi++) {
        const mf = ma[mb + 2 * mi]!;
        if (mf === 0) continue;
        const base = gi * PGDIR_SIZE + ui * PUD_SIZE + mi * PMD_SIZE;
        if ((mf & _PAGE_PSE) !== 0) {
          const head = ma[mb + 2 * mi + 1]!;
          if (pmdFirst && checkHugeEntry(k, mm, head, base, out)) s.mapped[head]!++;
          continue;
        }
        const p = ma[mb + 2 * mi + 1]!;
        if (!checkTable(k, mm, p, `pmd entry ${mi}`, out)) continue;
        pte++;
        // a PTE table shared between mms: walked again for this mm's RSS and VMAs
        const pteFirst = pmdFirst && reachTable(reach, p);
        walkPteTable(k, mm, p, base, s, out, rss, !pteFirst);
      }
    }
  }
  checkMmCounts(mm, pte, pmd, pud, rss.anon, rss.file, out);
}

/** An mm's table counts and RSS counters against what its tables hold. */
function checkMmCounts(mm: MmStruct, pte: number, pmd: number, pud: number, anon: number, file: number, out: Findings): void {
  if (pte !== mm.nrPtes) out.add('pgtable', `mm ${mm.id}: nr_ptes ${mm.nrPtes} but ${pte} PTE tables reachable`);
  if (pmd !== mm.nrPmds) out.add('pgtable', `mm ${mm.id}: ${mm.nrPmds} PMD tables counted, ${pmd} reachable`);
  if (pud !== mm.nrPuds) out.add('pgtable', `mm ${mm.id}: ${mm.nrPuds} PUD tables counted, ${pud} reachable`);
  if (anon !== mm.anonRss) out.add('rss', `mm ${mm.id}: anon_rss ${mm.anonRss} but ${anon} anonymous pages mapped`);
  if (file !== mm.fileRss) out.add('rss', `mm ${mm.id}: file_rss ${mm.fileRss} but ${file} file pages mapped`);
}

/** The leaf entry (PTE or huge PMD entry) for `addr`: flags and frame, or null. */
function leafEntry(k: Kernel, mm: MmStruct, addr: number): { f: number; pfn: number } | null {
  const pmd = lookupPmdTable(k, mm, addr);
  if (pmd === 0) return null;
  const ma = k.tables.arr(pmd);
  const mb = k.tables.base(pmd) + pmdIndex(addr) * 2;
  const mf = ma[mb]!;
  if (mf === 0) return null;
  if ((mf & _PAGE_PSE) !== 0) return { f: mf, pfn: ma[mb + 1]! + (Math.floor(addr / PAGE_SIZE) & 511) };
  const pte = ma[mb + 1]!;
  const a = k.tables.arr(pte);
  const b = k.tables.base(pte) + pteIndex(addr) * 2;
  return { f: a[b]!, pfn: a[b + 1]! };
}

function checkTlbs(k: Kernel, out: Findings): void {
  const mms = new Map(k.liveMms().map((m) => [m.id, m]));
  for (const cpu of k.cpus) {
    const tlb = cpu.tlb;
    for (let e = 0; e < tlb.entries; e++) {
      const id = tlb.mmId[e]!;
      if (id < 0) continue;
      const vpn = tlb.vpn[e]!;
      const addr = vpn * PAGE_SIZE;
      const pfn = tlb.pfn[e]!;
      const mm = mms.get(id);
      if (mm === undefined) {
        out.add('tlb', `cpu ${cpu.id}: TLB entry ${hex(addr)} of mm ${id} belongs to a dead mm`);
        continue;
      }
      if (checkTlbEntryCheap(k, cpu, mm, addr, pfn, out)) checkTlbLeaf(k, cpu, mm, addr, pfn, tlb.perm[e]!, out);
    }
  }
}

/**
 * The checks of one TLB entry that need no page-table walk (the CPU's mm,
 * the frame); true when the entry's frame is live (then walk with
 * {@link checkTlbLeaf}).
 */
function checkTlbEntryCheap(k: Kernel, cpu: Cpu, mm: MmStruct, addr: number, pfn: number, out: Findings): boolean {
  if (k.profile.tlbTagged ? mm.cpuVmMask[cpu.id] === 0 : cpu.activeMm !== mm) {
    out.add('tlb', `cpu ${cpu.id}: TLB entry ${hex(addr)} of mm ${mm.id} survives a switch to another mm${k.profile.tlbTagged ? ' and the CPU left its mask' : ''}`);
  }
  if (pfn >= k.pages.nrFrames) {
    if (k.iomem.find(pfn) === undefined) out.add('tlb', `cpu ${cpu.id}: TLB entry ${hex(addr)} of mm ${mm.id} points at pfn ${pfn}, neither memory nor a device`);
  } else if ((k.pages.flags[pfn]! & PG_allocated) === 0 || (k.pages.flags[pfn]! & PG_table) !== 0) {
    out.add('tlb', `cpu ${cpu.id}: TLB entry ${hex(addr)} of mm ${mm.id} points at freed or reused frame ${pfn}`);
    return false;
  }
  return true;
}

/** A TLB entry against the page table behind it: present, same frame, never more permissive. */
function checkTlbLeaf(k: Kernel, cpu: Cpu, mm: MmStruct, addr: number, pfn: number, perm: number, out: Findings): void {
  // (the message's text is built only for a violation: this runs for every TLB entry checked)
  const where = (): string => `cpu ${cpu.id}: TLB entry ${hex(addr)} of mm ${mm.id}`;
  const leaf = leafEntry(k, mm, addr);
  if (leaf === null) {
    out.add('tlb', `${where()} has no page table behind it`);
    return;
  }
  const f = leaf.f;
  if ((f & _PAGE_PRESENT) === 0 || leaf.pfn !== pfn) {
    out.add('tlb', `${where()} maps frame ${pfn} but the PTE does not`);
    return;
  }
  if ((perm & TLB_WRITE) !== 0 && (f & _PAGE_RW) === 0) out.add('tlb', `${where()} allows writes the PTE forbids`);
}

/** One page-cache page: it names its file and offset, and is on an LRU list. */
function checkCachedPage(k: Kernel, f: AddressSpace, i: number, pfn: number, out: Findings): void {
  const p = k.pages;
  if (p.mapping[pfn] !== f.id || p.index[pfn] !== i) out.add('pagecache', `file ${f.name}: page ${pfn} at offset ${i} has mapping ${p.mapping[pfn]!} index ${p.index[pfn]!}`);
  if (!f.huge && (p.flags[pfn]! & PG_lru) === 0) out.add('lru', `file ${f.name}: page ${pfn} is not on an LRU list`);
}

/** One swap slot: its `swap_map` against the `refs` entries naming it and its swap-cache page. */
function checkSwapSlot(k: Kernel, slot: number, refs: number, out: Findings): void {
  const si = k.swap;
  const p = k.pages;
  const c = si.cache[slot]!;
  let want = refs;
  if (c !== 0) {
    want++;
    if ((p.flags[c]! & PG_swapcache) === 0 || p.private[c] !== slot) out.add('swap', `swap cache slot ${slot} names page ${c}, which does not name it back`);
  }
  if (si.map[slot] !== want) out.add('swap', `swap slot ${slot}: swap_map ${si.map[slot]!}, expected ${want} (${refs} entries${c !== 0 ? ' + swap cache' : ''})`);
}

/**
 * The references features declare on frames, per pfn (null when no
 * feature declares any). A reference on a frame outside RAM is reported.
 */
function featureRefs(k: Kernel, out: Findings): Int32Array | null {
  const hooks = k.checkHooks.frameRefs;
  if (hooks.length === 0) return null;
  const refs = new Int32Array(k.pages.nrFrames);
  for (const h of hooks) {
    h.fn(k, (pfn, n) => {
      if (!Number.isInteger(pfn) || pfn <= 0 || pfn >= refs.length) out.add(`${h.feature}:refs`, `feature '${h.feature}' declares ${n} references on frame ${pfn}, outside RAM`);
      else refs[pfn]! += n;
    });
  }
  return refs;
}

/** {@link checkFrame}: the frame is a mapped anonymous page (`nr_anon_pages`). */
const FRAME_ANON = 1;
/** {@link checkFrame}: the frame is a mapped file page (`nr_mapped`). */
const FRAME_FILE = 2;
/** {@link checkFrame}: the frame is flagged PG_lru. */
const FRAME_LRU = 4;

/**
 * Check one frame's refcount, mapcount and LRU state against what maps,
 * caches and holds it (`mapped` PTEs, `cached` page-cache references,
 * `held` feature references, `reach` parent entries for a table page).
 * Returns what it counts for in the gauges (FRAME_* bits).
 */
function checkFrame(k: Kernel, pfn: number, mapped: number, cached: number, held: number, reach: number, out: Findings): number {
  const p = k.pages;
  const f = p.flags[pfn]!;
  if ((f & PG_allocated) === 0) {
    if (mapped !== 0) out.add('refcount', `free frame ${pfn} is mapped ${mapped} times`);
    if (held !== 0) out.add('refcount', `free frame ${pfn} is held by ${held} feature references`);
    return 0;
  }
  if ((f & PG_table) !== 0) {
    if (reach === 0) out.add('pgtable', `table page ${pfn} is allocated but unreachable (leaked)`);
    else if (reach !== p.count[pfn]) out.add('pgtable', `table ${pfn} is reached ${reach} times but has refcount ${p.count[pfn]!}`);
    return 0;
  }
  if ((f & PG_huge_tail) !== 0) return 0;
  if ((f & (PG_xip | PG_driver)) !== 0) {
    // an XIP image page or a driver's page: one reference of its owner besides the mappings
    const want = mapped + 1 + p.pinned[pfn]! + held;
    if (p.count[pfn] !== want) out.add('refcount', `${(f & PG_xip) !== 0 ? 'XIP' : 'driver'} page ${pfn}: refcount ${p.count[pfn]!}, expected ${want}`);
    if (p.mapcount[pfn] !== mapped) out.add('mapcount', `frame ${pfn}: mapcount ${p.mapcount[pfn]!} but ${mapped} PTEs map it`);
    return mapped > 0 ? FRAME_FILE : 0;
  }
  if ((f & PG_huge) !== 0) {
    // 2.6.24 hugetlb pages have no rmap: references only (PMD entries, page cache, pins)
    const want = mapped + cached + p.pinned[pfn]! + held;
    if (p.count[pfn] !== want) out.add('refcount', `huge page ${pfn}: refcount ${p.count[pfn]!}, expected ${want}`);
    if (want === 0) out.add('leak', `huge page ${pfn} is allocated but unused`);
    return 0;
  }
  const swapcache = (f & PG_swapcache) !== 0 ? 1 : 0;
  const want = mapped + cached + swapcache + p.pinned[pfn]! + held;
  if (p.mapcount[pfn] !== mapped) out.add('mapcount', `frame ${pfn}: mapcount ${p.mapcount[pfn]!} but ${mapped} PTEs map it`);
  if (p.count[pfn] !== want) {
    const feat = held !== 0 ? ` + ${held} feature references` : '';
    out.add('refcount', `frame ${pfn}: refcount ${p.count[pfn]!}, expected ${want} (${mapped} mappings + ${cached} page cache + ${swapcache} swap cache + ${p.pinned[pfn]!} pins${feat})`);
  }
  if (want === 0) out.add('leak', `frame ${pfn} is allocated but neither mapped, cached nor pinned`);
  if ((f & PG_lru) === 0 && (mapped > 0 || swapcache > 0)) out.add('lru', `frame ${pfn} is in use but on no LRU list`);
  let c = (f & PG_lru) !== 0 ? FRAME_LRU : 0;
  if (mapped > 0) c |= (f & PG_anon) !== 0 ? FRAME_ANON : FRAME_FILE;
  return c;
}

/** The vmstat gauges against the counts the walk found; no mmu_gather left active. */
function checkGauges(k: Kernel, anonMapped: number, fileMapped: number, cachePages: number, out: Findings): void {
  const vm = k.vm;
  if (vm.nr_page_table_pages !== k.ptLive[0]) out.add('vmstat', `nr_page_table_pages ${vm.nr_page_table_pages} but ${k.ptLive[0]} PTE tables live`);
  if (vm.nr_anon_pages !== anonMapped) out.add('vmstat', `nr_anon_pages ${vm.nr_anon_pages} but ${anonMapped} anonymous pages mapped`);
  if (vm.nr_mapped !== fileMapped) out.add('vmstat', `nr_mapped ${vm.nr_mapped} but ${fileMapped} file pages mapped`);
  if (vm.nr_file_pages !== cachePages) out.add('vmstat', `nr_file_pages ${vm.nr_file_pages} but ${cachePages} pages cached`);
  for (const g of k.gathers) if (g.active || g.nr !== 0) out.add('gather', 'an mmu_gather is still active at an operation boundary');
}

/** Run every check; returns the violations (empty when the model is consistent). */
export function checkKernel(k: Kernel): Violation[] {
  return fullCheck(k).violations;
}

/** The whole walk: the violations, and whether any table is reached twice (shared). */
function fullCheck(k: Kernel): { violations: Violation[]; shared: boolean } {
  const out = new Findings();
  const s = scratch(k);
  const extra = featureRefs(k, out);
  const reach = new Map<number, number>();
  const mms = k.liveMms();
  for (const mm of mms) {
    checkVmas(k, mm, out);
    walkMm(k, mm, s, out, reach);
  }
  // page cache
  let cachePages = 0;
  const p = k.pages;
  for (const f of k.files.values()) {
    for (let i = 0; i < f.pages.length; i++) {
      const pfn = f.pages[i]!;
      if (pfn === 0) continue;
      // hugetlbfs pages show in HugePages_*, not in nr_file_pages
      if (!f.huge) cachePages++;
      s.cached[pfn] = 1;
      checkCachedPage(k, f, i, pfn, out);
    }
    const sw = f.swap;
    if (sw !== null) {
      for (let i = 0; i < sw.length; i++) {
        const slot = sw[i]!;
        if (slot === 0) continue;
        if (f.pages[i] !== undefined && f.pages[i] !== 0) out.add('swap', `file ${f.name}: offset ${i} both cached and on swap`);
        countSwapRef(s, slot);
      }
    }
  }
  // swap cache and swap map
  const si = k.swap;
  let inuse = 0;
  // the arrays in locals: the loop runs over every slot of every check
  const swapMap = si.map;
  const swapCache = si.cache;
  const swapRefs = s.swapRefs;
  // beyond the device's high-water mark and the last slot referenced, every slot is as the device came
  const nrSlots = Math.min(si.nrSlots, Math.max(si.highWater, s.refsEnd)) | 0;
  for (let slot = 1; slot < nrSlots; slot++) {
    // a free slot nothing names is as checkSwapSlot wants it: no call
    if (swapMap[slot] === 0 && swapCache[slot] === 0 && swapRefs[slot] === 0) continue;
    checkSwapSlot(k, slot, swapRefs[slot]!, out);
    if (swapMap[slot] !== 0) inuse++;
  }
  if (inuse !== si.inuse) out.add('swap', `swap inuse ${si.inuse} but ${inuse} slots referenced`);
  // every frame
  let anonMapped = 0;
  let fileMapped = 0;
  let lruPages = 0;
  const flags = p.flags;
  const mapped = s.mapped;
  const nrFrames = p.nrFrames | 0;
  for (let pfn = 1; pfn < nrFrames; pfn++) {
    const fl = flags[pfn]!;
    const held = extra === null ? 0 : extra[pfn]!;
    // what checkFrame passes at once without a finding: a free frame nothing maps or holds, a huge page's tail
    if ((fl & PG_allocated) === 0 ? mapped[pfn] === 0 && held === 0 : (fl & (PG_huge_tail | PG_table)) === PG_huge_tail) continue;
    // (only a table's reach is looked at: no map lookup for the other frames)
    const r = (fl & PG_table) !== 0 ? (reach.get(pfn) ?? 0) : 0;
    const c = checkFrame(k, pfn, mapped[pfn]!, s.cached[pfn]!, held, r, out);
    if ((c & FRAME_ANON) !== 0) anonMapped++;
    if ((c & FRAME_FILE) !== 0) fileMapped++;
    if ((c & FRAME_LRU) !== 0) lruPages++;
  }
  if (reach.size !== k.ptLive[0] + k.ptLive[1] + k.ptLive[2] + k.ptLive[3]) {
    out.add('pgtable', `${reach.size} tables reachable but ${k.ptLive.join('/')} (pte/pmd/pud/pgd) counted`);
  }
  checkGauges(k, anonMapped, fileMapped, cachePages, out);
  let listed = 0;
  for (const list of [0, 1] as const) {
    let n = 0;
    for (const pfn of k.lru.walk(list)) {
      n++;
      const want = list === 1 ? PG_active : 0;
      if ((p.flags[pfn]! & (PG_active | PG_lru)) !== (PG_lru | want)) out.add('lru', `page ${pfn} on the ${list === 1 ? 'active' : 'inactive'} list has flags ${hex(p.flags[pfn]!)}`);
      if (n > k.pages.nrFrames) break;
    }
    if (n !== k.lru.nr[list]) out.add('lru', `${list === 1 ? 'active' : 'inactive'} list holds ${n} pages but counts ${k.lru.nr[list]}`);
    listed += n;
  }
  if (listed !== lruPages) out.add('lru', `${lruPages} pages flagged PG_lru but ${listed} on the lists`);
  checkTlbs(k, out);
  for (const h of k.checkHooks.invariants) for (const m of h.fn(k)) out.add(`${h.feature}:${h.name}`, m);
  let shared = false;
  for (const n of reach.values()) if (n > 1) shared = true;
  return { violations: out.list, shared };
}

/** Once every process has exited: no table, anon_vma or anonymous page remains. */
export function checkNoLeaks(k: Kernel): Violation[] {
  const out = new Findings();
  if (k.liveMms().length > 0) return out.list;
  for (let l = 0; l < 4; l++) if (k.ptLive[l] !== 0) out.add('leak', `${k.ptLive[l]!} page tables of level ${l} remain after every mm exited`);
  if (k.anonVmas.size !== 0) out.add('leak', `${k.anonVmas.size} anon_vmas remain after every mm exited`);
  let cached = 0;
  let swapped = 0;
  let hugeCached = 0;
  for (const f of k.files.values()) {
    if (f.huge) hugeCached += f.nrpages;
    else cached += f.nrpages;
    swapped += f.nrswapped;
  }
  const hugeUsed = k.hugePool.nrHugePages - k.hugePool.nrFree;
  if (hugeUsed !== hugeCached) out.add('leak', `${hugeUsed} huge pages in use after every mm exited, ${hugeCached} of them in hugetlbfs files`);
  if (k.swap.inuse !== swapped) out.add('leak', `${k.swap.inuse} swap slots in use after every mm exited, ${swapped} of them held by files`);
  let driverPages = 0;
  for (const f of k.files.values()) driverPages += f.device?.pages?.length ?? 0;
  const used = k.mem.hugeBase - 1 - k.mem.nrMemmapPages - k.mem.nrFree;
  if (used !== cached + driverPages) out.add('leak', `${used} frames in use after every mm exited, ${cached} of them page cache and ${driverPages} held by drivers`);
  // a feature's references on frames (a secondary MMU's) go with the mms they came from
  for (const h of k.checkHooks.frameRefs) {
    h.fn(k, (pfn, n) => {
      if (n !== 0) out.add('leak', `feature '${h.feature}' still holds ${n} references on frame ${pfn} after every mm exited`);
    });
  }
  for (const v of checkKernel(k)) out.add(v.check, v.message);
  return out.list;
}

// ---- the incremental checker ------------------------------------------------

/** An upper-level entry pointing at a lower table. */
const UP_TABLE = 1;
/** A huge PMD entry (hugetlb). */
const UP_HUGE = 2;

/** What the checker last found in one table, reached from `mm` at `base`. */
interface TableMirror {
  /** 0 PTE, 1 PMD, 2 PUD, 3 PGD. */
  level: number;
  mm: MmStruct;
  base: number;
  /** Per entry: the frame, slot or table it counted. */
  cnt: Int32Array;
  /** Per entry: KIND_* (PTE table) or UP_* (upper level). */
  kind: Uint8Array;
  /** The entries as last walked (flags and value words). */
  raw: Uint32Array;
  /** Walk every entry next time, changed or not (the VMAs over it changed). */
  recheck: boolean;
  /** Per entry: the boundary at which it was last checked. */
  stamp: Uint32Array;
  /** Anonymous and file pages it maps (PTE table), tables it points at (upper level). */
  anon: number;
  file: number;
  kids: number;
}

/** An mm as the checker last saw it: table counts and RSS over its tables, its VMAs. */
interface MmMirror {
  pgd: number;
  ptes: number;
  pmds: number;
  puds: number;
  anon: number;
  file: number;
  sig: number[];
}

/** A file's page-cache pages and swap slots as the checker last saw them. */
interface FileMirror {
  pages: Int32Array;
  swap: Int32Array;
}

const SPAN = [PAGE_SIZE * 512, PMD_SIZE, PUD_SIZE, PGDIR_SIZE] as const;
/** Spare table mirrors the incremental checker keeps for reuse, at most. */
const SPARE_MIRRORS = 1024;
const VMA_SIG_FIELDS = 7;

/** The VMAs of `mm` as numbers, to notice a change. */
function vmaSig(mm: MmStruct): number[] {
  const sig: number[] = [];
  for (const v of mm.vmas) sig.push(v.vmStart, v.vmEnd, v.vmFlags, v.vmPgoff, v.vmPageProt, v.anonVma?.id ?? -1, v.vmFile?.id ?? -1);
  return sig;
}

/** True when `mm`'s VMAs are the ones `sig` describes (no allocation). */
function sameSig(mm: MmStruct, sig: readonly number[]): boolean {
  if (sig.length !== mm.vmas.length * VMA_SIG_FIELDS) return false;
  let i = 0;
  for (const v of mm.vmas) {
    if (sig[i] !== v.vmStart || sig[i + 1] !== v.vmEnd || sig[i + 2] !== v.vmFlags || sig[i + 3] !== v.vmPgoff || sig[i + 4] !== v.vmPageProt) return false;
    if (sig[i + 5] !== (v.anonVma?.id ?? -1) || sig[i + 6] !== (v.vmFile?.id ?? -1)) return false;
    i += VMA_SIG_FIELDS;
  }
  return true;
}

/** The address range [lo, hi) covering every difference between two VMA signatures, or null. */
function sigChange(a: readonly number[], b: readonly number[]): [number, number] | null {
  const na = a.length / VMA_SIG_FIELDS;
  const nb = b.length / VMA_SIG_FIELDS;
  let front = 0;
  while (front < na && front < nb && sameVma(a, front, b, front)) front++;
  if (front === na && front === nb) return null;
  let back = 0;
  while (back < na - front && back < nb - front && sameVma(a, na - 1 - back, b, nb - 1 - back)) back++;
  let lo = Infinity;
  let hi = 0;
  for (const [s, n] of [[a, na], [b, nb]] as const) {
    for (let i = front; i < n - back; i++) {
      lo = Math.min(lo, s[i * VMA_SIG_FIELDS]!);
      hi = Math.max(hi, s[i * VMA_SIG_FIELDS + 1]!);
    }
  }
  return [lo, hi];
}

function sameVma(a: readonly number[], i: number, b: readonly number[], j: number): boolean {
  for (let f = 0; f < VMA_SIG_FIELDS; f++) if (a[i * VMA_SIG_FIELDS + f] !== b[j * VMA_SIG_FIELDS + f]) return false;
  return true;
}

/**
 * The invariant checker whose cost follows the work done: it keeps what it
 * found in every table, file and TLB, and at an operation boundary
 * re-checks what the operations touched (`Kernel.touched`: the tables they
 * read or wrote, the frames and swap slots whose state changed, the files
 * whose cache changed, the mms whose VMAs changed, the TLB entries that
 * changed or map a touched frame), updating its counts, then compares the
 * counts of every mm and the gauges. Every check of {@link checkKernel}
 * runs on what changed; what did not change was checked before and is
 * unchanged. With shared page tables or feature frame references it runs
 * {@link checkKernel} instead.
 */
export class TouchedChecker {
  private readonly k: Kernel;
  private readonly tables = new Map<number, TableMirror>();
  private readonly mmMirrors = new Map<MmStruct, MmMirror>();
  private readonly fileMirrors = new Map<AddressSpace, FileMirror>();
  private readonly mapped: Int32Array;
  private readonly cached: Int32Array;
  private readonly cacheFile: Int32Array;
  private readonly cacheOff: Int32Array;
  private readonly reach: Int32Array;
  private readonly frameClass: Uint8Array;
  private readonly swapRefs: Int32Array;
  private readonly slotUsed: Uint8Array;
  private readonly seen: Uint8Array;
  private readonly levels: number[][] = [[], [], [], []];
  private anonMapped = 0;
  private fileMapped = 0;
  private lruPages = 0;
  private activePages = 0;
  private cachePages = 0;
  private reached = 0;
  private shared = 0;
  private inuse = 0;
  private moved = false;
  private valid = false;
  private fullMode = false;
  private vmaChecks = new Set<MmStruct>();
  /** PTE tables walked at this boundary. */
  private readonly walked: TableMirror[] = [];
  /** PTEs checked at this boundary: mm id and virtual page, in pairs (for the oracle and the TLBs). */
  private readonly changedPtes: number[] = [];
  /** Each CPU's mm at the last boundary. */
  private readonly activeMms: (MmStruct | null)[] = [];
  /** Check every TLB entry at this boundary (an mm came or went, a CPU switched). */
  private tlbAll = true;
  /** Page-cache frames touched at this boundary, for the oracle. */
  private readonly cachedTouched: number[] = [];

  /** A checker for kernel `k` (built with checking on). */
  constructor(k: Kernel) {
    this.k = k;
    const n = k.pages.nrFrames;
    this.mapped = new Int32Array(n);
    this.cached = new Int32Array(n);
    this.cacheFile = new Int32Array(n);
    this.cacheOff = new Int32Array(n);
    this.reach = new Int32Array(n);
    this.checkedMaps = new Int32Array(n);
    this.frameClass = new Uint8Array(n);
    this.seen = new Uint8Array(n);
    this.swapRefs = new Int32Array(k.swap.nrSlots);
    this.slotUsed = new Uint8Array(k.swap.nrSlots);
  }

  /**
   * Check what was touched since the last call (everything on the first
   * call) and the counts of the whole machine; the oracle checks the
   * touched pages. Returns the violations.
   */
  run(): Violation[] {
    const k = this.k;
    const t = k.touched!;
    if (this.fullMode || k.checkHooks.frameRefs.length > 0) return this.runFull();
    if (!this.valid) this.resync();
    const out = new Findings();
    this.syncMms(out);
    this.walkTables(out);
    if (this.shared > 0 || this.moved) return this.runFull();
    for (const mm of this.vmaChecks) checkVmas(k, mm, out);
    this.syncFiles(out);
    this.checkFrames(out);
    this.checkSlots(out);
    for (const [mm, m] of this.mmMirrors) checkMmCounts(mm, m.ptes, m.pmds, m.puds, m.anon, m.file, out);
    if (this.reached !== k.ptLive[0] + k.ptLive[1] + k.ptLive[2] + k.ptLive[3]) {
      out.add('pgtable', `${this.reached} tables reachable but ${k.ptLive.join('/')} (pte/pmd/pud/pgd) counted`);
    }
    checkGauges(k, this.anonMapped, this.fileMapped, this.cachePages, out);
    if (this.activePages !== k.lru.nr[1] || this.lruPages - this.activePages !== k.lru.nr[0]) {
      out.add('lru', `${this.lruPages} pages flagged PG_lru (${this.activePages} active) but the lists count ${k.lru.nr[0]} inactive, ${k.lru.nr[1]} active`);
    }
    this.checkTlbs(out);
    for (const h of k.checkHooks.invariants) for (const m of h.fn(k)) out.add(`${h.feature}:${h.name}`, m);
    const found = out.list;
    if (k.oracle !== null) for (const v of k.oracle.verifyTouched(k, this.changedPtes, this.cachedTouched)) found.push(v);
    this.endRound(t);
    return found;
  }

  /** The whole walk: with shared tables, feature references, or a table reached from a new place. */
  private runFull(): Violation[] {
    const k = this.k;
    const r = fullCheck(k);
    if (k.oracle !== null) for (const v of k.oracle.verifyPrivateAndTouched(k, k.touched!.frames)) r.violations.push(v);
    this.fullMode = r.shared || k.checkHooks.frameRefs.length > 0;
    this.valid = false;
    this.endRound(k.touched!);
    return r.violations;
  }

  private endRound(t: Touched): void {
    for (const l of this.levels) {
      for (const pfn of l) this.seen[pfn] = 0;
      l.length = 0;
    }
    t.tables.clear();
    t.frames.clear();
    t.slots.clear();
    this.walked.length = 0;
    this.changedPtes.length = 0;
    this.cachedTouched.length = 0;
    for (const c of this.k.cpus) c.tlb.touched?.clear();
    this.tlbAll = false;
    this.round = (this.round + 1) >>> 0 || 1;
    this.vmaChecks.clear();
    this.moved = false;
  }

  /** Forget everything; every frame, slot, mm, file and TLB entry is new. */
  private resync(): void {
    const k = this.k;
    for (const a of [this.mapped, this.cached, this.reach, this.swapRefs]) a.fill(0);
    this.frameClass.fill(0);
    this.slotUsed.fill(0);
    this.anonMapped = this.fileMapped = this.lruPages = this.activePages = this.cachePages = 0;
    this.reached = this.shared = this.inuse = 0;
    this.tables.clear();
    this.mmMirrors.clear();
    for (const f of this.fileMirrors.keys()) f.dirty = null;
    this.fileMirrors.clear();
    this.tlbAll = true;
    const t = k.touched!;
    // every frame in use, every slot in use (a free one is as the checker assumes: unused)
    const flags = k.pages.flags;
    for (let pfn = 1; pfn < k.pages.nrFrames; pfn++) if (flags[pfn] !== 0) t.frames.add(pfn);
    for (let slot = 1; slot < k.swap.nrSlots; slot++) if (k.swap.map[slot] !== 0 || k.swap.cache[slot] !== 0) t.slots.add(slot);
    k.oracle?.touchAll();
    this.valid = true;
  }

  /** New and gone mms; VMA changes mark the tables in the changed range. */
  private syncMms(out: Findings): void {
    const k = this.k;
    const t = k.touched!;
    // tables the operations touched, by level (a table the checker never reached is new or gone)
    for (let j = 0; j < t.tables.n; j++) this.queue(t.tables.at(j));
    const live = new Set(k.liveMms());
    for (const [mm, m] of this.mmMirrors) {
      if (live.has(mm) && m.pgd === mm.pgd) continue;
      this.unlink(m.pgd);
      this.mmMirrors.delete(mm);
      this.tlbAll = true;
    }
    for (const mm of live) {
      let m = this.mmMirrors.get(mm);
      if (m === undefined) {
        m = { pgd: mm.pgd, ptes: 0, pmds: 0, puds: 0, anon: 0, file: 0, sig: vmaSig(mm) };
        this.mmMirrors.set(mm, m);
        if (checkTable(k, mm, mm.pgd, 'mm->pgd', out)) this.link(mm.pgd, 3, mm, 0);
        this.vmaChecks.add(mm);
        this.tlbAll = true;
        continue;
      }
      if (sameSig(mm, m.sig)) continue;
      const sig = vmaSig(mm);
      const range = sigChange(m.sig, sig);
      if (range === null) continue;
      m.sig = sig;
      this.vmaChecks.add(mm);
      this.queueRange(m.pgd, range[0], range[1]);
    }
  }

  private queue(pfn: number): void {
    const rec = this.tables.get(pfn);
    // (a table freed and reused at another level in one round is queued again)
    if (rec === undefined || this.seen[pfn] === rec.level + 1) return;
    this.seen[pfn] = rec.level + 1;
    this.levels[rec.level]!.push(pfn);
  }

  /** Queue the PTE tables below `pfn` that cover [lo, hi). */
  private queueRange(pfn: number, lo: number, hi: number): void {
    const rec = this.tables.get(pfn);
    if (rec === undefined) return;
    if (rec.level <= 1) {
      // PTEs, and a PMD table's huge entries, are checked against the VMAs
      rec.recheck = true;
      this.queue(pfn);
      if (rec.level === 0) return;
    }
    const span = SPAN[rec.level]!;
    for (let i = 0; i < 512; i++) {
      const start = rec.base + i * span;
      if (rec.kind[i] === UP_TABLE && start < hi && start + span > lo) this.queueRange(rec.cnt[i]!, lo, hi);
    }
  }

  /** Walk the queued tables top-down, updating the counts. */
  private walkTables(out: Findings): void {
    for (let level = 3; level >= 0; level--) {
      const list = this.levels[level]!;
      for (let j = 0; j < list.length; j++) {
        const rec = this.tables.get(list[j]!);
        if (rec === undefined || rec.level !== level) continue;
        if (!liveTable(this.k, list[j]!)) {
          checkTable(this.k, rec.mm, list[j]!, `a ${['PTE', 'PMD', 'PUD', 'PGD'][level]!} table reached at ${hex(rec.base)}`, out);
          continue;
        }
        if (level === 0) this.walkPte(list[j]!, rec, out);
        else this.walkUpper(list[j]!, rec, out);
      }
    }
    // entries that did not change but map a frame whose state did (another mm's new mapping, a pin):
    // needed only when some touched frame has more mappings than the entries checked here
    const fr = this.k.touched!.frames;
    let foreign = false;
    for (let j = 0; j < fr.n && !foreign; j++) {
      const pfn = fr.at(j);
      if (this.mapped[pfn]! > this.checkedMaps[pfn]!) foreign = true;
    }
    for (const pfn of this.checkedList) this.checkedMaps[pfn] = 0;
    this.checkedList.length = 0;
    if (foreign) for (const rec of this.walked) this.rewalkTouchedFrames(rec, out);
  }

  private mmCounts(rec: TableMirror): MmMirror | undefined {
    return this.mmMirrors.get(rec.mm);
  }

  /** One more parent entry points at table `pfn` (level `level`, reached from `mm` at `base`). */
  private link(pfn: number, level: number, mm: MmStruct, base: number): void {
    const n = ++this.reach[pfn]!;
    this.k.touched!.frames.add(pfn);
    if (n === 1) this.reached++;
    if (n === 2) this.shared++;
    const rec = this.tables.get(pfn);
    if (rec === undefined) {
      this.tables.set(pfn, this.newMirror(level, mm, base));
      this.queue(pfn);
    } else if (rec.mm !== mm || rec.base !== base || rec.level !== level) {
      this.moved = true;
    }
  }

  /** One parent entry fewer points at table `pfn`; unreached, what it counted goes. */
  private unlink(pfn: number): void {
    const n = --this.reach[pfn]!;
    this.k.touched!.frames.add(pfn);
    if (n === 1) this.shared--;
    if (n !== 0) return;
    this.reached--;
    const rec = this.tables.get(pfn);
    if (rec === undefined) return;
    this.tables.delete(pfn);
    for (let i = 0; i < 512; i++) this.drop(rec, i);
    // every entry dropped: its counts and kinds are zero again
    if (this.spare.length < SPARE_MIRRORS) this.spare.push(rec);
  }

  /** Mirrors of tables no longer reached, for reuse (a mirror is 8.5 KiB of typed arrays). */
  private readonly spare: TableMirror[] = [];

  /** A mirror for a table newly reached: a spare one cleared, or a new one. */
  private newMirror(level: number, mm: MmStruct, base: number): TableMirror {
    const rec = this.spare.pop();
    if (rec === undefined) {
      return { level, mm, base, cnt: new Int32Array(512), kind: new Uint8Array(512), raw: new Uint32Array(1024), recheck: false, stamp: new Uint32Array(512), anon: 0, file: 0, kids: 0 };
    }
    rec.level = level;
    rec.mm = mm;
    rec.base = base;
    rec.raw.fill(0);
    rec.stamp.fill(0);
    rec.recheck = false;
    rec.anon = rec.file = rec.kids = 0;
    return rec;
  }

  /** Entry `i` of `rec` no longer counts what it did. */
  private drop(rec: TableMirror, i: number): void {
    const kind = rec.kind[i]!;
    if (kind === 0) return;
    const v = rec.cnt[i]!;
    rec.kind[i] = 0;
    rec.cnt[i] = 0;
    const m = this.mmCounts(rec);
    const t = this.k.touched!;
    if (rec.level === 0) {
      if (kind === KIND_SWAP) {
        this.swapRefs[v]!--;
        t.slots.add(v);
        return;
      }
      this.mapped[v]!--;
      t.frames.add(v);
      if (kind === KIND_ANON) {
        rec.anon--;
        if (m !== undefined) m.anon--;
      } else {
        rec.file--;
        if (m !== undefined) m.file--;
      }
      return;
    }
    if (kind === UP_HUGE) {
      this.mapped[v]!--;
      t.frames.add(v);
      return;
    }
    rec.kids--;
    if (m !== undefined) this.addKids(m, rec.level, -1);
    this.unlink(v);
  }

  private addKids(m: MmMirror, level: number, d: number): void {
    if (level === 3) m.puds += d;
    else if (level === 2) m.pmds += d;
    else m.ptes += d;
  }

  /** Re-walk an upper-level table: entries that changed unlink and link tables. */
  private walkUpper(pfn: number, rec: TableMirror, out: Findings): void {
    const k = this.k;
    const a = k.tables.arr(pfn);
    const b = k.tables.base(pfn);
    const span = SPAN[rec.level]!;
    const m = this.mmCounts(rec);
    const raw = rec.raw;
    const all = rec.recheck;
    rec.recheck = false;
    for (let i = all ? 0 : nextChanged(a, b, raw, 0); i < 512; i = all ? i + 1 : nextChanged(a, b, raw, i + 1)) {
      const f = a[b + 2 * i]!;
      const v = a[b + 2 * i + 1]!;
      raw[2 * i] = f;
      raw[2 * i + 1] = v;
      let kind = 0;
      const addr = rec.base + i * span;
      if (f !== 0) {
        if (rec.level === 1 && (f & _PAGE_PSE) !== 0) {
          if (checkHugeEntry(k, rec.mm, v, addr, out)) kind = UP_HUGE;
        } else if (liveTable(k, v)) {
          kind = UP_TABLE;
        } else {
          checkTable(k, rec.mm, v, `${rec.level === 3 ? 'pgd' : rec.level === 2 ? 'pud' : 'pmd'} entry ${i} at ${hex(addr)}`, out);
        }
      }
      if (kind === rec.kind[i] && (kind === 0 || v === rec.cnt[i])) continue;
      this.drop(rec, i);
      if (kind === 0) continue;
      rec.kind[i] = kind;
      rec.cnt[i] = v;
      if (kind === UP_HUGE) {
        this.mapped[v]!++;
        k.touched!.frames.add(v);
      } else {
        rec.kids++;
        if (m !== undefined) this.addKids(m, rec.level, 1);
        this.link(v, rec.level - 1, rec.mm, addr);
      }
    }
  }

  /** Re-walk a PTE table: check and count the entries that changed (every entry after a VMA change). */
  private walkPte(pfn: number, rec: TableMirror, out: Findings): void {
    const k = this.k;
    const a = k.tables.arr(pfn);
    const b = k.tables.base(pfn);
    const raw = rec.raw;
    const all = rec.recheck;
    rec.recheck = false;
    let vma: Vma | null = null;
    for (let i = all ? 0 : nextChanged(a, b, raw, 0); i < 512; i = all ? i + 1 : nextChanged(a, b, raw, i + 1)) {
      const f = a[b + 2 * i]!;
      const val = a[b + 2 * i + 1]!;
      raw[2 * i] = f;
      raw[2 * i + 1] = val;
      vma = this.entry(rec, i, f, val, vma, out);
    }
    this.walked.push(rec);
  }

  /** Entries of a walked PTE table that map a touched frame: checked again (its mapcount, flags or index changed). */
  private rewalkTouchedFrames(rec: TableMirror, out: Findings): void {
    const mark = this.k.touched!.frames.mark;
    const raw = rec.raw;
    let vma: Vma | null = null;
    for (let i = 0; i < 512; i++) {
      const kind = rec.kind[i]!;
      if ((kind === KIND_ANON || kind === KIND_FILE) && mark[rec.cnt[i]!] !== 0 && rec.stamp[i] !== this.round) {
        vma = this.entry(rec, i, raw[2 * i]!, raw[2 * i + 1]!, vma, out);
      }
    }
  }

  /** Per frame: entries mapping it checked at this boundary (reset through {@link checkedList}). */
  private readonly checkedMaps: Int32Array;
  private readonly checkedList: number[] = [];

  /** Boundaries checked so far (entries checked at this one carry it as their stamp). */
  private round = 1;

  /** Check entry `i` of PTE table `rec` (flags `f`, value `val`) and count what it maps now instead of what it did. */
  private entry(rec: TableMirror, i: number, f: number, val: number, hint: Vma | null, out: Findings): Vma | null {
    const k = this.k;
    const t = k.touched!;
    let vma = hint;
    let kind = KIND_NONE;
    if (f !== 0 || val !== 0) {
      const addr = rec.base + i * PAGE_SIZE;
      vma = vmaAt(rec.mm, vma, addr);
      kind = checkPteEntry(k, rec.mm, vma, addr, f, val, out);
    }
    rec.stamp[i] = this.round;
    if (f !== 0 || val !== 0 || rec.kind[i] !== KIND_NONE) this.changedPtes.push(rec.mm.id, rec.base / PAGE_SIZE + i);
    const v = kind === KIND_NONE ? 0 : counted.v;
    if (kind === KIND_ANON || kind === KIND_FILE) {
      if (this.checkedMaps[v]!++ === 0) this.checkedList.push(v);
    }
    if (kind === rec.kind[i] && v === rec.cnt[i]) return vma;
    this.drop(rec, i);
    if (kind === KIND_NONE) return vma;
    rec.kind[i] = kind;
    rec.cnt[i] = v;
    if (kind === KIND_SWAP) {
      this.swapRefs[v]!++;
      t.slots.add(v);
      return vma;
    }
    this.mapped[v]!++;
    t.frames.add(v);
    const m = this.mmCounts(rec);
    if (kind === KIND_ANON) {
      rec.anon++;
      if (m !== undefined) m.anon++;
    } else {
      rec.file++;
      if (m !== undefined) m.file++;
    }
    return vma;
  }

  /** New and gone files; the offsets whose cache page or swap slot changed. */
  private syncFiles(out: Findings): void {
    const k = this.k;
    for (const [f, fm] of this.fileMirrors) {
      if (k.files.get(f.id) === f) continue;
      // gone: what it cached and swapped no longer counts
      f.dirty = null;
      for (let i = 0; i < fm.pages.length; i++) this.setCache(f, fm, i, 0, 0, out);
      this.fileMirrors.delete(f);
    }
    for (const f of k.files.values()) {
      let fm = this.fileMirrors.get(f);
      if (fm === undefined) {
        fm = { pages: new Int32Array(f.pages.length), swap: new Int32Array(f.swap?.length ?? 0) };
        this.fileMirrors.set(f, fm);
        f.dirty = [];
        const n = Math.max(f.pages.length, f.swap?.length ?? 0);
        for (let i = 0; i < n; i++) this.setCache(f, fm, i, f.findPage(i), f.swapSlot(i), out);
        continue;
      }
      const d = f.dirty;
      if (d === null || d.length === 0) continue;
      for (const i of d) this.setCache(f, fm, i, f.findPage(i), f.swapSlot(i), out);
      d.length = 0;
    }
  }

  /** Offset `i` of file `f` now caches `pfn` and is swapped to `slot`. */
  private setCache(f: AddressSpace, fm: FileMirror, i: number, pfn: number, slot: number, out: Findings): void {
    const t = this.k.touched!;
    if (i >= fm.pages.length && pfn !== 0) fm.pages = grow(fm.pages, i);
    if (i >= fm.swap.length && slot !== 0) fm.swap = grow(fm.swap, i);
    const old = i < fm.pages.length ? fm.pages[i]! : 0;
    if (old !== pfn) {
      if (old !== 0) {
        this.cached[old]!--;
        if (!f.huge) this.cachePages--;
        t.frames.add(old);
      }
      if (pfn !== 0) {
        this.cached[pfn]!++;
        this.cacheFile[pfn] = f.id;
        this.cacheOff[pfn] = i;
        if (!f.huge) this.cachePages++;
      }
      fm.pages[i] = pfn;
    }
    if (pfn !== 0) t.frames.add(pfn);
    const oldSlot = i < fm.swap.length ? fm.swap[i]! : 0;
    if (oldSlot !== slot) {
      if (oldSlot !== 0) {
        this.swapRefs[oldSlot]!--;
        t.slots.add(oldSlot);
      }
      if (slot !== 0) {
        this.swapRefs[slot]!++;
        t.slots.add(slot);
      }
      fm.swap[i] = slot;
    }
    if (slot !== 0 && pfn !== 0) out.add('swap', `file ${f.name}: offset ${i} both cached and on swap`);
  }

  /** Every touched frame against its counts; the gauges' totals follow. */
  private checkFrames(out: Findings): void {
    const k = this.k;
    const p = k.pages;
    const fr = k.touched!.frames;
    for (let j = 0; j < fr.n; j++) {
      const pfn = fr.at(j);
      let c = checkFrame(k, pfn, this.mapped[pfn]!, this.cached[pfn]!, 0, this.reach[pfn]!, out);
      const fl = p.flags[pfn]!;
      if (this.reach[pfn]! > 0 && ((fl & PG_allocated) === 0 || (fl & PG_table) === 0 || p.tableSlot[pfn]! < 0)) {
        out.add('pgtable', `frame ${pfn} is reached as a page table but is not a live table`);
      }
      if ((fl & (PG_lru | PG_active)) === (PG_lru | PG_active)) c |= 8;
      const old = this.frameClass[pfn]!;
      if (old !== c) {
        this.anonMapped += ((c & FRAME_ANON) !== 0 ? 1 : 0) - ((old & FRAME_ANON) !== 0 ? 1 : 0);
        this.fileMapped += ((c & FRAME_FILE) !== 0 ? 1 : 0) - ((old & FRAME_FILE) !== 0 ? 1 : 0);
        this.lruPages += ((c & FRAME_LRU) !== 0 ? 1 : 0) - ((old & FRAME_LRU) !== 0 ? 1 : 0);
        this.activePages += ((c & 8) !== 0 ? 1 : 0) - ((old & 8) !== 0 ? 1 : 0);
        this.frameClass[pfn] = c;
      }
      if ((fl & PG_lru) !== 0) {
        const prev = p.lruPrev[pfn]!;
        const next = p.lruNext[pfn]!;
        if (p.lruNext[prev] !== pfn || p.lruPrev[next] !== pfn) out.add('lru', `page ${pfn} is flagged PG_lru but not linked on a list`);
      }
      if (this.cached[pfn]! > 0 && (fl & PG_allocated) !== 0) {
        const f = k.files.get(this.cacheFile[pfn]!);
        if (f !== undefined) checkCachedPage(k, f, this.cacheOff[pfn]!, pfn, out);
        this.cachedTouched.push(pfn);
      }
    }
  }

  /** Every touched swap slot against the entries naming it. */
  private checkSlots(out: Findings): void {
    const k = this.k;
    const sl = k.touched!.slots;
    for (let j = 0; j < sl.n; j++) {
      const slot = sl.at(j);
      checkSwapSlot(k, slot, this.swapRefs[slot]!, out);
      const used = k.swap.map[slot] !== 0 ? 1 : 0;
      this.inuse += used - this.slotUsed[slot]!;
      this.slotUsed[slot] = used;
    }
    if (this.inuse !== k.swap.inuse) out.add('swap', `swap inuse ${k.swap.inuse} but ${this.inuse} slots referenced`);
  }

  /**
   * The TLB entries filled since the last boundary and those of the PTEs
   * checked at it; every entry when an mm came or went, a CPU switched mm,
   * or the TLB is tagged (the CPU masks decide).
   */
  private checkTlbs(out: Findings): void {
    const k = this.k;
    const mms = new Map<number, MmStruct>();
    for (const mm of this.mmMirrors.keys()) mms.set(mm.id, mm);
    for (const cpu of k.cpus) {
      if (this.activeMms[cpu.id] !== cpu.activeMm) this.tlbAll = true;
      this.activeMms[cpu.id] = cpu.activeMm;
    }
    const all = this.tlbAll || k.profile.tlbTagged;
    for (const cpu of k.cpus) {
      const tlb = cpu.tlb;
      if (all) {
        for (let e = 0; e < tlb.entries; e++) this.tlbEntry(cpu, e, mms, out);
        continue;
      }
      const filled = tlb.touched;
      if (filled !== null) for (let j = 0; j < filled.n; j++) this.tlbEntry(cpu, filled.at(j) - 1, mms, out);
      const ch = this.changedPtes;
      for (let j = 0; j < ch.length; j += 2) {
        const e = tlb.lookup(ch[j]!, ch[j + 1]!);
        if (e >= 0 && (filled === null || filled.mark[e + 1] === 0)) this.tlbEntry(cpu, e, mms, out);
      }
    }
  }

  /** TLB entry `e` of `cpu`: its mm is alive and active, its frame live, its PTE agrees. */
  private tlbEntry(cpu: Cpu, e: number, mms: Map<number, MmStruct>, out: Findings): void {
    const tlb = cpu.tlb;
    const id = tlb.mmId[e]!;
    if (id < 0) return;
    const addr = tlb.vpn[e]! * PAGE_SIZE;
    const pfn = tlb.pfn[e]!;
    const mm = mms.get(id);
    if (mm === undefined) {
      out.add('tlb', `cpu ${cpu.id}: TLB entry ${hex(addr)} of mm ${id} belongs to a dead mm`);
      return;
    }
    if (checkTlbEntryCheap(this.k, cpu, mm, addr, pfn, out)) checkTlbLeaf(this.k, cpu, mm, addr, pfn, tlb.perm[e]!, out);
  }
}

function grow(a: Int32Array, i: number): Int32Array {
  let n = Math.max(16, a.length);
  while (n <= i) n *= 2;
  const g = new Int32Array(n);
  g.set(a);
  return g;
}
