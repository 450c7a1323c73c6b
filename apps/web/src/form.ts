/**
 * The experiment form, generated from the schemas: the workloads' parameter
 * declarations, the machine profiles, and each registered feature's option
 * schema (a new feature or workload appears without touching the app). The
 * form is rendered from a state and read back into one; the text it gives
 * (workload specification, feature sets) is the command line's notation,
 * checked by the lab when the experiment runs.
 * @module
 */

import { allMachines, type Feature, type OptionSpec } from '@mmlab/core';
import { ALL, BASELINE, FEATURES, SHOWCASE, splitFeatureSet } from '@mmlab/lab';
import { formatParamValue, getWorkload, listWorkloads, parseSpec, RUN_MODES, type RunMode, type Workload } from '@mmlab/workloads';
import { html, type Html } from './html.js';
import { apiPageUrl, docsPageUrl } from './links.js';
import { DEFAULT_STATE, MAX_REPS, VIEWS, type ExperimentState, type View } from './state.js';

/** The two sides of a comparison. */
export const SIDES = ['a', 'b'] as const;
/** One side. */
export type Side = (typeof SIDES)[number];

/** A feature's options on one side: on or off, and option values as typed. */
export interface SideChoice {
  /** The feature is in the set. */
  readonly on: boolean;
  /** Option values as text, by key (missing: the default). */
  readonly options: Readonly<Record<string, string>>;
}

/**
 * Reads a feature-set text into per-feature choices, without checking
 * option values (the lab does that when the experiment runs).
 * @param text - a set in the feature-set notation
 * @param registry - the registered features
 * @returns feature name → choice; an unreadable set gives no feature on
 */
export function choicesOf(text: string, registry: readonly Feature[] = FEATURES): Map<string, SideChoice> {
  const out = new Map<string, SideChoice>();
  let items: ReturnType<typeof splitFeatureSet>;
  try {
    items = splitFeatureSet(text);
  } catch {
    return out;
  }
  if (items === BASELINE) return out;
  if (items === ALL) {
    for (const f of registry) out.set(f.name, { on: true, options: {} });
    return out;
  }
  for (const item of items) if (!item.module) out.set(item.name, { on: true, options: Object.fromEntries(item.args) });
  return out;
}

/**
 * The feature-set text of per-feature choices: registry order, each
 * feature on with the options that differ from their defaults.
 * @param choices - feature name → choice
 * @param registry - the registered features
 */
export function setText(choices: ReadonlyMap<string, SideChoice>, registry: readonly Feature[] = FEATURES): string {
  const parts: string[] = [];
  for (const f of registry) {
    const c = choices.get(f.name);
    if (c?.on !== true) continue;
    const opts = Object.entries(f.options).flatMap(([key, spec]) => {
      const v = c.options[key];
      return v === undefined || v === '' || v === String(spec.default) ? [] : [`${key}=${v}`];
    });
    parts.push([f.name, ...opts].join(':'));
  }
  return parts.length === 0 ? BASELINE : parts.join(',');
}

/**
 * The workload of a specification and its parameters as typed, for the
 * form; the default workload when the text cannot be read.
 * @param spec - a workload specification
 */
export function workloadOf(spec: string): { workload: Workload; args: ReadonlyMap<string, string> } {
  try {
    const parsed = parseSpec(spec, 'workload');
    const workload = getWorkload(parsed.name);
    if (workload !== undefined) return { workload, args: parsed.args };
  } catch {
    // the message comes from the check of the state
  }
  const fallback = parseSpec(DEFAULT_STATE.workload, 'workload');
  return { workload: getWorkload(fallback.name)!, args: fallback.args };
}

function optionControl(f: Feature, key: string, spec: OptionSpec, side: Side, value: string | undefined): Html {
  const attrs = html`data-feature="${f.name}" data-side="${side}" data-option="${key}" aria-label="${f.name} ${key} (${side.toUpperCase()})"`;
  if (spec.type === 'boolean') {
    const on = value === undefined ? spec.default : value === 'true';
    return html`<input type="checkbox" ${attrs}${on ? html` checked` : ''}>`;
  }
  if (spec.type === 'enum') {
    const current = value ?? spec.default;
    const values = spec.values.includes(current) ? spec.values : [...spec.values, current];
    return html`<select ${attrs}>${values.map((v) => html`<option value="${v}"${v === current ? html` selected` : ''}>${v}</option>`)}</select>`;
  }
  const range = `${spec.min ?? '−∞'} … ${spec.max ?? '∞'}`;
  return html`<input type="text" inputmode="numeric" size="6" ${attrs} placeholder="${String(spec.default)}" value="${value ?? ''}" title="${range}">`;
}

