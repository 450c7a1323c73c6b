import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CaptureLineError,
  anonymiseCapture,
  formatGroupManifest,
  parseGroupManifest,
  parseSmaps,
  readCaptureGroup,
  replayGroup,
  type GroupManifest,
} from '../src/index.js';

const MIB = 1 << 20;

/** A smaps entry, with the fields a replay reads. */
function vma(start: number, end: number, perms: string, offset: number, dev: string, inode: number, path: string, rssKb = 4): string {
  const head = `${start.toString(16)}-${end.toString(16)} ${perms} ${offset.toString(16).padStart(8, '0')} ${dev} ${inode}`;
  return `${path === '' ? `${head} ` : `${head.padEnd(73)}${path}`}\nSize: ${(end - start) / 1024} kB\nRss: ${rssKb} kB\nVmFlags: rd mr mw me\n`;
}

describe('the group manifest', () => {
  const member = fc.record({
    pid: fc.integer({ min: 1, max: 4_194_304 }),
    name: fc.stringMatching(/^[a-z][a-z0-9 _.-]{0,14}$/).filter((n) => n.trim() === n),
    cmdline: fc.option(fc.string({ maxLength: 40 }), { nil: undefined }),
  });
  const manifest = fc
    .record({
      names: fc.constantFrom('anonymised' as const, 'kept' as const),
      processes: fc.uniqueArray(member, { minLength: 1, maxLength: 8, selector: (m) => m.pid }),
      segments: fc.uniqueArray(
        fc.record({ shmid: fc.integer({ min: 0, max: 1 << 30 }), key: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).map(String), size: fc.integer({ min: 1, max: 2 ** 40 }) }),
        { maxLength: 4, selector: (s) => s.shmid }
      ),
    })
    .map(
      (m): GroupManifest => ({
        names: m.names,
        processes: m.processes.map((p) => ({ pid: p.pid, folder: `p${p.pid}`, name: p.name, ...(p.cmdline === undefined ? {} : { cmdline: p.cmdline }) })),
        segments: m.segments,
      })
    );

  it('reads back what it wrote', () => {
    fc.assert(
      fc.property(manifest, (m) => {
        expect(parseGroupManifest(formatGroupManifest(m))).toEqual(m);
      })
    );
  });

  it('finds any manifest cut at a line boundary truncated, naming a line', () => {
    fc.assert(
      fc.property(manifest, fc.nat(), (m, at) => {
        const lines = formatGroupManifest(m).split('\n').slice(0, -1);
        const cut = at % lines.length; // keep 0 .. n-1 lines: never all
        expect(() => parseGroupManifest(lines.slice(0, cut).join('\n') + (cut === 0 ? '' : '\n'))).toThrow(CaptureLineError);
      })
    );
  });

  it.each([
    ['process 12 p12 sh\n# end: 1 processes\n', 1, /expected 'format 1' first/],
    ['format 2\n', 1, /format '2' is not 1/],
    ['format 1\nprocess 12 ../x sh\n', 2, /is not a plain folder name/],
    ['format 1\nprocess 12 p12 sh\nprocess 12 p13 sh\n', 3, /pid 12 is listed twice/],
    ['format 1\ncmdline 12 "x"\n', 2, /which no process line before it lists/],
    ['format 1\nprocess 12 p12 sh\ncmdline 12 x\n', 3, /a JSON string/],
    ['format 1\nfrobnicate\n', 2, /unknown line 'frobnicate'/],
    ['format 1\nprocess 12 p12 sh\n# end: 1 processes\nprocess 13 p13 sh\n', 4, /comes after the '# end' trailer \(line 3\)/],
    ['format 1\n# end: 0 processes\n', 2, /lists no process/],
  ])('%j is refused at line %i', (text, line, message) => {
    try {
      parseGroupManifest(text);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(CaptureLineError);
      expect((err as CaptureLineError).line).toBe(line);
      expect((err as CaptureLineError).reason).toMatch(message);
    }
  });
});

