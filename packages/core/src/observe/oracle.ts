/**
 * The data-integrity oracle: what a task wrote is what it reads back,
 * across COW, fork, mremap and munmap.
 *
 * It keeps the expected 32-bit token per page from the semantics of the
 * calls alone: a private page's token per (mm, page), a shared file page's
 * per (file, offset); private file pages not yet written read the file's.
 * It never trusts the model's page tables for what should be there.
 * Features add checks against its expectations (`Kernel.addOracleCheck`).
 * @module
 */
import { PAGE_SIZE, pteIndex, ptePresent } from '../pgtable/entry.js';
import { lookupPteTable } from '../mm/pgalloc.js';
import { linearPageIndex } from '../mm/page-ref.js';
import { type MmStruct, type Vma, VM_IO, VM_PFNMAP, VM_SHARED, VM_WRITE, isCowMapping } from '../mm/types.js';
import { findVma } from '../mm/vma.js';
import type { Kernel } from '../kernel/kernel.js';
import type { Violation } from './check.js';
import type { DirtyList } from './touched.js';
import { PG_anon } from '../mem/page.js';

/** Offsets at or beyond this go to {@link FileTokens}' map instead of its arrays. */
const DENSE_OFFSETS = 1 << 24;

/** An offset {@link FileTokens} keeps in its arrays: an integer in [0, DENSE_OFFSETS). */
function dense(pgoff: number): boolean {
  return pgoff >>> 0 === pgoff && pgoff < DENSE_OFFSETS;
}

/**
 * The expected tokens of one file's pages, by page offset: typed arrays
 * grown to the highest offset written (a file's offsets are dense, and a
 * map of a million pages costs a hash lookup per page read), with a map
 * for offsets beyond {@link DENSE_OFFSETS}.
 */
class FileTokens {
  private tok = new Uint32Array(0);
  private known = new Uint8Array(0);
  /** One past the highest dense offset known. */
  private end = 0;
  private readonly far = new Map<number, number>();

  /** The token expected at `pgoff`, or undefined when none was written. */
  get(pgoff: number): number | undefined {
    if (dense(pgoff)) return pgoff < this.end && this.known[pgoff] === 1 ? this.tok[pgoff] : undefined;
    return this.far.get(pgoff);
  }

  /** `token` is now expected at `pgoff`. */
  set(pgoff: number, token: number): void {
    if (!dense(pgoff)) {
      this.far.set(pgoff, token);
      return;
    }
    if (pgoff >= this.known.length) this.grow(pgoff);
    this.tok[pgoff] = token;
    this.known[pgoff] = 1;
    if (pgoff >= this.end) this.end = pgoff + 1;
  }

  /** Forget every offset from `first` on (truncation). */
  truncate(first: number): void {
    for (let i = Math.max(0, first); i < this.end; i++) this.known[i] = 0;
    if (first < this.end) this.end = Math.max(0, first);
    for (const pgoff of [...this.far.keys()]) if (pgoff >= first) this.far.delete(pgoff);
  }

  /** The offsets known, in increasing order (the dense ones), then the others. */
  *offsets(): Generator<number> {
    for (let i = 0; i < this.end; i++) if (this.known[i] === 1) yield i;
    yield* this.far.keys();
  }

  private grow(pgoff: number): void {
    let n = Math.max(64, this.known.length);
    while (n <= pgoff) n *= 2;
    const tok = new Uint32Array(n);
    tok.set(this.tok);
    const known = new Uint8Array(n);
    known.set(this.known);
    this.tok = tok;
    this.known = known;
  }
}

/** The oracle's shadow state. */
export class Oracle {
  private readonly priv = new Map<number, Map<number, number>>();
  private readonly files = new Map<number, FileTokens>();
  private readonly pending: Violation[] = [];
  /** remap_file_pages: the file offset each page of a nonlinear range shows. */
  private readonly nonlinear = new Map<number, Map<number, number>>();
  /** Private pages written since the last check: mm id and virtual page, in pairs. */
  private readonly writtenPriv: number[] = [];
  /** Shared file pages written since the last check: file id and offset, in pairs. */
  private readonly writtenFile: number[] = [];
  /** The next {@link verifyTouched} compares everything (after the checker lost track). */
  private all = true;

  private fileIndex(mm: MmStruct, vma: Vma, addr: number): number {
    const dev = vma.vmFile?.device ?? null;
    // remap_pfn_range took vm_pgoff for the pfn in a COW mapping
    if (dev !== null && (vma.vmFlags & VM_PFNMAP) !== 0 && isCowMapping(vma.vmFlags)) return linearPageIndex(vma, addr) - dev.basePfn;
    return this.nonlinear.get(mm.id)?.get(addr / PAGE_SIZE) ?? linearPageIndex(vma, addr);
  }

