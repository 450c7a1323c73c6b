/**
 * `PageArrays` keeps the 32-bit `struct page` fields in one host buffer,
 * field after field, and gives each field its own typed array as a view
 * of its part; hot loops go through `words` at the field's offset. Both
 * must name the same memory, and no two fields may share a word.
 */
import { describe, expect, it } from 'vitest';
import { PageArrays } from '../src/index.js';

/** Each 32-bit field: its view, its offset in `words` where it has one, and how many elements it has. */
function fields(p: PageArrays): { name: string; view: Int32Array | Uint32Array; offset: number | null; length: number }[] {
  const n = p.nrFrames;
  return [
    { name: 'count', view: p.count, offset: p.wCount, length: n },
    { name: 'mapcount', view: p.mapcount, offset: p.wMapcount, length: n },
    { name: 'flags', view: p.flags, offset: p.wFlags, length: n },
    { name: 'mapping', view: p.mapping, offset: p.wMapping, length: n },
    { name: 'token', view: p.token, offset: p.wToken, length: n },
    { name: 'tableSlot', view: p.tableSlot, offset: null, length: n },
    { name: 'lruPrev', view: p.lruPrev, offset: p.wLruPrev, length: n + 2 },
    { name: 'lruNext', view: p.lruNext, offset: p.wLruNext, length: n + 2 },
    { name: 'private', view: p.private, offset: null, length: n },
    { name: 'pinned', view: p.pinned, offset: null, length: n },
    { name: 'gen', view: p.gen, offset: p.wGen, length: n },
  ];
}

describe('PageArrays: one buffer for the 32-bit fields', () => {
  for (const frames of [1, 4096, 5000]) {
    it(`${frames} frames: every field is a view of words at its offset, and no two fields share a word`, () => {
      const p = new PageArrays(frames);
      const fs = fields(p);
      expect(p.stride).toBeGreaterThanOrEqual(frames + 2);
      expect(p.words.length).toBe(fs.length * p.stride);
      for (const f of fs) {
        expect(f.view.length, f.name).toBe(f.length);
        expect(f.view.buffer, f.name).toBe(p.words.buffer);
      }
      // boot state: table slots -1, every other field 0
      for (const f of fs) expect([...f.view].every((x) => x === (f.name === 'tableSlot' ? -1 : 0)), f.name).toBe(true);
      // a distinct value in every element of every field, then read each back through words and the view
      fs.forEach((f, i) => {
        for (let e = 0; e < f.length; e++) f.view[e] = (i + 1) * 100_000 + e;
      });
      fs.forEach((f, i) => {
        const word = f.view.byteOffset / 4;
        expect(word % p.stride, f.name).toBe(0);
        for (let e = 0; e < f.length; e++) {
          expect(f.view[e], f.name).toBe((i + 1) * 100_000 + e);
          expect(p.words[word + e], f.name).toBe((i + 1) * 100_000 + e);
        }
        if (f.offset !== null) expect(f.offset, f.name).toBe(word);
      });
    });
  }

  it('the unsigned fields read through words as the Int32 of their bits, and writes through words land in them', () => {
    const p = new PageArrays(64);
    p.token[7] = 0xdeadbeef;
    expect(p.words[p.wToken + 7]).toBe(0xdeadbeef | 0);
    p.words[p.wToken + 8] = 0xdeadbeef | 0;
    expect(p.token[8]).toBe(0xdeadbeef);
    p.gen[9] = 0xffffffff;
    p.words[p.wGen + 9]!++;
    expect(p.gen[9]).toBe(0);
    p.words[p.wFlags + 10] = 1 << 31;
    expect(p.flags[10]).toBe(2 ** 31);
  });
});
