/**
 * `buildKernel`: validate a configuration, lay out the machine, install the
 * feature set into the seams, boot.
 * @module
 */
import { getMachine, listMachines, type MachineProfile, X86_64 } from '../machine/profile.js';
import { PAGE_SIZE } from '../pgtable/entry.js';
import { KernelConfigError, resolveFeatures } from '../seams/feature.js';
import type { BuildOptions } from './config.js';
import { Kernel } from './kernel.js';

/**
 * Build a kernel. Throws {@link KernelConfigError} for an unknown machine,
 * an impossible size, or a bad feature set.
 */
export function buildKernel(opts: BuildOptions = {}): Kernel {
  let profile: MachineProfile;
  if (opts.machine === undefined) profile = X86_64;
  else if (typeof opts.machine === 'string') {
    const m = getMachine(opts.machine);
    if (m === undefined) throw new KernelConfigError(`unknown machine '${opts.machine}' (known: ${listMachines().join(', ')})`);
    profile = m;
  } else profile = opts.machine;
  const cpus = opts.cpus ?? profile.cpus;
  if (!Number.isInteger(cpus) || cpus < 1 || cpus > 256) throw new KernelConfigError(`cpus must be an integer from 1 to 256, got ${cpus}`);
  const memBytes = opts.memBytes ?? profile.memBytes;
  if (!Number.isSafeInteger(memBytes) || memBytes < 16 * 1024 * 1024 || memBytes % PAGE_SIZE !== 0) {
    throw new KernelConfigError(`memory size must be a multiple of 4 KiB and at least 16 MiB, got ${memBytes}`);
  }
  if (memBytes > 64 * 1024 * 1024 * 1024) throw new KernelConfigError(`memory size ${memBytes} is above the model's 64 GiB limit`);
  const swapBytes = opts.swapBytes ?? 2 * memBytes;
  if (!Number.isSafeInteger(swapBytes) || swapBytes < 0 || swapBytes > 256 * 1024 * 1024 * 1024) {
    throw new KernelConfigError(`swap size must be from 0 to 256 GiB, got ${swapBytes}`);
  }
  const hugePages = opts.hugePages ?? 0;
  if (!Number.isInteger(hugePages) || hugePages < 0 || hugePages * 2 * 1024 * 1024 > memBytes / 2) {
    throw new KernelConfigError(`hugepages must be a whole number using at most half of memory, got ${hugePages}`);
  }
  const xipBytes = opts.xipBytes ?? 0;
  if (!Number.isSafeInteger(xipBytes) || xipBytes < 0 || xipBytes % PAGE_SIZE !== 0 || xipBytes > 16 * 1024 * 1024 * 1024) {
    throw new KernelConfigError(`XIP image size must be a multiple of 4 KiB up to 16 GiB, got ${xipBytes}`);
  }
  const placement = opts.placement ?? profile.placement;
  if (!['legacy', 'aligned'].includes(placement)) throw new KernelConfigError(`placement must be legacy or aligned, got '${placement}'`);
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
  const k = new Kernel({
    profile: { ...profile, cpus, placement },
    config: { preempt: opts.config?.preempt ?? false },
    memBytes,
    swapBytes,
    hugePages,
    xipBytes,
    seed: opts.seed ?? 1,
    check: opts.check ?? false,
    features,
    mode,
    explore: mode === 'explore' ? { seed: opts.seed ?? 1, strategy, depth: pctDepth, maxSteps: 2_000_000, horizon: opts.pctHorizon ?? 64 } : null,
    traceEvents,
  });
  for (const f of features) f.feature.install(k, f.options as never);
  k.bootDone();
  return k;
}