/**
 * One proposal's panel: its summary and thread, links to its guide page
 * and API docs, and A and B columns (on/off and each option).
 * @param f - the feature
 * @param a - its choice in set A
 * @param b - its choice in set B
 */
export function featurePanel(f: Feature, a: SideChoice | undefined, b: SideChoice | undefined): Html {
  const side = { a, b };
  return html`<fieldset class="feature" data-feature="${f.name}">
<legend>${f.name}</legend>
<p class="summary">${f.summary}</p>
<p class="thread">${f.thread.subject} (${f.thread.author}, ${f.thread.date})</p>
<p class="links"><a class="docs-link" href="${docsPageUrl(f.name)}" target="_blank" rel="noopener">guide page</a> · <a class="api-link" href="${apiPageUrl(f.name)}" target="_blank" rel="noopener">API docs</a>${
    f.requires !== undefined && f.requires.length > 0 ? ` · requires ${f.requires.join(', ')}` : ''
  }${f.conflicts !== undefined && f.conflicts.length > 0 ? ` · conflicts with ${f.conflicts.join(', ')}` : ''}</p>
<table class="sides">
<thead><tr><th></th><th class="side-a">A</th><th class="side-b">B</th></tr></thead>
<tbody>
<tr><th scope="row">on</th>${SIDES.map(
    (s) =>
      html`<td class="side-${s}"><input type="checkbox" data-feature="${f.name}" data-side="${s}" data-on="1" aria-label="${f.name} (${s.toUpperCase()})"${
        side[s]?.on === true ? html` checked` : ''
      }></td>`
  )}</tr>
${Object.entries(f.options).map(
  ([key, spec]) =>
    html`<tr><th scope="row" title="${spec.doc}">${key}</th>${SIDES.map((s) => html`<td class="side-${s}">${optionControl(f, key, spec, s, side[s]?.options[key])}</td>`)}</tr>\n`
)}</tbody>
</table>
</fieldset>`;
}

/**
 * The parameter inputs of a workload (empty: the default, shown as the
 * placeholder).
 * @param workload - the workload
 * @param args - values as typed
 */
export function paramInputs(workload: Workload, args: ReadonlyMap<string, string>): Html {
  return html`${Object.entries(workload.params).map(
    ([key, p]) =>
      html`<label class="param"><span>${key}</span> <input type="text" data-param="${key}" size="8" placeholder="${formatParamValue(p, p.default)}" value="${args.get(key) ?? ''}"> <small>${p.doc}</small></label>\n`
  )}`;
}

function select(name: string, values: readonly { value: string; label: string }[], current: string): Html {
  const list = values.some((v) => v.value === current) ? values : [...values, { value: current, label: `${current} (unknown)` }];
  return html`<select name="${name}" id="${name}">${list.map((v) => html`<option value="${v.value}"${v.value === current ? html` selected` : ''}>${v.label}</option>`)}</select>`;
}

/**
 * The whole form for a state.
 * @param state - the experiment
 * @param registry - the features to offer
 */
export function renderForm(state: ExperimentState, registry: readonly Feature[] = FEATURES): Html {
  const { workload, args } = workloadOf(state.workload);
  const a = choicesOf(state.a, registry);
  const b = choicesOf(state.b, registry);
  const view = (v: View): string =>
    v === 'ab' ? 'A against B' : v === 'sweep' ? 'A against B at each value of' : 'every combination of B’s features';
  return html`<section class="panel" id="workload-panel">
<h2>Workload</h2>
${select(
  'workload',
  listWorkloads().map((w) => ({ value: w.name, label: w.name })),
  workload.name
)}
<p class="summary" id="workload-summary">${workload.summary}${workload.standsFor === undefined ? '' : ` (Stands for ${workload.standsFor}.)`}</p>
<div id="params">${paramInputs(workload, args)}</div>
<p class="showcases">Showcases: ${SHOWCASE.map((s, i) => html`<button type="button" class="showcase" data-showcase="${i}" title="${s.why}">${s.feature}</button> `)}</p>
</section>
<section class="panel" id="settings-panel">
<h2>Kernel and runs</h2>
<label>machine ${select(
    'machine',
    allMachines().map((m) => ({ value: m.name, label: `${m.name}: ${m.description}` })),
    state.machine
  )}</label>
<label>mode ${select(
    'mode',
    RUN_MODES.map((m) => ({ value: m, label: m })),
    state.mode
  )}</label>
<label>CPUs <input type="text" name="cpus" id="cpus" size="4" placeholder="machine's" value="${state.cpus === null ? '' : String(state.cpus)}"></label>
<label><input type="checkbox" name="preempt" id="preempt"${state.preempt ? html` checked` : ''}> CONFIG_PREEMPT</label>
<label title="the invariant checker and the data oracle at every operation (slower)"><input type="checkbox" name="check" id="check"${state.check ? html` checked` : ''}> check invariants</label>
<label>memory <input type="text" name="mem" id="mem" size="6" placeholder="machine's" value="${state.mem}"></label>
<label>swap <input type="text" name="swap" id="swap" size="6" placeholder="2 × memory" value="${state.swap}"></label>
<label>seeds <input type="text" name="reps" id="reps" size="3" value="${String(state.reps)}" title="1 … ${MAX_REPS}"></label>
<label>first seed <input type="text" name="seed" id="seed" size="6" value="${String(state.seed)}"></label>
<fieldset class="views"><legend>compare</legend>${VIEWS.map(
    (v) =>
      html`<label><input type="radio" name="view" value="${v}"${state.view === v ? html` checked` : ''}> ${view(v)}</label>${
        v === 'sweep' ? html` <input type="text" name="sweep" id="sweep" size="16" value="${state.sweep}" title="a workload parameter and its values: procs=2,4,8,16" aria-label="the parameter and its values">` : ''
      }<br>`
  )}</fieldset>
</section>
<section class="panel" id="features-panel">
<h2>Proposals</h2>
${registry.map((f) => featurePanel(f, a.get(f.name), b.get(f.name)))}
</section>`;
}

