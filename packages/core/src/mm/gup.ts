/**
 * `get_user_pages()` and `follow_page()`: pin user pages under mmap_sem,
 * faulting them in as needed, for direct I/O and `access_process_vm`
 * (ptrace).
 *
 * A write with `force` to a VMA the task may not write but that allows
 * VM_MAYWRITE breaks COW even in a VM_SHARED mapping: the anonymous page
 * that `do_wp_page` installs there is the case Hugh Dickins raises in the
 * shared page tables thread.
 * @see mm/memory.c get_user_pages, follow_page
 * @module
 */
import { EFAULT, ENOMEM } from '../errno.js';
import { _PAGE_DIRTY, _PAGE_RW, PAGE_SIZE, PTE_PRESENT_MASK, PTRS_PER_PTE, pteIndex, ptePresent } from '../pgtable/entry.js';
import { PG_active, PG_dirty, PG_huge, PG_huge_tail, PG_lru, PG_referenced } from '../mem/page.js';
import { hugeHead } from './hugetlb.js';
import type { Kernel } from '../kernel/kernel.js';
import { downRead, ptlLockSlow } from '../sched/lock.js';
import type { KGen } from '../sched/run.js';
import { baseVmNormalPage, handleMmFault, VM_FAULT_ERROR, VM_FAULT_OOM, VM_FAULT_SIGBUS, VM_FAULT_WRITE } from './fault.js';
import { markPageAccessed } from './lru-cache.js';
import { getPage, putPage } from './page-ref.js';
import { lookupPteTable } from './pgalloc.js';
import { type MmStruct, type Vma, VM_IO, VM_MAYREAD, VM_MAYWRITE, VM_PFNMAP, VM_READ, VM_WRITE } from './types.js';
import { findVma } from './vma.js';

/** `FOLL_WRITE`. */
export const FOLL_WRITE = 0x01;
/** `FOLL_TOUCH`: mark the page accessed (and dirty on a write). */
export const FOLL_TOUCH = 0x02;
/** `FOLL_GET`: take a reference. */
export const FOLL_GET = 0x04;

/** {@link followPage}'s answer for a present PTE that maps no normal page: the walk cannot pin it. */
export const FOLLOW_NO_PAGE = -1;

/**
 * `follow_page()`: the page mapped at `address` if the PTE allows the
 * access, with a reference when `FOLL_GET`; 0 when a fault is needed;
 * {@link FOLLOW_NO_PAGE} when the PTE is present and allows the access but
 * `vm_normal_page` finds no page behind it (a raw pfn): faulting again
 * would change nothing, so `get_user_pages` fails with -EFAULT there. In
 * 2.6.24 only a bad PTE gets that far (VM_PFNMAP VMAs are refused before
 * the walk); 2.6.26's `follow_page` returns `ERR_PTR(-EFAULT)` the same way.
 * @see mm/memory.c follow_page
 */
export function* followPage(k: Kernel, vma: Vma, address: number, flags: number): KGen<number> {
  const pte = lookupPteTable(k, vma.mm, address);
  if (pte === 0) return 0;
  if (!k.ptl.tryLock(k, pte)) yield* ptlLockSlow(k, k.ptl, pte);
  const page = followPageLocked(k, vma, pte, address, flags);
  k.ptl.unlock(k, pte);
  return page;
}

function followPageLocked(k: Kernel, vma: Vma, pte: number, address: number, flags: number): number {
  const a = k.tables.arr(pte);
  const b = k.tables.base(pte) + pteIndex(address) * 2;
  const f = a[b]!;
  if (!ptePresent(f)) return 0;
  if ((flags & FOLL_WRITE) !== 0 && (f & _PAGE_RW) === 0) return 0;
  const page = k.seams.vmNormalPage(k, vma, address, f, a[b + 1]!);
  if (page === 0) return FOLLOW_NO_PAGE;
  if ((flags & FOLL_GET) === 0 && (flags & FOLL_TOUCH) === 0) return page;
  if ((flags & FOLL_GET) !== 0) getPage(k, page);
  if ((flags & FOLL_TOUCH) !== 0) {
    if ((flags & FOLL_WRITE) !== 0 && (f & _PAGE_DIRTY) === 0) k.pages.flags[page]! |= PG_dirty;
    markPageAccessed(k, page);
  }
  return page;
}

