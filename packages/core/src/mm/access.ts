/**
 * User accesses through the CPU: TLB lookup, hardware page walk, and the
 * x86-64 page-fault handler.
 * @see arch/x86/mm/fault_64.c do_page_fault
 * @module
 */
import { SIGBUS, SIGKILL, SIGSEGV } from '../errno.js';
import { _PAGE_ACCESSED, _PAGE_DIRTY, _PAGE_PRESENT, _PAGE_RW, _PAGE_USER, PAGE_SIZE } from '../pgtable/entry.js';
import { type Tlb, TLB_DIRTY, TLB_WRITE } from '../machine/tlb.js';
import type { Kernel } from '../kernel/kernel.js';
import { downRead, downReadFast } from '../sched/lock.js';
import type { KGen, KPath } from '../sched/run.js';
import { doFault, doLinearFaultCached, handleMmFault, VM_FAULT_MAJOR, VM_FAULT_OOM, VM_FAULT_SIGBUS } from './fault.js';
import { type TableWalk, WALK_BAD_PMD } from '../pgtable/store.js';
import { type MmStruct, type Vma, VM_EXEC, VM_GROWSDOWN, VM_READ, VM_WRITE } from './types.js';
import { findVma } from './vma.js';
import { baseSpecialVmaOps } from './hugetlb.js';
import { linearPageIndex } from './page-ref.js';
import { shmemCachedPage } from '../fs/shmem.js';

// The user-access path reads these module constants: optimized code checks
// an imported binding at every use, a module constant not at all.
const PAGE = PAGE_SIZE;
const PRESENT_USER = _PAGE_PRESENT | _PAGE_USER;
const RW = _PAGE_RW;
const ACCESSED = _PAGE_ACCESSED;
const DIRTY = _PAGE_DIRTY;
const T_WRITE = TLB_WRITE;
const T_DIRTY = TLB_DIRTY;
const FAULT_OOM = VM_FAULT_OOM;
const FAULT_SIGBUS = VM_FAULT_SIGBUS;
const FAULT_MAJOR = VM_FAULT_MAJOR;
const GROWSDOWN = VM_GROWSDOWN;
const WRITE = VM_WRITE;
const READ_EXEC_WRITE = VM_READ | VM_EXEC | VM_WRITE;

/**
 * `do_page_fault()`: find the VMA, check the access against its flags,
 * grow a stack VMA downwards, and call `handle_mm_fault`. Returns 0 or
 * the signal to deliver (SIGSEGV, SIGBUS, SIGKILL for OOM).
 *
 * Not a generator: with mmap_sem free and a `handle_mm_fault` that
 * finished without reaching a scheduling point, the fault is done when it
 * returns; otherwise it returns the generator of the rest (a
 * {@link KPath}), which releases mmap_sem and leaves the kernel at its end.
 * `pteHint` is the PTE table the MMU's walk for this access found (0:
 * none; -1: not known): when mmap_sem was taken without waiting nothing
 * can have changed the tables since, so `handle_mm_fault` starts from it
 * instead of walking again (the host skips a walk; the simulated kernel
 * does the same work either way).
 * @see arch/x86/mm/fault_64.c do_page_fault
 */
export function doPageFault(k: Kernel, mm: MmStruct, address: number, write: boolean, pteHint = -1): KPath<number> {
  k.charge(k.costs.faultEntry);
  const t0 = k.cpu.clock;
  k.kernelEnter();
  if (!downReadFast(k, mm.mmapSem)) return doPageFaultSlow(k, mm, address, write, t0);
  let pending: KGen<number> | null = null;
  try {
    const vma = faultVma(k, mm, address, write);
    if (typeof vma === 'number') return vma;
    const fault = handleMmFault(k, mm, vma, address, write, pteHint);
    if (typeof fault === 'number') return faultSignal(k, fault);
    pending = fault;
    return doPageFaultRest(k, mm, write, t0, fault);
  } finally {
    if (pending === null) doPageFaultExit(k, mm, write, t0);
  }
}

/**
 * {@link doPageFault} as a generator, for callers that run it as a kernel path of its own.
 * @see arch/x86/mm/fault_64.c do_page_fault
 */
export function* doPageFaultPath(k: Kernel, mm: MmStruct, address: number, write: boolean): KGen<number> {
  const r = doPageFault(k, mm, address, write);
  return typeof r === 'number' ? r : yield* r;
}

