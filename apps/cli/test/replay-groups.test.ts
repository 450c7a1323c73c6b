/**
 * Replays of real capture groups (test/group-fixtures, captured by
 * capture-fixtures.sh): the baseline matches the kernel's VmPTE of every
 * process; a replay is deterministic; a damaged capture is an input error
 * naming its file and line; shared page tables save exactly what a count
 * from first principles says for the layout.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { mmlab } from './helpers.js';

const here = dirname(fileURLToPath(import.meta.url));
const groups = join(here, 'group-fixtures');
const names = readdirSync(groups, { withFileTypes: true })
  .filter((e) => e.isDirectory() && existsSync(join(groups, e.name, 'group')))
  .map((e) => e.name)
  .sort();

/** A capture file as text, plain or gzip. */
function text(dir: string, name: string): string {
  const plain = join(dir, name);
  if (existsSync(plain)) return readFileSync(plain, 'utf8');
  return gunzipSync(readFileSync(`${plain}.gz`)).toString('utf8');
}

/** The process folders of a group, from its manifest. */
function members(dir: string): { pid: number; folder: string }[] {
  return readFileSync(join(dir, 'group'), 'utf8')
    .split('\n')
    .map((l) => /^process (\d+) (\S+) /.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ pid: Number(m[1]), folder: m[2]! }));
}

/** A VMA header of smaps, read here on its own (not with the package's parser). */
interface Header {
  start: number;
  end: number;
  perms: string;
  offset: number;
  file: string;
  path: string;
}

function headers(smaps: string): Header[] {
  const out: Header[] = [];
  for (const line of smaps.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) ([0-9a-f]+) ([0-9a-f]+:[0-9a-f]+) (\d+)\s*(.*)$/.exec(line);
    if (m === null) continue;
    out.push({
      start: Number(BigInt(`0x${m[1]!}`)),
      end: Number(BigInt(`0x${m[2]!}`)),
      perms: m[3]!,
      offset: parseInt(m[4]!, 16),
      file: m[6] === '0' ? '' : `${m[5]!}:${m[6]!}`,
      path: m[7]!,
    });
  }
  return out;
}

function runs(present: string): [number, number][] {
  return present
    .split('\n')
    .filter((l) => /^[0-9a-f]+-[0-9a-f]+$/.test(l))
    .map((l) => l.split('-').map((x) => parseInt(x, 16)) as [number, number]);
}

const PMD = 2 ** 21;

/** Index of every 2 MiB, 1 GiB and 512 GiB region with a present page: the tables today's VmPTE counts. */
function regions(present: string): { pte: Set<number>; pmd: Set<number>; pud: Set<number> } {
  const pte = new Set<number>();
  const pmd = new Set<number>();
  const pud = new Set<number>();
  for (const [s, e] of runs(present)) {
    for (let a = s; a < e; a += 4096) {
      pte.add(Math.floor(a / PMD));
      pmd.add(Math.floor(a / 2 ** 30));
      pud.add(Math.floor(a / 2 ** 39));
    }
  }
  return { pte, pmd, pud };
}

interface ProcessJson {
  pid: number;
  model: { VmPTE_kB: number };
  kernel: { VmPTE_kB: number };
  match: boolean;
}
interface GroupJson {
  features: string;
  processes: ProcessJson[];
  model: { VmPTE_kB: number; PageTables_kB: number; tables: { pte: number; pmd: number; pud: number } };
  kernel: { VmPTE_kB: number };
  saving_kB: number;
  match: boolean;
}

async function replayJson(dir: string, ...args: string[]): Promise<{ raw: string; report: GroupJson }> {
  const r = await mmlab(['replay', dir, '--json', ...args]);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  return { raw: r.out, report: JSON.parse(r.out) as GroupJson };
}

