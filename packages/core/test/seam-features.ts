/**
 * Test-only features for the seam tests (not a test file, not part of the
 * package's API): for each seam, a feature that wraps it, records every
 * call (the arguments of interest and the kernel function that made the
 * call) in a {@link SeamLog}, and defers to the previous implementation.
 * Such a wrapper must be invisible: the kernel behaves exactly as without
 * it.
 */
import {
  defineFeature,
  type Feature,
  type KGen,
  type SeamName,
  type Seams,
  type SpecialVmaOps,
  type TlbGatherOps,
  VM_HUGETLB,
} from '../src/index.js';

/** A value recorded from a seam's arguments. */
export type ArgValue = number | string | boolean;

/** One call a wrapper saw. */
export interface SeamCall {
  /** The feature whose wrapper saw it. */
  readonly by: string;
  /** The seam. */
  readonly seam: SeamName;
  /**
   * What was called: the seam's name for a function seam, the operation for
   * `tlbGather` (`begin`, `removePage`, …), and for the operations that
   * `specialVmaOps` returned, `<ops name>.<method>` (`hugetlb.fault`).
   */
  readonly op: string;
  /** The kernel function that made the call (the nearest core frame on the stack). */
  readonly from: string;
  /** The arguments of interest (mm ids, addresses, reasons, …). */
  readonly args: Readonly<Record<string, ArgValue>>;
}

/** The calls seen by the wrappers of one kernel, in call order. */
export class SeamLog {
  /** Every call so far. */
  readonly calls: SeamCall[] = [];

  /** Run `fn` (kernel operations) and return the calls made while it ran. */
  during(fn: () => unknown): SeamCall[] {
    const from = this.mark();
    fn();
    return this.since(from);
  }

  /** A position in the log, for {@link since}. */
  mark(): number {
    return this.calls.length;
  }

  /** The calls made since `mark`. */
  since(mark: number): SeamCall[] {
    return this.calls.slice(mark);
  }
}

/** Calls of one `op` (see {@link SeamCall.op}). */
export function callsOf(calls: readonly SeamCall[], op: string): SeamCall[] {
  return calls.filter((c) => c.op === op);
}

/** The kernel functions that made the calls of `op`, each once, in first-call order. */
export function callers(calls: readonly SeamCall[], op: string): string[] {
  return [...new Set(callsOf(calls, op).map((c) => c.from))];
}

/** A source file of this package (the core's kernel code, not the tests). */
const CORE_SOURCE = /[/\\]packages[/\\]core[/\\]src[/\\]/;

/** The V8 stack-trace hook that returns the call sites themselves instead of text. */
function callSites(_err: Error, sites: NodeJS.CallSite[]): NodeJS.CallSite[] {
  return sites;
}

/**
 * The name of the innermost function of the core's sources on the current
 * stack: called from a wrapper (which lives in the tests), the kernel
 * function that called the seam. The stack is read as V8 call sites, which
 * is much cheaper than formatting it (vitest source-maps formatted stacks).
 */
function coreCaller(): string {
  // saved to be put back as it was (vitest's hook, which source-maps the text)
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const { prepareStackTrace, stackTraceLimit } = Error;
  const holder: { stack?: NodeJS.CallSite[] } = {};
  try {
    Error.prepareStackTrace = callSites;
    Error.stackTraceLimit = 16;
    Error.captureStackTrace(holder, coreCaller);
    for (const site of holder.stack ?? []) {
      if (CORE_SOURCE.test(site.getFileName() ?? '')) return site.getFunctionName() ?? '(anonymous)';
    }
  } finally {
    Error.prepareStackTrace = prepareStackTrace;
    Error.stackTraceLimit = stackTraceLimit;
  }
  return '(not from the core)';
}

/** Record a call of `op` with `args`. */
type Note = (op: string, args: Readonly<Record<string, ArgValue>>) => void;

/** A seam's wrapper: notes each call, then defers to `prev` unchanged. */
type Wrapper<K extends SeamName> = (prev: Seams[K], note: Note) => Seams[K];

