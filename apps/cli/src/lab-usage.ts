/**
 * Usage lines and help paragraphs of the lab's subcommands (`ab`,
 * `matrix`, `merge`, `chart`).
 * @module
 */

import { usageLine } from './usage.js';

/** The kernel settings `ab` and `matrix` share. */
const SETTINGS_ARGS =
  '[--machine NAME|FILE] [--mode sequential|timed|explore] [--cpus N] [--strategy random|pct] [--preempt|--no-preempt] ' +
  '[--placement legacy|aligned] [--mem SIZE] [--swap SIZE] [--hugepages N] [--check]';

/** `mmlab ab` arguments. */
export const AB_ARGS =
  `--workload SPEC|--replay DIR [--a SET] --b SET [--reps N] [--seed FIRST] ${SETTINGS_ARGS} ` +
  '[--all] [--json|--csv|--markdown] [--chart FILE.svg] [--out FILE] [--force]  |  mmlab ab --each [--reps N]';

/** `mmlab ab` usage. */
export const AB_USAGE = usageLine('ab', AB_ARGS);

/** `mmlab ab` help. */
export const AB_HELP = `Runs the workload with feature set A (default baseline) and with set B on the
same seeds (FIRST, FIRST+1, ...; --reps N, default 5) and compares every
metric: A, B, the difference B − A with its 95% confidence interval (paired
Student's t over the seeds, @stdlib/stats-ttest) and a flag when the
difference is within the noise (the interval contains 0). A metric that no
seed changes is exact. Sets use the feature-set notation: names with
:key=value options joined by commas (shared-pagetables,mmu-notifiers:variant=range),
baseline for none, all for every registered feature; feature modules
(./my-feature.mjs:key=value) too. The terminal table lists the metrics that
differ (--all: every metric); --json, --csv and --markdown print every metric.
--chart FILE.svg draws the changes as bars with their intervals (Vega-Lite).
With --check a violation in either set makes the exit code 1.

--replay DIR runs the replay of a capture folder (mmlab capture: the captured
processes rebuilt in one kernel, then torn down) instead of a workload: the
A/B table of the lab on a real group. A replay is deterministic, so the seeds
change nothing; it runs two (every figure then shows exact), --reps 1 halves
the time.

--each compares every registered proposal against the baseline on the
workload that shows it (what npm start prints).`;

/** `mmlab matrix` arguments. */
export const MATRIX_ARGS =
  '--workloads SPEC,SPEC,... --out FILE.jsonl [--features all|NAME,NAME,...] [--options-grid GRID] ' +
  `[--reps N] [--seed FIRST] [--jobs J] [--shard I/N] ${SETTINGS_ARGS} [--json|--csv|--markdown]`;

/** `mmlab matrix` usage. */
export const MATRIX_USAGE = usageLine('matrix', MATRIX_ARGS);

/** `mmlab matrix` help. */
export const MATRIX_HELP = `Runs every combination of the features (all: every registered one; 2^n
sets, baseline included) on every workload, --reps N seeds each (default 1),
on J worker threads (--jobs, default 1), and appends each finished cell to
FILE.jsonl as one JSON line. Re-running the same command skips the cells
already in the file: after Ctrl-C or a crash it resumes; the file is never
rewritten. --options-grid adds option variants:
feature:key=v1|v2:key2=w1|w2,feature2:... runs each listed feature with every
combination of the values. --shard I/N runs every N-th cell from the I-th
(1 <= I <= N) for a batch scheduler (Slurm job array, Kubernetes Indexed
Job, CI matrix); mmlab merge joins the shards' files. Then prints the
report of the whole file: per workload, the main effect of each feature
(switching it on, averaged over the others) and the pairwise interactions
that are not zero (what a pair does beyond each alone), with t intervals
over the seeds. Exit code 1 when a cell has an invariant violation
(--check), fails, or the run was interrupted.`;

/** `mmlab merge` arguments. */
export const MERGE_ARGS = '--out FILE.jsonl FILE.jsonl FILE.jsonl ...';

/** `mmlab merge` usage. */
export const MERGE_USAGE = usageLine('merge', MERGE_ARGS);

/** `mmlab merge` help. */
export const MERGE_HELP = `Joins the results files of a matrix's shards into one new file, cells in a
fixed order (workload, features, seed). The files must share their settings;
a cell in two files must be the same. An existing --out file is never
overwritten.`;

/** `mmlab chart` arguments. */
export const CHART_ARGS = 'FILE.jsonl --metric NAME [--by features|interactions] [--out FILE.svg] [--force]';

/** `mmlab chart` usage. */
export const CHART_USAGE = usageLine('chart', CHART_ARGS);

/** `mmlab chart` help. */
export const CHART_HELP = `Draws one metric of a matrix's results as SVG (Vega-Lite, rendered in Node):
--by features (default) one bar per feature set and workload, the mean over
the seeds with its 95% t interval; --by interactions a heat map of the
features' main effects (diagonal) and pairwise interactions. The SVG goes to
standard output unless --out FILE.svg.`;
