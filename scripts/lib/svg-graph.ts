/**
 * A small layered drawing of a dependency graph as SVG, with no layout
 * library: each node sits one row above the highest node it depends on,
 * rows are centred, edges are straight arrows from a node down to each of
 * its dependencies. Deterministic: the same graph gives the same bytes.
 */

/** One box of the drawing. */
export interface GraphNode {
  /** Unique id (what `deps` names). */
  readonly id: string;
  /** Lines of text in the box, the first in bold. */
  readonly lines: readonly string[];
  /** Ids of the nodes this one depends on (drawn below it). */
  readonly deps: readonly string[];
  /** Fill colour of the box. */
  readonly fill?: string;
}

const CHAR_W = 7.2;
const LINE_H = 16;
const PAD = 10;
const GAP_X = 24;
const GAP_Y = 56;

function esc(s: string): string {
  return s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}

/** The SVG text of a graph without cycles (an edge to an unknown id, or a cycle, throws). */
export function layeredSvg(nodes: readonly GraphNode[], title: string): string {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const layer = new Map<string, number>();
  const visiting = new Set<string>();
  const layerOf = (id: string): number => {
    const known = layer.get(id);
    if (known !== undefined) return known;
    const n = byId.get(id);
    if (n === undefined) throw new Error(`svg graph: unknown node ${id}`);
    if (visiting.has(id)) throw new Error(`svg graph: cycle through ${id}`);
    visiting.add(id);
    const l = n.deps.length === 0 ? 0 : 1 + Math.max(...n.deps.map(layerOf));
    visiting.delete(id);
    layer.set(id, l);
    return l;
  };
  for (const n of nodes) layerOf(n.id);
  const rows: GraphNode[][] = [];
  for (const n of nodes) (rows[layer.get(n.id)!] ??= []).push(n);
  const size = (n: GraphNode): { w: number; h: number } => ({ w: Math.ceil(Math.max(...n.lines.map((l) => l.length)) * CHAR_W) + 2 * PAD, h: n.lines.length * LINE_H + PAD });
  const rowW = rows.map((r) => r.reduce((sum, n) => sum + size(n).w, 0) + GAP_X * (r.length - 1));
  const rowH = rows.map((r) => Math.max(...r.map((n) => size(n).h)));
  const width = Math.max(...rowW) + 2 * GAP_X;
  const height = rowH.reduce((a, b) => a + b, 0) + GAP_Y * (rows.length - 1) + 2 * PAD + LINE_H;
  const pos = new Map<string, { x: number; y: number; w: number; h: number }>();
  // row 0 (no dependencies) at the bottom
  let y = height - PAD;
  rows.forEach((r, i) => {
    y -= rowH[i]!;
    let x = (width - rowW[i]!) / 2;
    for (const n of r) {
      const { w, h } = size(n);
      pos.set(n.id, { x, y: y + (rowH[i]! - h) / 2, w, h });
      x += w + GAP_X;
    }
    y -= GAP_Y;
  });
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="monospace" font-size="12">`,
    `<title>${esc(title)}</title>`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>',
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
  ];
  for (const n of nodes) {
    const a = pos.get(n.id)!;
    for (const d of n.deps) {
      const b = pos.get(d)!;
      out.push(`<line x1="${(a.x + a.w / 2).toFixed(1)}" y1="${(a.y + a.h).toFixed(1)}" x2="${(b.x + b.w / 2).toFixed(1)}" y2="${b.y.toFixed(1)}" stroke="#555" marker-end="url(#arrow)"/>`);
    }
  }
  for (const n of nodes) {
    const a = pos.get(n.id)!;
    out.push(`<rect x="${a.x.toFixed(1)}" y="${a.y.toFixed(1)}" width="${a.w}" height="${a.h}" rx="6" fill="${n.fill ?? '#eef3fb'}" stroke="#345"/>`);
    n.lines.forEach((line, i) => {
      out.push(`<text x="${(a.x + PAD).toFixed(1)}" y="${(a.y + PAD / 2 + LINE_H * (i + 1) - 4).toFixed(1)}"${i === 0 ? ' font-weight="bold"' : ''}>${esc(line)}</text>`);
    });
  }
  out.push('</svg>', '');
  return out.join('\n');
}
