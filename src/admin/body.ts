/**
 * Request bodies of the admin API: JSON only (content-type.ts), at most 64 KiB. Reading stops
 * at the limit; what is left of an oversized body is never read, and the connection is closed
 * after the answer.
 */
import type { IncomingMessage } from "node:http";
import { CODE } from "../errors/error-codes.ts";
import { errorAnswer, type JsonAnswer } from "./answer.ts";

export const MAX_BODY_BYTES = 64 * 1024;

export type BodyResult =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly answer: JsonAnswer; readonly closeConnection: boolean };

/** Whether the request announces a body (a non-zero Content-Length, or Transfer-Encoding). */
export function hasBody(req: IncomingMessage): boolean {
  if (req.headers["transfer-encoding"] !== undefined) return true;
  const length = req.headers["content-length"];
  return length !== undefined && length !== "0";
}

function tooLarge(limitBytes: number): BodyResult {
  return {
    ok: false,
    answer: errorAnswer(CODE.SWITCHYARD_BODY_TOO_LARGE, {
      message: `The request body is larger than ${limitBytes} bytes (64 KiB).`,
    }),
    closeConnection: true,
  };
}

/** Reads and parses the body; an empty body is refused like any other invalid JSON. */
export function readJsonBody(
  req: IncomingMessage,
  limitBytes: number = MAX_BODY_BYTES,
): Promise<BodyResult> {
  const declared = Number(req.headers["content-length"] ?? NaN);
  if (declared > limitBytes) return Promise.resolve(tooLarge(limitBytes));
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let receivedBytes = 0;
    const finish = (result: BodyResult): void => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      receivedBytes += chunk.length;
      if (receivedBytes > limitBytes) {
        req.pause();
        finish(tooLarge(limitBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      finish(parseJson(Buffer.concat(chunks)));
    };
    const onError = (): void => {
      finish({
        ok: false,
        answer: errorAnswer(CODE.SWITCHYARD_INVALID_BODY, {
          message: "The request body could not be read.",
        }),
        closeConnection: true,
      });
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
  });
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });

function parseJson(bytes: Buffer): BodyResult {
  const invalid = (message: string): BodyResult => ({
    ok: false,
    answer: errorAnswer(CODE.SWITCHYARD_INVALID_JSON, { message }),
    closeConnection: false,
  });
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    return invalid("The request body is not valid UTF-8.");
  }
  if (text.trim() === "") return invalid("The request body is empty; send a JSON document.");
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    const detail = error instanceof SyntaxError ? `: ${error.message}` : "";
    return invalid(`The request body is not valid JSON${detail}.`);
  }
}
