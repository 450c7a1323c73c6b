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
}
const scratchOf = new WeakMap<Kernel, Scratch>();

function scratch(k: Kernel): Scratch {
  let s = scratchOf.get(k);
  if (s === undefined) {
    s = { mapped: new Int32Array(k.pages.nrFrames), cached: new Uint8Array(k.pages.nrFrames), swapRefs: new Int32Array(k.swap.nrSlots) };
    scratchOf.set(k, s);
  }
  s.mapped.fill(0);
  s.cached.fill(0);
  s.swapRefs.fill(0);
  return s;
}

/** Walk one PTE table: account pages, check entries against the VMA. */
/**
 * Check one PTE table as `mm` sees it. A table reached again (shared
 * between mms: `repeat`) is checked against this mm's VMAs and counted in
 * this mm's RSS, but its mappings and swap references count once.
 */
function walkPteTable(k: Kernel, mm: MmStruct, pte: number, base: number, s: Scratch, out: Findings, rss: { anon: number; file: number }, repeat: boolean): void {
  const a = k.tables.arr(pte);
  const b0 = k.tables.base(pte);
  const p = k.pages;
  let vma: Vma | null = null;
  for (let i = 0; i < 512; i++) {
    const f = a[b0 + 2 * i]!;
    const val = a[b0 + 2 * i + 1]!;
    if (f === 0 && val === 0) continue;
    const addr = base + i * PAGE_SIZE;
    if (vma === null || addr < vma.vmStart || addr >= vma.vmEnd) {
      vma = mm.vmas.find((v) => v.vmStart <= addr && addr < v.vmEnd) ?? null;
    }
    if (vma === null) {
      out.add('pte', `mm ${mm.id}: PTE at ${hex(addr)} outside every VMA`);
      continue;
    }
    if (!ptePresent(f)) {
      if (f === _PAGE_FILE) {
        // (truncation leaves file PTEs beyond the end in place, as 2.6.24 did)
        if ((vma.vmFlags & VM_NONLINEAR) === 0) out.add('pte', `mm ${mm.id}: file PTE at ${hex(addr)} in a linear VMA`);
      } else if (f === _PAGE_SWP) {
        if (val <= 0 || val >= k.swap.nrSlots || k.swap.map[val] === 0) out.add('swap', `mm ${mm.id}: swap PTE at ${hex(addr)} names free slot ${val}`);
        else if (!repeat) s.swapRefs[val]!++;
        if (vma.anonVma === null) out.add('swap', `mm ${mm.id}: swap PTE at ${hex(addr)} in a VMA without anon_vma`);
      } else {
        out.add('pte', `mm ${mm.id}: unexpected non-present PTE at ${hex(addr)} (flags ${hex(f)})`);
      }
      continue;
    }
    if ((f & _PAGE_RW) !== 0 && (vma.vmFlags & VM_WRITE) === 0) out.add('pte', `mm ${mm.id}: writable PTE at ${hex(addr)} in a VMA without VM_WRITE`);
    const pfn = k.seams.vmNormalPage(k, vma, addr, f, val);
    if (pfn === 0) continue;
    if (pfn <= 0 || pfn >= k.pages.nrFrames || (p.flags[pfn]! & PG_allocated) === 0) {
      out.add('pte', `mm ${mm.id}: PTE at ${hex(addr)} maps free frame ${pfn}`);
      continue;
    }
    if ((p.flags[pfn]! & PG_table) !== 0) {
      out.add('pte', `mm ${mm.id}: PTE at ${hex(addr)} maps page-table page ${pfn}`);
      continue;
    }
    if (!repeat) s.mapped[pfn]!++;
    if ((p.flags[pfn]! & PG_driver) !== 0) {
      // vm_insert_page (or insert_page for a VM_MIXEDMAP VMA): a driver's page, no mapping of its own
      rss.file++;
      if ((vma.vmFlags & (VM_INSERTPAGE | VM_MIXEDMAP)) === 0) out.add('rmap', `mm ${mm.id}: driver page ${pfn} at ${hex(addr)} outside a VM_INSERTPAGE or VM_MIXEDMAP VMA`);
      continue;
    }
    const anon = (p.flags[pfn]! & PG_anon) !== 0;
    if (anon) {
      rss.anon++;
      if (vma.anonVma === null || p.mapping[pfn] !== vma.anonVma.id) out.add('rmap', `mm ${mm.id}: anon page ${pfn} at ${hex(addr)} not in the VMA's anon_vma`);
      // (a COW copy forced into a shared VMA may be shared writable after fork, as in 2.6.24)
      if ((f & _PAGE_RW) !== 0 && p.mapcount[pfn]! > 1 && isCowMapping(vma.vmFlags)) out.add('cow', `mm ${mm.id}: writable PTE at ${hex(addr)} to anon page shared by ${p.mapcount[pfn]!} mappings`);
    } else {
      rss.file++;
      if (vma.vmFile === null || p.mapping[pfn] !== vma.vmFile.id) out.add('rmap', `mm ${mm.id}: file page ${pfn} at ${hex(addr)} not from the VMA's file`);
      if ((f & _PAGE_RW) !== 0 && (vma.vmFlags & VM_SHARED) === 0) out.add('cow', `mm ${mm.id}: writable PTE to a page-cache page in a private VMA at ${hex(addr)}`);
    }
    if ((vma.vmFlags & VM_NONLINEAR) === 0 && p.index[pfn] !== linearPageIndex(vma, addr)) {
      out.add('pgoff', `mm ${mm.id}: page ${pfn} at ${hex(addr)} has index ${p.index[pfn]!}, VMA gives ${linearPageIndex(vma, addr)}`);
    }
  }
}

