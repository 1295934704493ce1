import { describe, expect, it } from "vitest";
import { isLookAlikeFramingName } from "../../../src/proxy/framing-names.ts";

describe("isLookAlikeFramingName", () => {
  it.each([
    "Transfer_Encoding",
    "transfer_encoding",
    "TRANSFER_ENCODING",
    "Transfer.Encoding",
    "TransferEncoding",
    "Transfer--Encoding",
    "-Transfer-Encoding",
    "Transfer-Encoding_",
    "Transfer~Encoding",
    "Content_Length",
    "CONTENT_LENGTH",
    "Content.Length",
    "ContentLength",
    "content-length!",
  ])("%s folds into a framing header", (name) => {
    expect(isLookAlikeFramingName(name)).toBe(true);
  });

  it.each([
    "Transfer-Encoding",
    "transfer-encoding",
    "TRANSFER-ENCODING",
    "Content-Length",
    "content-length",
    "Content-Type",
    "Content_Type",
    "Cache-Control",
    "Connection",
    "X-Transfer-Encoding",
    "Transfer-Encodings",
    "Content-Length-Range",
    "te",
    "",
  ])("%s does not", (name) => {
    expect(isLookAlikeFramingName(name)).toBe(false);
  });
});
