import { describe, expect, it } from 'vitest';
import {
  CaptureLineError,
  PageRunBuilder,
  SpecError,
  countPages,
  formatPresent,
  isReplayable,
  parsePresent,
  parsePresentLines,
  parseSmaps,
  presentTrailer,
  parseStatus,
  statusKb,
} from '../src/index.js';

const SMAPS = `55d0c0a00000-55d0c0a02000 r--p 00000000 fd:01 393232                     /usr/bin/sleep
Size:                  8 kB
KernelPageSize:        4 kB
Rss:                   8 kB
THPeligible:    0
VmFlags: rd mr mw me sd
7f1e2c000000-7f1e2c021000 rw-p 00000000 00:00 0 
Size:                132 kB
Rss:                   4 kB
VmFlags: rd wr mr mw me nr sd
7f1e2d000000-7f1e2d800000 rw-s 00001000 00:1b 2                          /dev/shm/a file
Size:               8192 kB
Rss:                   0 kB
VmFlags: rd wr sh mr mw me ms sd
ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]
Size:                  4 kB
Rss:                   0 kB
VmFlags: ex
`;

describe('parseSmaps', () => {
  const vmas = parseSmaps(SMAPS);
  it('reads every VMA with its fields', () => {
    expect(vmas).toHaveLength(4);
    const [file, anon, shm] = vmas;
    expect(file).toMatchObject({
      start: 0x55d0c0a00000,
      end: 0x55d0c0a02000,
      read: true,
      write: false,
      exec: false,
      shared: false,
      inode: 393232,
      path: '/usr/bin/sleep',
    });
    expect(file?.fields.Rss).toBe(8);
    expect(file?.vmFlags).toEqual(['rd', 'mr', 'mw', 'me', 'sd']);
    expect(anon).toMatchObject({ inode: 0, path: '', write: true, shared: false });
    expect(shm).toMatchObject({ shared: true, offset: 0x1000, dev: '00:1b', path: '/dev/shm/a file' });
  });
  it('treats [vsyscall] as outside user space', () => {
    expect(vmas.map(isReplayable)).toEqual([true, true, true, false]);
  });
  it('refuses garbage', () => {
    expect(() => parseSmaps('hello\n')).toThrow(SpecError);
    expect(() => parseSmaps(`${SMAPS}what is this\n`)).toThrow(/cannot parse/);
  });
  it('refuses a truncated file, naming the line', () => {
    expect(() => parseSmaps(SMAPS.slice(0, -4))).toThrow(new CaptureLineError('smaps', 18, "the file ends in the middle of a line ('VmFlags:'): it is truncated"));
    const cut = `${SMAPS.split('\n').slice(0, 17).join('\n')}\n`;
    expect(() => parseSmaps(cut)).toThrow(
      'smaps line 15: the last VMA (ffffffffff600000-ffffffffff601000) has no VmFlags line, which ends every other VMA: the file is truncated'
    );
  });
});

describe('parseStatus', () => {
  const status = parseStatus('Name:\tsleep\nPid:\t123\nVmPTE:\t      48 kB\nVmRSS:\t1824 kB\n');
  it('reads fields and kB figures', () => {
    expect(status.Name).toBe('sleep');
    expect(statusKb(status, 'VmPTE')).toBe(48);
    expect(() => statusKb(status, 'VmSwap')).toThrow(SpecError);
    expect(() => statusKb(status, 'Name')).toThrow(SpecError);
  });
});

describe('present runs', () => {
  it('round-trip through the file format', () => {
    const runs = [
      { start: 0x1000, end: 0x3000 },
      { start: 0x7fff0000, end: 0x7fff1000 },
    ];
    expect(formatPresent(runs)).toBe('1000-3000\n7fff0000-7fff1000\n');
    expect(parsePresent(formatPresent(runs))).toEqual(runs);
    expect(countPages(runs)).toBe(3);
    const withTrailer = formatPresent(runs) + presentTrailer(runs);
    expect(withTrailer).toBe('1000-3000\n7fff0000-7fff1000\n# end: 2 runs\n');
    expect(parsePresentLines(withTrailer)).toEqual({ runs, lines: [1, 2] });
  });
  it('find a file cut short by its trailer, or by a line without its newline', () => {
    expect(() => parsePresent('1000-3000\n# end: 2 runs\n')).toThrow(
      'present line 2: the trailer counts 2 runs but the file has 1: it is truncated or edited'
    );
    expect(() => parsePresent('1000-3000\n# end: 1 runs\n5000-6000\n')).toThrow(/present line 3: .* comes after the '# end' trailer/);
    expect(() => parsePresent('1000-3000\n7fff0000-7ff')).toThrow(CaptureLineError);
  });
  it.each([
    ['2000-1000\n', /empty/],
    ['1000-2001\n', /not page aligned/],
    ['3000-4000\n1000-2000\n', /overlaps or precedes/],
    ['1000-3000\n2000-4000\n', /overlaps or precedes/],
    ['zz\n', /expected start-end/],
  ])('refuse %j', (text, msg) => {
    expect(() => parsePresent(text)).toThrow(msg);
  });
  it('coalesce ascending pages', () => {
    const b = new PageRunBuilder();
    for (const a of [0x1000, 0x2000, 0x3000, 0x5000, 0x6000, 0x10000]) b.add(a);
    expect(b.runs()).toEqual([
      { start: 0x1000, end: 0x4000 },
      { start: 0x5000, end: 0x7000 },
      { start: 0x10000, end: 0x11000 },
    ]);
  });
});
