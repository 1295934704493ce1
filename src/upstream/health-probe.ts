/**
 * One HTTP health probe: GET the check path on an endpoint and judge the status. Each endpoint
 * gets its own single-connection undici Client, so probes never queue behind, or take a socket
 * from, the data-path pool. Every probe asks for `Connection: close`: a fresh connection tests
 * that the endpoint still accepts them, and no probe trips over an idle socket the upstream has
 * just closed. The deadline is the caller's AbortSignal (undici's own timers are too coarse for
 * sub-second check timeouts).
 */
import { describeRequestError } from "../net/request-error-text.ts";
import { Client } from "undici";

export interface StatusRange {
  readonly from: number;
  readonly to: number;
}

/** What a probe needs from the health-check config. */
export interface ProbeRequest {
  readonly path: string;
  readonly expectStatus: readonly StatusRange[];
}

export type ProbeResult = { readonly isPass: true } | { readonly isPass: false; reason: string };

export interface HealthProber {
  /** Resolves with the verdict; may reject (the caller treats that as a failure). */
  probe(request: ProbeRequest, signal: AbortSignal): Promise<ProbeResult>;
  close(): Promise<void>;
}

export const PROBE_PASS: ProbeResult = Object.freeze({ isPass: true });

export const HEALTH_CHECK_USER_AGENT = "switchyard-health-check";

const MAX_DRAINED_BODY_BYTES = 64 * 1024;

export function isExpectedStatus(status: number, ranges: readonly StatusRange[]): boolean {
  for (const range of ranges) if (status >= range.from && status <= range.to) return true;
  return false;
}

export class HttpProber implements HealthProber {
  readonly #client: Client;

  /** `connectTimeoutMs`: the check timeout, so a blackholed endpoint frees the client in time. */
  constructor(origin: string, connectTimeoutMs: number) {
    this.#client = new Client(origin, {
      allowH2: false,
      pipelining: 1,
      connectTimeout: Math.max(1, connectTimeoutMs),
    });
  }

  async probe(request: ProbeRequest, signal: AbortSignal): Promise<ProbeResult> {
    const { statusCode, body } = await this.#client.request({
      method: "GET",
      path: request.path,
      headers: { "user-agent": HEALTH_CHECK_USER_AGENT, connection: "close" },
      signal,
    });
    // Always drain or destroy the body, or the connection leaks; a body that stalls past the
    // deadline is aborted with it, one larger than the limit is cut off.
    await body.dump({ limit: MAX_DRAINED_BODY_BYTES, signal });
    if (isExpectedStatus(statusCode, request.expectStatus)) return PROBE_PASS;
    return { isPass: false, reason: `unexpected status ${statusCode}` };
  }

  async close(): Promise<void> {
    await this.#client.destroy();
  }
}

/** A short, stable reason for a probe that threw: shown in logs and status views. */
export function describeProbeError(error: unknown): string {
  return describeRequestError(error, "probe failed");
}
