/**
 * Unmapping: `unmap_vmas`, `unmap_page_range` and the zap walkers.
 *
 * `unmap_vmas` works in blocks of `ZAP_BLOCK_SIZE` (8 pages with PREEMPT,
 * 1024 without; a budget where a present PTE costs a page and an empty one
 * a byte) and ends the gather (flush + free) after each block so it can
 * reschedule, then starts a new one. The block size is the gather's answer
 * (the `tlbGather` seam's `blockSize`), and after each PTE table the walk
 * asks the gather whether to reschedule without ending the batch
 * (`tableDone`; never, for the per-CPU gather). Special VMAs (hugetlb) go
 * through the `specialVmaOps` seam; `vm_normal_page` is the
 * `vmNormalPage` seam. `unmap_vmas` is bracketed by the `rangeBegin` and
 * `rangeEnd` events.
 * @see mm/memory.c unmap_vmas, unmap_page_range, zap_pud_range, zap_pmd_range, zap_pte_range, zap_page_range
 * @module
 */
import {
  _PAGE_ACCESSED,
  _PAGE_DIRTY,
  _PAGE_FILE,
  LEVEL_PGD,
  LEVEL_PMD,
  LEVEL_PUD,
  PAGE_SIZE,
  PGDIR_SIZE,
  PMD_SIZE,
  PUD_SIZE,
  pgdAddrEnd,
  pgdIndex,
  pmdAddrEnd,
  pmdIndex,
  pteIndex,
  PTE_PRESENT_MASK,
  pudAddrEnd,
  pudIndex,
} from '../pgtable/entry.js';
import { PG_anon, PG_dirty } from '../mem/page.js';
import type { KGen } from '../sched/run.js';
import { ptlLockSlow } from '../sched/lock.js';
import type { Kernel } from '../kernel/kernel.js';
import { markPageAccessed } from './lru-cache.js';
import { pageRemoveRmap } from './page-ref.js';
import { freeSwapAndCache } from './swapfile.js';
import { baseTlbGather, FREE_PTE_NR, type MmuGather, tlbFinishMmuNow, tlbFlushMmuNow, tlbGatherMmu } from './tlb-gather.js';
import { baseVmNormalPage } from './fault.js';
import { type MmStruct, type Vma, VM_PFNMAP } from './types.js';
import { addRss } from './pt-share.js';

/**
 * `struct zap_details`: restricts a zap to the pages of one file range
 * (truncation and invalidation).
 */
export interface ZapDetails {
  /** Only pages of this mapping id (0: any page, `even_cows`). */
  checkMapping: number;
  /** The VMA is nonlinear: check each page's index. */
  nonlinear: boolean;
  /** First file page offset affected. */
  firstIndex: number;
  /** Last file page offset affected. */
  lastIndex: number;
}

/**
 * With `zap_details` (truncation, invalidation): true when the zap leaves
 * the page mapped. Invalidation keeps private (anonymous) pages; a
 * nonlinear VMA checks each page's index against the range.
 */
function zapKeeps(k: Kernel, details: ZapDetails, pfn: number): boolean {
  const pages = k.pages;
  if (details.checkMapping !== 0 && pages.mapping[pfn] !== details.checkMapping) return true;
  return details.nonlinear && (pages.index[pfn]! < details.firstIndex || pages.index[pfn]! > details.lastIndex);
}

/**
 * Truncating a nonlinear VMA leaves a file PTE where the page was not the
 * linear one (entry `b` of `a`, just cleared, mapped `pfn` at `va`).
 */
function leaveFilePte(k: Kernel, vma: Vma, a: Uint32Array, b: number, va: number, pfn: number): void {
  const index = k.pages.index[pfn]!;
  if (index !== (va - vma.vmStart) / PAGE_SIZE + vma.vmPgoff) {
    a[b] = _PAGE_FILE;
    a[b + 1] = index;
  }
}

