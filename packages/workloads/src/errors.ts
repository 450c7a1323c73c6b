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
