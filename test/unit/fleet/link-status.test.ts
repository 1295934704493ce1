import { describe, expect, it } from "vitest";
import { LinkStatus } from "../../../src/fleet/link-status.ts";

const REFUSED = "connect ECONNREFUSED 127.0.0.1:6379";
const WRONGPASS = "WRONGPASS invalid username-password pair";
const QUIET_MS = 60_000;

describe("LinkStatus", () => {
  it("reports up once, when the connections are first ready", () => {
    const status = new LinkStatus(QUIET_MS);
    expect(status.isUp).toBe(false);
    expect(status.observe(false, undefined, 0)).toBeUndefined();
    expect(status.observe(true, undefined, 1)).toEqual({ kind: "up", failuresWhileDown: 0 });
    expect(status.isUp).toBe(true);
    expect(status.observe(true, undefined, 2)).toBeUndefined();
  });

  it("reports a start without Redis once, however many attempts fail", () => {
    const status = new LinkStatus(QUIET_MS);
    expect(status.observe(false, REFUSED, 0)).toEqual({ kind: "unreachable", reason: REFUSED });
    for (let t = 1; t <= 100; t++) expect(status.observe(false, REFUSED, t * 1000)).toBeUndefined();
    expect(status.isUp).toBe(false);
    expect(status.observe(true, undefined, 200_000)).toEqual({
      kind: "up",
      failuresWhileDown: 101,
    });
  });

  it("reports down once when an up link loses a connection, then up again", () => {
    const status = new LinkStatus(QUIET_MS);
    status.observe(true, undefined, 0);
    expect(status.observe(false, "Socket closed unexpectedly", 10)).toEqual({
      kind: "down",
      reason: "Socket closed unexpectedly",
    });
    expect(status.isUp).toBe(false);
    // The second connection's error, the reconnecting events, the failed attempts.
    expect(status.observe(false, "Socket closed unexpectedly", 11)).toBeUndefined();
    expect(status.observe(false, undefined, 12)).toBeUndefined();
    expect(status.observe(false, REFUSED, 13)).toBeUndefined();
    expect(status.observe(true, undefined, 14)).toEqual({ kind: "up", failuresWhileDown: 3 });
  });

  it("says a connection closed when the drop came without an error", () => {
    const status = new LinkStatus(QUIET_MS);
    status.observe(true, undefined, 0);
    expect(status.observe(false, undefined, 1)).toEqual({
      kind: "down",
      reason: "connection closed",
    });
  });

  it("reports a new reason while down, at most once per quiet interval", () => {
    const status = new LinkStatus(QUIET_MS);
    status.observe(false, REFUSED, 0);
    expect(status.observe(false, WRONGPASS, 1000)).toBeUndefined();
    expect(status.observe(false, WRONGPASS, QUIET_MS)).toEqual({
      kind: "stillDown",
      reason: WRONGPASS,
      failuresWhileDown: 3,
    });
    expect(status.observe(false, WRONGPASS, 10 * QUIET_MS)).toBeUndefined();
    expect(status.observe(false, REFUSED, 10 * QUIET_MS)).toEqual({
      kind: "stillDown",
      reason: REFUSED,
      failuresWhileDown: 5,
    });
    // Flapping between two reasons: one line per interval at most.
    expect(status.observe(false, WRONGPASS, 10 * QUIET_MS + 1)).toBeUndefined();
  });
});