/** {@link doPageFault} when mmap_sem is not free: wait for it, then fault. */
function* doPageFaultSlow(k: Kernel, mm: MmStruct, address: number, write: boolean, t0: number): KGen<number> {
  yield* downRead(k, mm.mmapSem);
  try {
    const vma = faultVma(k, mm, address, write);
    if (typeof vma === 'number') return vma;
    const fault = handleMmFault(k, mm, vma, address, write);
    return faultSignal(k, typeof fault === 'number' ? fault : yield* fault);
  } finally {
    doPageFaultExit(k, mm, write, t0);
  }
}

/** {@link doPageFault} when `handle_mm_fault` has to go on as `fault`. */
function* doPageFaultRest(k: Kernel, mm: MmStruct, write: boolean, t0: number, fault: KGen<number>): KGen<number> {
  try {
    return faultSignal(k, yield* fault);
  } finally {
    doPageFaultExit(k, mm, write, t0);
  }
}

/**
 * The VMA a fault at `address` resolves in, with the access checked and a
 * stack grown down to it; or the signal (SIGSEGV) of a bad area.
 * @see arch/x86/mm/fault_64.c do_page_fault (from `find_vma` to `good_area`'s checks)
 */
function faultVma(k: Kernel, mm: MmStruct, address: number, write: boolean): Vma | number {
  const vma = findVma(mm, address);
  if (vma === null) return badArea(k);
  if (vma.vmStart > address && !expandStack(mm, vma, address)) return badArea(k);
  if (write) {
    if ((vma.vmFlags & WRITE) === 0) return badArea(k);
  } else if ((vma.vmFlags & READ_EXEC_WRITE) === 0) {
    return badArea(k);
  }
  return vma;
}

/**
 * A fault below VMA `vma` (which starts above `address`): grow it down to
 * `address` if it is a stack and the access is close enough to it.
 * Returns false for a bad area. Out of line, so the common fault path
 * stays small enough for the host's compiler to inline.
 * @see arch/x86/mm/fault_64.c do_page_fault (its VM_GROWSDOWN part); mm/mmap.c expand_stack, acct_stack_growth
 */
function expandStack(mm: MmStruct, vma: Vma, address: number): boolean {
  if ((vma.vmFlags & GROWSDOWN) === 0) return false;
  // "just enough access below the stack pointer": the model takes the
  // stack's lowest page as the stack pointer
  if (address + 65536 + 32 * 8 < vma.vmStart) return false;
  // expand_stack / acct_stack_growth: RLIMIT_STACK (8 MiB) bounds the VMA
  const start = Math.floor(address / PAGE_SIZE) * PAGE_SIZE;
  if (vma.vmEnd - start > RLIMIT_STACK) return false;
  const grow = (vma.vmStart - start) / PAGE_SIZE;
  vma.vmStart = start;
  vma.vmPgoff -= grow;
  mm.totalVm += grow;
  return true;
}

/** The signal `handle_mm_fault`'s `VM_FAULT_*` answer `fault` asks for (0 for none). */
function faultSignal(k: Kernel, fault: number): number {
  if ((fault & FAULT_OOM) !== 0) return SIGKILL;
  if ((fault & FAULT_SIGBUS) !== 0) {
    k.vm.mmlab_sigbus++;
    return SIGBUS;
  }
  if ((fault & FAULT_MAJOR) !== 0) k.majFlt++;
  return 0;
}

/** The end of every {@link doPageFault}: `up_read(mmap_sem)`, back to user mode. */
function doPageFaultExit(k: Kernel, mm: MmStruct, write: boolean, t0: number): void {
  mm.mmapSem.upRead(k);
  k.kernelExit();
  k.traceSlice('fault', write ? 'page fault (write)' : 'page fault (read)', t0);
}

/** The default `RLIMIT_STACK`: 8 MiB. */
export const RLIMIT_STACK = 8 * 1024 * 1024;

function badArea(k: Kernel): number {
  k.vm.mmlab_sigsegv++;
  return SIGSEGV;
}

/**
 * What the CPU does for one user access of the page containing `address`,
 * without faulting: a TLB hit, or a hardware walk that fills the TLB and
 * sets the accessed (and on a write, dirty) bit. Returns the frame
 * accessed, or 0 when the access needs a page fault. A hit through an
 * entry whose frame was freed (or freed and reused) since the entry was
 * filled is reported as a violation: the bug a missing or late TLB flush
 * causes. `walked`: the last walk (left in `walk`) is known to end where
 * this one would (the retry right after a fault that set that very PTE),
 * so a miss takes its entry without walking the upper levels again; the
 * simulated walk is charged and counted all the same.
 * @see include/asm-x86/pgtable_64.h pte_mkyoung, pte_mkdirty (the accessed and dirty bits the MMU sets on a TLB fill)
 */
