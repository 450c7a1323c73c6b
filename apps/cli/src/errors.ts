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
