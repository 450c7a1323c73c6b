/**
 * The page: the form from the schemas, the state in the URL, the model in
 * a Web Worker (progress, cancel), the results and charts, a results file
 * of `mmlab matrix` loaded from disk, and the trace of one run.
 * @module
 */

import { formatAbCsv, formatAbMarkdown, mergeLines, parseResults, SHOWCASE, type AbResult, type ResultLine } from '@mmlab/lab';
import { formatSize, type KernelTrace } from '@mmlab/workloads';
import { InputError, prepareExperiment } from './experiment.js';
import { readForm, renderForm, paramInputs, workloadOf } from './form.js';
import { html, type Html } from './html.js';
import type { Reply, RunRequest, SweepResult } from './protocol.js';
import { abCharts, analyseMatrix, matrixCharts, renderAb, renderCharts, renderMatrix, renderSweep, sweepCharts, timelineChart } from './render.js';
import { commandLine, DEFAULT_STATE, stateFromQuery, stateToQuery, type ExperimentState } from './state.js';
import './style.css';

function byId<T extends HTMLElement>(id: string, type: new () => T): T {
  const el = document.getElementById(id);
  if (!(el instanceof type)) throw new Error(`the page lacks #${id}`);
  return el;
}

const form = byId('experiment', HTMLFormElement);
const runButton = byId('run', HTMLButtonElement);
const cancelButton = byId('cancel', HTMLButtonElement);
const traceButton = byId('trace', HTMLButtonElement);
const progress = byId('progress', HTMLProgressElement);
const status = byId('status', HTMLElement);
const message = byId('message', HTMLElement);
const command = byId('command', HTMLElement);
const results = byId('results', HTMLElement);
const charts = byId('charts', HTMLElement);
const traceArea = byId('trace-area', HTMLElement);
const fileInput = byId('results-file', HTMLInputElement);

let state: ExperimentState = DEFAULT_STATE;
/** Problems of the URL the page was opened with, shown until the form changes. */
let linkErrors: readonly string[] = [];
let worker: Worker | null = null;
let job = 0;
/** What the results area shows, to render again (every metric, another metric). */
let shown:
  | { kind: 'ab'; result: AbResult }
  | { kind: 'sweep'; points: readonly SweepResult[] }
  | { kind: 'matrix'; lines: readonly ResultLine[]; source: string }
  | null = null;

function setHtml(el: HTMLElement, content: Html | string): void {
  el.innerHTML = content.toString();
}

function showMessage(lines: readonly string[]): void {
  setHtml(message, html`${lines.map((l) => html`<p>${l}</p>`)}`);
  message.hidden = lines.length === 0;
}

/** Checks the state; the messages of the link and of the check. */
function check(): string[] {
  try {
    prepareExperiment(state);
    return [...linkErrors];
  } catch (err) {
    return [...linkErrors, err instanceof Error ? err.message : String(err)];
  }
}

function stateChanged(): void {
  history.replaceState(null, '', `?${stateToQuery(state)}`);
  command.textContent = commandLine(state);
  form.classList.toggle('view-matrix', state.view === 'matrix');
  showMessage(check());
}

function drawForm(): void {
  setHtml(form, renderForm(state));
  stateChanged();
}

form.addEventListener('change', (event) => {
  const target = event.target;
  if (target instanceof HTMLSelectElement && target.name === 'workload') {
    const { workload } = workloadOf(target.value);
    setHtml(byId('params', HTMLElement), paramInputs(workload, new Map()));
    setHtml(byId('workload-summary', HTMLElement), html`${workload.summary}`);
  }
  linkErrors = [];
  state = readForm(form, state);
  stateChanged();
});
form.addEventListener('input', () => {
  linkErrors = [];
  state = readForm(form, state);
  stateChanged();
});
form.addEventListener('submit', (event) => {
  event.preventDefault();
});
form.addEventListener('click', (event) => {
  const target = event.target;
  if (!(target instanceof HTMLButtonElement) || target.dataset.showcase === undefined) return;
  const s = SHOWCASE[Number(target.dataset.showcase)];
  if (s === undefined) return;
  const size = (bytes: number | undefined): string => (bytes === undefined ? '' : formatSize(bytes));
  linkErrors = [];
  state = {
    ...state,
    workload: s.workload,
    a: 'baseline',
    b: s.feature,
    view: 'ab',
    machine: s.settings.machine ?? DEFAULT_STATE.machine,
    mode: s.settings.mode ?? 'sequential',
    cpus: s.settings.cpus ?? null,
    preempt: s.settings.preempt ?? false,
    check: s.settings.check ?? false,
    mem: size(s.settings.memBytes),
    swap: size(s.settings.swapBytes),
  };
  drawForm();
});

