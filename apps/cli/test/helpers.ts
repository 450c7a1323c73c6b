import { main } from '../src/main.js';
import { memoryIo } from '../src/io.js';

/** The outcome of one in-process `mmlab` invocation. */
export interface Outcome {
  code: number;
  out: string;
  err: string;
}

/** Runs `mmlab ...args` in-process and collects its output. */
export async function mmlab(args: readonly string[], cwd?: string): Promise<Outcome> {
  const io = memoryIo(cwd);
  const code = await main(args, io);
  return { code, out: io.out, err: io.err };
}
