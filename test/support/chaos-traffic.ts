/**
 * The requests of the fault-under-load suites: a fixed mix of tagged requests for echo
 * backends (pattern bodies of several sizes and framings, bodies that pause halfway, JSON
 * echoes, and POSTs that must never be delivered twice), and the check that each complete
 * body is exactly what the backend sent.
 */
import { createHash } from "node:crypto";
import { REQUEST_TAG_HEADER } from "./backend-process.ts";
import { bytesBodySha256 } from "./pattern-bytes.ts";
import type { LoadRequest } from "./steady-load.ts";

export interface ChaosTrafficOptions {
  /** Wait before the backend answers a POST or a JSON GET (default 0). */
  answerDelayMs?: number;
  /** Pause in the middle of the slow-body GETs, so faults catch them mid-response. */
  midBodyPauseMs: number;
}

/** Bigger than one 64 KiB chunk of the echo backend, so each has a middle. */
const LARGE_BYTES = 150_000;
const SMALL_BYTES = 2_000;

/** One slot of the mix: its kind (the start of its tag), method, path and body. */
interface MixSlot {
  kind: "get" | "slow" | "post";
  make: (tag: string, options: ChaosTrafficOptions) => { path: string; body?: string };
}

const MIX: readonly MixSlot[] = [
  { kind: "get", make: () => ({ path: `/bytes/${SMALL_BYTES}` }) },
  { kind: "get", make: () => ({ path: `/bytes/${LARGE_BYTES}` }) },
  { kind: "get", make: () => ({ path: `/bytes/${LARGE_BYTES}?chunked=1` }) },
  { kind: "slow", make: (_, o) => ({ path: `/bytes/${LARGE_BYTES}?pauseMs=${o.midBodyPauseMs}` }) },
  { kind: "get", make: (_, o) => ({ path: `/echo?delayMs=${o.answerDelayMs ?? 0}` }) },
  { kind: "post", make: (tag, o) => ({ path: postPath(o), body: `order ${tag}\n` }) },
  {
    kind: "slow",
    make: (_, o) => ({ path: `/bytes/${LARGE_BYTES}?chunked=1&pauseMs=${o.midBodyPauseMs}` }),
  },
  { kind: "post", make: (tag, o) => ({ path: postPath(o), body: `order ${tag}\n` }) },
];

function postPath(options: ChaosTrafficOptions): string {
  return `/orders?delayMs=${options.answerDelayMs ?? 0}`;
}

/** The `requestFor` of a steady load: the mix, each request tagged `KIND-INDEX`. */
export function chaosRequestFor(options: ChaosTrafficOptions): (index: number) => LoadRequest {
  return (index) => {
    const slot = MIX[index % MIX.length] as MixSlot;
    const tag = `${slot.kind}-${String(index)}`;
    const { path, body } = slot.make(tag, options);
    return {
      path,
      method: slot.kind === "post" ? "POST" : "GET",
      headers: { [REQUEST_TAG_HEADER]: tag },
      ...(body === undefined ? {} : { body }),
    };
  };
}

/** Whether `tag` names a POST. */
export function isPostTag(tag: string): boolean {
  return tag.startsWith("post-");
}

/** Whether `tag` names a GET whose body pauses halfway (the ones faults catch mid-body). */
export function isSlowBodyTag(tag: string): boolean {
  return tag.startsWith("slow-");
}

const bytesHashes = new Map<number, string>();

/** The `isIntact` of a steady load: each 200 body is exactly what the echo backend sent. */
export function isChaosBodyIntact(request: LoadRequest, status: number, body: Buffer): boolean {
  if (status !== 200) return true;
  const bytesMatch = /^\/bytes\/(\d+)/.exec(request.path);
  if (bytesMatch !== null) {
    const length = Number(bytesMatch[1]);
    if (!bytesHashes.has(length)) bytesHashes.set(length, bytesBodySha256(length));
    return body.length === length && sha256(body) === bytesHashes.get(length);
  }
  const echo = parseEcho(body);
  if (echo === undefined || echo.url !== request.path) return false;
  return echo.bodySha256 === sha256(Buffer.from(request.body ?? ""));
}

function sha256(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function parseEcho(body: Buffer): { url?: unknown; bodySha256?: unknown } | undefined {
  try {
    return JSON.parse(body.toString()) as { url?: unknown; bodySha256?: unknown };
  } catch {
    return undefined;
  }
}