/**
 * One page of `get_user_pages()`'s generic loop: `cond_resched`, then
 * `follow_page` until the page is there, faulting it in
 * (`handle_mm_fault`) between tries; with `pin`, the reference is taken
 * and the pin recorded. Returns the page, or a negated `VM_FAULT_*` error.
 * The contract of a special VMA's `followPage`.
 * @see mm/memory.c get_user_pages
 */
export function* followPageFaulting(k: Kernel, mm: MmStruct, vma: Vma, addr: number, write: boolean, pin: boolean): KGen<number> {
  yield* k.condResched();
  return yield* followPageFaultingResched(k, mm, vma, addr, write, pin, false);
}

/**
 * {@link followPageFaulting} after its `cond_resched`; with `tried`, a
 * first `follow_page` already found no page (so the loop starts with the
 * fault).
 */
function* followPageFaultingResched(k: Kernel, mm: MmStruct, vma: Vma, addr: number, write: boolean, pin: boolean, tried: boolean): KGen<number> {
  let foll = FOLL_TOUCH | (pin ? FOLL_GET : 0) | (write ? FOLL_WRITE : 0);
  let page = tried ? 0 : yield* followPage(k, vma, addr, foll);
  while (page === 0) {
    const fault = handleMmFault(k, mm, vma, addr, (foll & FOLL_WRITE) !== 0);
    const ret = typeof fault === 'number' ? fault : yield* fault;
    if ((ret & VM_FAULT_ERROR) !== 0) return -ret;
    // do_wp_page broke COW: look the page up as a read from now on
    if ((ret & VM_FAULT_WRITE) !== 0) foll &= ~FOLL_WRITE;
    page = yield* followPage(k, vma, addr, foll);
  }
  if (page === FOLLOW_NO_PAGE) return -VM_FAULT_SIGBUS;
  if (pin) gupPin(k, page);
  return page;
}

/** Record a `get_user_pages` pin of `page` (its reference is taken by `follow_page`). */
function gupPin(k: Kernel, page: number): void {
  k.pages.pinned[page]!++;
  k.touched?.frames.add(page);
}

/**
 * Where {@link getUserPages} stores the pfns: the caller's typed array,
 * or the array {@link baseGetUserPages} returns.
 */
export type PfnSink = Int32Array | number[];

/** {@link followPageNoSleep}: `follow_page` found no page, the fault comes next. */
const FOLLOW_TRIED = -2;

/**
 * The start of {@link followPageFaulting} without a generator, for the
 * sequential modes: `cond_resched` (nobody else runs), then the first
 * `follow_page` if the PTE lock is free. Returns the page (pinned as
 * {@link followPageFaulting} would), {@link FOLLOW_NO_PAGE}, 0 when
 * `follow_page` was not tried (no PTE table, the lock is held), or
 * {@link FOLLOW_TRIED} when it found no page: the caller goes on with
 * {@link followPageFaultingResched}.
 */
function followPageNoSleep(k: Kernel, vma: Vma, addr: number, write: boolean, pin: boolean): number {
  k.npBreak();
  const pte = lookupPteTable(k, vma.mm, addr);
  if (pte === 0 || !k.ptl.tryLock(k, pte)) return 0;
  const page = followPageLocked(k, vma, pte, addr, FOLL_TOUCH | (pin ? FOLL_GET : 0) | (write ? FOLL_WRITE : 0));
  k.ptl.unlock(k, pte);
  if (page === 0) return FOLLOW_TRIED;
  if (page > 0 && pin) gupPin(k, page);
  return page;
}

/**
 * {@link followPageNoSleep} for up to `n` consecutive pages from `start`
 * that one PTE table maps, with the baseline `vm_normal_page` (sequential
 * mode only): the kernel's `follow_page` walks the four levels for each
 * page and takes and drops the PTE lock around it; nothing else runs in
 * between here, so the tables cannot change and the host walks once and
 * reads the entries in turn. The first page goes through
 * {@link followPageNoSleep} and the caller's charge itself; each later
 * one is charged and counted inline as those would (`cond_resched`, the
 * lock retaken right after our own release, the reference, the cache
 * line, `mark_page_accessed`, the pin, `gupPage`). Stops before the first
 * page that needs more (no table, a held lock, a PTE that is absent or
 * read-only for a write, a pfn outside RAM) and leaves it to the caller's
 * per-page path. Stores the pages from `pages[at]` on (when there is an
 * array); returns how many were done.
 * @see mm/memory.c get_user_pages, follow_page
 */
