/**
 * The readable form of an exploration's report.
 * @module
 */

import { DEFAULT_EXPLORE_CPUS, type ExploreReport } from '@mmlab/workloads';
import { formatFeatureList, type ShownFeature } from './feature-list.js';
import { formatNumber } from './table.js';

/** Interleavings longer than this many characters are cut in text (`--json` has them whole). */
const MAX_INTERLEAVING_CHARS = 4000;
/** Violations listed after the first. */
const MAX_MORE_VIOLATIONS = 5;

/**
 * Formats an exploration: what was run (the features with their options
 * and, for those loaded from a module, its path); then "no violation in N
 * seeds", or "seed S fails: CHECK: MESSAGE" with the other violations of
 * that seed, its interleaving and the command that reproduces it; the
 * counts; host time when recorded.
 * @param report - the exploration's report (features with the module they came from, if any)
 * @param features - the `--features` text as given (for the reproduce command)
 */
export function formatExploreReport(
  report: ExploreReport & { readonly features: readonly ShownFeature[] },
  features = ''
): string {
  const c = report.config;
  const out: string[] = [
    `mmlab explore ${report.scenario}: ${seedRange(c.firstSeed, c.seeds)}, strategy ${c.strategy}` +
      (c.pctDepth === undefined ? '' : ` (depth ${c.pctDepth})`) +
      `, ${c.cpus} cpus, machine ${c.machine}, PREEMPT ${c.preempt ? 'on' : 'off'}, features ${formatFeatureList(report.features)}\n`,
  ];
  const f = report.failure;
  if (f === null) {
    out.push(`no violation in ${formatNumber(report.seedsRun)} seeds\n`);
  } else {
    const [first, ...more] = f.violations;
    out.push(`seed ${f.seed} fails: ${first?.check ?? '?'}: ${first?.message ?? '?'}${first?.op === undefined ? '' : ` (after ${first.op})`}\n`);
    for (const v of more.slice(0, MAX_MORE_VIOLATIONS)) {
      out.push(`  also ${v.check}: ${v.message}${v.op === undefined ? '' : ` (after ${v.op})`}\n`);
    }
    if (more.length > MAX_MORE_VIOLATIONS) out.push(`  ... and ${more.length - MAX_MORE_VIOLATIONS} more (see --json)\n`);
    const il =
      f.interleaving.length <= MAX_INTERLEAVING_CHARS
        ? f.interleaving
        : `${f.interleaving.slice(0, f.interleaving.lastIndexOf(' ', MAX_INTERLEAVING_CHARS))} ... (--json shows all)`;
    out.push(`interleaving (${formatNumber(f.steps)} steps): ${il === '' ? '(none)' : il}\n`);
    out.push(`reproduce: ${reproduce(report, f.seed, features)}\n`);
  }
  out.push(
    `seeds run ${formatNumber(report.seedsRun)}, checks ${formatNumber(report.checks)}, ` +
      `scheduler steps ${formatNumber(report.steps)}\n`
  );
  if (report.host !== undefined) out.push(`host time ${formatNumber(report.host.ms)} ms\n`);
  return out.join('');
}

function seedRange(first: number, count: number): string {
  return count === 1 ? `seed ${first}` : `${formatNumber(count)} seeds from ${first}`;
}

/** The command that re-runs the failing seed alone, with every option that changes the run. */
function reproduce(report: ExploreReport, seed: number, features: string): string {
  const c = report.config;
  const args = ['mmlab explore', `--scenario ${report.scenario}`, `--seed ${seed}`, '--seeds 1'];
  if (c.strategy !== 'random') args.push(`--strategy ${c.strategy}`);
  if (c.cpus !== DEFAULT_EXPLORE_CPUS) args.push(`--cpus ${c.cpus}`);
  if (c.machine !== 'x86-64') args.push(`--machine ${c.machine}`);
  if (c.preempt) args.push('--preempt');
  if (features !== '') args.push(`--features ${features}`);
  return args.join(' ');
}
