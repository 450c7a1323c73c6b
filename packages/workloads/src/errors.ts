/**
 * Errors raised while turning user input into a workload run.
 * @module
 */

/**
 * A workload or feature specification that cannot be used: unknown name,
 * unknown key, malformed or out-of-range value. The message is one line and
 * names the problem, so a command-line front end can print it as is.
 */
export class SpecError extends Error {
  /** @param message - one line naming the problem */
  constructor(message: string) {
    super(message);
    this.name = 'SpecError';
  }
}

/**
 * A workload that could not complete on the model: a system call returned an
 * errno, or a user access was answered with a signal, where the workload
 * expected success. The message names the workload and the failing step.
 */
export class WorkloadError extends Error {
  /** @param message - one line naming the workload and the failing step */
  constructor(message: string) {
    super(message);
    this.name = 'WorkloadError';
  }
}

/**
 * A workload stopped early by a simulated fault that is a result of the run,
 * not a failure of the model: the OOM killer's SIGKILL on a user access, or
 * ENOMEM from a system call that had to fault pages in. {@link runWorkload}
 * catches it, records it as the report's `result`, takes the snapshot if the
 * workload had not, and makes every process still alive exit.
 */
export class WorkloadStopped extends Error {
  /** The step that was stopped (`'write at +40m'`). */
  readonly step: string;
  /** The signal delivered (`SIGKILL` = 9), when a signal stopped it. */
  readonly signal: number | undefined;
  /** The errno returned (positive, `ENOMEM` = 12), when a system call failed. */
  readonly errno: number | undefined;
  /** Whether memory ran out; `undefined` lets the runner decide from the cause. */
  readonly oom: boolean | undefined;

  /**
   * @param message - one line naming the workload, the step and the cause
   * @param step - the step that was stopped
   * @param cause - the signal or errno that stopped it, and whether memory
   *   ran out (default: decided by the runner from the signal or errno)
   */
  constructor(
    message: string,
    step: string,
    cause: { readonly signal?: number; readonly errno?: number; readonly oom?: boolean }
  ) {
    super(message);
    this.name = 'WorkloadStopped';
    this.step = step;
    this.signal = cause.signal;
    this.errno = cause.errno === undefined ? undefined : Math.abs(cause.errno);
    this.oom = cause.oom;
  }
}

/**
 * A line of a capture file (`smaps`, `status`, `present`) that does not
 * parse, or a file that ends before it should (truncated). Its message is
 * `FILE line N: REASON`; `readCapture` says it as `PATH:N: REASON`, naming
 * the file in the capture folder.
 */
export class CaptureLineError extends SpecError {
  /** The capture file (`smaps`, `status`, `present`). */
  readonly file: string;
  /** The line, from 1. */
  readonly line: number;
  /** What is wrong with it. */
  readonly reason: string;

  /**
   * @param file - the capture file's name
   * @param line - the line, from 1
   * @param reason - what is wrong with it
   */
  constructor(file: string, line: number, reason: string) {
    super(`${file} line ${line}: ${reason}`);
    this.name = 'CaptureLineError';
    this.file = file;
    this.line = line;
    this.reason = reason;
  }
}