function followPagesQuick(k: Kernel, mm: MmStruct, vma: Vma, start: number, n: number, foll: number, pages: PfnSink | null, at: number): number {
  const pte = lookupPteTable(k, mm, start);
  const ptl = k.ptl;
  if (pte === 0 || ptl.isLocked(pte)) return 0;
  const a = k.tables.arr(pte);
  const first = pteIndex(start);
  const b0 = k.tables.base(pte) + first * 2;
  const p = k.pages;
  // integers as such (| 0), and locals only in the loop (see PTE_PRESENT_MASK)
  const nrFrames = p.nrFrames | 0;
  const write = (foll & FOLL_WRITE) !== 0;
  const get = (foll & FOLL_GET) !== 0;
  if (!quickPte(a[b0]!, a[b0 + 1]!, write, nrFrames)) return 0;
  // the first page: the per-page path's own lock take, reference and pin
  const page0 = followPageNoSleep(k, vma, start, write, get);
  const cost = k.costs.gupPage;
  k.charge(cost);
  if (pages !== null) pages[at] = page0;
  const count = Math.min(n, PTRS_PER_PTE - first) | 0;
  if (count === 1) return 1;
  const presentMask = PTE_PRESENT_MASK;
  const rw = _PAGE_RW;
  const dirty = _PAGE_DIRTY;
  const pgDirty = PG_dirty;
  const referenced = PG_referenced;
  const inactiveLru = PG_active | PG_lru;
  const flags = p.flags;
  const refs = p.count;
  const lineCpu = p.lineCpu;
  const pinned = p.pinned;
  const touched = k.touched?.frames ?? null;
  const cpu = k.cpu;
  const line = cpu.id + 1;
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-boolean-literal-compare
  const preempt = k.config.preempt === true;
  // npBreak closes the non-preemptible stretch without PREEMPT; with it, preempt_disable/enable around each hold
  const npBreaks = !preempt;
  const npHolds = preempt && cpu.preemptCount === 0;
  const touch = (foll & FOLL_TOUCH) !== 0;
  const cpus = k.cpus;
  const socket = cpu.socket;
  const lineSocket = k.costs.cacheLineSocket;
  const lineRemote = k.costs.cacheLineRemote;
  // the CPU's clock, busy time and non-preemptible stretch in locals, written
  // back around every call that may read or charge them; the additions are
  // the same, in the same order, as k.charge and npBreak make
  let clock = cpu.clock;
  let busy = cpu.busyNs;
  let npStart = cpu.npStart;
  let maxNp = cpu.maxNonpreemptNs;
  let hold = ptl.stat.hold_ns;
  let since = 0;
  let i = 1;
  for (; i < count; i++) {
    const f = a[b0 + i * 2]!;
    const page = a[b0 + i * 2 + 1]!;
    if ((f & presentMask) === 0 || (write && (f & rw) === 0) || page <= 0 || page >= nrFrames) break;
    // npBreak; then the lock retaken right after our own release (preempt_disable)
    if (npBreaks && npStart >= 0) {
      const d = clock - npStart;
      if (d > maxNp) maxNp = d;
      npStart = clock;
    }
    since = clock;
    if (npHolds) npStart = clock;
    if (get) {
      refs[page]!++;
      // pageLine: the struct page's cache line comes from the CPU that wrote it last
      const prev = lineCpu[page]!;
      if (prev !== line) {
        lineCpu[page] = line;
        if (prev !== 0) {
          const c = cpus[prev - 1]!.socket === socket ? lineSocket : lineRemote;
          busy += c;
          clock += c;
        }
      }
    }
    if (touch) {
      if (write && (f & dirty) === 0) flags[page]! |= pgDirty;
      // mark_page_accessed: set referenced, or activate an inactive referenced page (a call, the locals written back around it)
      const fl = flags[page]!;
      if ((fl & referenced) === 0) flags[page] = fl | referenced;
      else if ((fl & inactiveLru) === PG_lru) {
        cpu.clock = clock;
        cpu.busyNs = busy;
        cpu.npStart = npStart;
        cpu.maxNonpreemptNs = maxNp;
        markPageAccessed(k, page);
        clock = cpu.clock;
        busy = cpu.busyNs;
        npStart = cpu.npStart;
        maxNp = cpu.maxNonpreemptNs;
      }
    }
    hold += clock - since;
    // preempt_enable
    if (npHolds) {
      if (npStart >= 0) {
        const d = clock - npStart;
        if (d > maxNp) maxNp = d;
      }
      npStart = -1;
    }
    if (get) {
      pinned[page]!++;
      touched?.add(page);
    }
    busy += cost;
    clock += cost;
    if (pages !== null) pages[at + i] = page;
  }
  cpu.clock = clock;
  cpu.busyNs = busy;
  cpu.npStart = npStart;
  cpu.maxNonpreemptNs = maxNp;
  if (i > 1) {
    ptl.retaken(k, pte, i - 1, since);
    ptl.stat.hold_ns = hold;
  }
  return i;
}