describe('group fixtures', () => {
  it('are there: a shell, a multi-process server with shared memory, an interpreter with a large heap, PostgreSQL', () => {
    expect(names).toEqual(['postgres', 'python-heap', 'python-workers', 'shell']);
  });

  it.each(names)('%s: the baseline replay matches the kernel’s VmPTE of every process exactly', async (name) => {
    const dir = join(groups, name);
    const { report } = await replayJson(dir);
    const listed = members(dir);
    expect(report.processes.map((p) => p.pid)).toEqual(listed.map((m) => m.pid));
    let pte = 0;
    let kernelSum = 0;
    report.processes.forEach((p, i) => {
      const folder = join(dir, listed[i]!.folder);
      const vmpte = Number(/VmPTE:\s+(\d+) kB/.exec(text(folder, 'status'))?.[1]);
      const r = regions(text(folder, 'present'));
      expect(p.kernel.VmPTE_kB).toBe(vmpte);
      expect(p.model.VmPTE_kB).toBe(vmpte);
      // and what the kernel counted is one table per region with a present page
      expect(vmpte).toBe((r.pte.size + r.pmd.size + r.pud.size) * 4);
      expect(p.match).toBe(true);
      pte += r.pte.size;
      kernelSum += vmpte;
    });
    expect(report.kernel.VmPTE_kB).toBe(kernelSum);
    expect(report.model.PageTables_kB).toBe(kernelSum);
    expect(report.model.tables.pte).toBe(pte);
    expect(report.saving_kB).toBe(0);
    expect(report.match).toBe(true);
  });
});

describe('a replay is deterministic', () => {
  it('the same group twice gives identical reports, baseline and with a feature set', async () => {
    const dir = join(groups, 'python-workers');
    for (const args of [[], ['--features', 'shared-pagetables']]) {
      const a = await replayJson(dir, ...args);
      const b = await replayJson(dir, ...args);
      expect(b.raw).toBe(a.raw);
    }
    const text1 = await mmlab(['replay', dir]);
    const text2 = await mmlab(['replay', dir]);
    expect(text2.out).toBe(text1.out);
  });

  it('ab --replay: two seeds, every figure exact, and the same table twice', async () => {
    const args = ['ab', '--replay', join(groups, 'shell'), '--b', 'shared-pagetables', '--json'];
    const a = await mmlab(args);
    expect(a.err).toBe('');
    expect(a.code).toBe(0);
    const result = JSON.parse(a.out) as { seeds: number[]; rows: { metric: string; diff: { exact: boolean } | null }[] };
    expect(result.seeds).toEqual([1, 2]);
    for (const row of result.rows) if (row.diff !== null) expect(row.diff.exact, row.metric).toBe(true);
    const b = await mmlab(args);
    expect(b.out).toBe(a.out);
  });
});

describe('shared page tables on a group with a shared segment', () => {
  /**
   * The PTE tables of the group with shared page tables, counted from the
   * layout alone: a process's 2 MiB region with a present page needs a
   * table; the region's table is shared (counted once for every process
   * with the same key) when one VMA of the process spans the whole region
   * and maps a file shared, or read-only, readable and never written by
   * the replay, the key being the file, its offset at the region's start
   * and the permissions; every other region's table is the process's own.
   */
  function sharedLayoutTables(dir: string): { baseline: number; shared: number; sharedRanges: number } {
    const keys = new Set<string>();
    let own = 0;
    let baseline = 0;
    let sharedRanges = 0;
    for (const m of members(dir)) {
      const folder = join(dir, m.folder);
      const vmas = headers(text(folder, 'smaps'));
      const seen = new Set<string>();
      for (const r of regions(text(folder, 'present')).pte) {
        baseline++;
        const base = r * PMD;
        const v = vmas.find((h) => h.start <= base && base + PMD <= h.end);
        const shareable =
          v !== undefined && v.file !== '' && v.perms[0] === 'r' && (v.perms[3] === 's' || v.perms[1] === '-');
        if (!shareable) {
          own++;
          continue;
        }
        const key = `${v.file}@${v.offset + (base - v.start)}:${v.perms}`;
        // the count assumes no process maps one key twice (it could not share with itself)
        expect(seen.has(key)).toBe(false);
        seen.add(key);
        if (!keys.has(key)) keys.add(key);
        else sharedRanges++;
      }
    }
    return { baseline, shared: own + keys.size, sharedRanges };
  }

  it.each(['python-workers', 'postgres'])('%s: the saving is the tables over the shared ranges counted once instead of once per process', async (name) => {
    const dir = join(groups, name);
    const expected = sharedLayoutTables(dir);
    const base = (await replayJson(dir)).report;
    const shared = (await replayJson(dir, '--features', 'shared-pagetables')).report;
    expect(base.model.tables.pte).toBe(expected.baseline);
    expect(shared.features).toBe('shared-pagetables');
    expect(shared.model.tables.pte).toBe(expected.shared);
    // PMD and PUD tables are not shared at level=pte
    expect(shared.model.tables.pmd).toBe(base.model.tables.pmd);
    expect(shared.model.tables.pud).toBe(base.model.tables.pud);
    expect(expected.sharedRanges).toBeGreaterThan(0);
    expect(shared.saving_kB).toBe(4 * (expected.baseline - expected.shared));
    expect(shared.saving_kB).toBe(4 * expected.sharedRanges);
    expect(shared.model.PageTables_kB).toBe(shared.kernel.VmPTE_kB - shared.saving_kB);
    // a shared table counts in the VmPTE of every process that reaches it, as the kernel counts it
    for (const p of shared.processes) expect(p.model.VmPTE_kB).toBe(p.kernel.VmPTE_kB);
  });

  it('python-workers: the 64 MiB pool and the 16 MiB SysV segment, mapped by four workers, save three quarters of their tables', () => {
    const dir = join(groups, 'python-workers');
    const workers = members(dir).slice(1);
    const covered = (start: number, end: number): number => Math.floor(end / PMD) - Math.ceil(start / PMD);
    const segs = headers(text(join(dir, workers[0]!.folder), 'smaps')).filter((h) => h.perms === 'rw-s' && h.end - h.start >= PMD);
    expect(segs.map((s) => s.end - s.start).sort((a, b) => a - b)).toEqual([16 << 20, 64 << 20]);
    const perWorker = segs.reduce((n, s) => n + covered(s.start, s.end), 0);
    // the parent never touched them: the four workers share each table, three of four saved
    expect(sharedLayoutTables(dir).sharedRanges).toBe((workers.length - 1) * perWorker);
  });
});

