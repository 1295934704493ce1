/** Sends every report to several recorders (metrics plus, say, a test's own observer). */
import type { AttemptOutcome, ProxyRecorder, RequestOutcome } from "./recorder.ts";

export class FanOutRecorder implements ProxyRecorder {
  private readonly recorders: readonly ProxyRecorder[];

  constructor(recorders: readonly ProxyRecorder[]) {
    this.recorders = recorders;
  }

  requestFinished(outcome: RequestOutcome): void {
    for (const recorder of this.recorders) recorder.requestFinished(outcome);
  }

  attemptFinished(outcome: AttemptOutcome): void {
    for (const recorder of this.recorders) recorder.attemptFinished(outcome);
  }

  fallback(route: string, from: string, to: string): void {
    for (const recorder of this.recorders) recorder.fallback(route, from, to);
  }

  retry(route: string, upstream: string): void {
    for (const recorder of this.recorders) recorder.retry(route, upstream);
  }
}