/** Where {@link zapPtes} stopped in a PTE table and what it counted. */
interface ZapRun {
  /** Word offset of the next entry. */
  b: number;
  /** The zap budget left (`zap_work`). */
  work: number;
  /** Anonymous pages unmapped. */
  anonRss: number;
  /** File pages unmapped. */
  fileRss: number;
  /** PTEs cleared. */
  zapped: number;
}

/**
 * `zap_pte_range()`: clear the PTEs of [addr, end) in one PTE table,
 * handing pages to the gather. Stops early when the work budget
 * (`k.zapWork`) runs out; returns the address reached.
 * @see mm/memory.c zap_pte_range
 */
export function* zapPteRange(k: Kernel, tlb: MmuGather, vma: Vma, pte: number, addr: number, end: number, details: ZapDetails | null): KGen<number> {
  const mm = vma.mm;
  const a = k.tables.arr(pte);
  const b0 = k.tables.base(pte) + pteIndex(addr) * 2;
  const bEnd = b0 + ((end - addr) / PAGE_SIZE) * 2;
  const cpu = k.cpu;
  const run: ZapRun = { b: b0, work: cpu.zapWork, anonRss: 0, fileRss: 0, zapped: 0 };
  // a static key: with the baseline seam, RAM pfns of a non-PFNMAP VMA skip the call
  const fast = k.seams.vmNormalPage === baseVmNormalPage && (vma.vmFlags & VM_PFNMAP) === 0;
  // pte_offset_map_lock
  if (!k.ptl.tryLock(k, pte)) yield* ptlLockSlow(k, k.ptl, pte);
  while (zapPtes(k, tlb, vma, fast, pte, a, b0, bEnd, addr, details, run, false)) {
    // tlb_remove_page flushes a full vector at once, with the PTE lock held
    yield* k.seams.tlbGather.flush(k, tlb);
    if (run.b === bEnd || run.work <= 0) break;
  }
  return zapPteRangeDone(k, mm, pte, addr, b0, run);
}

/**
 * The end of {@link zapPteRange}: `pte_unmap_unlock`, the budget left,
 * `add_mm_rss` and the counts; returns the address reached.
 */
function zapPteRangeDone(k: Kernel, mm: MmStruct, pte: number, addr: number, b0: number, run: ZapRun): number {
  k.ptl.unlock(k, pte);
  k.cpu.zapWork = run.work;
  // 0 - n, not -n: a -0 would make the mm's counters doubles (a new hidden class for every mm)
  addRss(k, mm, pte, 0 - run.anonRss, 0 - run.fileRss);
  k.vm.mmlab_zap_pte += run.zapped;
  k.charge(run.zapped * k.costs.zapPte);
  return addr + ((run.b - b0) / 2) * PAGE_SIZE;
}

/**
 * {@link zapPteRangeNow}'s record, reused: that path runs one table at a
 * time to its end (nothing in it yields, and this CPU's gather is held),
 * so the zap allocates nothing per table.
 */
const nowRun: ZapRun = { b: 0, work: 0, anonRss: 0, fileRss: 0, zapped: 0 };

/**
 * {@link zapPteRange} without a generator, where nothing can sleep or wait
 * ({@link unmapVmaNow}): a full vector is flushed by
 * {@link tlbFlushMmuNow}. Returns the address reached, or -1, having done
 * nothing, when the table's lock is taken (the caller goes on through
 * {@link zapPteRange}, which waits for it).
 * @see mm/memory.c zap_pte_range
 */
function zapPteRangeNow(k: Kernel, tlb: MmuGather, vma: Vma, pte: number, addr: number, end: number): number {
  // pte_offset_map_lock
  if (!k.ptl.tryLock(k, pte)) return -1;
  const a = k.tables.arr(pte);
  const b0 = k.tables.base(pte) + pteIndex(addr) * 2;
  const bEnd = b0 + ((end - addr) / PAGE_SIZE) * 2;
  const run = nowRun;
  run.b = b0;
  run.work = k.cpu.zapWork;
  run.anonRss = 0;
  run.fileRss = 0;
  run.zapped = 0;
  const fast = k.seams.vmNormalPage === baseVmNormalPage && (vma.vmFlags & VM_PFNMAP) === 0;
  while (zapPtes(k, tlb, vma, fast, pte, a, b0, bEnd, addr, null, run, true)) {
    tlbFlushMmuNow(k, tlb);
    if (run.b === bEnd || run.work <= 0) break;
  }
  return zapPteRangeDone(k, vma.mm, pte, addr, b0, run);
}

