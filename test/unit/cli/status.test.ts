import type { WorkerStatus } from "../../../src/workers/worker-status.ts";
import { describe, expect, it } from "vitest";
import type { StatusView } from "../../../src/control/control-api.ts";
import {
  formatRollout,
  formatSplit,
  formatStatus,
  formatTable,
  formatWorkers,
} from "../../../src/cli/status.ts";

const VIEW: StatusView = {
  routes: [
    { name: "web", split: { stable: 99.5, canary: 0.5 }, splitSource: "admin", rollout: null },
  ],
  upstreams: [
    { name: "stable", breaker: "halfOpen", breakerWorkers: 1, endpoints: [] },
    {
      name: "canary",
      breaker: "closed",
      breakerWorkers: 1,
      endpoints: [
        { url: "http://127.0.0.1:9", healthy: false, ejected: true, state: "ready" },
        { url: "http://127.0.0.1:10", healthy: true, ejected: false, state: "maintenance" },
      ],
    },
  ],
  config: {
    file: "/etc/switchyard.yaml",
    hash: "0123456789abcdef0123",
    loadedAt: "2025-01-01T00:00:00.000Z",
    lastError: { message: "bad split", line: 3, column: 7, problems: [] },
    restartRequired: [],
  },
  ready: false,
  draining: true,
  fleet: null,
  workers: [
    { id: 1, pid: 1234, startedAt: "2024-12-31T23:00:00.000Z", restarts: 0, state: "serving" },
  ],
};

describe("formatStatus", () => {
  it("prints routes, upstreams and config", () => {
    expect(formatStatus(VIEW)).toEqual([
      "ROUTE  SPLIT                      SOURCE  ROLLOUT",
      "web    stable 99.5%, canary 0.5%  admin   none",
      "",
      "UPSTREAM  BREAKER   #  ENDPOINT             STATE        HEALTH     EJECTED",
      "stable    halfOpen  -  -                    -            -          -",
      "canary    closed    0  http://127.0.0.1:9   ready        unhealthy  ejected",
      "                    1  http://127.0.0.1:10  maintenance  healthy    -",
      "",
      "config      /etc/switchyard.yaml",
      "hash        0123456789ab",
      "loaded at   2025-01-01T00:00:00.000Z",
      "last error  bad split (line 3, column 7)",
      "state       not ready, draining",
      "workers     1 (pid 1234, started 2024-12-31T23:00:00.000Z)",
    ]);
  });

  it("names the keys that take effect on restart, when there are some", () => {
    const view: StatusView = {
      ...VIEW,
      config: {
        ...VIEW.config,
        lastError: null,
        restartRequired: ["listen.proxy.port", "server.maxHeaderSize"],
      },
    };
    expect(formatStatus(view).slice(-7)).toEqual([
      "config            /etc/switchyard.yaml",
      "hash              0123456789ab",
      "loaded at         2025-01-01T00:00:00.000Z",
      "last error        none",
      "restart required  listen.proxy.port, server.maxHeaderSize",
      "state             not ready, draining",
      "workers           1 (pid 1234, started 2024-12-31T23:00:00.000Z)",
    ]);
  });

  it("shows the fleet: who leads, Redis, each member and whose config differs", () => {
    const view: StatusView = {
      ...VIEW,
      fleet: {
        name: "shop",
        replica: "r1",
        connected: false,
        leader: "r2",
        isLeader: false,
        stateVersion: 12,
        divergent: [{ what: "weights of route web", actor: "ops", at: "2025-01-01T00:00:03.000Z" }],
        members: [
          {
            replica: "r1",
            seenAt: "2025-01-01T00:00:01.000Z",
            configHash: "aaaaaaaaaaaaaaaa",
            configDiffers: true,
            stateVersion: 12,
            joinedAt: "2025-01-01T00:00:00.000Z",
          },
          {
            replica: "r2",
            seenAt: "2025-01-01T00:00:02.000Z",
            configHash: "bbbbbbbbbbbbbbbb",
            configDiffers: false,
            stateVersion: 11,
            joinedAt: "2025-01-01T00:00:00.000Z",
          },
        ],
      },
    };
    expect(formatStatus(view).slice(-10)).toEqual([
      "fleet          shop",
      "replica        r1",
      "leader         r2",
      "redis          unreachable (serving the last state known)",
      "state version  12",
      "local writes   weights of route web (ops, 2025-01-01T00:00:03.000Z); dropped when Redis is back",
      "",
      "MEMBER     SEEN AT                   CONFIG        CONFIG CHECK               STATE VERSION",
      "r1 (this)  2025-01-01T00:00:01.000Z  aaaaaaaaaaaa  differs from the leader's  12",
      "r2         2025-01-01T00:00:02.000Z  bbbbbbbbbbbb  -                          11",
    ]);
    expect(formatStatus(VIEW).some((line) => line.startsWith("fleet"))).toBe(false);
  });

  it("reads an answer without restartRequired (an older server) as none", () => {
    const { restartRequired: _none, ...olderConfig } = VIEW.config;
    const older = { ...VIEW, config: olderConfig } as StatusView;
    expect(formatStatus(older)).toEqual(formatStatus(VIEW));
  });

  it("reads an answer without workers (an older server) as no workers line", () => {
    const { workers: _none, ...older } = VIEW;
    const lines = formatStatus(older as StatusView);
    expect(lines.at(-1)).toBe("state       not ready, draining");
    expect(lines.some((line) => line.startsWith("workers"))).toBe(false);
  });
});

describe("formatWorkers", () => {
  const worker = (
    id: number,
    pid: number,
    restarts: number,
    state: WorkerStatus["state"] = "serving",
  ): WorkerStatus => ({
    id,
    pid,
    startedAt: "2025-01-01T00:00:00.000Z",
    restarts,
    state,
  });

  it("names the one process's pid and start, and restarts when there were some", () => {
    expect(formatWorkers([worker(1, 1234, 0)])).toBe(
      "1 (pid 1234, started 2025-01-01T00:00:00.000Z)",
    );
    expect(formatWorkers([worker(1, 1234, 2)])).toBe(
      "1 (pid 1234, started 2025-01-01T00:00:00.000Z, 2 restarts)",
    );
  });

  it("lists several workers' pids and their restarts summed", () => {
    expect(formatWorkers([worker(1, 11, 0), worker(2, 12, 1), worker(3, 13, 0)])).toBe(
      "3 (pids 11, 12, 13, 1 restart)",
    );
  });

  it("names the workers that are not serving", () => {
    expect(formatWorkers([worker(1, 11, 0), worker(2, 0, 4, "restarting")])).toBe(
      "2 (pids 11, 0, 4 restarts; worker 2 restarting)",
    );
  });
});

describe("formatRollout", () => {
  it("names the phase, the 1-based step and its percent, and failed checks", () => {
    expect(
      formatRollout({
        phase: "waitingApproval",
        target: "canary",
        baseline: "stable",
        stepIndex: 3,
        stepPercent: 50,
        failures: 1,
        lastDecision: null,
      }),
    ).toBe("waitingApproval, step 4 at 50% (canary over stable), 1 failed checks");
    expect(formatRollout(null)).toBe("none");
  });
});

describe("formatSplit and formatTable", () => {
  it("joins a split and aligns columns", () => {
    expect(formatSplit({})).toBe("-");
    expect(formatTable(["A", "BB"], [["xxx", "y"]])).toEqual(["A    BB", "xxx  y"]);
  });
});
