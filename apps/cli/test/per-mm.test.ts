import { describe, expect, it } from 'vitest';
import { formatAddressSpaces } from '../src/format/run-report.js';
import { mmlab } from './helpers.js';

describe('the run report is per mm: the threads of one mm count once', () => {
  it('threads-fault:threads=8 shows one mm of 8 tasks with its own figures, not 8 times them', async () => {
    const r = await mmlab(['run', '--workload', 'threads-fault:threads=8']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/\naddress spaces at snapshot \(1 mm, 8 tasks\)\s+min\s+max\s+total\n/);
    expect(r.out).toMatch(/\nVmPTE kB\s+140\s+140\s+140\n/);
    expect(r.out).toMatch(/\nRssAnon kB\s+65,536\s+65,536\s+65,536\n/);
    expect(r.out).toMatch(/\ntasks\s+8\s+8\s+8\nmm of pid 1: tasks 1-8\n/);
    expect(r.out).not.toMatch(/1,120|524,288/);
    // 33 PTE tables of one mm: 33 × 4 kB + PMD + PUD = 140 kB
    expect(r.out).toMatch(/\ntables at snapshot\s+1\s+1\s+1\s+33\n/);
  });

  it('keeps the per-process table when no mm is shared', async () => {
    const r = await mmlab(['run', '--workload', 'shm-procs:procs=2:size=1m']);
    expect(r.out).toMatch(/\nprocesses at snapshot \(2\)\s+min\s+max\s+total\n/);
    expect(r.out).toMatch(/\nVmPTE kB\s+12\s+12\s+24\n/);
  });

  it('lists the tasks of each shared mm, as ranges', () => {
    const fig = (pid: number, mm: number, rss: number): Parameters<typeof formatAddressSpaces>[0][number] => ({
      pid,
      mm,
      VmPTE_kB: 12,
      VmPTE_2624_kB: 4,
      RssAnon_kB: rss,
      RssFile_kB: 0,
      VmSize_kB: 100,
      map_count: 1,
    });
    const text = formatAddressSpaces([fig(1, 1, 8), fig(2, 2, 4), fig(3, 1, 8), fig(4, 1, 8), fig(6, 1, 8), fig(5, 3, 0), fig(7, 3, 0)]);
    expect(text).toContain('address spaces at snapshot (3 mms, 7 tasks)');
    expect(text).toMatch(/\nRssAnon kB\s+0\s+8\s+12\n/);
    expect(text).toMatch(/\ntasks\s+1\s+4\s+7\n/);
    expect(text).toContain('mm of pid 1: tasks 1, 3-4, 6\nmm of pid 5: tasks 5, 7\n');
    expect(formatAddressSpaces([])).toBe('');
  });
});