export function userAccessFast(k: Kernel, mm: MmStruct, address: number, write: boolean, walked = false): number {
  const cpu = k.cpu;
  const tlb = cpu.tlb;
  const vpn = Math.floor(address / PAGE);
  const e = tlb.lookup(mm.id, vpn);
  if (e >= 0) {
    const perm = tlb.perm[e]!;
    if (!write || (perm & T_WRITE) !== 0) {
      k.charge(k.costs.tlbHit);
      const pfn = tlb.pfn[e]!;
      if (pfn < k.pages.nrFrames && k.pages.gen[pfn] !== tlb.gen[e]) staleTlbEntry(k, address, pfn);
      if (write && (perm & T_DIRTY) === 0) {
        // first write through a clean entry: the CPU sets the PTE's dirty bit
        if (hwWalk(k, mm, address)) walk.a![walk.b] = walk.a![walk.b]! | DIRTY | ACCESSED;
        tlb.perm[e] = perm | T_DIRTY;
      }
      return pfn;
    }
    // a write through a read-only entry faults; the CPU drops the entry
    tlb.flushOne(mm.id, vpn);
  }
  // a translation found without a walk (a segment-keyed TLB), else the hardware page walk
  const found = k.seams.tlbMiss(k, mm, address, write);
  if (found !== 0) return found;
  k.vm.mmlab_tlb_miss++;
  k.charge(k.costs.tlbMissWalk);
  if (walked || hwWalk(k, mm, address)) {
    const a = walk.a!;
    const b = walk.b;
    const f = a[b]!;
    if ((f & PRESENT_USER) === PRESENT_USER && (!write || (f & RW) !== 0)) {
      const nf = f | ACCESSED | (write ? DIRTY : 0);
      a[b] = nf;
      const pfn = a[b + 1]! + walk.offset;
      const gen = pfn < k.pages.nrFrames ? k.pages.gen[pfn]! : 0;
      tlb.fill(mm.id, vpn, pfn, ((nf & RW) !== 0 ? T_WRITE : 0) | ((nf & DIRTY) !== 0 ? T_DIRTY : 0), gen);
      return pfn;
    }
  }
  return 0;
}

/** A TLB hit through an entry to frame `pfn`, freed since the entry was filled: report it (out of line, as every cold path of the access). */
function staleTlbEntry(k: Kernel, address: number, pfn: number): void {
  k.reportViolation('tlb', `cpu ${k.cpu.id}: access at 0x${address.toString(16)} through a TLB entry to frame ${pfn}, freed since the entry was filled`);
}

/**
 * One user access of the page containing `address`: {@link userAccessFast},
 * else a page fault and a retry. Returns the frame accessed (≥ 1) or the
 * negated signal number; or, when a fault has to go on as a kernel path,
 * the generator of the rest (a {@link KPath}).
 *
 * `follows` (`userTouch`'s run of pages in address order): {@link
 * walkFollows} and {@link mayFollowWalks} said `walk` holds the PTE of the
 * page before `address`, in the same PTE table; the walk for `address`
 * then ends at the next entry of that table, so a TLB miss takes its PTE
 * from there instead of walking PGD, PUD and PMD again. A host shortcut
 * only: the TLB lookup, `tlbMiss` seam, accessed and dirty bits, TLB fill,
 * charges and counts are {@link userAccessFast}'s as for any access, the
 * simulated walk charged and counted all the same (the hardware walker
 * walks every level; its paging-structure caches would skip the upper
 * ones). Exact because nothing between the two accesses can have changed
 * an upper level or freed that table: when the page before faulted, the
 * walk followed is its retry's, made after the fault (a fresh walk, or the
 * PTE the fault set, as `update_mmu_cache` notes it); a fault that went on
 * as a kernel path, during which others may have run, leaves no walk to
 * follow; no other CPU runs between two pages (not interleaving); and the
 * baseline `tlbMiss` changes nothing.
 * @see arch/x86/mm/fault_64.c do_page_fault (taken when the MMU's walk finds no usable entry); include/asm-x86/pgtable_64.h pte_offset_map
 */