function busy(on: boolean, text: string): void {
  runButton.disabled = on;
  traceButton.disabled = on;
  cancelButton.disabled = !on;
  progress.hidden = !on;
  if (on) progress.removeAttribute('value');
  status.textContent = text;
}

function startWorker(): Worker {
  const w = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
  w.addEventListener('message', (event: MessageEvent<Reply>) => {
    void onReply(event.data);
  });
  w.addEventListener('error', (event) => {
    event.preventDefault();
    stopWorker();
    busy(false, 'failed');
    showMessage([`the model's worker failed: ${event.message || 'unknown error'}`]);
  });
  return w;
}

function stopWorker(): void {
  worker?.terminate();
  worker = null;
}

function start(kind: RunRequest['kind']): void {
  try {
    prepareExperiment(state);
  } catch {
    showMessage(check());
    status.textContent = 'not run: fix the input first';
    return;
  }
  showMessage([]);
  worker ??= startWorker();
  job += 1;
  const request: RunRequest = { kind, id: job, state };
  worker.postMessage(request);
  busy(true, kind === 'trace' ? 'recording a trace…' : 'running…');
}

async function onReply(reply: Reply): Promise<void> {
  if (reply.id !== job) return;
  if (reply.type === 'progress') {
    progress.max = reply.total;
    progress.value = reply.done;
    status.textContent = `running… ${reply.done} of ${reply.total} runs`;
    return;
  }
  if (reply.type === 'trace') {
    // the run and trace buttons come back with the trace's final status, once its timeline is drawn
    let text = 'trace recorded';
    try {
      await showTrace(reply.trace, reply.label);
    } catch (err) {
      text = '';
      showMessage([`could not show the trace: ${err instanceof Error ? err.message : String(err)}`]);
    }
    if (reply.id === job) busy(false, text);
    return;
  }
  busy(false, '');
  if (reply.type === 'error') {
    showMessage([reply.message]);
    status.textContent = 'failed';
    return;
  }
  if (reply.type === 'ab') {
    shown = { kind: 'ab', result: reply.result };
    status.textContent = `done: ${reply.result.seeds.length * 2} runs`;
  } else if (reply.type === 'sweep') {
    shown = { kind: 'sweep', points: reply.points };
    status.textContent = `done: ${reply.points.reduce((n, p) => n + p.result.seeds.length * 2, 0)} runs`;
  } else {
    shown = { kind: 'matrix', lines: reply.lines, source: 'this page’s matrix' };
    status.textContent = `done: ${reply.lines.length} cells${reply.refused.length > 0 ? `; refused: ${reply.refused.map((r) => `${r.features} (${r.reason})`).join('; ')}` : ''}`;
  }
  await showResults();
}

async function showResults(): Promise<void> {
  try {
    await drawResults();
  } catch (err) {
    showMessage([`could not show the results: ${err instanceof Error ? err.message : String(err)}`]);
  }
}

/** Object URLs of the downloads the results offer, released when the results change. */
let downloads: string[] = [];

/** A link that downloads `text` as a file. */
function download(text: string, name: string, type: string, label: string): Html {
  const url = URL.createObjectURL(new Blob([text], { type }));
  downloads.push(url);
  return html`<a class="download" href="${url}" download="${name}">${label}</a>`;
}

