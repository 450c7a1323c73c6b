import { describe, expect, it } from 'vitest';
import { closestNames, resolveWorkload, unknownNameMessage } from '../src/index.js';

const WORKLOADS = ['shm-procs', 'anon-touch', 'fork-exit', 'threads-fault'];

describe('did you mean', () => {
  it.each([
    ['anon-tuoch', ['anon-touch']],
    ['anon-touc', ['anon-touch']],
    ['fork-exti', ['fork-exit']],
    ['threads', ['threads-fault']],
    ['SHM-PROCS', ['shm-procs']],
    ['kbuild', []],
    ['zz', []],
  ])('%s -> %j', (name, expected) => {
    expect(closestNames(name, WORKLOADS)).toEqual(expected);
  });

  it('says the suggestion and the known names', () => {
    expect(unknownNameMessage('workload', 'anon-tuoch', WORKLOADS)).toBe(
      "unknown workload 'anon-tuoch' (did you mean anon-touch? known: shm-procs, anon-touch, fork-exit, threads-fault)"
    );
    expect(unknownNameMessage('feature', 'x', [])).toBe("unknown feature 'x' (known: none)");
  });

  it('suggests workloads and parameters', async () => {
    await expect(resolveWorkload('anon-tuoch')).rejects.toThrow(/^unknown workload 'anon-tuoch' \(did you mean anon-touch\? known: /);
    await expect(resolveWorkload('shm-procs:proc=2')).rejects.toThrow(
      "shm-procs: unknown parameter 'proc' (did you mean procs? known: procs, size)"
    );
  });
});