/** The parts of the form {@link readForm} reads. */
export interface FormControls {
  /** Elements matching a selector. */
  querySelectorAll(selector: string): ArrayLike<Element>;
  /** The first element matching a selector. */
  querySelector(selector: string): Element | null;
}

function value(root: FormControls, selector: string): string {
  const el = root.querySelector(selector);
  return el instanceof HTMLInputElement || el instanceof HTMLSelectElement ? el.value.trim() : '';
}

/**
 * Reads the form back into a state; values are kept as typed (whole
 * numbers that do not read as such keep the previous state's value, and the
 * check of the state names them).
 * @param root - the form
 * @param previous - the state the form was rendered from
 * @param registry - the features the form offers
 */
export function readForm(root: FormControls, previous: ExperimentState, registry: readonly Feature[] = FEATURES): ExperimentState {
  const workload = value(root, 'select[name="workload"]');
  const params = Array.from(root.querySelectorAll('input[data-param]'))
    .filter((el): el is HTMLInputElement => el instanceof HTMLInputElement && el.value.trim() !== '')
    .map((el) => `${el.dataset.param ?? ''}=${el.value.trim()}`);
  const sides: Record<Side, Map<string, SideChoice>> = { a: new Map(), b: new Map() };
  for (const s of SIDES) {
    for (const f of registry) {
      const on = root.querySelector(`input[data-feature="${f.name}"][data-side="${s}"][data-on]`);
      const options: Record<string, string> = {};
      for (const key of Object.keys(f.options)) {
        const el = root.querySelector(`[data-feature="${f.name}"][data-side="${s}"][data-option="${key}"]`);
        if (el instanceof HTMLInputElement && el.type === 'checkbox') options[key] = String(el.checked);
        else if (el instanceof HTMLInputElement || el instanceof HTMLSelectElement) options[key] = el.value.trim();
      }
      sides[s].set(f.name, { on: on instanceof HTMLInputElement && on.checked, options });
    }
  }
  const whole = (text: string, fallback: number): number => (/^\d+$/.test(text) ? Number(text) : fallback);
  const checkedView = root.querySelector('input[name="view"]:checked');
  const cpus = value(root, '#cpus');
  const preempt = root.querySelector('#preempt');
  const checkBox = root.querySelector('#check');
  return {
    ...previous,
    workload: [workload, ...params].join(':'),
    a: setText(sides.a, registry),
    b: setText(sides.b, registry),
    view: checkedView instanceof HTMLInputElement && (VIEWS as readonly string[]).includes(checkedView.value) ? (checkedView.value as View) : previous.view,
    machine: value(root, '#machine'),
    mode: (RUN_MODES as readonly string[]).includes(value(root, '#mode')) ? (value(root, '#mode') as RunMode) : previous.mode,
    cpus: cpus === '' ? null : whole(cpus, Number.NaN),
    preempt: preempt instanceof HTMLInputElement && preempt.checked,
    check: checkBox instanceof HTMLInputElement && checkBox.checked,
    mem: value(root, '#mem'),
    swap: value(root, '#swap'),
    sweep: value(root, '#sweep'),
    reps: whole(value(root, '#reps'), Number.NaN),
    seed: whole(value(root, '#seed'), Number.NaN),
  };
}