describe('replays with features under the checker', () => {
  /**
   * A small group written here: two processes mapping one 4 MiB SysV
   * segment at 2 MiB-aligned addresses, fully present, and a private page
   * each (the checker's full walks, which shared tables need, make the real
   * fixtures too slow to check at every boundary).
   */
  function smallGroup(): string {
    const dir = mkdtempSync(join(tmpdir(), 'mmlab-small-'));
    const entry = (start: number, end: number, perms: string, dev: string, inode: number, path: string, rssKb: number): string =>
      `${start.toString(16)}-${end.toString(16)} ${perms} 00000000 ${dev} ${inode} ${path}\nSize: ${(end - start) / 1024} kB\nRss: ${rssKb} kB\nVmFlags: rd mr mw me\n`;
    const pids = [100, 101];
    writeFileSync(join(dir, 'group'), `format 1\nnames anonymised\n${pids.map((p) => `process ${p} p${p} db\n`).join('')}sysvshm 5 0 4194304\n# end: 2 processes\n`);
    pids.forEach((pid, i) => {
      const shm = 0x7f0000000000 + i * 2 ** 26;
      mkdirSync(join(dir, `p${pid}`));
      writeFileSync(join(dir, `p${pid}`, 'smaps'), entry(0x600000, 0x601000, 'rw-p', '00:00', 0, '', 4) + entry(shm, shm + 2 ** 22, 'rw-s', '00:01', 5, '<sysv 1> (deleted)', 4096));
      writeFileSync(join(dir, `p${pid}`, 'status'), `Name:\tdb\nPid:\t${pid}\nVmSize:\t4100 kB\nVmPTE:\t28 kB\n`);
      writeFileSync(join(dir, `p${pid}`, 'present'), `600000-601000\n${shm.toString(16)}-${(shm + 2 ** 22).toString(16)}\n# end: 2 runs\n`);
    });
    return dir;
  }

  it.each([
    ['shared-pagetables', 8],
    ['all', 8],
    ['baseline', 0],
  ])('with %s: no invariant violated, every process at the kernel’s VmPTE, %i kB saved', async (set, saved) => {
    const r = await mmlab(['replay', smallGroup(), '--features', set, '--check', '--json']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out) as GroupJson & { invariants: { violations: unknown[] } };
    expect(report.invariants.violations).toEqual([]);
    expect(report.processes.map((p) => p.model.VmPTE_kB)).toEqual([28, 28]);
    // the two PTE tables over the segment are shared: counted once, not twice
    expect(report.saving_kB).toBe(saved);
  });
});