export function userAccessPage(k: Kernel, mm: MmStruct, address: number, write: boolean, follows = false): KPath<number> {
  let walked = follows;
  if (follows) walk.b += 2;
  walk.va = follows ? address : -1;
  for (let attempt = 0; attempt < MAX_FAULT_RETRIES; attempt++) {
    const pfn = userAccessFast(k, mm, address, write, walked);
    if (pfn !== 0) return pfn;
    const tlb = k.cpu.tlb;
    tlb.setPte = -1;
    const sig = doPageFault(k, mm, address, write, walk.pte);
    if (typeof sig !== 'number') return userAccessPageRest(k, mm, address, write, sig, attempt);
    if (sig !== 0) return -sig;
    // the fault set the very PTE the walk ended at (update_mmu_cache's note): the retry's walk would end there again
    walked = walk.pte > 0 && tlb.setPte === walk.pte && tlb.setArr === walk.a && tlb.setIdx === walk.b;
  }
  return retriesExhausted(address);
}

/**
 * After {@link userAccessPage} at `address` answered a frame: whether `walk`
 * holds the PTE of `address` (a walk for it in this access, or the run's
 * own step) and the next page's PTE is in the same table — so the
 * access of the next page may follow it (`userAccessPage`'s `follows`), if
 * {@link mayFollowWalks}.
 * @see include/asm-x86/pgtable_64.h pte_offset_map (the next entry of the same PTE table)
 */
export function walkFollows(address: number): boolean {
  return walk.va === address && walk.pte > 0 && (Math.floor(address / PAGE) & 511) !== 511;
}

/**
 * The accesses a touch makes of the pages from `address` on (up to `end`
 * and the end of the PTE table; a read that no TLB entry of the mm maps
 * goes on into the next PTE tables the walk finds), when `walk` holds the PTE of the page
 * before `address` in that table and {@link mayFollowWalks} (no checker,
 * so no oracle or TLB marks either): each what {@link userAccessPage}
 * with `follows` does — TLB lookup, a hit's charge and stale-entry check
 * and its first write's dirty bit, or a write through a read-only entry
 * dropping it, a miss's count and walk charge, the accessed and dirty
 * bits, the TLB fill (its victim way as {@link Tlb.fill} picks it) —
 * stopping before the first page that would fault, whose access (and
 * every later one) is left to `userAccessPage`. Returns the pages done;
 * `walk` then holds the last one's PTE, as after `userAccessPage`. A
 * write's frames go to `pfns` (its data tokens; room for a PTE table's).
 *
 * A host shortcut with the same simulated results: loops on locals, the
 * clock and busy time summed page by page in the same order, the miss
 * count added once. When no entry of `mm` maps a page of the run at its
 * start ({@link Tlb.mayHold}), every lookup misses (pages distinct and
 * ascending: a fill of one page creates no entry of a later one), and
 * the run looks none up (`runWalks`, then `Tlb.fillRun`).
 * @see include/asm-x86/pgtable_64.h pte_offset_map, pte_mkyoung, pte_mkdirty (the next entries of one PTE table, the bits the MMU sets on a TLB fill); arch/x86/mm/fault_64.c do_page_fault (where the run stops)
 */
export function userAccessRun(k: Kernel, mm: MmStruct, address: number, end: number, write: boolean, pfns: Int32Array): number {
  const a = walk.a!;
  const b = walk.b + 2;
  const need = write ? PRESENT_USER | RW : PRESENT_USER;
  // a run whose first PTE would fault leaves it to userAccessPage at once (the faulting touch's common case)
  if ((a[b]! & need) !== need) return 0;
  const tlb = k.cpu.tlb;
  const id = mm.id;
  const vpn0 = Math.floor(address / PAGE);
  const pages = Math.ceil((end - address) / PAGE);
  const n = Math.min(pages, 512 - (vpn0 & 511));
  // reads go on into the next PTE tables while no entry of mm maps a page of the rest of the touch
  const reach = write ? n : pages;
  if (!tlb.mayHold(id, vpn0, vpn0 + reach)) {
    if (reach > n) return readsAcross(k, mm, vpn0, pages, a, b);
  } else if (reach === n || tlb.mayHold(id, vpn0, vpn0 + n)) {
    return runDone(b, address, runLookups(k, id, vpn0, n, write, a, b, pfns));
  }
  const done = runWalks(k, n, write, a, b, write ? pfns : null);
  fillFromPtes(k, id, vpn0, done, a, b);
  return runDone(b, address, done);
}

