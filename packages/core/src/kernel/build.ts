/**
 * `buildKernel`: validate a configuration, let the features configure the
 * machine, lay it out, install the feature set into the seams (refusing
 * installations that do not compose), boot.
 * @module
 */
import { getMachine, listMachines, type MachineProfile, X86_64 } from '../machine/profile.js';
import { PAGE_SIZE } from '../pgtable/entry.js';
import { KernelConfigError, resolveFeatures } from '../seams/feature.js';
import type { SeamTable } from '../seams/seam-table.js';
import type { BuildOptions, MachineConfig } from './config.js';
import { Kernel } from './kernel.js';

/** Check the machine's sizes; throws {@link KernelConfigError} naming the bad one. */
function checkMachine(m: MachineConfig): void {
  const { cpus, memBytes, swapBytes, hugePages, xipBytes, placement } = m;
  if (!Number.isInteger(cpus) || cpus < 1 || cpus > 256) throw new KernelConfigError(`cpus must be an integer from 1 to 256, got ${cpus}`);
  if (!Number.isSafeInteger(memBytes) || memBytes < 16 * 1024 * 1024 || memBytes % PAGE_SIZE !== 0) {
    throw new KernelConfigError(`memory size must be a multiple of 4 KiB and at least 16 MiB, got ${memBytes}`);
  }
  if (memBytes > 64 * 1024 * 1024 * 1024) throw new KernelConfigError(`memory size ${memBytes} is above the model's 64 GiB limit`);
  if (!Number.isSafeInteger(swapBytes) || swapBytes < 0 || swapBytes > 256 * 1024 * 1024 * 1024) {
    throw new KernelConfigError(`swap size must be from 0 to 256 GiB, got ${swapBytes}`);
  }
  if (!Number.isInteger(hugePages) || hugePages < 0 || hugePages * 2 * 1024 * 1024 > memBytes / 2) {
    throw new KernelConfigError(`hugepages must be a whole number using at most half of memory, got ${hugePages}`);
  }
  if (!Number.isSafeInteger(xipBytes) || xipBytes < 0 || xipBytes % PAGE_SIZE !== 0 || xipBytes > 16 * 1024 * 1024 * 1024) {
    throw new KernelConfigError(`XIP image size must be a multiple of 4 KiB up to 16 GiB, got ${xipBytes}`);
  }
  if (!['legacy', 'aligned'].includes(placement)) throw new KernelConfigError(`placement must be legacy or aligned, got '${placement}'`);
  for (const [name, ns] of Object.entries(m.costs)) {
    if (typeof ns !== 'number' || !Number.isFinite(ns) || ns < 0) throw new KernelConfigError(`cost '${name}' must be a non-negative number of ns, got ${String(ns)}`);
  }
}

/**
 * Refuse seam installations that lose work silently: two features
 * replacing one seam (unless they declare a conflict, which
 * `resolveFeatures` refuses first), or a replacement installed over
 * another feature's wrap.
 */
function checkComposition(table: SeamTable): void {
  for (const c of table.findClashes()) {
    if (c.firstMode === 'replace') {
      throw new KernelConfigError(`features '${c.first}' and '${c.second}' both replace seam '${c.seam}'; declare a conflict or make one wrap`);
    }
    throw new KernelConfigError(
      `feature '${c.second}' replaces seam '${c.seam}', discarding the wrap '${c.first}' installed before it; list '${c.second}' before '${c.first}' or make it wrap`,
    );
  }
}