/**
 * The loop of {@link zapPteRange} over entries `run.b` … `bEnd` of `a`
 * (entry `b0` maps `addr`), without sleeping: stops at the end, when the
 * budget runs out, or right after a page that fills the gather, returning
 * true then (the caller flushes it and goes on). With `fast`, a pfn in RAM
 * is taken as `vm_normal_page`'s answer without the call. The loop reads
 * nothing of `vma` but in the cases that need it (host speed: optimized
 * code that reads a VMA is dropped when the last VMA object dies, as after
 * a munmap of a process's only mapping). With `fast`, no details and the
 * baseline gather (not in its one-CPU fast mode), {@link zapPtesQuick}
 * takes the entries it can first (with `flushNow`, flushing a full vector
 * itself); the rest of the table is done here.
 */
function zapPtes(k: Kernel, tlb: MmuGather, vma: Vma, fast: boolean, pte: number, a: Uint32Array, b0: number, bEnd: number, addr: number, details: ZapDetails | null, run: ZapRun, flushNow: boolean): boolean {
  const gather = k.seams.tlbGather;
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-boolean-literal-compare
  const quick = fast === true;
  // static keys: the baseline vm_normal_page and gather
  if (quick && details === null && gather === baseTlbGather && !tlb.fast) {
    const full = zapPtesQuick(k, tlb, a, b0, bEnd, addr, run, flushNow);
    if (full || run.b === bEnd || run.work <= 0) return full;
  }
  const normalPage = k.seams.vmNormalPage;
  const flags = k.pages.flags;
  // locals only in the loop (see PTE_PRESENT_MASK); integers as such (| 0)
  const nrFrames = k.pages.nrFrames | 0;
  const presentMask = PTE_PRESENT_MASK;
  const pageSize = PAGE_SIZE;
  let b = run.b;
  let work = run.work;
  let anonRss = run.anonRss;
  let fileRss = run.fileRss;
  let zapped = run.zapped;
  const nonlinear = details !== null && details.nonlinear;
  let full = false;
  do {
    const f = a[b]!;
    if (f === 0 && a[b + 1] === 0) {
      work--;
    } else {
      work -= pageSize;
      if ((f & presentMask) !== 0) {
        const v = a[b + 1]!;
        const va = addr + ((b - b0) / 2) * pageSize;
        const pfn = quick && v > 0 && v < nrFrames ? v : normalPage(k, vma, va, f, v);
        if (details !== null && pfn !== 0 && zapKeeps(k, details, pfn)) {
          b += 2;
          continue;
        }
        a[b] = 0;
        a[b + 1] = 0;
        if (nonlinear && pfn !== 0) leaveFilePte(k, vma, a, b, va, pfn);
        gather.removeTlbEntry(k, tlb, va);
        zapped++;
        if (pfn !== 0) {
          if ((flags[pfn]! & PG_anon) !== 0) {
            anonRss++;
          } else {
            if ((f & _PAGE_DIRTY) !== 0) flags[pfn]! |= PG_dirty;
            if ((f & _PAGE_ACCESSED) !== 0) markPageAccessed(k, pfn);
            fileRss++;
          }
          pageRemoveRmap(k, pfn);
          full = gather.removePage(k, tlb, pfn, va, pte);
        }
      } else if (details === null) {
        // with details (truncation, invalidation) swap and file entries are left
        if ((f & _PAGE_FILE) === 0) freeSwapAndCache(k, a[b + 1]!);
        a[b] = 0;
        a[b + 1] = 0;
      }
    }
    b += 2;
  } while (!full && b !== bEnd && work > 0);
  run.b = b;
  run.work = work;
  run.anonRss = anonRss;
  run.fileRss = fileRss;
  run.zapped = zapped;
  return full;
}

