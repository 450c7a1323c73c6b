/**
 * The Web Worker that runs the model, so the page stays responsive: it
 * runs each request of the page (`jobs.ts`) and posts progress after every
 * run, then the result or the error. The page cancels by terminating it.
 * @module
 */

import { runJob } from './jobs.js';
import type { Reply, RunRequest } from './protocol.js';

/** The worker's side of `postMessage`. */
interface WorkerScope {
  postMessage(message: Reply): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<RunRequest>) => void): void;
}

const scope = self as unknown as WorkerScope;

scope.addEventListener('message', (event) => {
  const request = event.data;
  const progress = (done: number, total: number): void => {
    scope.postMessage({ type: 'progress', id: request.id, done, total });
  };
  runJob(request, progress).then(
    (reply) => {
      scope.postMessage(reply);
    },
    (err: unknown) => {
      scope.postMessage({ type: 'error', id: request.id, message: err instanceof Error ? err.message : String(err) });
    }
  );
});