/** A PTE {@link followPagesQuick} takes as it is: present, writable for a write, a pfn in RAM. */
function quickPte(f: number, page: number, write: boolean, nrFrames: number): boolean {
  return (f & PTE_PRESENT_MASK) !== 0 && (!write || (f & _PAGE_RW) !== 0) && page > 0 && page < nrFrames;
}

/**
 * `get_user_pages()`: take up to `nrPages` pages from `start` into the
 * caller's `pages` array, as the kernel's callers pass `struct page
 * **pages`, storing their pfns from `pages[0]` on, each with a reference
 * (and a pin record) the caller drops with `put_page`; with `pages`
 * null (the kernel's NULL) it only faults the pages in, taking no
 * reference (`FOLL_GET` is set only with an array, as in the kernel). A
 * typed array must have room for `nrPages`; a `number[]` grows as
 * stored. Returns how many pages it took, or a negative errno if not
 * even the first one could be taken (the kernel returns `i` when it
 * stopped part way). The caller holds mmap_sem.
 * @see mm/memory.c get_user_pages
 */
export function* getUserPages(k: Kernel, mm: MmStruct, start: number, nrPages: number, write: boolean, force: boolean, pages: PfnSink | null): KGen<number> {
  if (pages !== null && !Array.isArray(pages) && nrPages > pages.length) throw new RangeError(`get_user_pages of ${nrPages} pages into an array of ${pages.length}`);
  const vmFlags = gupVmFlags(write, force);
  const pin = pages !== null;
  let nr = 0;
  let len = nrPages;
  start = Math.floor(start / PAGE_SIZE) * PAGE_SIZE;
  const foll = FOLL_TOUCH | (pin ? FOLL_GET : 0) | (write ? FOLL_WRITE : 0);
  while (len > 0) {
    const vma = findVma(mm, start);
    if (gupRefuses(vma, start, vmFlags)) return nr > 0 ? nr : -EFAULT;
    const special = k.seams.specialVmaOps(vma);
    if (special !== null) {
      // follow_hugetlb_page: the reference (and our pin record) is on the head
      do {
        const frame = yield* special.followPage(k, mm, vma, start, write, pin);
        if (frame < 0) {
          if (nr > 0) return nr;
          return (-frame & VM_FAULT_OOM) !== 0 ? -ENOMEM : -EFAULT;
        }
        k.charge(k.costs.gupPage);
        if (pages !== null) pages[nr] = frame;
        nr++;
        start += PAGE_SIZE;
        len--;
      } while (len > 0 && start < vma.vmEnd);
      continue;
    }
    const quick = !k.interleaving;
    // whole PTE tables at a time where nothing but follow_page is needed
    const tables = quick && k.seams.vmNormalPage === baseVmNormalPage;
    do {
      if (tables) {
        const done = followPagesQuick(k, mm, vma, start, Math.min(len, (vma.vmEnd - start) / PAGE_SIZE), foll, pages, nr);
        if (done > 0) {
          nr += done;
          start += done * PAGE_SIZE;
          len -= done;
          continue;
        }
      }
      let page = quick ? followPageNoSleep(k, vma, start, write, pin) : 0;
      if (page === FOLLOW_NO_PAGE) page = -VM_FAULT_SIGBUS;
      else if (page === 0 || page === FOLLOW_TRIED) {
        page = quick ? yield* followPageFaultingResched(k, mm, vma, start, write, pin, page === FOLLOW_TRIED) : yield* followPageFaulting(k, mm, vma, start, write, pin);
      }
      if (page < 0) {
        if (nr > 0) return nr;
        return (-page & VM_FAULT_OOM) !== 0 ? -ENOMEM : -EFAULT;
      }
      k.charge(k.costs.gupPage);
      if (pages !== null) pages[nr] = page;
      nr++;
      start += PAGE_SIZE;
      len--;
    } while (len > 0 && start < vma.vmEnd);
  }
  return nr;
}

/**
 * The most pages `get_user_pages` could take from `start`: those of the
 * run of VMAs it would not refuse from there, at most `nrPages` (host
 * sizing of the answer, so that it is filled in place; the VMAs cannot
 * change under mmap_sem).
 */
