import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { findRequestProblem } from "../../../src/proxy/request-validation.ts";

/** The parts of a parsed request the validation reads. */
function request(rawHeaders: string[], httpVersionMinor = 1): IncomingMessage {
  return { rawHeaders, httpVersionMajor: 1, httpVersionMinor } as unknown as IncomingMessage;
}

describe("findRequestProblem", () => {
  it.each([
    { name: "a plain GET", headers: ["Host", "a.test"] },
    { name: "a chunked POST", headers: ["Host", "a.test", "Transfer-Encoding", "chunked"] },
    {
      name: "chunked in another case",
      headers: ["host", "a.test", "transfer-encoding", "Chunked"],
    },
    { name: "Host with a port", headers: ["Host", "a.test:8080"] },
    { name: "an IPv6 Host", headers: ["Host", "[::1]:8080"] },
    { name: "Content-Length", headers: ["Host", "a.test", "Content-Length", "5"] },
  ])("accepts $name", ({ headers }) => {
    expect(findRequestProblem(request(headers))).toBeUndefined();
  });

  it("accepts HTTP/1.0 without Host", () => {
    expect(findRequestProblem(request(["X-Any", "1"], 0))).toBeUndefined();
  });

  it.each([
    { name: "two Hosts", headers: ["Host", "a.test", "host", "b.test"], problem: /more than one/ },
    { name: "no Host on HTTP/1.1", headers: ["X-Any", "1"], problem: /missing Host/ },
    { name: "a Host with a space", headers: ["Host", "a test"], problem: /invalid Host/ },
    { name: "a Host with a path", headers: ["Host", "a.test/x"], problem: /invalid Host/ },
    {
      name: "Transfer-Encoding gzip, chunked",
      headers: ["Host", "a.test", "Transfer-Encoding", "gzip, chunked"],
      problem: /single chunked/,
    },
    {
      name: "Transfer-Encoding split over two lines",
      headers: ["Host", "a.test", "Transfer-Encoding", "chunked", "Transfer-Encoding", "chunked"],
      problem: /single chunked/,
    },
    {
      name: "Transfer_Encoding",
      headers: ["Host", "a.test", "Transfer_Encoding", "chunked"],
      problem: /fold/,
    },
    {
      name: "Content_Length",
      headers: ["Host", "a.test", "Content_Length", "5"],
      problem: /fold/,
    },
  ])("refuses $name", ({ headers, problem }) => {
    expect(findRequestProblem(request(headers))).toMatch(problem);
  });

  it("refuses Transfer-Encoding on HTTP/1.0", () => {
    const problem = findRequestProblem(request(["Transfer-Encoding", "chunked"], 0));
    expect(problem).toMatch(/HTTP\/1\.0/);
  });
});