/** The end of a {@link userAccessRun} of `done` pages from `address`, the first one's PTE at `walk.a[b]`: `walk` left at the last one's. */
function runDone(b: number, address: number, done: number): number {
  if (done > 0) {
    walk.b = b + 2 * (done - 1);
    walk.va = address + (done - 1) * PAGE;
  }
  return done;
}

/**
 * {@link userAccessRun} of `n` pages from `vpn0`, PTEs from `a[b]`, when
 * an entry of the mm may map one of them: per page the lookup, then a
 * hit's work ({@link runHit}) or a miss's (the walk's charge, the bits,
 * the fill). Returns the pages done.
 */
function runLookups(k: Kernel, id: number, vpn0: number, n: number, write: boolean, a: Uint32Array, b: number, pfns: Int32Array): number {
  const cpu = k.cpu;
  const tlb = cpu.tlb;
  const need = write ? PRESENT_USER | RW : PRESENT_USER;
  const bits = write ? ACCESSED | DIRTY : ACCESSED;
  const hitNs = k.costs.tlbHit;
  const missNs = k.costs.tlbMissWalk;
  let busy = cpu.busyNs;
  let clock = cpu.clock;
  let i = 0;
  for (let e = b; i < n; i++, e += 2) {
    const vpn = vpn0 + i;
    let pfn = runHit(k, tlb, id, vpn, write, a, e);
    if (pfn >= 0) {
      busy += hitNs;
      clock += hitNs;
    } else {
      const f = a[e]!;
      if ((f & need) !== need) break;
      // a write through a read-only entry: the CPU dropped it
      if (pfn === RO_ENTRY) tlb.flushOne(id, vpn);
      k.vm.mmlab_tlb_miss++;
      busy += missNs;
      clock += missNs;
      a[e] = f | bits;
      pfn = runFill(k, tlb, id, vpn, a, e);
    }
    pfns[i] = pfn;
  }
  cpu.busyNs = busy;
  cpu.clock = clock;
  return i;
}

/**
 * The walks of {@link userAccessRun}'s accesses of up to `n` pages, PTEs
 * from `a[b]`, when no TLB entry maps one of them (every access a miss):
 * the walk's charge and count and the accessed (and dirty) bits, up to the
 * first PTE that would fault; a write's frames go to `pfns`. The TLB
 * fills are left to the caller ({@link fillFromPtes}). Returns the pages
 * done.
 */
function runWalks(k: Kernel, n: number, write: boolean, a: Uint32Array, b: number, pfns: Int32Array | null): number {
  const cpu = k.cpu;
  const need = write ? PRESENT_USER | RW : PRESENT_USER;
  const bits = write ? ACCESSED | DIRTY : ACCESSED;
  const missNs = k.costs.tlbMissWalk;
  let busy = cpu.busyNs;
  let clock = cpu.clock;
  let done = 0;
  for (let e = b; done < n; done++, e += 2) {
    const f = a[e]!;
    if ((f & need) !== need) break;
    busy += missNs;
    clock += missNs;
    a[e] = f | bits;
    if (pfns !== null) pfns[done] = a[e + 1]!;
  }
  cpu.busyNs = busy;
  cpu.clock = clock;
  k.vm.mmlab_tlb_miss += done;
  return done;
}

/**
 * The TLB fills of `count` pages from `vpn` that missed, in page order,
 * from their PTEs at `a[e]` on (as the walks left them): with every entry
 * valid, the fills that `entries` later ones of these overwrite leave only
 * their sets' round-robin steps ({@link Tlb.skipFills}); the rest go
 * through {@link Tlb.fillRun}, their frames and permissions read from the
 * PTEs.
 */
function fillFromPtes(k: Kernel, id: number, vpn: number, count: number, a: Uint32Array, e: number): void {
  const tlb = k.cpu.tlb;
  let skip = 0;
  if (count > tlb.entries && tlb.valid === tlb.entries && tlb.touched === null) {
    skip = count - tlb.entries;
    tlb.skipFills(vpn, skip);
  }
  const kept = count - skip;
  const pfns = runFrames;
  const perms = runPerms;
  for (let i = 0, x = e + 2 * skip; i < kept; i++, x += 2) {
    const f = a[x]!;
    pfns[i] = a[x + 1]!;
    perms[i] = ((f & RW) !== 0 ? T_WRITE : 0) | ((f & DIRTY) !== 0 ? T_DIRTY : 0);
  }
  tlb.fillRun(id, vpn + skip, kept, pfns, perms, k.pages.gen, k.pages.nrFrames);
}