/**
 * {@link zapPtes} with every static key on, for the common entries: empty
 * ones and present PTEs of pages in RAM (anonymous, or a file's: its
 * dirty bit goes to `PG_dirty` and its young bit to `mark_page_accessed`,
 * as the general loop does); it stops before any other entry (the caller
 * goes on with it), as well as where {@link zapPtes} stops.
 * `page_remove_rmap` (`pageLine` included), `tlb_remove_tlb_entry` and
 * `tlb_remove_page` are inline on locals: the flush range covers the
 * first to the last entry cleared, the vector is written in turn, and the
 * gather and the `nr_anon_pages` and `nr_mapped` gauges are written back
 * ({@link noteGathered}) when the loop stops (nothing the loop calls
 * reads them) or flushes. A full vector stops the loop (the caller
 * flushes it), or with `flushNow` (a path that cannot be made to wait) is
 * flushed here by {@link tlbFlushMmuNow}, as `tlb_remove_page` calls
 * `tlb_flush_mmu`, and the loop goes on.
 * @see mm/memory.c zap_pte_range; mm/rmap.c page_remove_rmap; mm/swap.c mark_page_accessed; include/asm-generic/tlb.h tlb_remove_tlb_entry, tlb_remove_page, tlb_flush_mmu
 */
function zapPtesQuick(k: Kernel, tlb: MmuGather, a: Uint32Array, b0: number, bEnd: number, addr: number, run: ZapRun, flushNow: boolean): boolean {
  const pages = k.pages;
  // flags and the map count through PageArrays.words, at their offsets (integers as such: | 0)
  const w = pages.words;
  const oFlags = pages.wFlags | 0;
  const oMapcount = pages.wMapcount | 0;
  const lineCpu = pages.lineCpu;
  const line = (k.cpu.id + 1) | 0;
  const vec = tlb.pages;
  // locals only in the loop (see PTE_PRESENT_MASK); integers as such (| 0)
  const nrFrames = pages.nrFrames | 0;
  const end = bEnd | 0;
  const vecMax = FREE_PTE_NR | 0;
  const presentMask = PTE_PRESENT_MASK;
  const pageSize = PAGE_SIZE;
  const anon = PG_anon;
  const dirtyBit = _PAGE_DIRTY;
  const youngBit = _PAGE_ACCESSED;
  const pageDirty = PG_dirty;
  let nr = tlb.nr;
  let b = run.b;
  let work = run.work;
  // since the last write-back: the vector's first new entry (every PTE cleared adds one), file
  // pages unmapped, and anonymous and file pages still mapped elsewhere (rare: nothing is
  // counted per page of an anonymous munmap, which keeps the loop's live values few)
  let seg = nr;
  let file = 0;
  let kept = 0;
  let keptFile = 0;
  // entries of the first and the last PTE cleared, -1: none
  let firstB = -1;
  let lastB = -1;
  let full = false;
  do {
    const f = a[b]!;
    const v = a[b + 1]!;
    if (f === 0 && v === 0) {
      work--;
    } else {
      if ((f & presentMask) === 0 || v <= 0 || v >= nrFrames) break;
      work -= pageSize;
      a[b] = 0;
      a[b + 1] = 0;
      if (firstB < 0) firstB = b;
      lastB = b;
      const isAnon = (w[oFlags + v]! & anon) !== 0;
      if (!isAnon) {
        if ((f & dirtyBit) !== 0) w[oFlags + v]! |= pageDirty;
        if ((f & youngBit) !== 0) markPageAccessed(k, v);
        file++;
      }
      // pageLine inline: the count's line comes here
      const prevLine = lineCpu[v]!;
      if (prevLine !== line) {
        lineCpu[v] = line;
        if (prevLine !== 0) k.charge(k.cpus[prevLine - 1]!.socket === k.cpu.socket ? k.costs.cacheLineSocket : k.costs.cacheLineRemote);
      }
      const m = --w[oMapcount + v]!;
      if (m !== 0) {
        if (m < 0) throw new Error(`page_remove_rmap of pfn ${v} with mapcount 0`);
        if (isAnon) kept++;
        else keptFile++;
      }
      vec[nr++] = v;
      if (nr >= vecMax) {
        if (!flushNow) {
          b += 2;
          full = true;
          break;
        }
        // tlb_remove_page's tlb_flush_mmu, with the PTE lock held; then on with an empty vector
        noteGathered(k, tlb, run, addr, b0, firstB, lastB, seg, nr, file, kept, keptFile);
        tlbFlushMmuNow(k, tlb);
        nr = tlb.nr;
        seg = nr;
        firstB = -1;
        file = 0;
        kept = 0;
        keptFile = 0;
      }
    }
    b += 2;
  } while (b !== end && work > 0);
  if (firstB >= 0) noteGathered(k, tlb, run, addr, b0, firstB, lastB, seg, nr, file, kept, keptFile);
  run.b = b;
  run.work = work;
  return full;
}

