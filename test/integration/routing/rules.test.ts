/**
 * Route selection and rules through the real proxy (SPEC 3.1-3.2): the first route whose host
 * and path prefix fit is taken, no route is a 404 with our JSON body, and a route's rules
 * (header names any case, values exact or `~regex`, checked in order) win over its split.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEchoBackend, type EchoBackend, type EchoBody } from "../../support/echo-backend.ts";
import { closeDefaultAgent, get, type RequestHeaders } from "../../support/http-client.ts";
import { startTestSwitchyard, type TestSwitchyard } from "../../support/switchyard.ts";

let stable: EchoBackend;
let canary: EchoBackend;

beforeAll(async () => {
  stable = await startEchoBackend({ name: "stable" });
  canary = await startEchoBackend({ name: "canary" });
});

afterAll(async () => {
  await closeDefaultAgent();
  await stable.close();
  await canary.close();
});

function upstreams(): Record<string, unknown> {
  return { stable: { endpoints: [stable.url] }, canary: { endpoints: [canary.url] } };
}

/** The upstream that answered (the echo's name), or the proxy's error code. */
async function whoAnswers(url: string, headers: RequestHeaders = {}): Promise<string> {
  const response = await get(url, { headers });
  if (response.status === 200) return (JSON.parse(response.body) as EchoBody).name;
  const error = (JSON.parse(response.body) as { error?: { code?: string } }).error;
  return `${response.status} ${error?.code ?? "?"}`;
}

describe("rules through switchyard", () => {
  let proxy: TestSwitchyard;

  beforeAll(async () => {
    // The split sends everything to stable, so only a rule can reach the canary; the first
    // rule sends to stable so that order is visible.
    proxy = await startTestSwitchyard({
      upstreams: upstreams(),
      routes: [
        {
          name: "web",
          split: { stable: 100 },
          rules: [
            { match: { cookies: { canary: "never" } }, to: "stable" },
            { match: { headers: { "X-Canary": "always" } }, to: "canary" },
            { match: { headers: { "x-user": "~^beta-[0-9]+$" } }, to: "canary" },
            { match: { cookies: { group: "~^(qa|staff)$" } }, to: "canary" },
            { match: { query: { preview: "1" } }, to: "canary" },
            { match: { query: { variant: "~^v2" } }, to: "canary" },
          ],
        },
      ],
    });
  });

  afterAll(async () => {
    await proxy.close();
  });

  it.each([
    { case: "exact header", path: "/", headers: { "x-canary": "always" }, to: "canary" },
    {
      case: "header name in another case",
      path: "/",
      headers: { "X-CANARY": "always" },
      to: "canary",
    },
    { case: "header value differs", path: "/", headers: { "x-canary": "Always" }, to: "stable" },
    { case: "header value longer", path: "/", headers: { "x-canary": "always-not" }, to: "stable" },
    { case: "regex header", path: "/", headers: { "x-user": "beta-42" }, to: "canary" },
    { case: "regex header, no match", path: "/", headers: { "x-user": "beta-x" }, to: "stable" },
    { case: "regex header, anchored", path: "/", headers: { "x-user": "xbeta-1" }, to: "stable" },
    { case: "regex cookie", path: "/", headers: { cookie: "a=1; group=staff" }, to: "canary" },
    { case: "regex cookie, no match", path: "/", headers: { cookie: "group=qa2" }, to: "stable" },
    { case: "exact query", path: "/?preview=1", headers: {}, to: "canary" },
    { case: "exact query, other value", path: "/?preview=10", headers: {}, to: "stable" },
    { case: "regex query", path: "/items?a=b&variant=v2-beta", headers: {}, to: "canary" },
    { case: "regex query, no match", path: "/?variant=v1", headers: {}, to: "stable" },
    {
      case: "an earlier rule wins",
      path: "/?preview=1",
      headers: { cookie: "canary=never", "x-canary": "always" },
      to: "stable",
    },
    { case: "no rule matches: the split", path: "/", headers: {}, to: "stable" },
  ])("$case -> $to", async ({ path, headers, to }) => {
    // Several times each: a rule is a decision, not a weighted chance.
    for (let i = 0; i < 5; i++) {
      expect(await whoAnswers(`${proxy.url}${path}`, headers)).toBe(to);
    }
  });
});

describe("route selection through switchyard", () => {
  let proxy: TestSwitchyard;

  beforeAll(async () => {
    proxy = await startTestSwitchyard({
      upstreams: upstreams(),
      routes: [
        {
          name: "api-v2",
          match: { hosts: ["api.example.com"], pathPrefix: "/v2" },
          split: { canary: 100 },
        },
        { name: "api", match: { hosts: ["api.example.com"] }, split: { stable: 100 } },
        { name: "static", match: { pathPrefix: "/static/" }, split: { canary: 100 } },
        { name: "shops", match: { hosts: ["*.shop.example.com"] }, split: { stable: 100 } },
      ],
    });
  });

  afterAll(async () => {
    await proxy.close();
  });

  it.each([
    { case: "host and path prefix", host: "api.example.com", path: "/v2/orders", to: "canary" },
    { case: "prefix itself", host: "api.example.com", path: "/v2", to: "canary" },
    {
      case: "host any case, with a port",
      host: "API.Example.COM:8443",
      path: "/v2/x",
      to: "canary",
    },
    { case: "prefix ends on a segment", host: "api.example.com", path: "/v20", to: "stable" },
    { case: "same host, other path", host: "api.example.com", path: "/v1/orders", to: "stable" },
    { case: "first match wins", host: "api.example.com", path: "/static/app.js", to: "stable" },
    { case: "path-only route", host: "www.example.com", path: "/static/app.js", to: "canary" },
    { case: "wildcard host", host: "eu.shop.example.com", path: "/", to: "stable" },
    {
      case: "no route for the host",
      host: "www.example.com",
      path: "/",
      to: "404 SWITCHYARD_NO_ROUTE",
    },
    {
      case: "the wildcard's own domain",
      host: "shop.example.com",
      path: "/",
      to: "404 SWITCHYARD_NO_ROUTE",
    },
  ])("$case: $host$path -> $to", async ({ host, path, to }) => {
    expect(await whoAnswers(`${proxy.url}${path}`, { host })).toBe(to);
  });

  it("passes the path and query on unchanged whichever route took the request", async () => {
    canary.clearReceived();
    const response = await get(`${proxy.url}/v2/orders?id=7&x=%20y`, {
      headers: { host: "api.example.com" },
    });
    expect(response.status).toBe(200);
    expect(canary.received[0]?.url).toBe("/v2/orders?id=7&x=%20y");
  });
});
