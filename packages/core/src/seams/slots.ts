/**
 * Extension slots: per-VMA and per-mm values a feature keeps (a secondary
 * MMU's state per mm, a policy per VMA), stored in the object's `ext`
 * array at the slot's index. The feature states, per slot, what happens to
 * a value when the kernel copies or combines the object: `split_vma`
 * (the new part), `vma_merge` (the surviving VMA), `dup_mmap` (the child's
 * VMA or mm) and mremap (the moved VMA) — the way 2.6.24 treats
 * `vm_policy` (`mpol_copy` at split and fork, `mpol_equal` at merge).
 *
 * The mm code calls the `vmaSlots*` / `mmSlotsFork` helpers at those
 * sites; with no slot declared each is one length test.
 * @module
 */
import type { Kernel } from '../kernel/kernel.js';
import type { MmStruct, Vma } from '../mm/types.js';
import { checkOwnerName } from './names.js';
import { KernelConfigError } from './feature.js';

/**
 * What a copy of an object (the new part of a split VMA, a child's VMA or
 * mm at fork, a VMA moved by mremap) carries in a slot: the same value
 * (`copy`, shared by reference — copy it yourself in a function if it is
 * mutable), nothing (`drop`), or what the function makes of the original's
 * value (`undefined`: nothing). Never called for an empty slot.
 */
export type SlotRule<T, O> = 'copy' | 'drop' | ((value: T, from: O) => T | undefined);

/**
 * What the VMA that survives a `vma_merge` holds: its own value (`keep`),
 * nothing (`drop`), or the function's combination of its value and the
 * value of each VMA it absorbed or took pages from (for a fresh range, as
 * mmap's, the value the range brings: empty for mmap, the moved value for
 * mremap). Called once per other VMA, never with both values empty.
 */
export type MergeRule<T> = 'keep' | 'drop' | ((kept: T | undefined, other: T | undefined) => T | undefined);

/** The rules of a per-VMA slot. */
export interface VmaSlotRules<T> {
  /** `split_vma()`: what the new VMA holds (the original keeps its value). */
  readonly split: SlotRule<T, Vma>;
  /** `vma_merge()`: what the surviving VMA holds. */
  readonly merge: MergeRule<T>;
  /** `dup_mmap()`: what the child's copy of the VMA holds. */
  readonly fork: SlotRule<T, Vma>;
  /** mremap's `move_vma()` / `copy_vma()`: what the VMA at the new address holds. */
  readonly mremap: SlotRule<T, Vma>;
}

/** The rules of a per-mm slot. */
export interface MmSlotRules<T> {
  /** `dup_mmap()`: what the child's mm holds. */
  readonly fork: SlotRule<T, MmStruct>;
}

/** An object with extension slots (a VMA or an mm). */
export interface HasExt {
  /** Slot values by slot index, or null while every slot is empty. */
  ext: unknown[] | null;
}

/** A slot: read and write its value in an object. */
export class ExtSlot<T, O extends HasExt> {
  /** Index in `ext`. */
  readonly id: number;
  /** The feature that declared it. */
  readonly feature: string;
  /** Its name, for diagnostics. */
  readonly name: string;

  constructor(id: number, feature: string, name: string) {
    this.id = id;
    this.feature = feature;
    this.name = name;
  }

  /** The slot's value in `obj`, or undefined. */
  get(obj: O): T | undefined {
    const e = obj.ext;
    return e === null ? undefined : (e[this.id] as T | undefined);
  }

  /** Set (or with undefined clear) the slot's value in `obj`. */
  set(obj: O, value: T | undefined): void {
    (obj.ext ??= [])[this.id] = value;
  }
}

/** A per-VMA slot. */
export type VmaSlot<T> = ExtSlot<T, Vma>;
/** A per-mm slot. */
export type MmSlot<T> = ExtSlot<T, MmStruct>;

/** A declared slot: who declared it, its name and its rules. */
export interface DeclaredSlot<R> {
  /** The feature. */
  readonly feature: string;
  /** The slot's name. */
  readonly name: string;
  /** Its rules. */
  readonly rules: R;
}

/** The slots the features of one kernel declared. */
export class SlotTable {
  /** Per-VMA slots, by index. */
  readonly vma: DeclaredSlot<VmaSlotRules<unknown>>[] = [];
  /** Per-mm slots, by index. */
  readonly mm: DeclaredSlot<MmSlotRules<unknown>>[] = [];

  private check(list: readonly DeclaredSlot<unknown>[], what: string, feature: string, name: string): void {
    checkOwnerName(what, feature);
    if (list.some((d) => d.feature === feature && d.name === name)) throw new KernelConfigError(`${what} '${name}' of feature '${feature}' is declared twice`);
  }

  /** Declare a per-VMA slot. */
  vmaSlot<T>(feature: string, name: string, rules: VmaSlotRules<T>): VmaSlot<T> {
    this.check(this.vma, 'VMA slot', feature, name);
    this.vma.push({ feature, name, rules: rules as VmaSlotRules<unknown> });
    return new ExtSlot<T, Vma>(this.vma.length - 1, feature, name);
  }

