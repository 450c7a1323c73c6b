/**
 * The huge page pool (`nr_hugepages`): 2 MiB pages set aside at boot, each
 * 512 contiguous, aligned frames whose head `struct page` carries the
 * reference count (a compound page).
 * @see mm/hugetlb.c alloc_huge_page, free_huge_page, dequeue_huge_page, hugetlb_acct_memory
 * @module
 */
import type { DirtyList } from '../observe/touched.js';
import { PG_allocated, PG_huge, PG_huge_tail, type PageArrays } from './page.js';

/** Frames per huge page (`HPAGE_SIZE / PAGE_SIZE`). */
export const HPAGE_FRAMES = 512;
/** `HPAGE_SIZE`: 2 MiB. */
export const HPAGE_SIZE = 2 * 1024 * 1024;

/** The pool. */
export class HugePool {
  /** `nr_huge_pages`. */
  readonly nrHugePages: number;
  /** `resv_huge_pages`: promised to shared mappings, not yet allocated. */
  resv = 0;
  private readonly free: number[] = [];
  private readonly pages: PageArrays;

  /** With checking on: the huge pages allocated or freed since the checker last ran. */
  touched: DirtyList | null = null;

  constructor(pages: PageArrays, base: number, count: number) {
    this.pages = pages;
    this.nrHugePages = count;
    for (let i = count - 1; i >= 0; i--) this.free.push(base + i * HPAGE_FRAMES);
  }

  /** `free_huge_pages`. */
  get nrFree(): number {
    return this.free.length;
  }

  /**
   * `dequeue_huge_page()`: a free huge page with refcount 1 on its head,
   * or 0. `reserved` says the caller consumes a reservation; otherwise only
   * unreserved pages may be taken.
   */
  alloc(reserved: boolean): number {
    if (reserved) {
      if (this.resv <= 0) throw new Error('huge page reservation underflow');
    } else if (this.free.length <= this.resv) {
      return 0;
    }
    const head = this.free.pop();
    if (head === undefined) return 0;
    if (reserved) this.resv--;
    this.touched?.add(head);
    const p = this.pages;
    p.count[head] = 1;
    p.mapcount[head] = 0;
    p.flags[head] = PG_allocated | PG_huge;
    p.mapping[head] = 0;
    p.index[head] = 0;
    for (let i = 1; i < HPAGE_FRAMES; i++) p.flags[head + i] = PG_allocated | PG_huge_tail;
    return head;
  }

  /** `free_huge_page()`: the head's refcount dropped to zero. */
  release(head: number): void {
    this.touched?.add(head);
    const p = this.pages;
    for (let i = 0; i < HPAGE_FRAMES; i++) {
      p.flags[head + i] = 0;
      p.token[head + i] = 0xdeadbeef;
      p.gen[head + i]!++;
    }
    p.count[head] = 0;
    p.mapping[head] = 0;
    this.free.push(head);
  }
}
