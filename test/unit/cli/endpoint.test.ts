/** `switchyard endpoint`: what it prints for a change, and the usage errors it stops at itself. */
import { describe, expect, it } from "vitest";
import { formatEndpointChange, runEndpoint } from "../../../src/cli/endpoint.ts";
import type { EndpointView } from "../../../src/control/control-api.ts";

const VIEW: EndpointView = {
  upstream: "stable",
  index: 1,
  url: "http://10.0.0.12:8080",
  before: "ready",
  state: "drain",
  healthy: true,
  ejected: false,
};

describe("formatEndpointChange", () => {
  it("names the endpoint, the change and what the new state means", () => {
    expect(formatEndpointChange(VIEW)).toEqual([
      "stable endpoint 1 (http://10.0.0.12:8080): ready -> drain",
      "drain: takes no new requests; requests in flight finish; still health-checked (health: healthy)",
    ]);
  });

  it("says when nothing changed", () => {
    const view: EndpointView = {
      ...VIEW,
      before: "maintenance",
      state: "maintenance",
      healthy: false,
      ejected: true,
    };
    expect(formatEndpointChange(view)).toEqual([
      "stable endpoint 1 (http://10.0.0.12:8080): already maintenance",
      "maintenance: takes no requests and is not health-checked (health: unhealthy, ejected)",
    ]);
  });
});

describe("runEndpoint usage errors", () => {
  it.each([
    ["x", "drain", /"x" is not an endpoint index \(0, 1, \.\.\./],
    ["-1", "drain", /"-1" is not an endpoint index/],
    ["0", "down", /"down" is not a state \(one of ready, drain, maintenance\)/],
  ])("exits 2 for index %j and state %j, calling nothing", async (index, state, message) => {
    const stderr: string[] = [];
    const code = await runEndpoint(
      "stable",
      index,
      state,
      // Nothing listens there: a call would fail with exit code 1, not 2.
      { admin: "http://127.0.0.1:9" },
      { stdout: () => undefined, stderr: (line) => stderr.push(line) },
      {},
    );
    expect(code).toBe(2);
    expect(stderr).toHaveLength(1);
    expect(stderr[0]).toMatch(message);
    expect(stderr[0]).toMatch(/^switchyard: .*; see 'switchyard endpoint --help'$/);
  });
});
