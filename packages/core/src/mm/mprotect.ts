/**
 * mprotect: `sys_mprotect`, `mprotect_fixup`, `change_protection`.
 * @see mm/mprotect.c
 * @module
 */
import { EACCES, EINVAL, ENOMEM } from '../errno.js';
import {
  _PAGE_ACCESSED,
  _PAGE_DIRTY,
  PAGE_SIZE,
  PROT_BITS,
  pgdAddrEnd,
  pgdIndex,
  pmdAddrEnd,
  pmdIndex,
  pteIndex,
  ptePresent,
  pudAddrEnd,
  pudIndex,
  pageAlign,
} from '../pgtable/entry.js';
import type { Kernel } from '../kernel/kernel.js';
import { calcVmProtBits, vmGetPageProt } from './mmap.js';
import { ipiWait } from './tlbflush.js';
import { ptlLockSlow } from '../sched/lock.js';
import type { KGen } from '../sched/run.js';
import { type MmStruct, PROT_EXEC, PROT_READ, PROT_WRITE, type Vma, VM_ACCOUNT, VM_EXEC, VM_HUGETLB, VM_READ, VM_SHARED, VM_WRITE } from './types.js';
import { findVmaPrev, splitVma, vmaMerge, vmaNext } from './vma.js';

/** `PROT_SEM` (accepted and ignored). */
const PROT_SEM = 0x8;
/** `PROT_GROWSDOWN`, `PROT_GROWSUP` (accepted, not modelled). */
const PROT_GROWS = 0x01000000 | 0x02000000;

/**
 * `change_pte_range()` and the walk above it: apply `newprot` to the
 * present PTEs of [addr, end), keeping pfn, accessed and dirty bits
 * (`pte_modify`). Returns PTEs changed.
 */
function* changePteRange(k: Kernel, pte: number, addr: number, end: number, newprot: number): KGen<number> {
  if (!k.ptl.tryLock(k, pte)) yield* ptlLockSlow(k, k.ptl, pte);
  const a = k.tables.arr(pte);
  const b0 = k.tables.base(pte) + pteIndex(addr) * 2;
  const bEnd = b0 + ((end - addr) / PAGE_SIZE) * 2;
  let n = 0;
  let none = 0;
  const keep = ~PROT_BITS | _PAGE_ACCESSED | _PAGE_DIRTY;
  for (let b = b0; b < bEnd; b += 2) {
    const f = a[b]!;
    if (ptePresent(f)) {
      a[b] = (f & keep) | newprot;
      n++;
    } else if (f === 0) {
      none++;
    }
  }
  k.ptl.unlock(k, pte);
  k.charge(n * k.costs.changePte + none * k.costs.scanPteNone);
  return n;
}

/**
 * `change_protection()`: walk [addr, end) of the VMA, then flush the range;
 * bracketed by the `rangeBegin`/`rangeEnd` events.
 * @see mm/mprotect.c change_protection
 */
export function* changeProtection(k: Kernel, vma: Vma, addr: number, end: number, newprot: number): KGen<void> {
  const mm = vma.mm;
  const t = k.tables;
  const start = addr;
  yield* k.seams.rangeBegin(k, mm, start, end, 'mprotect');
  let changed = 0;
  do {
    const gnext = pgdAddrEnd(addr, end);
    const ga = t.arr(mm.pgd);
    const gb = t.base(mm.pgd) + pgdIndex(addr) * 2;
    if (ga[gb] === 0) {
      addr = gnext;
      continue;
    }
    const pud = ga[gb + 1]!;
    do {
      const unext = pudAddrEnd(addr, gnext);
      const ua = t.arr(pud);
      const ub = t.base(pud) + pudIndex(addr) * 2;
      if (ua[ub] === 0) {
        addr = unext;
        continue;
      }
      const pmd = ua[ub + 1]!;
      do {
        const mnext = pmdAddrEnd(addr, unext);
        const ma = t.arr(pmd);
        const mb = t.base(pmd) + pmdIndex(addr) * 2;
        if (ma[mb] !== 0) changed += yield* changePteRange(k, ma[mb + 1]!, addr, mnext, newprot);
        addr = mnext;
      } while (addr !== unext);
    } while (addr !== gnext);
  } while (addr !== end);
  k.vm.mmlab_mprotect_pte += changed;
  if (start !== end && k.seams.flushTlb(k, 'range', mm, start, end, 'mprotect')) yield* ipiWait(k);
  yield* k.seams.rangeEnd(k, mm, start, end, 'mprotect');
}

