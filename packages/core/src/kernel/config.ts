/**
 * The kernel's build-time configuration and the options of
 * {@link buildKernel}: `.config`, the machine, sizes, the feature set and
 * the execution mode.
 * @module
 */
import type { CostTable } from '../machine/cost.js';
import type { MachineProfile, Placement } from '../machine/profile.js';
import type { ExploreOptions, ExploreStrategy, Mode } from '../sched/scheduler.js';
import type { Violation } from '../observe/check.js';
import type { Feature, FeatureRequest, ResolvedFeature } from '../seams/feature.js';

/** Build-time kernel configuration (`.config`). */
export interface KernelConfig {
  /** `CONFIG_PREEMPT`. Off by default, as in most 2008 distribution kernels. */
  readonly preempt: boolean;
}

/** Options of {@link buildKernel}. */
export interface BuildOptions {
  /** Kernel configuration. */
  config?: Partial<KernelConfig>;
  /** Machine profile or its name (default `x86-64`). */
  machine?: string | MachineProfile;
  /** Override the profile's CPU count. */
  cpus?: number;
  /** Override the profile's RAM, in bytes. */
  memBytes?: number;
  /** Swap space in bytes (default: twice the RAM). */
  swapBytes?: number;
  /** Huge pages in the pool (`nr_hugepages`, 2 MiB each), set aside at boot. */
  hugePages?: number;
  /** Size of an execute-in-place image above RAM (with a memmap, as 2.6.24 needs, unless `xipMemmap` is false). */
  xipBytes?: number;
  /**
   * Whether the XIP image gets a memmap (`struct page` per frame, counted
   * in `nr_memmap_pages`). Default true: 2.6.24's `get_xip_page` needs it.
   * False models an image mapped by pfn (VM_MIXEDMAP XIP), which only a
   * feature's own file type can map.
   */
  xipMemmap?: boolean;
  /** Override the profile's mmap placement. */
  placement?: Placement;
  /** The feature set. */
  features?: readonly FeatureRequest[];
  /** Features that `{ name }` requests are looked up in. */
  registry?: readonly Feature[];
  /** Seed for anything random in the kernel (tokens). */
  seed?: number;
  /** Run the invariant checker and the data-integrity oracle at every operation boundary. */
  check?: boolean;
  /** Execution mode (default `sequential`). */
  mode?: Mode;
  /** Explore mode: how interleavings are chosen (default `random`). */
  strategy?: ExploreStrategy;
  /** Explore mode: PCT depth (default 3). */
  pctDepth?: number;
  /** Explore mode: PCT change points fall in the first this-many steps (default 64: about a race scenario's length). */
  pctHorizon?: number;
  /** Record a trace in the Trace Event Format, keeping at most this many events (0: none). */
  traceEvents?: number;
}

/** What {@link Kernel.read} returns. */
export interface ReadResult {
  /** The signal that stopped the access, or 0. */
  sig: number;
  /** The data token read. */
  value: number;
}

/** What the invariant checker has done. */
export interface InvariantReport {
  /** Checks run. */
  checks: number;
  /** Violations found (empty when clean). */
  violations: Violation[];
}

/** Arguments of the {@link Kernel} constructor, as {@link buildKernel} validates them. */
export interface KernelInit {
  /** The machine profile with overrides applied. */
  profile: MachineProfile;
  /** Build-time configuration. */
  config: KernelConfig;
  /** Simulated RAM in bytes. */
  memBytes: number;
  /** Swap space in bytes. */
  swapBytes: number;
  /** Huge pages in the pool. */
  hugePages: number;
  /** XIP image size in bytes. */
  xipBytes: number;
  /** The XIP image has a memmap. */
  xipMemmap: boolean;
  /** Seed. */
  seed: number;
  /** Run the checker and oracle at operation boundaries. */
  check: boolean;
  /** The validated feature set. */
  features: ResolvedFeature[];
  /** Execution mode. */
  mode: Mode;
  /** Explore options (explore mode). */
  explore: ExploreOptions | null;
  /** Trace event cap (0: no trace). */
  traceEvents: number;
}

/**
 * The machine a kernel is being built for, after the build options and
 * before memory is laid out: what a feature's `configure` may change (an
 * XIP image without a memmap, memory sizes, the cost table). `buildKernel`
 * checks the result as it checks the options.
 */
export interface MachineConfig {
  /** The machine profile chosen (its name, topology and TLB geometry). */
  readonly profile: MachineProfile;
  /** CPUs online. */
  cpus: number;
  /** Simulated RAM in bytes. */
  memBytes: number;
  /** Swap space in bytes. */
  swapBytes: number;
  /** Huge pages in the pool. */
  hugePages: number;
  /** XIP image size in bytes. */
  xipBytes: number;
  /** The XIP image has a memmap (see {@link BuildOptions.xipMemmap}). */
  xipMemmap: boolean;
  /** mmap placement. */
  placement: Placement;
  /** `CONFIG_PREEMPT`. */
  preempt: boolean;
  /** The cost table the kernel will charge (a copy of the profile's: change it freely). */
  costs: CostTable;
}