/**
 * What {@link zapPtesQuick}'s `tlb_remove_tlb_entry`, `tlb_remove_page`
 * and `page_remove_rmap` did page by page since the last write-back,
 * written back: the flush range covers entries `firstB` to `lastB` (entry
 * `b0` maps `addr`); the vector holds `nr` pages, those from `seg` on
 * newly unmapped, `file` of them a file's; of the rest (anonymous) all
 * but `kept`, and of the file pages all but `keptFile`, lost their last
 * mapping (`nr_anon_pages`, `nr_mapped`); the counts go to `run`.
 */
function noteGathered(k: Kernel, tlb: MmuGather, run: ZapRun, addr: number, b0: number, firstB: number, lastB: number, seg: number, nr: number, file: number, kept: number, keptFile: number): void {
  tlb.needFlush = true;
  const start = addr + ((firstB - b0) / 2) * PAGE_SIZE;
  const end = addr + ((lastB - b0) / 2) * PAGE_SIZE + PAGE_SIZE;
  if (start < tlb.start) tlb.start = start;
  if (end > tlb.end) tlb.end = end;
  tlb.nr = nr;
  const unmapped = nr - seg;
  k.vm.nr_anon_pages -= unmapped - file - kept;
  k.vm.nr_mapped -= file - keptFile;
  run.anonRss += unmapped - file;
  run.fileRss += file;
  run.zapped += unmapped;
}

function* zapPmdRange(k: Kernel, tlb: MmuGather, vma: Vma, pmd: number, addr: number, end: number, details: ZapDetails | null): KGen<number> {
  const a = k.tables.arr(pmd);
  const base = k.tables.base(pmd);
  do {
    const next = pmdAddrEnd(addr, end);
    const b = base + pmdIndex(addr) * 2;
    if (a[b] === 0) {
      k.cpu.zapWork--;
      addr = next;
      continue;
    }
    addr = yield* zapPteRange(k, tlb, vma, a[b + 1]!, addr, next, details);
    // a preemptible gather may reschedule here without ending the batch
    if (k.seams.tlbGather.tableDone(k, tlb)) yield* k.condResched();
  } while (addr !== end && k.cpu.zapWork > 0);
  return addr;
}

function* zapPudRange(k: Kernel, tlb: MmuGather, vma: Vma, pud: number, addr: number, end: number, details: ZapDetails | null): KGen<number> {
  const a = k.tables.arr(pud);
  const base = k.tables.base(pud);
  do {
    const next = pudAddrEnd(addr, end);
    const b = base + pudIndex(addr) * 2;
    if (a[b] === 0) {
      k.cpu.zapWork--;
      addr = next;
      continue;
    }
    addr = yield* zapPmdRange(k, tlb, vma, a[b + 1]!, addr, next, details);
  } while (addr !== end && k.cpu.zapWork > 0);
  return addr;
}