  /** Declare a per-mm slot. */
  mmSlot<T>(feature: string, name: string, rules: MmSlotRules<T>): MmSlot<T> {
    this.check(this.mm, 'mm slot', feature, name);
    this.mm.push({ feature, name, rules: rules as MmSlotRules<unknown> });
    return new ExtSlot<T, MmStruct>(this.mm.length - 1, feature, name);
  }
}

function applyRule<O>(rule: SlotRule<unknown, O>, value: unknown, from: O): unknown {
  if (value === undefined || rule === 'drop') return undefined;
  if (rule === 'copy') return value;
  return rule(value, from);
}

/** The copy's slot values under `pick`'s rules, or null when every one is empty. */
function copyValues<O extends HasExt, R>(decl: readonly DeclaredSlot<R>[], from: O, pick: (r: R) => SlotRule<unknown, O>): unknown[] | null {
  const src = from.ext;
  if (src === null) return null;
  let out: unknown[] | null = null;
  for (let id = 0; id < decl.length; id++) {
    const v = applyRule(pick(decl[id]!.rules), src[id], from);
    if (v !== undefined) (out ??= [])[id] = v;
  }
  return out;
}

/**
 * `split_vma()`: the new VMA `nv` (a copy of `vma`) takes the values the
 * split rules give.
 * @see mm/mmap.c split_vma (`mpol_copy`)
 */
export function vmaSlotsSplit(k: Kernel, vma: Vma, nv: Vma): void {
  const decl = k.slots.vma;
  if (decl.length === 0) return;
  nv.ext = copyValues(decl, vma, (r) => r.split);
}

/**
 * `dup_mmap()`: the child's copy `tmp` of `vma` takes the values the fork
 * rules give.
 * @see kernel/fork.c dup_mmap (`mpol_copy`)
 */
export function vmaSlotsFork(k: Kernel, vma: Vma, tmp: Vma): void {
  const decl = k.slots.vma;
  if (decl.length === 0) return;
  tmp.ext = copyValues(decl, vma, (r) => r.fork);
}

/**
 * mremap's `copy_vma()`: the values the VMA at the new address takes
 * (under the mremap rules), or null when there are none.
 * @see mm/mmap.c copy_vma
 */
export function vmaSlotsMremap(k: Kernel, vma: Vma): unknown[] | null {
  const decl = k.slots.vma;
  if (decl.length === 0) return null;
  return copyValues(decl, vma, (r) => r.mremap);
}

/**
 * `dup_mmap()`: the child's mm takes the values the per-mm fork rules give.
 * @see kernel/fork.c dup_mmap
 */
export function mmSlotsFork(k: Kernel, oldmm: MmStruct, mm: MmStruct): void {
  const decl = k.slots.mm;
  if (decl.length === 0) return;
  mm.ext = copyValues(decl, oldmm, (r) => r.fork);
}

/** The VMAs a `vma_merge` may combine, with their ranges before it. */
export interface MergeWatch {
  /** Candidate VMAs. */
  readonly vmas: Vma[];
  /** Their `vm_start` before the merge. */
  readonly starts: number[];
  /** Their `vm_end` before the merge. */
  readonly ends: number[];
}

/**
 * Before `vma_merge()` adjusts anything: note the neighbours it may
 * combine (null when no VMA slot is declared).
 */
export function vmaSlotsMergeBegin(k: Kernel, candidates: readonly (Vma | null)[]): MergeWatch | null {
  if (k.slots.vma.length === 0) return null;
  const w: MergeWatch = { vmas: [], starts: [], ends: [] };
  for (const v of candidates) {
    if (v === null || w.vmas.includes(v)) continue;
    w.vmas.push(v);
    w.starts.push(v.vmStart);
    w.ends.push(v.vmEnd);
  }
  return w;
}

/**
 * After `vma_merge()` made `survivor` cover the range: apply the merge
 * rules with the value of every candidate whose old range it now covers
 * in part or whole, or, when none, with `srcExt` (the values the range
 * brings).
 * @see mm/mmap.c vma_merge (`mpol_equal`)
 */
export function vmaSlotsMergeEnd(k: Kernel, w: MergeWatch, survivor: Vma, srcExt: readonly unknown[] | null): void {
  const others: (readonly unknown[] | null)[] = [];
  for (let i = 0; i < w.vmas.length; i++) {
    const v = w.vmas[i]!;
    if (v !== survivor && w.starts[i]! < survivor.vmEnd && w.ends[i]! > survivor.vmStart) others.push(v.ext);
  }
  if (others.length === 0) others.push(srcExt);
  const decl = k.slots.vma;
  for (let id = 0; id < decl.length; id++) {
    const rule = decl[id]!.rules.merge;
    if (rule === 'keep') continue;
    let v = survivor.ext?.[id];
    if (rule === 'drop') v = undefined;
    else {
      for (const o of others) {
        const ov = o?.[id];
        if (v !== undefined || ov !== undefined) v = rule(v, ov);
      }
    }
    if (v !== undefined || survivor.ext !== null) (survivor.ext ??= [])[id] = v;
  }
}