/** The page-table operations of a special VMA with every method noted (as `<name>.<method>`). */
function notedSpecialOps(ops: SpecialVmaOps, note: Note): SpecialVmaOps {
  const at = (method: string): string => `${ops.name}.${method}`;
  const noted: SpecialVmaOps = {
    name: ops.name,
    // noted when called (handle_mm_fault hands the fault's generator to its caller)
    fault(k, mm, vma, address, write) {
      note(at('fault'), { mm: mm.id, address, write });
      return ops.fault(k, mm, vma, address, write);
    },
    *copyPageRange(k, dst, src, vma) {
      note(at('copyPageRange'), { dst: dst.id, src: src.id, start: vma.vmStart, end: vma.vmEnd });
      return yield* ops.copyPageRange(k, dst, src, vma);
    },
    *unmapPageRange(k, tlb, vma, start, end, details) {
      note(at('unmapPageRange'), { mm: vma.mm.id, start, end });
      return yield* ops.unmapPageRange(k, tlb, vma, start, end, details);
    },
    *changeProtection(k, vma, start, end, newprot) {
      note(at('changeProtection'), { mm: vma.mm.id, start, end });
      yield* ops.changeProtection(k, vma, start, end, newprot);
    },
    *followPage(k, mm, vma, addr, write, pin) {
      note(at('followPage'), { mm: mm.id, addr, write, pin });
      return yield* ops.followPage(k, mm, vma, addr, write, pin);
    },
    *freePgtableRange(k, tlb, mm, addr, end, floor, ceiling) {
      note(at('freePgtableRange'), { mm: mm.id, addr, end });
      yield* ops.freePgtableRange(k, tlb, mm, addr, end, floor, ceiling);
    },
  };
  if (ops.movePageTables !== undefined) {
    // (hugetlb has none: mremap refuses the VMA)
    const move = ops.movePageTables.bind(ops);
    noted.movePageTables = function* (k, vma, oldAddr, newAddr, len): KGen<number> {
      note(at('movePageTables'), { mm: vma.mm.id, oldAddr, newAddr, len });
      return yield* move(k, vma, oldAddr, newAddr, len);
    };
  }
  return noted;
}

/** The TLB gather with every operation noted. */
function notedGather(prev: TlbGatherOps, note: Note): TlbGatherOps {
  return {
    ...prev,
    begin(k, mm, fullmm) {
      note('begin', { mm: mm.id, fullmm });
      return prev.begin(k, mm, fullmm);
    },
    removeTlbEntry(k, tlb, addr) {
      note('removeTlbEntry', { addr });
      prev.removeTlbEntry(k, tlb, addr);
    },
    removePage(k, tlb, pfn, addr, pte) {
      note('removePage', { pfn, addr, pte });
      return prev.removePage(k, tlb, pfn, addr, pte);
    },
    removeTable(k, tlb, pfn) {
      note('removeTable', { pfn });
      return prev.removeTable(k, tlb, pfn);
    },
    *flush(k, tlb) {
      note('flush', { mm: tlb.mm?.id ?? 0 });
      yield* prev.flush(k, tlb);
    },
    *finish(k, tlb) {
      note('finish', { mm: tlb.mm?.id ?? 0, fullmm: tlb.fullmm });
      yield* prev.finish(k, tlb);
    },
    blockSize(k, tlb) {
      note('blockSize', {});
      return prev.blockSize(k, tlb);
    },
    tableDone(k, tlb) {
      note('tableDone', {});
      return prev.tableDone(k, tlb);
    },
  };
}