function checkTable(k: Kernel, mm: MmStruct, pfn: number, what: string, out: Findings): boolean {
  const f = k.pages.flags[pfn]!;
  if ((f & PG_allocated) === 0 || (f & PG_table) === 0 || k.pages.tableSlot[pfn]! < 0) {
    out.add('pgtable', `mm ${mm.id}: ${what} points at frame ${pfn}, which is not a live table`);
    return false;
  }
  return true;
}

/** Count a reach of table `pfn`; true on its first reach (descend then). */
function reachTable(reach: Map<number, number>, pfn: number): boolean {
  const n = reach.get(pfn) ?? 0;
  reach.set(pfn, n + 1);
  return n === 0;
}

/** A huge PMD entry (hugetlb): must be in a hugetlb VMA and map a live huge page. */
function checkHugeEntry(k: Kernel, mm: MmStruct, f: number, head: number, addr: number, s: Scratch, out: Findings): void {
  const vma = mm.vmas.find((v) => v.vmStart <= addr && addr < v.vmEnd) ?? null;
  if (vma === null || k.seams.specialVmaOps(vma) === null) {
    out.add('hugetlb', `mm ${mm.id}: huge PMD entry at ${hex(addr)} outside a hugetlb VMA`);
    return;
  }
  if ((k.pages.flags[head]! & (PG_allocated | PG_huge)) !== (PG_allocated | PG_huge)) {
    out.add('hugetlb', `mm ${mm.id}: huge PMD entry at ${hex(addr)} maps frame ${head}, not a live huge page`);
    return;
  }
  // (2.6.24 hugetlb_cow makes a forced (ptrace) write's copy writable even without VM_WRITE,
  // in private and shared mappings alike: not flagged)
  s.mapped[head]!++;
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
          if (pmdFirst) checkHugeEntry(k, mm, mf, ma[mb + 2 * mi + 1]!, base, s, out);
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
  if (pte !== mm.nrPtes) out.add('pgtable', `mm ${mm.id}: nr_ptes ${mm.nrPtes} but ${pte} PTE tables reachable`);
  if (pmd !== mm.nrPmds) out.add('pgtable', `mm ${mm.id}: ${mm.nrPmds} PMD tables counted, ${pmd} reachable`);
  if (pud !== mm.nrPuds) out.add('pgtable', `mm ${mm.id}: ${mm.nrPuds} PUD tables counted, ${pud} reachable`);
  if (rss.anon !== mm.anonRss) out.add('rss', `mm ${mm.id}: anon_rss ${mm.anonRss} but ${rss.anon} anonymous pages mapped`);
  if (rss.file !== mm.fileRss) out.add('rss', `mm ${mm.id}: file_rss ${mm.fileRss} but ${rss.file} file pages mapped`);
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
      const where = `cpu ${cpu.id}: TLB entry ${hex(addr)} of mm ${id}`;
      if (mm === undefined) {
        out.add('tlb', `${where} belongs to a dead mm`);
        continue;
      }
      if (k.profile.tlbTagged ? mm.cpuVmMask[cpu.id] === 0 : cpu.activeMm !== mm) {
        out.add('tlb', `${where} survives a switch to another mm${k.profile.tlbTagged ? ' and the CPU left its mask' : ''}`);
      }
      if (pfn >= k.pages.nrFrames) {
        if (k.iomem.find(pfn) === undefined) out.add('tlb', `${where} points at pfn ${pfn}, neither memory nor a device`);
      } else if ((k.pages.flags[pfn]! & PG_allocated) === 0 || (k.pages.flags[pfn]! & PG_table) !== 0) {
        out.add('tlb', `${where} points at freed or reused frame ${pfn}`);
        continue;
      }
      const leaf = leafEntry(k, mm, addr);
      if (leaf === null) {
        out.add('tlb', `${where} has no page table behind it`);
        continue;
      }
      const f = leaf.f;
      if ((f & _PAGE_PRESENT) === 0 || leaf.pfn !== pfn) {
        out.add('tlb', `${where} maps frame ${pfn} but the PTE does not`);
        continue;
      }
      if ((tlb.perm[e]! & TLB_WRITE) !== 0 && (f & _PAGE_RW) === 0) out.add('tlb', `${where} allows writes the PTE forbids`);
    }
  }
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