  /** remap_file_pages showed file pages from `pgoff` at [start, start+size). */
  remapFilePages(mm: MmStruct, start: number, size: number, pgoff: number): void {
    // zap_pte drops whatever was mapped there, COWed copies included
    const p = this.priv.get(mm.id);
    if (p !== undefined) for (let i = 0; i < size / PAGE_SIZE; i++) p.delete(start / PAGE_SIZE + i);
    let m = this.nonlinear.get(mm.id);
    if (m === undefined) {
      m = new Map();
      this.nonlinear.set(mm.id, m);
    }
    for (let i = 0; i < size / PAGE_SIZE; i++) m.set(start / PAGE_SIZE + i, pgoff + i);
  }

  private privOf(mm: MmStruct): Map<number, number> {
    let m = this.priv.get(mm.id);
    if (m === undefined) {
      m = new Map();
      this.priv.set(mm.id, m);
    }
    return m;
  }

  /** A user write of `token` to the page at `addr`. */
  write(mm: MmStruct, addr: number, token: number): void {
    const vma = findVma(mm, addr);
    if (vma === null) return;
    const own = this.priv.get(mm.id)?.has(addr / PAGE_SIZE) === true;
    if ((vma.vmFlags & VM_SHARED) !== 0 && vma.vmFile !== null && !own) {
      let f = this.files.get(vma.vmFile.id);
      if (f === undefined) {
        f = new FileTokens();
        this.files.set(vma.vmFile.id, f);
      }
      const pgoff = this.fileIndex(mm, vma, addr);
      f.set(pgoff, token);
      this.writtenFile.push(vma.vmFile.id, pgoff);
    } else {
      this.privOf(mm).set(addr / PAGE_SIZE, token);
      this.writtenPriv.push(mm.id, addr / PAGE_SIZE);
    }
  }

  /** The token a read of `addr` must return. */
  expected(mm: MmStruct, addr: number): number {
    return this.expectedOrUnknown(mm, addr) ?? 0;
  }

  /**
   * The token a read of `addr` must return, or undefined when the mapping
   * is being torn down by another CPU's call still in progress (a read
   * racing munmap may see the old data).
   */
  private expectedOrUnknown(mm: MmStruct, addr: number): number | undefined {
    // private data: a private page written, or a COW copy forced into a shared mapping
    const p = this.priv.get(mm.id)?.get(addr / PAGE_SIZE);
    if (p !== undefined) return p;
    const vma = findVma(mm, addr);
    if (vma === null || vma.vmStart > addr) return undefined;
    if (vma.vmFile !== null) return this.files.get(vma.vmFile.id)?.get(this.fileIndex(mm, vma, addr)) ?? 0;
    return 0;
  }

  /** A user read returned `got`: compare. */
  read(_k: Kernel, mm: MmStruct, addr: number, got: number): void {
    const want = this.expectedOrUnknown(mm, addr);
    if (want !== undefined && got !== want) {
      this.pending.push({
        check: 'oracle',
        message: `mm ${mm.id} read 0x${got.toString(16)} at 0x${addr.toString(16)}, expected 0x${want.toString(16)}`,
      });
    }
  }

  /**
   * A forced write (ptrace through `access_process_vm`): always private —
   * in a shared mapping it lands in a COW copy.
   */
  forceWrite(mm: MmStruct, addr: number, token: number): void {
    const vma = findVma(mm, addr);
    // a shared mapping the task may write takes the write itself: no COW
    if (vma !== null && (vma.vmFlags & (VM_SHARED | VM_WRITE)) === (VM_SHARED | VM_WRITE)) {
      this.write(mm, addr, token);
      return;
    }
    this.privOf(mm).set(addr / PAGE_SIZE, token);
    this.writtenPriv.push(mm.id, addr / PAGE_SIZE);
  }

  /**
   * The file was truncated to `size` bytes: its data beyond the end is
   * gone, and so are private copies there (`vmtruncate` passes
   * `even_cows`, a full zap).
   */
  truncate(_k: Kernel, fileId: number, size: number, mappings: readonly { mm: MmStruct; vmStart: number; vmEnd: number; vmPgoff: number }[]): void {
    const first = Math.ceil(size / PAGE_SIZE);
    const f = this.files.get(fileId);
    f?.truncate(first);
    for (const v of mappings) {
      const p = this.priv.get(v.mm.id);
      if (p === undefined) continue;
      for (let addr = Math.max(v.vmStart, v.vmStart + (first - v.vmPgoff) * PAGE_SIZE); addr < v.vmEnd; addr += PAGE_SIZE) p.delete(addr / PAGE_SIZE);
    }
  }

