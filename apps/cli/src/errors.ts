/**
 * Errors the command line turns into exit codes.
 * @module
 */

/**
 * Bad command-line usage: unknown command or option, missing or malformed
 * argument. Printed as one line plus a usage line; exit code 2.
 */
export class UsageError extends Error {
  /** The usage line printed after the message. */
  readonly usage: string;

  /**
   * @param message - one line naming the problem
   * @param usage - the usage line of the command concerned
   */
  constructor(message: string, usage: string) {
    super(message);
    this.name = 'UsageError';
    this.usage = usage;
  }
}

/**
 * Code of a user feature module failed: its `install` threw or returned a
 * promise while the kernel was built, or the run threw an unexpected error
 * with feature modules installed (their seam code runs inside the model).
 * Printed as one line naming the module; exit code 1, as a failing user
 * workload.
 */
export class FeatureModuleError extends Error {
  /**
   * @param message - one line naming the feature or module and the problem
   * @param cause - what was thrown (its stack is printed with `MMLAB_DEBUG`)
   */
  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'FeatureModuleError';
  }
}
