/**
 * `docs/report.schema.json` describes the JSON report (`mmlab run --json`):
 * every built-in workload's report validates against it (the golden
 * reports of every workload, mode and machine, fresh runs, and runs with
 * each feature package), a report with an unknown or missing key does not,
 * and each definition lists exactly the keys of the TypeScript interface it
 * is named after, so the schema cannot drift from the code.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { listWorkloads, runWorkload } from '@mmlab/workloads';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { discoverFeatures } from '../docs-pages.js';
import { parseSource } from '../lib/generated.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const schema = JSON.parse(readFileSync(join(root, 'docs', 'report.schema.json'), 'utf8')) as {
  definitions: Record<string, { properties?: Record<string, unknown>; required?: string[] }>;
};
const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
const validate = ajv.compile(schema);
/**
 * The schema without `required`: golden reports were written when the
 * report had fewer keys (the golden test lets keys appear later), so they
 * are checked for unknown keys and types, not for keys added since.
 */
const validateShape = ajv.compile(JSON.parse(JSON.stringify(schema, (key, value: unknown) => (key === 'required' ? undefined : value))) as object);

function errors(report: unknown, check = validate): string {
  return check(report) ? '' : JSON.stringify(check.errors, null, 1);
}

/** The golden reports of the CLI's tests: workload → its entries. */
const golden = new Map<string, { command: string; report?: unknown }[]>();
const goldenDir = join(root, 'apps', 'cli', 'test', 'golden');
for (const f of readdirSync(goldenDir).filter((n) => n.endsWith('.json'))) {
  const entries = JSON.parse(readFileSync(join(goldenDir, f), 'utf8')) as Record<string, { command: string; report?: unknown }>;
  golden.set(f.replace(/\.json$/, ''), Object.values(entries));
}

/** The smallest specification the golden reports run each workload with. */
function goldenSpec(name: string): string | undefined {
  const entry = golden.get(name)?.find((e) => e.report !== undefined);
  return (entry?.report as { workload?: { spec?: string } } | undefined)?.workload?.spec;
}

describe('docs/report.schema.json', () => {
  it('is a valid JSON Schema that ajv compiles in strict mode', () => {
    expect(typeof validate).toBe('function');
  });

  it('accepts every golden report (every workload, mode, machine and seed the CLI tests; keys added since may be missing)', () => {
    let n = 0;
    for (const [name, entries] of golden) {
      for (const e of entries) {
        // a refused run prints the error object of --json, not a report
        if (e.report === undefined || (typeof e.report === 'object' && e.report !== null && 'error' in e.report)) continue;
        expect(errors(e.report, validateShape), `${name}: ${e.command}`).toBe('');
        n++;
      }
    }
    expect(n).toBeGreaterThan(100);
  });

  it.each(listWorkloads().map((w) => w.name))("accepts a fresh report of the built-in workload %s, checker on", async (name) => {
    const spec = goldenSpec(name);
    expect(spec, `${name} has no golden report to take a small specification from`).toBeDefined();
    const report = await runWorkload({ workload: spec!, check: true, timings: true });
    expect(errors(JSON.parse(JSON.stringify(report)))).toBe('');
  });

  it('accepts reports of runs with each feature package (feature counters, their docs, the seams)', async () => {
    const features = await discoverFeatures();
    expect(features.length).toBeGreaterThan(0);
    for (const { feature } of features) {
      const report = JSON.parse(JSON.stringify(await runWorkload({ workload: 'fork-exit:procs=2:size=1m', features: [feature], check: true, mode: 'timed', cpus: 2 }))) as { metrics: { seams?: unknown } };
      expect(report.metrics.seams, feature.name).toBeDefined();
      expect(errors(report), feature.name).toBe('');
    }
  });

  it('refuses an unknown key, a missing key and a wrong type', async () => {
    const report = JSON.parse(JSON.stringify(await runWorkload({ workload: 'anon-touch:size=64k' }))) as Record<string, Record<string, unknown>>;
    expect(errors(report)).toBe('');
    expect(errors({ ...report, extra: 1 })).toMatch(/additionalProperties/);
    expect(errors({ ...report, metrics: { ...report.metrics, sim: { ...(report.metrics!.sim as object), new_ns: 1 } } })).toMatch(/new_ns/);
    const noSeed: Record<string, unknown> = { ...report };
    delete noSeed.seed;
    expect(errors(noSeed)).toMatch(/seed/);
    expect(errors({ ...report, config: { ...report.config, mode: 'fast' } })).toMatch(/enum/);
  });

  describe('each definition has the keys of its TypeScript interface', () => {
    const core = join(root, 'packages', 'core', 'src');
    const workloads = join(root, 'packages', 'workloads', 'src', 'report.ts');
    const where: Record<string, string> = {
      RunReport: workloads,
      ReportedWorkload: workloads,
      ReportedFeature: workloads,
      RunConfig: workloads,
      RunResult: workloads,
      HugePagePoint: workloads,
      HugePageFigures: workloads,
      InvariantFigures: workloads,
      HostTimings: workloads,
      Metrics: join(core, 'observe', 'metrics.ts'),
      TableCounts: join(core, 'observe', 'metrics.ts'),
      ProcFigures: join(core, 'observe', 'metrics.ts'),
      SimFigures: join(core, 'observe', 'metrics.ts'),
      CpuTime: join(core, 'observe', 'metrics.ts'),
      LockStat: join(core, 'sched', 'lock.ts'),
      Violation: join(core, 'observe', 'check.ts'),
    };
    /** Keys the CLI adds to an interface's objects. */
    const added: Record<string, string[]> = { ReportedFeature: ['module'] };
    /** Interfaces extending a definition's interface: their own keys belong to the definition too. */
    const extended: Record<string, { file: string; name: string }> = { Metrics: { file: workloads, name: 'WorkloadMetrics' } };

    it('names every definition after an interface', () => {
      expect(Object.keys(schema.definitions).sort()).toEqual(Object.keys(where).sort());
    });

    /** The property signatures of interface `name` in `file`. */
    function propertiesOf(file: string, name: string): ts.PropertySignature[] {
      const decl = parseSource(file).statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === name);
      expect(decl, `${name} in ${file}`).toBeDefined();
      return decl!.members.filter((m): m is ts.PropertySignature => ts.isPropertySignature(m) && ts.isIdentifier(m.name));
    }

    it.each(Object.entries(where))('%s', (name, file) => {
      const ext = extended[name];
      const members = [...propertiesOf(file, name), ...(ext === undefined ? [] : propertiesOf(ext.file, ext.name))];
      const def = schema.definitions[name]!;
      const keys = members.map((m) => (m.name as ts.Identifier).text);
      expect(Object.keys(def.properties ?? {}).sort()).toEqual([...keys, ...(added[name] ?? [])].sort());
      expect([...(def.required ?? [])].sort()).toEqual(members.filter((m) => m.questionToken === undefined).map((m) => (m.name as ts.Identifier).text).sort());
    });
  });
});