/**
 * {@link userAccessRun} of a read of `pages` pages from `vpn0` (the first
 * PTE at `a[b]`) that no TLB entry of `mm` maps: table by table
 * ({@link runWalks}), going on at the next PTE table when a table's pages
 * are all done and the walk finds the next one (as the page after would:
 * {@link hwWalk} without its reports, which a walk that fails leaves to
 * `userAccessPage`). Each table's fills wait for the next table's walks:
 * when those are `entries` or more and every entry is valid, they
 * overwrite every fill of the table before, which then leaves only its
 * sets' round-robin steps ({@link Tlb.skipFills}). Returns the pages
 * done, `walk` left at the last one's PTE.
 */
function readsAcross(k: Kernel, mm: MmStruct, vpn0: number, pages: number, a: Uint32Array, b: number): number {
  const tlb = k.cpu.tlb;
  const id = mm.id;
  let arr = a;
  let e = b;
  let pte = walk.pte;
  let vpn = vpn0;
  let done = 0;
  // the table before's fills, waiting: its pages and PTEs
  let waiting = 0;
  let waitArr = a;
  let waitE = b;
  for (;;) {
    const n = Math.min(pages - done, 512 - (vpn & 511));
    const m = runWalks(k, n, false, arr, e, null);
    if (waiting > 0) {
      if (m >= tlb.entries && tlb.valid === tlb.entries && tlb.touched === null) tlb.skipFills(vpn - waiting, waiting);
      else fillFromPtes(k, id, vpn - waiting, waiting, waitArr, waitE);
    }
    if (m > 0) {
      walk.a = arr;
      walk.b = e + 2 * (m - 1);
      walk.pte = pte;
      walk.va = (vpn + m - 1) * PAGE;
    }
    done += m;
    if (m < n || done === pages || k.tables.walkLeaf(mm.pgd, (vpn + n) * PAGE, nextWalk) <= 0 || nextWalk.pte <= 0) {
      fillFromPtes(k, id, vpn, m, arr, e);
      return done;
    }
    waiting = m;
    waitArr = arr;
    waitE = e;
    arr = nextWalk.a!;
    e = nextWalk.b;
    pte = nextWalk.pte;
    vpn += n;
  }
}

/**
 * The accesses a read touch makes of the pages from `address` on (up to
 * `end`, the end of the VMA and the end of the PTE table) whose PTEs are
 * empty in a tmpfs mapping and whose pages are in the page cache, when
 * `walk` holds the PTE of the page before `address` in that table and
 * {@link mayFollowWalks}, and no TLB entry of `mm` maps a page of the
 * run, and `find_vma`'s cache holds the VMA (called where
 * `userAccessRun` is: no oracle): each what
 * {@link userAccessPage} with `follows` does for such a
 * page — the TLB lookup that misses, the miss's count and walk charge
 * (the PTE is empty), {@link doPageFault} (its charge, kernel entry,
 * mmap_sem, the VMA, `handle_mm_fault` to `__do_fault` with shmem's
 * cached page: `doLinearFaultCached`, the exit), then the retry's miss
 * (count, charge, accessed bit) and its TLB fill — stopping before the
 * first page that would go otherwise (a PTE not empty, a page not
 * cached), whose access is left to `userAccessPage`. Returns the pages
 * done; `walk` then holds the last one's PTE, as after `userAccessPage`.
 *
 * A host shortcut with the same simulated results: the fault's modelled
 * steps called in their order, without the dispatch between them (the
 * TLB lookups, `tlbMiss`, `find_vma`, `handle_mm_fault`'s and
 * `handle_pte_fault`'s branches, `->fault`), which give the same answer
 * for every page of the run: taken only with the baseline `doFault` and
 * `specialVmaOps` (static keys), mmap_sem and every PTE lock free, and
 * preemption and interrupts on (so `down_read` and the PTE lock are taken
 * at once), in the sequential mode, where nothing else runs between the
 * pages. Every lookup misses (no entry maps a page of the run at its start,
 * and a fill of one page creates no entry of a later one), so the fills
 * wait for the end of the run (`fillFromPtes`, in page order), as
 * {@link userAccessRun}'s do.
 * @see arch/x86/mm/fault_64.c do_page_fault; mm/memory.c do_linear_fault, __do_fault; mm/shmem.c shmem_fault
 */