/**
 * `unmap_page_range()`: zap [addr, end) of one VMA within the budget;
 * returns the address reached.
 * @see mm/memory.c unmap_page_range
 */
export function* unmapPageRange(k: Kernel, tlb: MmuGather, vma: Vma, addr: number, end: number, details: ZapDetails | null = null): KGen<number> {
  // without a mapping to check and without a nonlinear VMA, details change nothing: a full zap
  if (details !== null && details.checkMapping === 0 && !details.nonlinear) details = null;
  const mm = vma.mm;
  const a = k.tables.arr(mm.pgd);
  const base = k.tables.base(mm.pgd);
  do {
    const next = pgdAddrEnd(addr, end);
    const b = base + pgdIndex(addr) * 2;
    if (a[b] === 0) {
      k.cpu.zapWork--;
      addr = next;
      continue;
    }
    addr = yield* zapPudRange(k, tlb, vma, a[b + 1]!, addr, next, details);
  } while (addr !== end && k.cpu.zapWork > 0);
  return addr;
}

/**
 * `unmap_page_range()`'s walk (`zap_pud_range`, `zap_pmd_range`) of an
 * ordinary VMA without generators, in {@link zapCanRunNow}'s conditions,
 * within the budget: the entries over [addr, end) of `table`, an upper
 * table at `level` (the PGD, a PUD or a PMD table), one function for the
 * three levels. Returns the address reached: `end`, where the budget ran
 * out, or, with budget left, the start of a PTE table whose lock was taken
 * (nothing of it done; the generator walk goes on from there). The
 * baseline gather never reschedules between PTE tables (its `tableDone`
 * says no).
 * @see mm/memory.c unmap_page_range, zap_pud_range, zap_pmd_range
 */
function zapUpperNow(k: Kernel, tlb: MmuGather, vma: Vma, level: typeof LEVEL_PMD | typeof LEVEL_PUD | typeof LEVEL_PGD, table: number, addr: number, end: number): number {
  const cpu = k.cpu;
  const span = level === LEVEL_PMD ? PMD_SIZE : level === LEVEL_PUD ? PUD_SIZE : PGDIR_SIZE;
  const a = k.tables.arr(table);
  const base = k.tables.base(table);
  do {
    // pgd_addr_end / pud_addr_end / pmd_addr_end, and the entry's index
    const bound = (Math.floor(addr / span) + 1) * span;
    const next = bound < end ? bound : end;
    const b = base + ((addr / span) & 511) * 2;
    if (a[b] === 0) {
      cpu.zapWork--;
      addr = next;
      continue;
    }
    const reached = level === LEVEL_PMD ? zapPteRangeNow(k, tlb, vma, a[b + 1]!, addr, next) : zapUpperNow(k, tlb, vma, level === LEVEL_PGD ? LEVEL_PUD : LEVEL_PMD, a[b + 1]!, addr, next);
    // a PTE table's lock taken, here or below: stop before it
    if (reached < 0) return addr;
    if (reached !== next && cpu.zapWork > 0) return reached;
    addr = reached;
  } while (addr !== end && cpu.zapWork > 0);
  return addr;
}

/**
 * Whether {@link unmapVmas} may zap an ordinary VMA through
 * {@link unmapVmaNow}: sequential mode (no other CPU runs: `cond_resched`
 * is only a preemption point and every flush IPI is taken at once, so
 * nothing on the way waits), the baseline gather, and no `zap_details`.
 */
function zapCanRunNow(k: Kernel, details: ZapDetails | null): boolean {
  return !k.interleaving && details === null && k.seams.tlbGather === baseTlbGather;
}

/**
 * {@link unmapVmas}' block loop over [start, end) of one ordinary VMA
 * without generators, in {@link zapCanRunNow}'s conditions: each block is
 * zapped ({@link zapUpperNow} from the PGD), and when its budget is spent the
 * gather is finished ({@link tlbFinishMmuNow}), `cond_resched()` ends the
 * non-preemptible stretch, and this CPU's gather is begun again for the
 * next block, as the generator loop does. Returns `end`, or, with budget
 * left, where the walk met a PTE table whose lock was taken (the caller
 * goes on from there with the generators).
 * @see mm/memory.c unmap_vmas
 */
