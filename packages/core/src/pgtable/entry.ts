/**
 * Page-table geometry and entry encoding (x86-64, 4 levels).
 *
 * An entry is two 32-bit words in a `Uint32Array`: a flags word (bits named
 * after x86's `_PAGE_*`) and a value word (the pfn of a page or next-level
 * table, a swap offset, or a file page offset). The split encoding keeps
 * every operation on 32-bit integers; it stands for the kernel's single
 * 64-bit `pte_t`, and a table still costs 4 KiB of host memory.
 * @module
 */

/** `PAGE_SHIFT`. */
export const PAGE_SHIFT = 12;
/** `PAGE_SIZE`: 4 KiB. */
export const PAGE_SIZE = 4096;
/** Entries per table at every level (`PTRS_PER_PTE` and friends). */
export const PTRS_PER_TABLE = 512;
/** Pages mapped by one PTE table. */
export const PTRS_PER_PTE = 512;
/** `PMD_SIZE`: 2 MiB, the span of one PTE table. */
export const PMD_SIZE = 2 * 1024 * 1024;
/** `PUD_SIZE`: 1 GiB, the span of one PMD table. */
export const PUD_SIZE = 1024 * 1024 * 1024;
/** `PGDIR_SIZE`: 512 GiB, the span of one PUD table. */
export const PGDIR_SIZE = 512 * PUD_SIZE;
/** `TASK_SIZE` on x86-64 (47-bit user space less the guard page). */
export const TASK_SIZE = 0x800000000000 - PAGE_SIZE;
/** Top of user space rounded to `PGDIR_SIZE`; stands for a zero `ceiling`. */
export const USER_PGTABLES_CEILING = 0x800000000000;
/** Words per table in the store: two 32-bit words per entry. */
export const TABLE_WORDS = PTRS_PER_TABLE * 2;

/** A page-table level, leaf first: 0 PTE, 1 PMD, 2 PUD, 3 PGD. */
export type Level = 0 | 1 | 2 | 3;
/** The PTE level. */
export const LEVEL_PTE = 0;
/** The PMD level. */
export const LEVEL_PMD = 1;
/** The PUD level. */
export const LEVEL_PUD = 2;
/** The PGD level. */
export const LEVEL_PGD = 3;

/** Names of the levels, indexed by {@link Level}. */
export const LEVEL_NAMES = ['pte', 'pmd', 'pud', 'pgd'] as const;

/** `_PAGE_PRESENT`: the hardware walker may use the entry. */
export const _PAGE_PRESENT = 0x001;
/** `_PAGE_RW`: writable. */
export const _PAGE_RW = 0x002;
/** `_PAGE_USER`: user accessible. */
export const _PAGE_USER = 0x004;
/** `_PAGE_ACCESSED`: the young bit, set by the hardware walker. */
export const _PAGE_ACCESSED = 0x020;
/** `_PAGE_DIRTY`: set by the hardware on a write. */
export const _PAGE_DIRTY = 0x040;
/** `_PAGE_PSE`: a huge (2 MiB) page mapped by a PMD entry. */
export const _PAGE_PSE = 0x080;
/** `_PAGE_PROTNONE`: present to the kernel, not to the hardware (PROT_NONE). */
export const _PAGE_PROTNONE = 0x100;
/** `_PAGE_SPECIAL`: no refcounted struct page behind the entry (pte_special). The baseline never sets it. */
export const _PAGE_SPECIAL = 0x200;
/** `_PAGE_FILE`: a non-present nonlinear file PTE; the value word is the file page offset. */
export const _PAGE_FILE = 0x400;
/** A non-present swap entry; the value word is the swap offset (`pte_to_swp_entry`). */
export const _PAGE_SWP = 0x800;

/** Protection bits carried in `vm_page_prot`. */
export const PROT_BITS = _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_PROTNONE;
/** Flags of an upper-level entry pointing at a table (`_PAGE_TABLE`). */
export const _PAGE_TABLE = _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY;

/**
 * The flags {@link ptePresent} tests. A hot loop copies it (and any other
 * imported constant) into a local first: optimized code re-reads an
 * imported binding, with its checks, at every use.
 */
export const PTE_PRESENT_MASK = _PAGE_PRESENT | _PAGE_PROTNONE;

/** `pte_present()`: present to the kernel (PROT_NONE entries count). */
export function ptePresent(flags: number): boolean {
  return (flags & PTE_PRESENT_MASK) !== 0;
}

/** `pte_none()`: an empty entry (no page, no swap, no file offset). */
export function pteNone(flags: number, value: number): boolean {
  return flags === 0 && value === 0;
}

// The index helpers take user addresses, which are never negative: `x & 511`
// truncates x to an integer first, which for x ≥ 0 is the floor.

/** Index into the PGD for a virtual address. */
export function pgdIndex(addr: number): number {
  return (addr / PGDIR_SIZE) & 511;
}
/** Index into a PUD table for a virtual address. */
export function pudIndex(addr: number): number {
  return (addr / PUD_SIZE) & 511;
}
/** Index into a PMD table for a virtual address. */
export function pmdIndex(addr: number): number {
  return (addr / PMD_SIZE) & 511;
}
/** Index into a PTE table for a virtual address. */
export function pteIndex(addr: number): number {
  return (addr / PAGE_SIZE) & 511;
}

/** `pgd_addr_end()`: the end of the PGD entry's span containing `addr`, clipped to `end`. */
export function pgdAddrEnd(addr: number, end: number): number {
  const b = (Math.floor(addr / PGDIR_SIZE) + 1) * PGDIR_SIZE;
  return b < end ? b : end;
}
/** `pud_addr_end()`. */
export function pudAddrEnd(addr: number, end: number): number {
  const b = (Math.floor(addr / PUD_SIZE) + 1) * PUD_SIZE;
  return b < end ? b : end;
}
/** `pmd_addr_end()`. */
export function pmdAddrEnd(addr: number, end: number): number {
  const b = (Math.floor(addr / PMD_SIZE) + 1) * PMD_SIZE;
  return b < end ? b : end;
}

/** Round down to a multiple of `size` (works above 2^32, unlike `&`). */
export function alignDown(addr: number, size: number): number {
  return Math.floor(addr / size) * size;
}
/** Round up to a multiple of `size`. */
export function alignUp(addr: number, size: number): number {
  return Math.ceil(addr / size) * size;
}
/** `PAGE_ALIGN()`. */
export function pageAlign(len: number): number {
  return Math.ceil(len / PAGE_SIZE) * PAGE_SIZE;
}