export function userFaultRun(k: Kernel, mm: MmStruct, address: number, end: number): number {
  const a = walk.a!;
  const b = walk.b + 2;
  // the faulting touch's common case: the next PTE is present (left to userAccessRun) or not empty
  if (a[b] !== 0 || a[b + 1] !== 0) return 0;
  const cpu = k.cpu;
  const sem = mm.mmapSem;
  if (cpu.preemptCount > 0 || cpu.irqsOff > 0 || sem.writer >= 0 || sem.writersWaiting > 0 || k.ptl.held > 0) return 0;
  if (k.seams.doFault !== doFault || k.seams.specialVmaOps !== baseSpecialVmaOps) return 0;
  // do_page_fault's find_vma, when its cache holds the VMA (the fault of the page before left it there): that VMA, and nothing changes
  const vma = mm.mmapCache;
  if (vma === null || vma.vmStart > address || vma.vmEnd <= address || vma.vmOps !== k.shmemOps) return 0;
  if ((vma.vmFlags & READ_EXEC_WRITE) === 0 || (vma.vmPageProt & PRESENT_USER) !== PRESENT_USER) return 0;
  // handle_mm_fault's branch: the generic path (the baseline answers the same for every page)
  if (k.seams.specialVmaOps(vma) !== null) return 0;
  const file = vma.vmFile!;
  let pgoff = linearPageIndex(vma, address);
  // the first process's faults, which allocate the pages, go one by one
  if (shmemCachedPage(file, pgoff) === 0) return 0;
  const tlb = cpu.tlb;
  const vpn0 = Math.floor(address / PAGE);
  const n = Math.min(Math.ceil((Math.min(end, vma.vmEnd) - address) / PAGE), 512 - (vpn0 & 511));
  if (tlb.mayHold(mm.id, vpn0, vpn0 + n)) return 0;
  const pte = walk.pte;
  const missNs = k.costs.tlbMissWalk;
  const entryNs = k.costs.faultEntry;
  const vm = k.vm;
  let done = 0;
  for (let e = b; done < n; done++, e += 2, pgoff++) {
    if (a[e] !== 0 || a[e + 1] !== 0) break;
    const page = shmemCachedPage(file, pgoff);
    if (page === 0) break;
    // the access: a TLB miss, the walk ends at the empty PTE
    vm.mmlab_tlb_miss++;
    k.charge(missNs);
    // do_page_fault
    k.charge(entryNs);
    const t0 = cpu.clock;
    k.kernelEnter();
    if (!downReadFast(k, sem)) throw new Error(`page fault at 0x${address.toString(16)}: mmap_sem taken meanwhile`);
    doLinearFaultCached(k, mm, vma, address + done * PAGE, pte, page);
    doPageFaultExit(k, mm, false, t0);
    // the retry: a TLB miss, the walk ends at the PTE the fault set
    vm.mmlab_tlb_miss++;
    k.charge(missNs);
    a[e] = a[e]! | ACCESSED;
  }
  if (done > 0) fillFromPtes(k, mm.id, vpn0, done, a, b);
  return runDone(b, address, done);
}

/** {@link readsAcross}'s walk to the next PTE table. */
const nextWalk: TableWalk = { a: null, b: 0, pte: -1 };

/** {@link fillFromPtes}'s frames and TLB entry permissions, page by page. */
const runFrames = new Int32Array(512);
const runPerms = new Uint8Array(512);

/** The TLB fill of a miss on page `vpn` (no entry), from its PTE at `a[e]` (accessed bit set): the frame. */
function runFill(k: Kernel, tlb: Tlb, id: number, vpn: number, a: Uint32Array, e: number): number {
  const f = a[e]!;
  const pfn = a[e + 1]!;
  tlb.fillAbsent(id, vpn, pfn, ((f & RW) !== 0 ? T_WRITE : 0) | ((f & DIRTY) !== 0 ? T_DIRTY : 0), pfn < k.pages.nrFrames ? k.pages.gen[pfn]! : 0);
  return pfn;
}

/** {@link runHit}'s answer for an entry a write may not use. */
const RO_ENTRY = -2;

/**
 * {@link userAccessRun}'s TLB lookup of page `vpn` (PTE at `a[e]`): on a
 * hit the access may use, its stale-entry check and a first write's dirty
 * bit (as {@link userAccessFast}), and the frame; `RO_ENTRY` for an
 * entry a write may not use (the access then drops it and walks); -1 on a
 * miss.
 */