/**
 * Build a kernel. Throws {@link KernelConfigError} for an unknown machine,
 * an impossible size, a bad feature set, or features whose seam
 * installations do not compose.
 *
 * @example
 * One process maps 1 MiB of anonymous memory and writes it: 256 faults,
 * and one PTE table (2.6.24 counted `nr_page_table_pages` at the PTE level
 * only).
 * ```ts
 * import assert from 'node:assert/strict';
 * import { buildKernel, MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '@mmlab/core';
 *
 * const k = buildKernel({ memBytes: 64 * 2 ** 20, check: true });
 * const task = k.spawn();
 * const addr = k.mmap(task, 0, 2 ** 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
 * assert.equal(k.touch(task, addr, 2 ** 20, true), 0);
 * assert.equal(k.vm.pgfault, 256);
 * assert.equal(k.vm.nr_page_table_pages, 1);
 * assert.deepEqual(k.check(), []);
 * ```
 */
export function buildKernel(opts: BuildOptions = {}): Kernel {
  let profile: MachineProfile;
  if (opts.machine === undefined) profile = X86_64;
  else if (typeof opts.machine === 'string') {
    const m = getMachine(opts.machine);
    if (m === undefined) throw new KernelConfigError(`unknown machine '${opts.machine}' (known: ${listMachines().join(', ')})`);
    profile = m;
  } else profile = opts.machine;
  const memBytes = opts.memBytes ?? profile.memBytes;
  const machine: MachineConfig = {
    profile,
    cpus: opts.cpus ?? profile.cpus,
    memBytes,
    swapBytes: opts.swapBytes ?? 2 * memBytes,
    hugePages: opts.hugePages ?? 0,
    xipBytes: opts.xipBytes ?? 0,
    xipMemmap: opts.xipMemmap ?? true,
    placement: opts.placement ?? profile.placement,
    preempt: opts.config?.preempt ?? false,
    costs: profile.costs,
  };
  checkMachine(machine);
  const mode = opts.mode ?? 'sequential';
  if (!['sequential', 'timed', 'explore'].includes(mode)) throw new KernelConfigError(`mode must be sequential, timed or explore, got '${mode}'`);
  const strategy = opts.strategy ?? 'random';
  if (!['random', 'pct'].includes(strategy)) throw new KernelConfigError(`explore strategy must be random or pct, got '${strategy}'`);
  const pctDepth = opts.pctDepth ?? 3;
  if (!Number.isInteger(pctDepth) || pctDepth < 1 || pctDepth > 20) throw new KernelConfigError(`PCT depth must be an integer from 1 to 20, got ${pctDepth}`);
  if (opts.pctHorizon !== undefined && (!Number.isInteger(opts.pctHorizon) || opts.pctHorizon < 1)) throw new KernelConfigError(`PCT horizon must be a positive integer, got ${opts.pctHorizon}`);
  const traceEvents = opts.traceEvents ?? 0;
  if (!Number.isInteger(traceEvents) || traceEvents < 0) throw new KernelConfigError(`trace event cap must be a whole number, got ${traceEvents}`);
  const features = resolveFeatures(opts.features ?? [], opts.registry ?? []);
  const configuring = features.filter((f) => f.feature.configure !== undefined);
  if (configuring.length > 0) {
    // the features change the machine before memory is laid out
    machine.costs = { ...profile.costs };
    for (const f of configuring) f.feature.configure!(machine, f.options as never);
    checkMachine(machine);
  }
  const k = new Kernel({
    profile: { ...profile, cpus: machine.cpus, placement: machine.placement, costs: machine.costs },
    config: { preempt: machine.preempt },
    memBytes: machine.memBytes,
    swapBytes: machine.swapBytes,
    hugePages: machine.hugePages,
    xipBytes: machine.xipBytes,
    xipMemmap: machine.xipMemmap,
    seed: opts.seed ?? 1,
    check: opts.check ?? false,
    features,
    mode,
    explore: mode === 'explore' ? { seed: opts.seed ?? 1, strategy, depth: pctDepth, maxSteps: 2_000_000, horizon: opts.pctHorizon ?? 64 } : null,
    traceEvents,
  });
  for (const f of features) f.feature.install(k, f.options as never);
  checkComposition(k.seamTable);
  k.bootDone();
  return k;
}