  /** fork: the child starts with the parent's private data. */
  fork(parent: MmStruct, child: MmStruct): void {
    const p = this.priv.get(parent.id);
    if (p !== undefined) this.priv.set(child.id, new Map(p));
    const n = this.nonlinear.get(parent.id);
    if (n !== undefined) this.nonlinear.set(child.id, new Map(n));
  }

  /** exit: the mm's private data is gone. */
  exit(mm: MmStruct): void {
    this.priv.delete(mm.id);
    this.nonlinear.delete(mm.id);
  }

  /** munmap, a new mapping over [start, end), or MADV_DONTNEED: private data there is gone. */
  unmap(mm: MmStruct, start: number, end: number): void {
    const lo = start / PAGE_SIZE;
    const hi = end / PAGE_SIZE;
    for (const m of [this.priv.get(mm.id), this.nonlinear.get(mm.id)]) {
      if (m === undefined) continue;
      for (const vpn of [...m.keys()]) if (vpn >= lo && vpn < hi) m.delete(vpn);
    }
  }

  /**
   * A write fault without a user write (MAP_POPULATE, mlock,
   * get_user_pages for writing) broke COW on the private pages of
   * [start, end): they keep the data they had.
   */
  privatize(mm: MmStruct, start: number, end: number): void {
    for (let addr = start; addr < end; addr += PAGE_SIZE) {
      const vma = findVma(mm, addr);
      if (vma === null || vma.vmStart > addr) continue;
      // mlock_fixup and get_user_pages skip VM_IO / VM_PFNMAP mappings
      if ((vma.vmFlags & VM_SHARED) !== 0 || (vma.vmFlags & VM_WRITE) === 0 || (vma.vmFlags & (VM_PFNMAP | VM_IO)) !== 0) continue;
      const p = this.privOf(mm);
      if (!p.has(addr / PAGE_SIZE)) p.set(addr / PAGE_SIZE, this.expected(mm, addr));
    }
  }

  /** MADV_DONTNEED: private pages read back as zero (anonymous) or the file's data. */
  discard(mm: MmStruct, start: number, end: number): void {
    this.unmap(mm, start, end);
    // a VMA without ->fault (vm_insert_page) re-faults anonymous zero pages
    for (let addr = start; addr < end; addr += PAGE_SIZE) {
      const vma = findVma(mm, addr);
      if (vma !== null && vma.vmStart <= addr && vma.vmOps === null && vma.vmFile !== null) this.privOf(mm).set(addr / PAGE_SIZE, 0);
    }
  }

  /** mremap moved (and resized) a range. */
  remap(mm: MmStruct, oldAddr: number, oldLen: number, newAddr: number, newLen: number): void {
    // a move unmapped the destination first (MREMAP_FIXED's do_munmap)
    if (newAddr !== oldAddr) this.unmap(mm, newAddr, newAddr + newLen);
    const keep = Math.min(oldLen, newLen) / PAGE_SIZE;
    const lo = oldAddr / PAGE_SIZE;
    for (const p of [this.priv.get(mm.id), this.nonlinear.get(mm.id)]) {
      if (p === undefined) continue;
      const moved: [number, number][] = [];
      for (const [vpn, tok] of p) {
        if (vpn >= lo && vpn < lo + oldLen / PAGE_SIZE) {
          p.delete(vpn);
          if (vpn - lo < keep) moved.push([vpn - lo + newAddr / PAGE_SIZE, tok]);
        }
      }
      for (const [vpn, tok] of moved) p.set(vpn, tok);
    }
  }

  /** The private page `vpn` of `mm` against what its PTE maps now (nothing mapped: nothing to compare). */
  private checkPriv(k: Kernel, mm: MmStruct, vpn: number, tok: number, out: Violation[]): void {
    const addr = vpn * PAGE_SIZE;
    const pte = lookupPteTable(k, mm, addr);
    if (pte === 0) return;
    const a = k.tables.arr(pte);
    const b = k.tables.base(pte) + pteIndex(addr) * 2;
    if (!ptePresent(a[b]!)) return;
    const got = k.tokenOf(a[b + 1]!);
    if (got !== tok) {
      out.push({ check: 'oracle', message: `mm ${mm.id} page 0x${addr.toString(16)} holds 0x${got.toString(16)}, expected 0x${tok.toString(16)}` });
    }
  }