/**
 * `mprotect_fixup()`: merge or split so [start, end) is one VMA, set its
 * flags and `vm_page_prot`, and change the PTEs. `pprev` is updated as the
 * kernel's `*pprev`. Returns 0 or a negative errno.
 * @see mm/mprotect.c mprotect_fixup
 */
export function* mprotectFixup(k: Kernel, vma: Vma, pprev: { prev: Vma | null }, start: number, end: number, newflags: number): KGen<number> {
  const mm = vma.mm;
  if (newflags === vma.vmFlags) {
    pprev.prev = vma;
    return 0;
  }
  yield* k.seams.vmaChange(k, vma, start, end, 'mprotect');
  // a private mapping becoming writable is charged now (VM_ACCOUNT)
  if ((newflags & VM_WRITE) !== 0 && (vma.vmFlags & (VM_ACCOUNT | VM_WRITE | VM_SHARED | VM_HUGETLB)) === 0) newflags |= VM_ACCOUNT;
  const pgoff = vma.vmPgoff + (start - vma.vmStart) / PAGE_SIZE;
  const merged = yield* vmaMerge(k, mm, pprev.prev, start, end, newflags, vma.anonVma, vma.vmFile, pgoff);
  if (merged !== null) {
    vma = merged;
  } else {
    if (start !== vma.vmStart) {
      const r = yield* splitVma(k, mm, vma, start, true);
      if (typeof r === 'number') return r;
    }
    if (end !== vma.vmEnd) {
      const r = yield* splitVma(k, mm, vma, end, false);
      if (typeof r === 'number') return r;
    }
  }
  pprev.prev = vma;
  vma.vmFlags = newflags;
  vma.vmPageProt = vmGetPageProt(newflags);
  const special = k.seams.specialVmaOps(vma);
  if (special !== null) yield* special.changeProtection(k, vma, start, end, vma.vmPageProt);
  else yield* changeProtection(k, vma, start, end, vma.vmPageProt);
  return 0;
}

/**
 * `sys_mprotect()`. Returns 0 or a negative errno.
 * @see mm/mprotect.c sys_mprotect
 */
export function* sysMprotect(k: Kernel, mm: MmStruct, start: number, len: number, prot: number): KGen<number> {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(len) || start < 0 || len < 0) return -EINVAL;
  if (start % PAGE_SIZE !== 0) return -EINVAL;
  if (len === 0) return 0;
  len = pageAlign(len);
  const end = start + len;
  if (end <= start) return -ENOMEM;
  if ((prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM | PROT_GROWS)) !== 0) return -EINVAL;
  const vmFlags = calcVmProtBits(prot);
  const found = findVmaPrev(mm, start);
  let vma = found.vma;
  const pprev = { prev: found.prev };
  if (vma === null || vma.vmStart > start) return -ENOMEM;
  if (start > vma.vmStart) pprev.prev = vma;
  for (let nstart = start; ; ) {
    const newflags = vmFlags | (vma.vmFlags & ~(VM_READ | VM_WRITE | VM_EXEC));
    // newflags >> 4 shifts VM_MAY* into the place of VM_*
    if ((newflags & ~(newflags >> 4) & (VM_READ | VM_WRITE | VM_EXEC)) !== 0) return -EACCES;
    const tmp = Math.min(vma.vmEnd, end);
    const err = yield* mprotectFixup(k, vma, pprev, nstart, tmp, newflags);
    if (err !== 0) return err;
    const prev = pprev.prev!;
    nstart = tmp;
    if (nstart < prev.vmEnd) nstart = prev.vmEnd;
    if (nstart >= end) return 0;
    const nv = vmaNext(mm, prev);
    if (nv === null || nv.vmStart !== nstart) return -ENOMEM;
    vma = nv;
  }
}

