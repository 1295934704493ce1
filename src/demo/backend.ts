/**
 * The demo backend: a small HTTP service standing in for one version of an application, with
 * a tunable error rate and latency so that a rollout has something to react to. Used by
 * `npm run demo` and the benchmarks.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface DemoBackendOptions {
  /** Reported in every answer, e.g. "v2". */
  name: string;
  /** Reported in every answer, e.g. "2.0.0". */
  version: string;
  /** Default 0: a free port. */
  port?: number;
  /** Default "127.0.0.1". */
  host?: string;
  /** Share of requests answered 500, 0..1 (default 0). `/health` never fails. */
  errorRate?: number;
  /** Added before every answer except `/health` (default 0). */
  latencyMs?: number;
  /** Up to this much more latency, uniformly drawn (default 0). */
  latencyJitterMs?: number;
  /**
   * Source of randomness in [0, 1) (default Math.random): drawn once per request for the
   * failure (below `errorRate` fails), then once more for the jitter when there is some.
   */
  random?: () => number;
}

export interface DemoBackendStats {
  /** Requests answered, `/health` excluded. */
  requests: number;
  /** Of which answered 500 on purpose. */
  errors: number;
}

export interface DemoBackend {
  readonly url: string;
  readonly port: number;
  stats(): DemoBackendStats;
  setErrorRate(errorRate: number): void;
  setLatencyMs(latencyMs: number): void;
  /** Stops listening, drops open connections and pending answers; resolves once closed. */
  close(): Promise<void>;
}

/** The JSON body of every answer. */
export interface DemoAnswer {
  version: string;
  name: string;
  path: string;
  /** Present on injected failures only. */
  error?: string;
}

/** Starts a demo backend and resolves once it listens. */
export async function startDemoBackend(options: DemoBackendOptions): Promise<DemoBackend> {
  const backend = new DemoBackendServer(options);
  await backend.listen(options.port ?? 0, options.host ?? "127.0.0.1");
  return backend;
}

function checkErrorRate(errorRate: number): number {
  if (!(errorRate >= 0 && errorRate <= 1)) {
    throw new RangeError(`errorRate must be between 0 and 1, got ${errorRate}`);
  }
  return errorRate;
}

function checkLatencyMs(name: string, latencyMs: number): number {
  if (!(latencyMs >= 0 && Number.isFinite(latencyMs))) {
    throw new RangeError(`${name} must be a finite number >= 0, got ${latencyMs}`);
  }
  return latencyMs;
}

class DemoBackendServer implements DemoBackend {
  url = "";
  port = 0;
  readonly #name: string;
  readonly #version: string;
  readonly #latencyJitterMs: number;
  readonly #random: () => number;
  readonly #server: Server;
  readonly #pendingAnswers = new Set<NodeJS.Timeout>();
  #errorRate: number;
  #latencyMs: number;
  #requests = 0;
  #errors = 0;
  #closing: Promise<void> | undefined;

  constructor(options: DemoBackendOptions) {
    this.#name = options.name;
    this.#version = options.version;
    this.#errorRate = checkErrorRate(options.errorRate ?? 0);
    this.#latencyMs = checkLatencyMs("latencyMs", options.latencyMs ?? 0);
    this.#latencyJitterMs = checkLatencyMs("latencyJitterMs", options.latencyJitterMs ?? 0);
    this.#random = options.random ?? Math.random;
    this.#server = createServer((req, res) => {
      this.#onRequest(req, res);
    });
  }

  listen(port: number, host: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(port, host, () => {
        this.#server.off("error", reject);
        this.port = (this.#server.address() as AddressInfo).port;
        const urlHost = host.includes(":") ? `[${host}]` : host;
        this.url = `http://${urlHost}:${this.port}`;
        resolve();
      });
    });
  }

  stats(): DemoBackendStats {
    return { requests: this.#requests, errors: this.#errors };
  }

  setErrorRate(errorRate: number): void {
    this.#errorRate = checkErrorRate(errorRate);
  }

  setLatencyMs(latencyMs: number): void {
    this.#latencyMs = checkLatencyMs("latencyMs", latencyMs);
  }

  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      for (const timer of this.#pendingAnswers) clearTimeout(timer);
      this.#pendingAnswers.clear();
      this.#server.close(() => {
        resolve();
      });
      this.#server.closeAllConnections();
    });
    return this.#closing;
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    // A client that goes away is routine for a backend; nothing to report.
    req.on("error", () => undefined);
    res.on("error", () => undefined);
    // Read and discard any request body so the connection can be reused.
    req.resume();
    const path = (req.url ?? "/").split("?", 1)[0] ?? "/";
    if (path === "/health") {
      this.#send(res, 200, { version: this.#version, name: this.#name, path });
      return;
    }
    // One draw for the failure, a second only when there is jitter to draw.
    const isFailure = this.#random() < this.#errorRate;
    const jitterMs = this.#latencyJitterMs > 0 ? this.#latencyJitterMs * this.#random() : 0;
    const delayMs = this.#latencyMs + jitterMs;
    const answer = (): void => {
      this.#requests++;
      if (isFailure) this.#errors++;
      const body: DemoAnswer = { version: this.#version, name: this.#name, path };
      if (isFailure) body.error = "injected failure";
      this.#send(res, isFailure ? 500 : 200, body);
    };
    if (delayMs <= 0) {
      answer();
      return;
    }
    const timer = setTimeout(() => {
      this.#pendingAnswers.delete(timer);
      answer();
    }, delayMs);
    this.#pendingAnswers.add(timer);
  }

  #send(res: ServerResponse, status: number, body: DemoAnswer): void {
    if (res.destroyed) return;
    const payload = Buffer.from(JSON.stringify(body));
    res.writeHead(status, {
      "content-type": "application/json",
      "content-length": payload.length,
    });
    res.end(payload);
  }
}