  /** Page `pgoff` of file `fid` against what the page cache holds now. */
  private checkFile(k: Kernel, fid: number, pgoff: number, out: Violation[]): void {
    const tok = this.files.get(fid)?.get(pgoff);
    const f = k.files.get(fid);
    if (tok === undefined || f === undefined) return;
    const pfn = f.frameAt(pgoff);
    // (an XIP image without a memmap holds its contents beyond the struct page arrays)
    if (pfn !== 0 && k.tokenOf(pfn) !== tok) {
      out.push({ check: 'oracle', message: `file ${f.name} page ${pgoff} holds 0x${k.tokenOf(pfn).toString(16)}, expected 0x${tok.toString(16)}` });
    }
  }

  /** The features' checks against the oracle's expectations. */
  private runHooks(k: Kernel, out: Violation[]): void {
    const hooks = k.checkHooks.oracle;
    if (hooks.length > 0) {
      const expected = (mm: MmStruct, addr: number): number => this.expected(mm, addr);
      for (const h of hooks) for (const message of h.fn(k, expected)) out.push({ check: `${h.feature}:${h.name}`, message });
    }
  }

  /** Compare everything at the next {@link verifyTouched}. */
  touchAll(): void {
    this.all = true;
  }

  /**
   * Compare what changed since the last check: the pages written, the
   * PTEs the checker found changed (`ptes`: mm id and virtual page, in
   * pairs), the page-cache frames it touched (`cachedFrames`); return the
   * read mismatches seen since too.
   */
  verifyTouched(k: Kernel, ptes: readonly number[], cachedFrames: readonly number[]): Violation[] {
    if (this.all) return this.verify(k);
    const out = this.pending.splice(0);
    for (const list of [this.writtenPriv, ptes]) {
      for (let i = 0; i < list.length; i += 2) {
        const mm = k.liveMm(list[i]!);
        const tok = this.priv.get(list[i]!)?.get(list[i + 1]!);
        if (mm !== undefined && tok !== undefined) this.checkPriv(k, mm, list[i + 1]!, tok, out);
      }
    }
    this.writtenPriv.length = 0;
    const wf = this.writtenFile;
    for (let i = 0; i < wf.length; i += 2) this.checkFile(k, wf[i]!, wf[i + 1]!, out);
    wf.length = 0;
    for (const pfn of cachedFrames) this.checkFile(k, k.pages.mapping[pfn]!, k.pages.index[pfn]!, out);
    this.runHooks(k, out);
    return out;
  }

  /**
   * For a boundary where the checker walked the whole machine without
   * noting which PTEs changed (shared page tables, feature references):
   * every private page the oracle knows, and of the file pages those
   * written since the last check and those cached in a frame whose state
   * changed (`touchedFrames`: a frame newly cached, freed, moved) —
   * file pages nobody wrote and whose frame nobody touched hold what they
   * held at the last check. Return the read mismatches seen since too.
   */
  verifyPrivateAndTouched(k: Kernel, touchedFrames: DirtyList): Violation[] {
    if (this.all) return this.verify(k);
    const ptes: number[] = [];
    for (const mm of k.liveMms()) {
      const p = this.priv.get(mm.id);
      if (p !== undefined) for (const vpn of p.keys()) ptes.push(mm.id, vpn);
    }
    const out = this.verifyTouched(k, ptes, []);
    const pages = k.pages;
    for (let j = 0; j < touchedFrames.n; j++) {
      const pfn = touchedFrames.at(j);
      if ((pages.flags[pfn]! & PG_anon) !== 0 || pages.mapping[pfn] === 0) continue;
      const fid = pages.mapping[pfn]!;
      const f = k.files.get(fid);
      if (f === undefined) continue;
      // a huge page caches 512 of the oracle's 4 KiB offsets
      if (f.huge) for (let i = 0; i < 512; i++) this.checkFile(k, fid, pages.index[pfn]! * 512 + i, out);
      else this.checkFile(k, fid, pages.index[pfn]!, out);
    }
    return out;
  }

  /**
   * Compare every page the oracle knows with what the model's page tables
   * map now; return the read mismatches seen since the last call too.
   */
  verify(k: Kernel): Violation[] {
    const out = this.pending.splice(0);
    this.writtenPriv.length = 0;
    this.writtenFile.length = 0;
    this.all = false;
    for (const mm of k.liveMms()) {
      const p = this.priv.get(mm.id);
      if (p === undefined) continue;
      for (const [vpn, tok] of p) this.checkPriv(k, mm, vpn, tok, out);
    }
    for (const [fid, m] of this.files) {
      if (k.files.get(fid) === undefined) {
        this.files.delete(fid);
        continue;
      }
      for (const pgoff of m.offsets()) this.checkFile(k, fid, pgoff, out);
    }
    // features' checks against the same expectations (a secondary MMU's view of memory)
    this.runHooks(k, out);
    return out;
  }
}
