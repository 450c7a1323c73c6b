/**
 * Where the command writes: injected so tests can run `main` in-process.
 * @module
 */

/** Output streams and the working directory of one invocation. */
export interface Io {
  /** Writes text to standard output. */
  stdout(text: string): void;
  /** Writes text to standard error. */
  stderr(text: string): void;
  /** Directory relative paths (workload modules, capture folders) start from. */
  readonly cwd: string;
}

/** The real process's streams and working directory. */
export function processIo(): Io {
  return {
    stdout: (text) => {
      process.stdout.write(text);
    },
    stderr: (text) => {
      process.stderr.write(text);
    },
    cwd: process.cwd(),
  };
}

/** An {@link Io} that keeps everything written, for tests. */
export interface CapturedIo extends Io {
  /** Everything written to standard output. */
  readonly out: string;
  /** Everything written to standard error. */
  readonly err: string;
}

/**
 * Creates an {@link Io} that records output in memory.
 * @param cwd - working directory to report (default: the process's)
 */
export function memoryIo(cwd = process.cwd()): CapturedIo {
  let out = '';
  let err = '';
  return {
    stdout: (text) => {
      out += text;
    },
    stderr: (text) => {
      err += text;
    },
    cwd,
    get out() {
      return out;
    },
    get err() {
      return err;
    },
  };
}