function unmapVmaNow(k: Kernel, tlb: MmuGather, vma: Vma, start: number, end: number): number {
  const cpu = k.cpu;
  const mm = tlb.mm!;
  const fullmm = tlb.fullmm;
  while (start !== end) {
    start = zapUpperNow(k, tlb, vma, LEVEL_PGD, vma.mm.pgd, start, end);
    if (cpu.zapWork > 0) return start;
    tlbFinishMmuNow(k, tlb);
    // cond_resched(): in sequential mode only the end of a non-preemptible stretch
    k.npBreak();
    // this CPU's gather again: nothing ran in between
    if (tlbGatherMmu(k, mm, fullmm) !== tlb) throw new Error(`unmap_vmas: the mmu_gather changed under cpu ${cpu.id}`);
    cpu.zapWork = baseTlbGather.blockSize(k, tlb);
  }
  return start;
}

/**
 * `unmap_vmas()`: unmap [startAddr, endAddr) of the VMAs from `vmas[0]`
 * on, in `ZAP_BLOCK_SIZE` blocks; between blocks the gather is finished
 * (flush, then free) and a new one begun, with a `cond_resched()` point.
 * A special VMA's `unmapPageRange` either does its whole range, charged
 * as a huge page range, or works within the block's budget and returns the
 * address it reached, as `unmap_page_range` does.
 * Returns the gather in use at the end (the caller finishes it).
 * @see mm/memory.c unmap_vmas
 */
export function* unmapVmas(k: Kernel, tlb: MmuGather, vmas: readonly Vma[], startAddr: number, endAddr: number, details: ZapDetails | null = null): KGen<MmuGather> {
  const fullmm = tlb.fullmm;
  const mm = tlb.mm!;
  const cpu = k.cpu;
  const block = k.seams.tlbGather.blockSize(k, tlb);
  cpu.zapWork = block;
  yield* k.seams.rangeBegin(k, mm, startAddr, endAddr, 'unmap');
  const now = zapCanRunNow(k, details);
  for (const vma of vmas) {
    if (vma.vmStart >= endAddr) break;
    let start = Math.max(vma.vmStart, startAddr);
    const end = Math.min(vma.vmEnd, endAddr);
    if (start >= end) continue;
    const special = k.seams.specialVmaOps(vma);
    while (start !== end) {
      if (special !== null) {
        const reached = yield* special.unmapPageRange(k, tlb, vma, start, end, details);
        if (typeof reached === 'number') {
          // it zapped within the budget, as unmap_page_range does
          if (reached <= start || reached > end) throw new Error(`${special.name}.unmapPageRange from 0x${start.toString(16)} to 0x${end.toString(16)} returned 0x${reached.toString(16)}`);
          start = reached;
        } else {
          // unmap_hugepage_range: the whole range, a huge page charged as a present PTE
          cpu.zapWork -= (end - start) / 512;
          start = end;
        }
      } else {
        if (now) {
          // whole blocks without generators; the rest (a PTE lock taken) through them
          start = unmapVmaNow(k, tlb, vma, start, end);
          if (start === end) break;
        }
        start = yield* unmapPageRange(k, tlb, vma, start, end, details);
      }
      if (cpu.zapWork > 0) {
        // BUG_ON(start != end)
        if (start !== end) throw new Error(`unmap_vmas: zap of 0x${vma.vmStart.toString(16)} stopped at 0x${start.toString(16)} with budget left`);
        break;
      }
      yield* k.seams.tlbGather.finish(k, tlb);
      yield* k.condResched();
      tlb = k.seams.tlbGather.begin(k, mm, fullmm);
      cpu.zapWork = k.seams.tlbGather.blockSize(k, tlb);
    }
  }
  yield* k.seams.rangeEnd(k, mm, startAddr, endAddr, 'unmap');
  return tlb;
}
