import { describe, expect, it } from "vitest";
import {
  decodeDocument,
  emptyDocumentBody,
  encodeDocumentBody,
  type FleetDocumentBody,
} from "../../../src/fleet/fleet-document.ts";
import {
  withEndpointState,
  withOverride,
  withRollout,
} from "../../../src/fleet/fleet-document-edits.ts";
import { decodeEvent, encodeEvent } from "../../../src/fleet/fleet-event.ts";

const AT = "2025-01-02T03:04:05.000Z";

const override = {
  weights: { stable: 90, canary: 10 },
  source: "admin" as const,
  setBy: "ops",
  setAt: AT,
  fileSplit: { stable: 100 },
};

/** What the write script stores: the version spliced in front of the body. */
function stored(body: FleetDocumentBody, version: number): string {
  return `{"version":${String(version)},${encodeDocumentBody(body).slice(1)}`;
}

describe("the fleet document codec", () => {
  it("reads back what was written, with the version the script spliced in", () => {
    let body = withOverride(emptyDocumentBody(), "web", override);
    body = withRollout(body, "web", { phase: "progressing", stepIndex: 1 });
    body = withEndpointState(body, "canary", "http://10.0.0.1:80", {
      state: "drain",
      setBy: "ops",
      setAt: AT,
    });
    const decoded = decodeDocument(stored(body, 7));
    expect(decoded).toEqual({ ok: true, document: { version: 7, ...body } });
  });

  it("never sends a version: the script assigns it", () => {
    const body = { ...emptyDocumentBody(), version: 3 };
    expect(JSON.parse(encodeDocumentBody(body))).not.toHaveProperty("version");
  });

  it("reports a corrupt document instead of throwing", () => {
    for (const text of ["{", "[]", '{"version":1}', stored(emptyDocumentBody(), 0)]) {
      const decoded = decodeDocument(text);
      expect(decoded.ok).toBe(false);
    }
    const badWeights = stored(
      withOverride(emptyDocumentBody(), "web", { ...override, weights: { stable: 140 } }),
      2,
    );
    const decoded = decodeDocument(badWeights);
    expect(decoded.ok ? "" : decoded.reason).toContain("overrides.web.weights.stable");
  });
});

describe("document edits", () => {
  it("leave the body given untouched and drop entries with null", () => {
    const before = withOverride(emptyDocumentBody(), "web", override);
    const after = withOverride(before, "web", null);
    expect(before.overrides).toHaveProperty("web");
    expect(after.overrides).toEqual({});
    expect(
      withRollout(withRollout(before, "web", { phase: "paused" }), "web", null).rollouts,
    ).toEqual({});
  });

  it("keep no ready endpoint and no upstream without endpoint states", () => {
    const drained = withEndpointState(emptyDocumentBody(), "u", "http://a", {
      state: "maintenance",
      setBy: "ops",
      setAt: AT,
    });
    expect(Object.keys(drained.endpointStates)).toEqual(["u"]);
    const ready = withEndpointState(drained, "u", "http://a", {
      state: "ready",
      setBy: "ops",
      setAt: AT,
    });
    expect(ready.endpointStates).toEqual({});
  });
});

describe("the fleet event codec", () => {
  it("sends type and time first, keeps fields, and never lets a field shadow the envelope", () => {
    const text = encodeEvent(
      { type: "weights.set", fields: { route: "web", id: 99, version: 5 } },
      0,
    );
    expect(JSON.parse(text)).toEqual({
      type: "weights.set",
      at: "1970-01-01T00:00:00.000Z",
      route: "web",
    });
    const spliced = `{"id":4,"version":2,${text.slice(1)}`;
    expect(decodeEvent(spliced)).toMatchObject({
      id: 4,
      version: 2,
      type: "weights.set",
      route: "web",
    });
  });

  it("skips what is not an event", () => {
    for (const text of [
      "nope",
      "[]",
      '{"id":1,"type":"x","at":"t"}',
      '{"id":0,"version":1,"type":"x","at":"t"}',
    ]) {
      expect(decodeEvent(text)).toBeUndefined();
    }
  });
});