function reachablePages(mm: MmStruct, start: number, nrPages: number, vmFlags: number): number {
  const want = Math.ceil(nrPages);
  let addr = Math.floor(start / PAGE_SIZE) * PAGE_SIZE;
  let n = 0;
  while (n < want) {
    const vma = findVma(mm, addr);
    if (gupRefuses(vma, addr, vmFlags)) break;
    n += (vma.vmEnd - addr) / PAGE_SIZE;
    addr = vma.vmEnd;
  }
  return want > 0 ? Math.min(n, want) : 0;
}

/**
 * `get_user_pages` stops at `addr`: no VMA there, an I/O or raw-pfn VMA,
 * or one that does not allow the access (`vmFlags`, see {@link gupVmFlags}).
 */
function gupRefuses(vma: Vma | null, addr: number, vmFlags: number): vma is null {
  return vma === null || vma.vmStart > addr || (vma.vmFlags & (VM_IO | VM_PFNMAP)) !== 0 || (vmFlags & vma.vmFlags) === 0;
}

/** The VMA flags of which `get_user_pages` needs one for the access (`force` lets VM_MAY* do). */
function gupVmFlags(write: boolean, force: boolean): number {
  const vmFlags = write ? VM_WRITE | VM_MAYWRITE : VM_READ | VM_MAYREAD;
  return vmFlags & (force ? VM_MAYREAD | VM_MAYWRITE : VM_READ | VM_WRITE);
}

/**
 * Baseline `getUserPages` seam: `get_user_pages()` as direct I/O and
 * `access_process_vm` call it, with `mmap_sem` held for reading around
 * the walk, the pfns returned as a new array.
 * @see mm/memory.c get_user_pages; fs/direct-io.c dio_refill_pages; mm/memory.c access_process_vm
 */
export function* baseGetUserPages(k: Kernel, mm: MmStruct, start: number, nrPages: number, write: boolean, force: boolean): KGen<number[] | number> {
  yield* downRead(k, mm.mmapSem);
  try {
    const pages = new Array<number>(reachablePages(mm, start, nrPages, gupVmFlags(write, force)));
    const r = yield* getUserPages(k, mm, start, nrPages, write, force, pages);
    if (r < 0) return r;
    pages.length = r;
    return pages;
  } finally {
    mm.mmapSem.upRead(k);
  }
}

/**
 * {@link baseGetUserPages} into the caller's `pages` array (as many pages
 * as it holds): how many pages were pinned, or a negative errno.
 * @see mm/memory.c get_user_pages; fs/direct-io.c dio_refill_pages
 */
export function* baseGetUserPagesInto(k: Kernel, mm: MmStruct, start: number, pages: Int32Array, write: boolean, force: boolean): KGen<number> {
  yield* downRead(k, mm.mmapSem);
  try {
    return yield* getUserPages(k, mm, start, pages.length, write, force, pages);
  } finally {
    mm.mmapSem.upRead(k);
  }
}

/**
 * Drop a `get_user_pages` reference (`put_page` by the pin's owner).
 * @see mm/swap.c put_page
 */
export function putUserPage(k: Kernel, pfn: number): void {
  if ((k.pages.flags[pfn]! & PG_huge_tail) !== 0 || (k.pages.flags[pfn]! & PG_huge) !== 0) pfn = hugeHead(pfn);
  if (k.pages.pinned[pfn]! <= 0) throw new Error(`put_page of pfn ${pfn}, which is not pinned`);
  k.pages.pinned[pfn]!--;
  k.touched?.frames.add(pfn);
  putPage(k, pfn);
}

/**
 * `make_pages_present()`: fault in [start, end) through `get_user_pages`
 * without a pages array, so without taking references (MAP_POPULATE,
 * mlock), writing where the VMA is writable. The caller holds mmap_sem.
 * @see mm/memory.c make_pages_present
 */
export function* makePagesPresent(k: Kernel, mm: MmStruct, start: number, end: number): KGen<number> {
  const vma = findVma(mm, start);
  if (vma === null || vma.vmStart > start) return -ENOMEM;
  const write = (vma.vmFlags & VM_WRITE) !== 0;
  const len = Math.ceil((end - start) / PAGE_SIZE);
  // no pages array: nothing is pinned and nothing is stored
  const r = yield* getUserPages(k, mm, start, len, write, false, null);
  if (r < 0) return r;
  return r === len ? 0 : -ENOMEM;
}
