/**
 * One verdict per case and target, from what the client got back and what the origin read:
 *
 * - refused: the proxy answered 4xx/5xx and the origin received nothing.
 * - forwarded-one: the origin read exactly one request, complete, with nothing in it a careful
 *   proxy would have refused or normalised.
 * - forwarded-unnormalised: the origin read exactly one request and its framing is clear, but
 *   it carries something a careful proxy refuses or rewrites (an invalid Host, control bytes in
 *   a value, a request line outside the grammar, an h2c upgrade: origin-parser.ts, defects).
 * - forwarded-ambiguous: the origin read more than one request, or the hidden one, or a request
 *   whose framing two readers can read differently (origin-parser.ts, ambiguities: a look-alike
 *   framing name, Transfer-Encoding other than exactly `chunked`, Content-Length with
 *   Transfer-Encoding, bare LF, obs-fold...), or bytes it could not frame, or a request cut
 *   short on a connection the proxy kept open after the client was answered.
 * - cut-off: the proxy began forwarding, then answered an error (a body that turned malformed
 *   midway) and closed the origin connection before the request was complete.
 * - no-answer: no answer (or only 1xx) before the timeout or the close, and no request forwarded
 *   in full.
 * - answered-locally: the proxy answered without forwarding anything and not with 4xx/5xx.
 */
import type { ClientOutcome } from "./client.ts";
import { casePath, HIDDEN_SUFFIX } from "./corpus.ts";
import type { OriginConnection, OriginRequest } from "./origin.ts";
import { escapeBytes } from "./bytes.ts";

export const VERDICTS = [
  "refused",
  "forwarded-one",
  "forwarded-unnormalised",
  "forwarded-ambiguous",
  "cut-off",
  "no-answer",
  "answered-locally",
] as const;
export type Verdict = (typeof VERDICTS)[number];

export interface CaseResult {
  verdict: Verdict;
  /** Why, in a few words each (for ambiguous: everything the origin should not have seen). */
  reasons: string[];
  client: ClientOutcome;
  origin: {
    connections: number;
    bytes: number;
    requests: OriginRequest[];
    /** A request begun and not finished when the case ended. */
    incomplete: { head: OriginRequest | undefined; received: number; closedByProxy: boolean }[];
    framingErrors: string[];
    /** What the origin received, escaped and truncated (empty when nothing). */
    received: string;
  };
}

const RECEIVED_SHOWN_CHARS = 1000;

export function classify(
  caseName: string,
  client: ClientOutcome,
  connections: OriginConnection[],
): CaseResult {
  const requests = connections.flatMap((connection) => connection.requests);
  const incomplete = connections.flatMap((connection) =>
    connection.incomplete === undefined
      ? []
      : [{ ...connection.incomplete, closedByProxy: connection.closedByPeer }],
  );
  const framingErrors = connections.flatMap((connection) =>
    connection.framingError === undefined ? [] : [connection.framingError],
  );
  const bytes = connections.reduce((sum, connection) => sum + connection.bytes.length, 0);
  const origin: CaseResult["origin"] = {
    connections: connections.length,
    bytes,
    requests,
    incomplete,
    framingErrors,
    received: connections
      .filter((connection) => connection.bytes.length > 0)
      .map((connection) => escapeBytes(connection.bytes, RECEIVED_SHOWN_CHARS))
      .join(" | "),
  };
  const finalStatus = client.statuses[0];
  const answered = finalStatus !== undefined || client.notHttp !== undefined;
  const result = (verdict: Verdict, reasons: string[]): CaseResult => ({
    verdict,
    reasons,
    client,
    origin,
  });

  if (bytes === 0) {
    if (finalStatus !== undefined && finalStatus >= 400)
      return result("refused", [`${finalStatus}`]);
    if (!answered) return result("no-answer", [client.timedOut ? "timed out" : "closed"]);
    return result("answered-locally", [
      finalStatus === undefined ? "answered without a status line" : `${finalStatus}`,
    ]);
  }

  const reasons: string[] = [];
  if (requests.length > 1) {
    reasons.push(`origin read ${requests.length} requests`);
  }
  const hiddenPath = `${casePath(caseName)}${HIDDEN_SUFFIX}`;
  if (requests.some((request) => request.target.includes(hiddenPath))) {
    reasons.push("origin read the hidden request");
  }
  for (const request of requests) {
    for (const ambiguity of request.ambiguities) {
      reasons.push(requests.length > 1 ? `${request.target}: ${ambiguity}` : ambiguity);
    }
  }
  for (const error of framingErrors) reasons.push(`origin could not frame it: ${error}`);
  for (const partial of incomplete) {
    for (const ambiguity of partial.head?.ambiguities ?? []) {
      reasons.push(`unfinished request: ${ambiguity}`);
    }
    if (!partial.closedByProxy && answered) {
      reasons.push("request left unfinished on an open connection after the client was answered");
    }
  }
  if (reasons.length > 0) return result("forwarded-ambiguous", unique(reasons));

  const [only] = requests;
  if (only !== undefined && requests.length === 1 && incomplete.length === 0) {
    if (only.defects.length > 0) return result("forwarded-unnormalised", unique(only.defects));
    return result("forwarded-one", [answerText(client)]);
  }
  if (requests.length === 0 && !answered) {
    return result("no-answer", [
      incomplete.every((partial) => partial.closedByProxy)
        ? "the proxy forwarded part of a request, waited for the rest, and closed the origin connection when the client left"
        : "the proxy and the origin both wait for the rest of the request",
    ]);
  }
  if (requests.length === 0 && incomplete.every((partial) => partial.closedByProxy)) {
    return result("cut-off", [
      `${answerText(client)}; the origin got ${incomplete[0]?.received ?? 0} bytes of an unfinished request, then the close`,
    ]);
  }
  return result("forwarded-ambiguous", [
    `origin read ${requests.length} request(s) and holds ${incomplete.length} unfinished one(s)`,
  ]);
}

function answerText(client: ClientOutcome): string {
  if (client.statuses.length > 0) return client.statuses.join(", ");
  if (client.notHttp !== undefined) return "answered without a status line";
  return client.timedOut ? "no answer" : "closed without an answer";
}

function unique(list: string[]): string[] {
  return [...new Set(list)];
}
