/**
 * Device memory: physical ranges above RAM with no `struct page`
 * (`pfn_valid()` false), such as a PCI BAR a driver maps with
 * `remap_pfn_range`. Their contents are modelled by a token per page.
 * @module
 */
import { PAGES_PER_SECTION } from './alloc.js';

/** One device range. */
export interface IoRange {
  /** Owner, for reports. */
  readonly name: string;
  /** First pfn. */
  readonly base: number;
  /** Pages. */
  readonly pages: number;
  /** Contents: a data token per page. */
  readonly token: Uint32Array;
}

/** The physical address map above RAM (`iomem_resource`). */
export class IoMem {
  private readonly ranges: IoRange[] = [];
  private next: number;

  /** @param firstPfn the first pfn above every memory section */
  constructor(firstPfn: number) {
    this.next = Math.ceil(firstPfn / PAGES_PER_SECTION) * PAGES_PER_SECTION;
  }

  /** Claim `pages` pages of device memory (section aligned); returns the base pfn. */
  alloc(name: string, pages: number): number {
    const base = this.next;
    this.ranges.push({ name, base, pages, token: new Uint32Array(pages) });
    this.next = Math.ceil((base + pages) / PAGES_PER_SECTION) * PAGES_PER_SECTION + PAGES_PER_SECTION;
    return base;
  }

  /** The range holding `pfn`, or undefined. */
  find(pfn: number): IoRange | undefined {
    return this.ranges.find((r) => pfn >= r.base && pfn < r.base + r.pages);
  }

  /** The contents of device page `pfn` (0 outside every range). */
  tokenOf(pfn: number): number {
    const r = this.find(pfn);
    return r === undefined ? 0 : r.token[pfn - r.base]!;
  }

  /** Write device page `pfn`. */
  setToken(pfn: number, value: number): void {
    const r = this.find(pfn);
    if (r !== undefined) r.token[pfn - r.base] = value;
  }
}
