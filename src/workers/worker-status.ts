/**
 * The worker processes as `GET /api/v1/status` lists them (SPEC 11). A worker's id is its
 * slot, 1 to `workers`, the numbers node:cluster gives its first workers; a slot keeps its id
 * when its process dies and is replaced (cluster's own id would change), and `restarts`
 * counts those replacements. A process that serves on its own (`workers: 1`) is slot 1 itself.
 */

export interface WorkerStatus {
  /** The worker's slot, 1 to `workers`; the same across replacements. */
  id: number;
  pid: number;
  /** ISO 8601: when the slot's current process started. */
  startedAt: string;
  /** How many times the slot's process was replaced after it died. */
  restarts: number;
  /**
   * serving; starting (forked, not listening yet); restarting (dead, to be replaced after a
   * backoff that grows while it keeps dying young); stopped (shutting down).
   */
  state: "starting" | "serving" | "restarting" | "stopped";
}

/** The slot of a process that serves on its own. */
export const SINGLE_PROCESS_WORKER_ID = 1;

/** performance.timeOrigin is when this process started, in milliseconds since the epoch. */
const PROCESS_STARTED_AT = new Date(performance.timeOrigin).toISOString();

/** This process, as the one worker of `workers: 1`. */
export function singleProcessWorker(): WorkerStatus {
  return {
    id: SINGLE_PROCESS_WORKER_ID,
    pid: process.pid,
    startedAt: PROCESS_STARTED_AT,
    restarts: 0,
    state: "serving",
  };
}