describe('a damaged group is an input error naming the file and line, never a mismatch', () => {
  const source = join(groups, 'python-workers');
  const manifest = readFileSync(join(source, 'group'), 'utf8');
  const first = members(source)[1]!.folder;
  const lines = manifest.split('\n');
  const processLine = lines.findIndex((l) => l.startsWith(`process ${first.slice(1)} `)) + 1;
  const gz = (t: string): Buffer => gzipSync(t);
  const present = text(join(source, first), 'present');
  const cutInLine = (t: string): string => t.slice(0, t.indexOf('\n', Math.floor(t.length / 2)) + 4);
  it.each([
    ['the manifest cut before its trailer', 'group', lines.slice(0, -2).join('\n') + '\n', 'group', /:\d+: no '# end: N processes' trailer: the file is truncated$/],
    ['the manifest cut in the middle of a line', 'group', manifest.slice(0, manifest.length - 5), 'group', /:\d+: the file ends in the middle of a line/],
    ['a process line broken', 'group', manifest.replace(/^process (\d+) /m, 'process x$1 '), 'group', /:4: expected 'process PID FOLDER NAME', got 'process x/],
    ['a SysV line broken', 'group', manifest.replace(/^sysvshm (\d+) .*$/m, 'sysvshm $1'), 'group', /:\d+: expected 'sysvshm SHMID KEY SIZE', got 'sysvshm \d+'$/],
    ['a trailer that does not count the processes', 'group', manifest.replace(/# end: \d+ processes/, '# end: 9 processes'), 'group', /:\d+: the trailer counts 9 processes but the file lists 5: it is truncated or edited$/],
    ['a process of another capture', `${first}/status`, text(join(source, first), 'status').replace(/^Pid:\s+\d+/m, 'Pid:\t4242'), 'group', new RegExp(`:${processLine}: lists pid \\d+ in '${first}', whose status says Pid 4242: the folders do not belong together$`)],
    ['a present file cut in a line (gzip)', `${first}/present.gz`, gz(cutInLine(present)), `${first}/present.gz`, /:\d+: the file ends in the middle of a line/],
    ['a present file cut at a line (gzip)', `${first}/present.gz`, gz(present.split('\n').slice(0, 3).join('\n') + '\n'), `${first}/present.gz`, /:3: no '# end: N runs' trailer, which mmlab capture writes last: the file is truncated$/],
    ['a present file without its last runs (gzip)', `${first}/present.gz`, gz(present.split('\n').slice(0, 3).join('\n') + '\n' + present.split('\n').filter((l) => l.startsWith('#')).join('\n') + '\n'), `${first}/present.gz`, /:4: the trailer counts \d+ runs but the file has 3: it is truncated or edited$/],
    ['a damaged gzip file', `${first}/smaps.gz`, Buffer.from('not gzip'), `${first}/smaps.gz`, /: not gzip data, or damaged/],
  ])('%s', async (_, file, body, named, message) => {
    const dir = join(mkdtempSync(join(tmpdir(), 'mmlab-group-')), 'g');
    cpSync(source, dir, { recursive: true });
    writeFileSync(join(dir, file), body);
    for (const args of [[], ['--json'], ['--features', 'shared-pagetables']]) {
      const r = await mmlab(['replay', dir, ...args]);
      expect(r.code).toBe(2);
      const line = r.err.split('\n', 1)[0]!;
      expect(line.startsWith(`mmlab: ${join(dir, named)}:`)).toBe(true);
      expect(line.slice(`mmlab: ${join(dir, named)}`.length)).toMatch(message);
      expect(r.out).not.toContain('MISMATCH');
    }
  });
});

describe('mmlab capture of a group', () => {
  /** Runs `body` with the pids of a shell and its two children, then kills them (their process group, by its id). */
  async function withShell<T>(body: (pids: number[]) => Promise<T>): Promise<T> {
    const child = spawn('bash', ['-c', 'sleep 1000 & sleep 1000 & echo ready; wait'], { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
    const pid = child.pid ?? 0;
    try {
      await new Promise((resolve) => child.stdout.once('data', resolve));
      await new Promise((resolve) => setTimeout(resolve, 200));
      const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
      return await body([pid, ...kids]);
    } finally {
      process.kill(-pid, 'SIGKILL');
    }
  }

  it('captures the listed processes anonymised, and the group replays to the kernel figures', async () => {
    await withShell(async (pids) => {
      const dir = join(mkdtempSync(join(tmpdir(), 'mmlab-capture-')), 'grp');
      const c = await mmlab(['capture', '--pids', pids.join(','), dir]);
      expect(c.err).toBe('');
      expect(c.code).toBe(0);
      expect(c.out).toMatch(new RegExp(`^${pids.length} processes -> .*grp \\(paths anonymised, command lines dropped\\)$`, 'm'));
      expect(readdirSync(dir).sort()).toEqual(['group', ...pids.map((p) => `p${p}`)].sort());
      const smaps = readFileSync(join(dir, `p${pids[0]!}`, 'smaps'), 'utf8');
      expect(smaps).not.toMatch(/\s\/usr\//);
      expect(smaps).toMatch(/<file \d+>/);
      expect(readFileSync(join(dir, 'group'), 'utf8')).not.toMatch(/^cmdline/m);
      const r = await mmlab(['replay', dir, '--json']);
      expect(r.code).toBe(0);
      expect((JSON.parse(r.out) as GroupJson).processes.every((p) => p.match)).toBe(true);
      // the same path is the same token in every process
      const tokenOf = (s: string): string | undefined => /(<file \d+>)$/m.exec(s.split('\n').find((l) => l.includes('r-xp')) ?? '')?.[1];
      const bashText = tokenOf(smaps);
      expect(bashText).toBeDefined();
      const kept = join(dirname(dir), 'kept');
      const k = await mmlab(['capture', '--pids', pids.join(','), '--keep-names', '--gzip', kept]);
      expect(k.code).toBe(0);
      expect(readFileSync(join(kept, 'group'), 'utf8')).toMatch(/^cmdline \d+ "bash -c /m);
      expect(existsSync(join(kept, `p${pids[0]!}`, 'present.gz'))).toBe(true);
      expect(gunzipSync(readFileSync(join(kept, `p${pids[0]!}`, 'smaps.gz'))).toString()).toMatch(/\/bash$/m);
    });
  });

  it('names each process it could not read, and --pids writes all or nothing', async () => {
    await withShell(async (pids) => {
      const base = mkdtempSync(join(tmpdir(), 'mmlab-capture-'));
      const dir = join(base, 'grp');
      const r = await mmlab(['capture', '--pids', `${pids[0]!},999999999`, dir]);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/^mmlab: pid 999999999: not captured: no such process\n/);
      expect(r.err).toMatch(/--pids captures every listed process or none; 1 could not be read/);
      expect(readdirSync(base)).toEqual([]);
    });
  });

  it('--match captures the processes of a name; a folder holding other files is refused before /proc is read', async () => {
    await withShell(async (pids) => {
      const base = mkdtempSync(join(tmpdir(), 'mmlab-capture-'));
      const dir = join(base, 'grp');
      const r = await mmlab(['capture', '--match', 'sleep', dir]);
      expect(r.code).toBe(0);
      const listed = members(dir).map((m) => m.pid);
      for (const p of pids.slice(1)) expect(listed).toContain(p);
      const again = await mmlab(['capture', '--match', 'sleep', dir]);
      expect(again.code).toBe(2);
      expect(again.err).toMatch(/already holds a capture \(group, p\d+/);
      const forced = await mmlab(['capture', '--match', 'sleep', dir, '--force']);
      expect(forced.code).toBe(0);
      const mine = join(base, 'mine');
      cpSync(dir, mine, { recursive: true });
      writeFileSync(join(mine, 'notes.txt'), 'mine');
      const refused = await mmlab(['capture', '--match', 'sleep', mine, '--force']);
      expect(refused.code).toBe(2);
      expect(refused.err).toMatch(/holds files that are not a capture \(notes\.txt\); give a new or empty folder/);
      expect(readdirSync(base).filter((e) => e.startsWith('.'))).toEqual([]);
    });
  });

  it('refuses two group options, and an unknown name captures nothing', async () => {
    const both = await mmlab(['capture', '--all', '--match', 'x', join(tmpdir(), 'never')]);
    expect(both.code).toBe(2);
    expect(both.err).toMatch(/give one of --pids, --match and --all/);
    const none = await mmlab(['capture', '--match', 'no-such-program-here', join(tmpdir(), 'never')]);
    expect(none.code).toBe(1);
    expect(none.err).toBe("mmlab: no process is named 'no-such-program-here'; nothing captured\n");
    expect(existsSync(join(tmpdir(), 'never'))).toBe(false);
  });
});
