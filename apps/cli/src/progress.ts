/**
 * A progress bar with an ETA on standard error, for commands that run many
 * kernels (`ab`, `matrix`): drawn only when standard error is a terminal
 * and the work has taken over a second; quiet otherwise.
 * @module
 */

import { SingleBar } from 'cli-progress';

/** Receives progress; `stop` clears the bar. */
export interface Progress {
  /**
   * Reports progress.
   * @param done - units done
   * @param total - units in all
   */
  update(done: number, total: number): void;
  /** Stops (and clears) the bar. */
  stop(): void;
}

/** Wait before a bar appears, ms. */
const DELAY_MS = 1000;

/**
 * Starts tracking progress.
 * @param label - what is counted (`runs`, `cells`)
 * @param tty - whether standard error is a terminal (default: the process's)
 */
export function startProgress(label: string, tty: boolean = process.stderr.isTTY): Progress {
  if (!tty) return { update() {}, stop() {} };
  const started = Date.now();
  let bar: SingleBar | undefined;
  let last = { done: 0, total: 0 };
  return {
    update(done, total) {
      last = { done, total };
      if (bar === undefined && Date.now() - started >= DELAY_MS && done < total) {
        bar = new SingleBar({
          stream: process.stderr,
          format: `{bar} {value}/{total} ${label} | {percentage}% | ETA {eta_formatted}`,
          clearOnComplete: true,
          hideCursor: true,
          etaBuffer: 20,
        });
        bar.start(last.total, last.done);
      } else {
        bar?.setTotal(total);
        bar?.update(done);
      }
    },
    stop() {
      bar?.stop();
    },
  };
}
