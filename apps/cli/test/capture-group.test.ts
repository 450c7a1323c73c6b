/**
 * The parts of `mmlab capture` that read /proc and write the folder, on a
 * procfs of files made here: which processes `--match` and `--all` pick,
 * which System V segments a group lists, and the whole-or-nothing folder.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSmaps } from '@mmlab/workloads';
import { describe, expect, it } from 'vitest';
import { listPids, sysvSegments, targetState, writeCaptureFolder } from '../src/capture.js';

function fakeProc(): string {
  const root = mkdtempSync(join(tmpdir(), 'mmlab-proc-'));
  const proc = (pid: number, name: string, argv: string[]): void => {
    mkdirSync(join(root, String(pid)));
    writeFileSync(join(root, String(pid), 'status'), `Name:\t${name}\nPid:\t${pid}\n`);
    writeFileSync(join(root, String(pid), 'cmdline'), argv.map((a) => `${a}\0`).join(''));
  };
  proc(1, 'init', ['/sbin/init']);
  proc(42, 'postgres', ['/usr/lib/postgresql/15/bin/postgres', '-D', '/data']);
  proc(43, 'postgres', ['postgres: checkpointer']);
  proc(7, 'python3', ['/usr/bin/python3', 'worker.py']);
  proc(8, 'kworker/0:1', []);
  mkdirSync(join(root, 'sysvipc'));
  writeFileSync(
    join(root, 'sysvipc', 'shm'),
    '       key      shmid perms                  size  cpid  lpid nattch\n' +
      '         0         16   600                    56    42    43      6\n' +
      '  12345678         17   600              16777216     7     7      1\n' +
      '         0         18   600                  4096     1     1      1\n'
  );
  mkdirSync(join(root, 'self'));
  return root;
}

describe('listPids', () => {
  const root = fakeProc();
  it('--all: every pid, ascending, without the calling process', () => {
    expect(listPids(undefined, root, 7)).toEqual([1, 8, 42, 43]);
  });
  it('--match: by the process name or the base name of its first argument', () => {
    expect(listPids('postgres', root, 0)).toEqual([42, 43]);
    expect(listPids('python3', root, 0)).toEqual([7]);
    expect(listPids('worker.py', root, 0)).toEqual([]);
    expect(listPids('init', root, 0)).toEqual([1]);
  });
});

describe('sysvSegments', () => {
  const root = fakeProc();
  const vmas = parseSmaps(
    '7f0000000000-7f0000001000 rw-s 00000000 00:01 16                         /SYSV00000000 (deleted)\nVmFlags: rd wr sh\n' +
      '7f0000001000-7f0001001000 rw-s 00000000 00:01 17                         /SYSV00bc614e (deleted)\nVmFlags: rd wr sh\n' +
      '7f0001001000-7f0001002000 rw-s 00000000 00:01 18                         /dev/zero (deleted)\nVmFlags: rd wr sh\n'
  );
  it('lists the segments the processes map (by shmid, the inode), with key and size', () => {
    expect(sysvSegments(vmas, root)).toEqual([
      { shmid: 16, key: '0', size: 56 },
      { shmid: 17, key: '12345678', size: 16777216 },
    ]);
  });
  it('lists none when /proc/sysvipc/shm cannot be read', () => {
    expect(sysvSegments(vmas, join(root, 'nowhere'))).toEqual([]);
  });
});

describe('writeCaptureFolder', () => {
  it('writes the folder whole, replaces an earlier capture only when asked, and leaves no temporary folder', () => {
    const base = mkdtempSync(join(tmpdir(), 'mmlab-write-'));
    const target = join(base, 'cap');
    expect(targetState(target)).toBe('free');
    writeCaptureFolder(target, new Map([['group', 'one\n'], ['p1/status', 'x\n']]), false);
    expect(readdirSync(target).sort()).toEqual(['group', 'p1']);
    expect(targetState(target)).toEqual({ capture: ['group', 'p1'] });
    expect(() => {
      writeCaptureFolder(target, new Map([['group', 'two\n']]), false);
    }).toThrow(/changed while it was being captured; not replaced/);
    expect(readFileSync(join(target, 'group'), 'utf8')).toBe('one\n');
    writeCaptureFolder(target, new Map([['group', 'three\n']]), true);
    expect(readdirSync(target)).toEqual(['group']);
    expect(readFileSync(join(target, 'group'), 'utf8')).toBe('three\n');
    expect(readdirSync(base)).toEqual(['cap']);
  });

  it('never replaces a folder holding other files, and a failed write leaves nothing', () => {
    const base = mkdtempSync(join(tmpdir(), 'mmlab-write-'));
    const target = join(base, 'cap');
    mkdirSync(target);
    writeFileSync(join(target, 'notes.txt'), 'mine');
    expect(targetState(target)).toEqual({ other: ['notes.txt'] });
    expect(() => {
      writeCaptureFolder(target, new Map([['group', 'x\n']]), true);
    }).toThrow(/not replaced/);
    expect(readdirSync(target)).toEqual(['notes.txt']);
    // a file that cannot be written (its folder's name is taken by a file)
    const fresh = join(base, 'fresh');
    expect(() => {
      writeCaptureFolder(fresh, new Map([['a', 'x'], ['a/b', 'y']]), false);
    }).toThrow();
    expect(existsSync(fresh)).toBe(false);
    expect(readdirSync(base).sort()).toEqual(['cap']);
  });
});
