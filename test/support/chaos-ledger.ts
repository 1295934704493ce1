/**
 * How every request of a fault-under-load run ended, by tag: answered in full, failed before
 * its response, cut mid-response, or (the one that must never happen) a complete-looking body
 * that was not the one sent.
 */
import { REQUEST_TAG_HEADER } from "./backend-process.ts";
import { chaosRequestFor, isChaosBodyIntact, type ChaosTrafficOptions } from "./chaos-traffic.ts";
import type { LoadOutcome, LoadRequest, SteadyLoadOptions } from "./steady-load.ts";

const PROBLEMS_KEPT = 10;

/** How every request of a chaos run ended, by tag. */
export class ChaosLedger {
  /** Tags of requests that have ended, however. */
  readonly ended = new Set<string>();
  /** Idempotent requests with no response at all, or an error status instead of the answer. */
  readonly failedBeforeResponse: string[] = [];
  /** Requests whose response head arrived, then the connection dropped. */
  readonly cutMidResponse: string[] = [];
  /** Complete bodies that were not what the backend sent (a clean, truncated body). */
  readonly badBodies: string[] = [];
  /** POSTs that did not get their 200 and complete body. */
  readonly failedPosts: string[] = [];
  /** POSTs answered 200 in full. */
  readonly answeredPosts: string[] = [];
  /** The first few failures, as "TAG STATUS-OR-ERROR", for failure messages. */
  readonly problems: string[] = [];

  /** The `onOutcome` of a steady load. */
  readonly record = (outcome: LoadOutcome): void => {
    const tag = tagOf(outcome.request);
    const method = outcome.request.method === "POST" ? "POST" : "GET";
    this.ended.add(tag);
    const isAnswer = outcome.kind === "answered" && outcome.status === 200;
    if (isAnswer && outcome.isBodyIntact !== false) {
      if (method === "POST") this.answeredPosts.push(tag);
      return;
    }
    this.noteProblem(tag, outcome);
    if (method === "POST") this.failedPosts.push(tag);
    if (outcome.isBodyIntact === false) this.badBodies.push(tag);
    else if (outcome.kind === "cut") this.cutMidResponse.push(tag);
    else if (method === "GET") this.failedBeforeResponse.push(tag);
  };

  /** The load options that feed this ledger. */
  loadOptions(traffic: ChaosTrafficOptions): Partial<SteadyLoadOptions> {
    return {
      requestFor: chaosRequestFor(traffic),
      isIntact: isChaosBodyIntact,
      onOutcome: this.record,
    };
  }

  /** Whether the request tagged `tag` has not ended yet. */
  isInFlight(tag: string): boolean {
    return !this.ended.has(tag);
  }

  private noteProblem(tag: string, outcome: LoadOutcome): void {
    if (this.problems.length >= PROBLEMS_KEPT) return;
    const status = outcome.status === undefined ? "" : String(outcome.status);
    this.problems.push([tag, outcome.kind, status, outcome.error ?? ""].join(" ").trim());
  }
}

function tagOf(request: LoadRequest): string {
  const tag = request.headers[REQUEST_TAG_HEADER];
  return typeof tag === "string" ? tag : "";
}