/** Run every check; returns the violations (empty when the model is consistent). */
export function checkKernel(k: Kernel): Violation[] {
  const out = new Findings();
  const s = scratch(k);
  const extra = featureRefs(k, out);
  const reach = new Map<number, number>();
  const mms = k.liveMms();
  for (const mm of mms) {
    checkVmas(k, mm, out);
    walkMm(k, mm, s, out, reach);
  }
  for (const [pfn, n] of reach) {
    if (n !== k.pages.count[pfn]) out.add('pgtable', `table ${pfn} is reached ${n} times but has refcount ${k.pages.count[pfn]!}`);
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
      if (p.mapping[pfn] !== f.id || p.index[pfn] !== i) out.add('pagecache', `file ${f.name}: page ${pfn} at offset ${i} has mapping ${p.mapping[pfn]!} index ${p.index[pfn]!}`);
      if (!f.huge && (p.flags[pfn]! & PG_lru) === 0) out.add('lru', `file ${f.name}: page ${pfn} is not on an LRU list`);
    }
    const sw = f.swap;
    if (sw !== null) {
      for (let i = 0; i < sw.length; i++) {
        const slot = sw[i]!;
        if (slot === 0) continue;
        if (f.pages[i] !== undefined && f.pages[i] !== 0) out.add('swap', `file ${f.name}: offset ${i} both cached and on swap`);
        s.swapRefs[slot]!++;
      }
    }
  }
  // swap cache and swap map
  const si = k.swap;
  let inuse = 0;
  for (let slot = 1; slot < si.nrSlots; slot++) {
    const c = si.cache[slot]!;
    let want = s.swapRefs[slot]!;
    if (c !== 0) {
      want++;
      if ((p.flags[c]! & PG_swapcache) === 0 || p.private[c] !== slot) out.add('swap', `swap cache slot ${slot} names page ${c}, which does not name it back`);
    }
    if (si.map[slot] !== want) out.add('swap', `swap slot ${slot}: swap_map ${si.map[slot]!}, expected ${want} (${s.swapRefs[slot]!} entries${c !== 0 ? ' + swap cache' : ''})`);
    if (si.map[slot] !== 0) inuse++;
  }
  if (inuse !== si.inuse) out.add('swap', `swap inuse ${si.inuse} but ${inuse} slots referenced`);
  // every frame
  let anonMapped = 0;
  let fileMapped = 0;
  let lruPages = 0;
  for (let pfn = 1; pfn < k.pages.nrFrames; pfn++) {
    const f = p.flags[pfn]!;
    const held = extra === null ? 0 : extra[pfn]!;
    if ((f & PG_allocated) === 0) {
      if (s.mapped[pfn] !== 0) out.add('refcount', `free frame ${pfn} is mapped ${s.mapped[pfn]!} times`);
      if (held !== 0) out.add('refcount', `free frame ${pfn} is held by ${held} feature references`);
      continue;
    }
    if ((f & PG_table) !== 0) {
      if (!reach.has(pfn)) out.add('pgtable', `table page ${pfn} is allocated but unreachable (leaked)`);
      continue;
    }
    if ((f & PG_huge_tail) !== 0) continue;
    if ((f & (PG_xip | PG_driver)) !== 0) {
      // an XIP image page or a driver's page: one reference of its owner besides the mappings
      const want = s.mapped[pfn]! + 1 + p.pinned[pfn]! + held;
      if (p.count[pfn] !== want) out.add('refcount', `${(f & PG_xip) !== 0 ? 'XIP' : 'driver'} page ${pfn}: refcount ${p.count[pfn]!}, expected ${want}`);
      if (p.mapcount[pfn] !== s.mapped[pfn]) out.add('mapcount', `frame ${pfn}: mapcount ${p.mapcount[pfn]!} but ${s.mapped[pfn]!} PTEs map it`);
      if (s.mapped[pfn]! > 0) fileMapped++;
      continue;
    }
    if ((f & PG_huge) !== 0) {
      // 2.6.24 hugetlb pages have no rmap: references only (PMD entries, page cache, pins)
      const want = s.mapped[pfn]! + s.cached[pfn]! + p.pinned[pfn]! + held;
      if (p.count[pfn] !== want) out.add('refcount', `huge page ${pfn}: refcount ${p.count[pfn]!}, expected ${want}`);
      if (want === 0) out.add('leak', `huge page ${pfn} is allocated but unused`);
      continue;
    }
    const mapped = s.mapped[pfn]!;
    const swapcache = (f & PG_swapcache) !== 0 ? 1 : 0;
    const want = mapped + s.cached[pfn]! + swapcache + p.pinned[pfn]! + held;
    if (p.mapcount[pfn] !== mapped) out.add('mapcount', `frame ${pfn}: mapcount ${p.mapcount[pfn]!} but ${mapped} PTEs map it`);
    if (p.count[pfn] !== want) {
      const feat = held !== 0 ? ` + ${held} feature references` : '';
      out.add('refcount', `frame ${pfn}: refcount ${p.count[pfn]!}, expected ${want} (${mapped} mappings + ${s.cached[pfn]!} page cache + ${swapcache} swap cache + ${p.pinned[pfn]!} pins${feat})`);
    }
    if (want === 0) out.add('leak', `frame ${pfn} is allocated but neither mapped, cached nor pinned`);
    if ((f & PG_lru) === 0 && (mapped > 0 || swapcache > 0)) out.add('lru', `frame ${pfn} is in use but on no LRU list`);
    if ((f & PG_lru) !== 0) lruPages++;
    if (mapped > 0) {
      if ((f & PG_anon) !== 0) anonMapped++;
      else fileMapped++;
    }
  }
  if (reach.size !== k.ptLive[0] + k.ptLive[1] + k.ptLive[2] + k.ptLive[3]) {
    out.add('pgtable', `${reach.size} tables reachable but ${k.ptLive.join('/')} (pte/pmd/pud/pgd) counted`);
  }
  const vm = k.vm;
  if (vm.nr_page_table_pages !== k.ptLive[0]) out.add('vmstat', `nr_page_table_pages ${vm.nr_page_table_pages} but ${k.ptLive[0]} PTE tables live`);
  if (vm.nr_anon_pages !== anonMapped) out.add('vmstat', `nr_anon_pages ${vm.nr_anon_pages} but ${anonMapped} anonymous pages mapped`);
  if (vm.nr_mapped !== fileMapped) out.add('vmstat', `nr_mapped ${vm.nr_mapped} but ${fileMapped} file pages mapped`);
  if (vm.nr_file_pages !== cachePages) out.add('vmstat', `nr_file_pages ${vm.nr_file_pages} but ${cachePages} pages cached`);
  for (const g of k.gathers) if (g.active || g.nr !== 0) out.add('gather', 'an mmu_gather is still active at an operation boundary');
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
  return out.list;
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