async function drawResults(): Promise<void> {
  traceArea.replaceChildren();
  for (const url of downloads) URL.revokeObjectURL(url);
  downloads = [];
  if (shown === null) return;
  if (shown.kind === 'ab') {
    const result = shown.result;
    const files = html`<p class="downloads">Download: ${download(formatAbCsv(result), 'mmlab-ab.csv', 'text/csv', 'CSV')} · ${download(
      formatAbMarkdown(result, { all: true }),
      'mmlab-ab.md',
      'text/markdown',
      'Markdown'
    )} · ${download(`${JSON.stringify(result)}\n`, 'mmlab-ab.json', 'application/json', 'JSON')}</p>`;
    setHtml(results, html`<label class="all"><input type="checkbox" id="all-metrics"> every metric</label>${files}<div class="ab-body">${renderAb(result)}</div>`);
    setHtml(charts, '');
    setHtml(charts, renderCharts(await abCharts(result)));
    return;
  }
  if (shown.kind === 'sweep') {
    setHtml(results, renderSweep(shown.points));
    setHtml(charts, '');
    setHtml(charts, renderCharts(await sweepCharts(shown.points)));
    return;
  }
  const { lines, source } = shown;
  const view = analyseMatrix(lines);
  const metric = view.metrics.includes(state.metric) ? state.metric : (view.metrics.find((m) => m === DEFAULT_STATE.metric) ?? view.metrics[0] ?? '');
  const picker = html`<label>metric <select id="metric">${view.metrics.map((m) => html`<option value="${m}"${m === metric ? html` selected` : ''}>${m}</option>`)}</select></label>`;
  const file = html`<p class="downloads">Download: ${download(
    lines.map((l) => `${JSON.stringify(l)}\n`).join(''),
    'results.jsonl',
    'application/x-ndjson',
    'results.jsonl'
  )} (for mmlab chart and mmlab matrix)</p>`;
  setHtml(results, html`${picker}${file}${renderMatrix(view, lines, metric, source)}`);
  setHtml(charts, '');
  setHtml(charts, renderCharts(await matrixCharts(view, lines, metric)));
}

results.addEventListener('change', (event) => {
  const target = event.target;
  if (target instanceof HTMLInputElement && target.id === 'all-metrics' && shown?.kind === 'ab') {
    const table = results.querySelector('.ab-body');
    if (table instanceof HTMLElement) setHtml(table, renderAb(shown.result, target.checked));
  }
  if (target instanceof HTMLSelectElement && target.id === 'metric') {
    state = { ...state, metric: target.value };
    stateChanged();
    void showResults();
  }
});

async function showTrace(trace: KernelTrace, label: string): Promise<void> {
  const json = `${JSON.stringify(trace)}\n`;
  const url = URL.createObjectURL(new Blob([json], { type: 'application/json' }));
  const name = `mmlab-trace-seed${state.seed}.json`;
  const chart = await timelineChart(trace, label);
  setHtml(
    traceArea,
    html`<p><a id="trace-download" href="${url}" download="${name}">Download the trace (${trace.metadata.events} events, Trace Event Format: Perfetto, chrome://tracing)</a></p>${renderCharts([chart])}`
  );
}

async function loadFile(file: File): Promise<void> {
  shown = null;
  results.replaceChildren();
  charts.replaceChildren();
  try {
    const text = await file.text();
    const lines = mergeLines(parseResults(text, file.name));
    if (lines.length === 0) throw new InputError('file', `${file.name} holds no results`);
    shown = { kind: 'matrix', lines, source: file.name };
    showMessage([]);
    status.textContent = `loaded ${file.name}: ${lines.length} cells`;
    await showResults();
  } catch (err) {
    showMessage([err instanceof Error ? err.message : String(err)]);
    status.textContent = `could not load ${file.name}`;
  }
}

runButton.addEventListener('click', () => {
  start(state.view);
});
traceButton.addEventListener('click', () => {
  start('trace');
});
cancelButton.addEventListener('click', () => {
  stopWorker();
  job += 1;
  busy(false, 'cancelled');
});
fileInput.addEventListener('change', () => {
  const file = fileInput.files?.[0];
  if (file !== undefined) void loadFile(file);
});

const parsed = stateFromQuery(location.search);
state = parsed.state;
linkErrors = parsed.errors;
drawForm();