/** Every seam's wrapper: a mapped type, so a new seam without one does not compile. */
const WRAPPERS: { readonly [K in SeamName]: Wrapper<K> } = {
  pgtableAlloc: (prev, note) => (k, mm, level, addr) => {
    note('pgtableAlloc', { mm: mm.id, level, addr });
    return prev(k, mm, level, addr);
  },
  pgtableDiscard: (prev, note) => (k, mm, level, pfn) => {
    note('pgtableDiscard', { mm: mm.id, level, pfn });
    prev(k, mm, level, pfn);
  },
  pgtableFree: (prev, note) =>
    function* (k, tlb, mm, level, parent, idx) {
      note('pgtableFree', { mm: mm.id, level, parent, idx });
      yield* prev(k, tlb, mm, level, parent, idx);
    },
  copyPageRange: (prev, note) =>
    function* (k, dst, src, vma) {
      note('copyPageRange', { dst: dst.id, src: src.id, start: vma.vmStart, end: vma.vmEnd });
      return yield* prev(k, dst, src, vma);
    },
  // noted when called, not when first resumed: handle_pte_fault hands the fault's generator to its caller
  anonFault: (prev, note) => (k, mm, vma, address, pte) => {
    note('anonFault', { mm: mm.id, address, pte });
    return prev(k, mm, vma, address, pte);
  },
  doFault: (prev, note) => (k, mm, vma, address, pte, pgoff, write, origFlags, origValue) => {
    note('doFault', { mm: mm.id, address, pgoff, write });
    return prev(k, mm, vma, address, pte, pgoff, write, origFlags, origValue);
  },
  specialVmaOps: (prev, note) => (vma) => {
    note('specialVmaOps', { mm: vma.mm.id, start: vma.vmStart, end: vma.vmEnd, hugetlb: (vma.vmFlags & VM_HUGETLB) !== 0 });
    const ops = prev(vma);
    return ops === null ? null : notedSpecialOps(ops, note);
  },
  vmNormalPage: (prev, note) => (k, vma, addr, flags, pfn) => {
    note('vmNormalPage', { mm: vma.mm.id, addr, pfn });
    return prev(k, vma, addr, flags, pfn);
  },
  pfnPte: (prev, note) => (k, vma, addr, pfn, prot) => {
    note('pfnPte', { mm: vma.mm.id, addr, pfn, prot });
    return prev(k, vma, addr, pfn, prot);
  },
  getUserPages: (prev, note) =>
    function* (k, mm, start, nrPages, write, force) {
      note('getUserPages', { mm: mm.id, start, nrPages, write, force });
      return yield* prev(k, mm, start, nrPages, write, force);
    },
  fileMmap: (prev, note) =>
    function* (k, file, vma) {
      note('fileMmap', { file: file.name, mm: vma.mm.id, start: vma.vmStart, end: vma.vmEnd });
      return yield* prev(k, file, vma);
    },
  flushTlb: (prev, note) => (k, kind, mm, start, end, reason) => {
    note('flushTlb', { kind, mm: mm.id, start, end, reason });
    return prev(k, kind, mm, start, end, reason);
  },
  tlbMiss: (prev, note) => (k, mm, address, write) => {
    note('tlbMiss', { mm: mm.id, addr: address, write });
    return prev(k, mm, address, write);
  },
  ptepClearFlush: (prev, note) =>
    function* (k, vma, addr, pte) {
      note('ptepClearFlush', { mm: vma.mm.id, addr, pte });
      yield* prev(k, vma, addr, pte);
    },
  ptepClearFlushYoung: (prev, note) =>
    function* (k, vma, addr, pte) {
      note('ptepClearFlushYoung', { mm: vma.mm.id, addr, pte });
      return yield* prev(k, vma, addr, pte);
    },
  tlbGather: (prev, note) => notedGather(prev, note),
  rangeBegin: (prev, note) =>
    function* (k, mm, start, end, reason) {
      note('rangeBegin', { mm: mm.id, start, end, reason });
      yield* prev(k, mm, start, end, reason);
    },
  rangeEnd: (prev, note) =>
    function* (k, mm, start, end, reason) {
      note('rangeEnd', { mm: mm.id, start, end, reason });
      yield* prev(k, mm, start, end, reason);
    },
  exitMmapBegin: (prev, note) =>
    function* (k, mm) {
      note('exitMmapBegin', { mm: mm.id });
      yield* prev(k, mm);
    },
  exitMmapUnmapped: (prev, note) =>
    function* (k, mm) {
      note('exitMmapUnmapped', { mm: mm.id });
      yield* prev(k, mm);
    },
  vmaChange: (prev, note) =>
    function* (k, vma, start, end, reason) {
      note('vmaChange', { mm: vma.mm.id, start, end, reason, vmStart: vma.vmStart, vmEnd: vma.vmEnd });
      yield* prev(k, vma, start, end, reason);
    },
};

/** The seams that have a test wrapper (all of them, when this compiles). */
export const WRAPPED_SEAMS: readonly string[] = Object.keys(WRAPPERS);

/** `pgtableAlloc` → `pgtable-alloc`: feature names are lower-case words joined by '-'. */
export function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/**
 * The test-only feature `test-wrap-<seam>` (or `name`): its install
 * wraps `seam` with a wrapper that records each call in `log` under
 * the feature's name and then defers to the previous implementation.
 */
export function wrapFeature(seam: SeamName, log: SeamLog, name = `test-wrap-${kebab(seam)}`): Feature {
  // WRAPPERS[seam] is the wrapper of that very seam; TypeScript cannot relate the two through the union
  const wrapper = WRAPPERS[seam] as Wrapper<SeamName>;
  return defineFeature({
    name,
    summary: `Test: record every call of the ${seam} seam, then defer to the previous implementation`,
    thread: { subject: '(test feature for the seam tests)', author: 'mmlab tests', date: '2025-01' },
    options: {},
    install(k) {
      const note: Note = (op, args) => {
        log.calls.push({ by: name, seam, op, from: coreCaller(), args });
      };
      k.seamTable.wrap(name, seam, (prev) => wrapper(prev, note));
    },
  });
}