describe('anonymiseCapture', () => {
  const a =
    vma(0x400000, 0x401000, 'r-xp', 0, 'fd:01', 100, '/usr/bin/secret-tool') +
    vma(0x600000, 0x601000, 'rw-p', 0, '00:00', 0, '[heap]') +
    vma(0x7f0000000000, 0x7f0000200000, 'rw-s', 0, '00:01', 7, '/dev/zero (deleted)') +
    vma(0x7f0000200000, 0x7f0000201000, 'rw-s', 0, '00:01', 9, '/SYSV0000abcd (deleted)') +
    vma(0x7f0000201000, 0x7f0000202000, 'rw-s', 0, '00:1a', 3, '/dev/shm/my-queue') +
    vma(0x7f0000202000, 0x7f0000203000, 'rw-p', 0, '00:00', 0, '[anon:my arena]') +
    vma(0x7f0000203000, 0x7f0000204000, 'r--p', 0, 'fd:01', 200, '/home/me/private/lib.so');
  const b = vma(0x400000, 0x401000, 'r-xp', 0, 'fd:01', 200, '/home/me/private/lib.so') + vma(0x500000, 0x501000, 'r-xp', 0, 'fd:01', 100, '/usr/bin/secret-tool');
  const out = anonymiseCapture([a, b]);

  it('replaces every path with a token of its kind, the same in every process', () => {
    const [x = '', y = ''] = out.smaps;
    expect(x).not.toMatch(/secret|private|my-queue|abcd|my arena/);
    expect(y).not.toMatch(/secret|private/);
    expect(parseSmaps(x).map((v) => v.path)).toEqual(['<file 1>', '[heap]', '/dev/zero (deleted)', '<sysv 1> (deleted)', '<posix-shm 1>', '[anon:<name 1>]', '<file 2>']);
    expect(parseSmaps(y).map((v) => v.path)).toEqual(['<file 2>', '<file 1>']);
    expect(out.paths).toBe(5);
  });

  it('keeps addresses, permissions, offsets, devices, inodes and every field', () => {
    for (const [before, after] of [
      [a, out.smaps[0] ?? ''],
      [b, out.smaps[1] ?? ''],
    ] as const) {
      const strip = (t: string): unknown => parseSmaps(t).map((v) => ({ ...v, path: '' }));
      expect(strip(after)).toEqual(strip(before));
    }
  });
});

describe('replayGroup', () => {
  /** A group folder of two processes mapping one 4 MiB shared file at 2 MiB-aligned addresses, fully present, and a private page each. */
  function twoProcesses(): string {
    const dir = mkdtempSync(join(tmpdir(), 'mmlab-group-'));
    const manifest: GroupManifest = {
      names: 'anonymised',
      processes: [
        { pid: 100, folder: 'p100', name: 'db' },
        { pid: 101, folder: 'p101', name: 'db' },
      ],
      segments: [{ shmid: 5, key: '0', size: 4 * MIB }],
    };
    writeFileSync(join(dir, 'group'), formatGroupManifest(manifest));
    manifest.processes.forEach((p, i) => {
      const shm = 0x7f0000000000 + i * 64 * MIB;
      const anon = 0x600000;
      mkdirSync(join(dir, p.folder));
      writeFileSync(join(dir, p.folder, 'smaps'), vma(anon, anon + 4096, 'rw-p', 0, '00:00', 0, '', 4) + vma(shm, shm + 4 * MIB, 'rw-s', 0, '00:01', 5, '<sysv 1> (deleted)', 4096));
      // 1 PTE table for the private page + 2 for the segment; a PMD and a PUD table for each of the two far-apart ranges
      writeFileSync(join(dir, p.folder, 'status'), `Name:\tdb\nPid:\t${p.pid}\nVmSize:\t${4 + 4096} kB\nVmPTE:\t${(3 + 2 + 2) * 4} kB\n`);
      writeFileSync(join(dir, p.folder, 'present'), `${anon.toString(16)}-${(anon + 4096).toString(16)}\n${shm.toString(16)}-${(shm + 4 * MIB).toString(16)}\n# end: 2 runs\n`);
    });
    return dir;
  }

  it('maps the segment the processes share once: its pages are in the page cache once, mapped twice', async () => {
    const group = await readCaptureGroup(twoProcesses());
    expect(group.segments).toEqual([{ shmid: 5, key: '0', size: 4 * MIB }]);
    const r = await replayGroup(group, { check: true });
    expect(r.invariants?.violations).toEqual([]);
    expect(r.sharedFiles).toBe(1);
    expect(r.processes.map((p) => [p.pid, p.model.VmPTE_kB, p.kernel.VmPTE_kB, p.match])).toEqual([
      [100, 28, 28, true],
      [101, 28, 28, true],
    ]);
    expect(r.model.tables).toEqual({ pte: 6, pmd: 4, pud: 4 });
    expect(r.match).toBe(true);
    const pages = (4 * MIB) / 4096;
    expect(r.run.metrics.vmstat.nr_file_pages).toBe(pages);
    expect(r.run.metrics.vmstat.nr_mapped).toBe(pages);
    expect(r.run.metrics.vmstat.pgfault).toBe(2 * (pages + 1));
  });

  it('gives the same report twice', async () => {
    const group = await readCaptureGroup(twoProcesses());
    expect(JSON.stringify(await replayGroup(group))).toBe(JSON.stringify(await replayGroup(group)));
  });
});
