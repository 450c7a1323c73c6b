/**
 * `vm_normal_page()` with the series' rules, and `pte_special`.
 *
 * With `pte_special` (the machine's PTE format has the bit and the feature
 * sets it) a PTE that maps a pfn without a refcounted struct page carries
 * `_PAGE_SPECIAL`, and `vm_normal_page` needs no VMA flag: a special PTE
 * has no normal page, every other PTE has one. Without the bit (an
 * s390-like PTE format, or `special=false`) the VMA decides: VM_MIXEDMAP
 * refcounts exactly the `pfn_valid()` pfns, VM_PFNMAP keeps 2.6.24's
 * linearity rule to tell its raw pfns from the anonymous pages COW put
 * there.
 * @see mm/memory.c vm_normal_page (2.6.25)
 * @module
 */
import { _PAGE_SPECIAL, type Kernel, type Vma, VM_MIXEDMAP } from '@mmlab/core';

/** `pte_special()`: the PTE maps a pfn without a refcounted struct page. */
export function pteSpecial(flags: number): boolean {
  return (flags & _PAGE_SPECIAL) !== 0;
}

const useBitOf = new WeakMap<Kernel, boolean>();

/**
 * Record whether kernel `k` marks raw-pfn PTEs special (`HAVE_PTE_SPECIAL`):
 * the feature's `special` option on a machine whose PTE format has the bit.
 * Returns that answer.
 */
export function setPteSpecialInUse(k: Kernel, special: boolean): boolean {
  const use = special && k.profile.pteSpecial;
  useBitOf.set(k, use);
  return use;
}

/** `HAVE_PTE_SPECIAL` for kernel `k`: it runs the feature with the bit in use. */
export function pteSpecialInUse(k: Kernel): boolean {
  return useBitOf.get(k) ?? false;
}

/**
 * The series' `vm_normal_page()` in front of the baseline's (`prev`, the
 * 2.6.24 VM_PFNMAP linearity rule and the `pfn_valid` sanity check):
 *
 * - with the special bit: a special PTE maps no normal page; any other is
 *   a normal page (the baseline's check reports one without a struct page
 *   as the kernel's `print_bad_pte` would);
 * - without it: in a VM_MIXEDMAP VMA a pfn is a normal page exactly when
 *   `pfn_valid()`; a VM_PFNMAP VMA goes to the baseline's linearity rule.
 * @see mm/memory.c vm_normal_page (2.6.25)
 */
export function vmNormalPageMixed(k: Kernel, vma: Vma, addr: number, flags: number, pfn: number, useBit: boolean, prev: (k: Kernel, vma: Vma, addr: number, flags: number, pfn: number) => number): number {
  if (useBit) return pteSpecial(flags) ? 0 : prev(k, vma, addr, flags, pfn);
  if ((vma.vmFlags & VM_MIXEDMAP) !== 0) return k.mem.pfnValid(pfn) ? pfn : 0;
  return prev(k, vma, addr, flags, pfn);
}
