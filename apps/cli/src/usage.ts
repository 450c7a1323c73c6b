/**
 * Usage lines of the `mmlab` command and its subcommands.
 * @module
 */

/** `mmlab run` usage. */
export const RUN_USAGE =
  'usage: mmlab run --workload SPEC [--features SPEC,SPEC,...] [--seed N] [--preempt|--no-preempt] ' +
  '[--check] [--json] [--timings] [--machine NAME] [--placement legacy|aligned] [--mem SIZE] [--swap SIZE] ' +
  '[--hugepages N] [--mode sequential|timed|explore] [--cpus N] [--strategy random|pct] [--trace FILE] ' +
  '[--trace-events N]';

/** `mmlab explore` usage. */
export const EXPLORE_USAGE =
  'usage: mmlab explore --scenario NAME --seeds N [--seed FIRST] [--features SPEC,SPEC,...] ' +
  '[--strategy random|pct] [--cpus N] [--machine NAME] [--preempt|--no-preempt] [--json] [--timings]';

/** `mmlab replay` usage. */
export const REPLAY_USAGE = 'usage: mmlab replay DIR [--json] [--check]';

/** `mmlab capture` usage. */
export const CAPTURE_USAGE = 'usage: mmlab capture PID DIR';

/** `mmlab list` usage. */
export const LIST_USAGE = 'usage: mmlab list workloads|scenarios|machines|features [--json]';

/** The one-line usage of the command as a whole. */
export const MAIN_USAGE = 'usage: mmlab run|explore|replay|capture|list|help ... (mmlab help for details)';

/** The full help text (`mmlab help`). */
export const HELP = `mmlab: run workloads on a model of the Linux 2.6.24 memory-management subsystem

${RUN_USAGE}
    Runs a workload (a built-in name, or a path to a JS module) on a kernel built
    from the feature set and prints a report (--json: one JSON object; --timings
    adds host time under "host"). Specs are name:key=value:key=value; sizes are
    binary (64k, 256m, 1g). --check runs the invariant checker at every operation
    boundary; any violation makes the exit code 1. --mem sets the simulated RAM
    (default: the machine's), --swap the swap space (default: twice the RAM).
    --hugepages sets the pool of 2 MiB huge pages (at most half of the RAM); a
    workload that needs a pool (hugetlb-shm) sizes it, and the RAM to hold it,
    unless --hugepages (or, for the RAM, --mem) is given. A workload the OOM
    killer stops, or that a pool too small refuses (ENOMEM), is a result
    ("result" in the report), exit code 0.
    --features takes registered feature names (mmlab list features) and paths
    to feature modules (./my-feature.mjs:key=value: starting with . or /, or
    ending in .js or .mjs; relative to the working directory). A module's
    default export (or else its 'feature' export) is a feature: a plain object
    { name, install(kernel, options), summary?, thread?, options? } needing no
    import, or a defineFeature value; the key=value pairs are its options. The
    report names each feature, its options and the module it came from.
    --mode sets how concurrent threads run: sequential (one after the other, the
    default), timed (discrete events on their CPUs: contention, waits and IPIs
    take simulated time; deterministic) or explore (a seeded interleaving;
    --strategy random|pct). --cpus overrides the machine's CPU count. The report
    has lock statistics per class (metrics.locks: acquisitions, contentions,
    wait and hold time) and the simulated time (metrics.sim: TLB flush time,
    the longest non-preemptible stretch, per-CPU busy time and longest
    stretch). --trace FILE writes a Trace Event Format file (Perfetto,
    chrome://tracing) of at most --trace-events N events (default 200000); the
    same seed gives the same report and trace, byte for byte, in every mode.

${EXPLORE_USAGE}
    Runs N seeded explore-mode interleavings (seeds FIRST, FIRST+1, ...; default
    FIRST 1) of a named race scenario (mmlab list scenarios) on a 16m kernel
    with 2 CPUs (--cpus) and the invariant checker on, and prints "no violation
    in N seeds" or the first failing seed with its violation, its interleaving
    (c0: a step on CPU 0, i1: an IPI taken by CPU 1) and the command that
    reproduces it; exit code 1 when a seed fails. --features as for mmlab run
    (feature modules included).

${REPLAY_USAGE}
    Rebuilds a captured process's address space and compares the model's page-table
    bytes (PTE+PMD+PUD tables) with the kernel's VmPTE; exit code 1 if they differ.

${CAPTURE_USAGE}
    Copies /proc/PID/smaps and /proc/PID/status into DIR and writes DIR/present from
    /proc/PID/pagemap (needs root or the process's own access).

${LIST_USAGE}
    Lists the built-in workloads and their parameters, the race scenarios of
    mmlab explore, the machine profiles (every profile field), or the features;
    --json prints a JSON array.

Exit codes: 0 success, 1 failure (violation, replay mismatch, workload or feature module
error), 2 bad usage.
`;
