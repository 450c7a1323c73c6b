import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FEATURES, formatFeatureSet, parseFeatureSet } from '@mmlab/lab';
import { listWorkloads } from '@mmlab/workloads';
import { choicesOf, featurePanel, renderForm, setText, type SideChoice } from '../src/form.js';
import { apiPageUrl, docsPageUrl } from '../src/links.js';
import { DEFAULT_STATE } from '../src/state.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

describe('the form from the schemas', () => {
  const form = renderForm({ ...DEFAULT_STATE, a: 'mmu-gather-inplace', b: 'shared-pagetables:level=pmd,mmu-notifiers:variant=range' }).text;

  it('has a panel for every registered feature with every option, in A and B', () => {
    for (const f of FEATURES) {
      expect(form).toContain(`<fieldset class="feature" data-feature="${f.name}">`);
      for (const side of ['a', 'b']) {
        expect(form).toContain(`data-feature="${f.name}" data-side="${side}" data-on="1"`);
        for (const key of Object.keys(f.options)) expect(form).toContain(`data-feature="${f.name}" data-side="${side}" data-option="${key}"`);
      }
    }
  });

  it('offers every workload and the parameters of the chosen one', () => {
    for (const w of listWorkloads()) expect(form).toContain(`<option value="${w.name}"`);
    expect(form).toContain('<option value="shm-procs" selected>');
    expect(form).toMatch(/data-param="procs" size="8" placeholder="\d+" value="8"/);
    expect(form).toMatch(/data-param="size" size="8" placeholder="[^"]+" value="16m"/);
  });

  it('shows the sets of the state', () => {
    expect(form).toMatch(/data-feature="mmu-gather-inplace" data-side="a" data-on="1" aria-label="[^"]*" checked/);
    expect(form).toMatch(/data-feature="shared-pagetables" data-side="b" data-on="1" aria-label="[^"]*" checked/);
    expect(form).toMatch(/data-feature="shared-pagetables" data-side="a" data-on="1" aria-label="[^"]*"><\/td>/);
    expect(form).toMatch(/data-feature="mmu-notifiers" data-side="b" data-option="variant"[^>]*><option value="v6">v6<\/option><option value="range" selected>/);
  });

  it('links each proposal to its guide page and its API docs, which the site has', () => {
    for (const f of FEATURES) {
      const panel = featurePanel(f, undefined, undefined).text;
      expect(panel).toContain(`href="${docsPageUrl(f.name)}"`);
      expect(panel).toContain(`href="${apiPageUrl(f.name)}"`);
      // the site makes documents/<name>.html of docs/<name>.md and modules/_mmlab_<name>.html of @mmlab/<name>
      expect(existsSync(join(ROOT, 'docs', `${f.name}.md`))).toBe(true);
      const pkg = JSON.parse(readFileSync(join(ROOT, 'packages', f.name, 'package.json'), 'utf8')) as { name: string };
      expect(pkg.name).toBe(`@mmlab/${f.name}`);
    }
    expect(docsPageUrl('shared-pagetables')).toBe('docs/documents/shared-pagetables.html');
    expect(apiPageUrl('shared-pagetables')).toBe('docs/modules/_mmlab_shared-pagetables.html');
  });
});

describe('feature sets and the form\'s choices', () => {
  it('reads back every canonical set it is given', () => {
    for (const text of ['baseline', 'shared-pagetables', 'shared-pagetables:level=pmd,mmu-notifiers:variant=range:release=before-unmap', 'mixedmap:gupFast=false,mmu-gather-inplace']) {
      const canonical = formatFeatureSet(parseFeatureSet(text));
      expect(setText(choicesOf(text))).toBe(canonical);
    }
    expect(setText(choicesOf('all'))).toBe(FEATURES.map((f) => f.name).join(','));
  });

  it('leaves out options at their defaults and features switched off', () => {
    const choices = new Map<string, SideChoice>([
      ['mmu-notifiers', { on: true, options: { variant: 'v6', sleepable: 'false' } }],
      ['shared-pagetables', { on: false, options: { level: 'pmd' } }],
    ]);
    expect(setText(choices)).toBe('mmu-notifiers');
    expect(setText(new Map())).toBe('baseline');
  });

  it('keeps a value as typed, for the lab to refuse with its message', () => {
    const text = setText(new Map([['mmu-gather-inplace', { on: true, options: { walkNs: 'abc' } }]]));
    expect(text).toBe('mmu-gather-inplace:walkNs=abc');
    expect(() => parseFeatureSet(text)).toThrow(/walkNs/);
  });

  it('gives no choices for an unreadable set', () => {
    expect(choicesOf('a,,b').size).toBe(0);
  });
});