function runHit(k: Kernel, tlb: Tlb, id: number, vpn: number, write: boolean, a: Uint32Array, e: number): number {
  const i = tlb.lookup(id, vpn);
  if (i < 0) return -1;
  const perm = tlb.perm[i]!;
  if (write && (perm & T_WRITE) === 0) return RO_ENTRY;
  const pfn = tlb.pfn[i]!;
  if (pfn < k.pages.nrFrames && k.pages.gen[pfn] !== tlb.gen[i]) staleTlbEntry(k, vpn * PAGE, pfn);
  if (write && (perm & T_DIRTY) === 0) {
    a[e] = a[e]! | DIRTY | ACCESSED;
    tlb.perm[i] = perm | T_DIRTY;
  }
  return pfn;
}

/**
 * Whether nothing needs each access of a run to walk every level: no other
 * CPU runs between the pages (sequential mode), no checker marks the
 * tables read, no feature's `tlbMiss` (which might change the tables).
 * @see include/asm-x86/pgtable_64.h pgd_offset, pud_offset, pmd_offset (the upper levels a run does not walk again)
 */
export function mayFollowWalks(k: Kernel): boolean {
  return !k.interleaving && k.tables.touched === null && k.seams.tlbMiss === baseTlbMiss;
}

/** {@link userAccessPage} whose fault of attempt `attempt` goes on as `fault`. */
function* userAccessPageRest(k: Kernel, mm: MmStruct, address: number, write: boolean, fault: KGen<number>, attempt: number): KGen<number> {
  let sig = yield* fault;
  for (;;) {
    if (sig !== 0) return -sig;
    if (++attempt >= MAX_FAULT_RETRIES) return retriesExhausted(address);
    const pfn = userAccessFast(k, mm, address, write);
    if (pfn !== 0) {
      walk.va = -1;
      return pfn;
    }
    const r = doPageFault(k, mm, address, write);
    sig = typeof r === 'number' ? r : yield* r;
  }
}

/** Faults one access may take before the model gives up (a fault that never makes progress is a model bug). */
const MAX_FAULT_RETRIES = 16;

function retriesExhausted(address: number): never {
  throw new Error(`user access at 0x${address.toString(16)} still faulting after retries`);
}

/**
 * Baseline `tlbMiss` seam: a TLB miss is resolved by walking the page
 * tables (the x86 hardware walker; ppc64's `hash_page()` with translations
 * of its own address space only), so nothing is found without a walk.
 * @see arch/powerpc/mm/hash_utils_64.c hash_page; arch/x86/mm/fault.c do_page_fault
 */
export function baseTlbMiss(): number {
  return 0;
}

/**
 * Where the hardware walk ended: the leaf entry's table words, offset, the
 * frame offset inside a huge page, and the PTE table it went through (0
 * when an upper level was empty or the PMD maps a huge page, as
 * `lookupPteTable` answers; -1 when the walk stopped at a frame that is no
 * longer a table); and `va`, the address whose leaf entry a successful
 * {@link hwWalk} or a {@link userAccessPage} that followed left there (-1:
 * none; a field, not a module `let`, which optimized code checks at every use).
 */
const walk: TableWalk & { offset: number; va: number } = { a: null, b: 0, offset: 0, pte: -1, va: -1 };

/**
 * The hardware page walk: find the leaf entry for `address` — a PTE, or a
 * PMD entry with `_PAGE_PSE` (a 2 MiB page) — and leave it in `walk`.
 * Returns false when an upper level is empty.
 * @see include/asm-x86/pgtable_64.h pgd_offset, pud_offset, pmd_offset, pte_offset_map (the walk the MMU does in hardware)
 */
export function hwWalk(k: Kernel, mm: MmStruct, address: number): boolean {
  // WALK_FOUND is positive, WALK_NONE 0
  const r = k.tables.walkLeaf(mm.pgd, address, walk);
  if (r > 0) {
    walk.offset = walk.pte === 0 ? Math.floor(address / PAGE) & 511 : 0;
    walk.va = address;
    return true;
  }
  walk.va = -1;
  if (r === 0) {
    walk.pte = 0;
    return false;
  }
  badWalk(k, address, r);
  return false;
}

/** The walk stopped (`walkLeaf`'s answer `r`) at a frame that is no longer a table: report it (out of line). */
function badWalk(k: Kernel, address: number, r: number): void {
  const level = r === WALK_BAD_PMD ? 'PMD' : 'PTE';
  k.reportViolation('walk', `cpu ${k.cpu.id}: page walk at 0x${address.toString(16)} through ${level} table ${walk.pte}, which is no longer a page table`);
  walk.pte = -1;
}
