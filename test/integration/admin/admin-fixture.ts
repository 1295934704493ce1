/** Starts the real admin server on 127.0.0.1:0 over a FakeControl, with captured logs. */
import { AdminServer } from "../../../src/admin/admin-server.ts";
import type { AdminConfig } from "../../../src/admin/auth.ts";
import { captureLogs, type LogEntry } from "../../support/captured-logs.ts";
import { FakeControl } from "./fake-control.ts";

export const READ_TOKEN = "read-token-0123456789abcdef";
export const WRITE_TOKEN = "write-token-0123456789abcdef";

export const TOKENS: AdminConfig["tokens"] = [
  { name: "dashboards", scope: "read", token: READ_TOKEN },
  { name: "ops", scope: "write", token: WRITE_TOKEN },
];

export const METRICS_TEXT = "# TYPE switchyard_up gauge\nswitchyard_up 1\n";
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export type LogLine = LogEntry;

export interface RunningAdmin {
  readonly admin: AdminServer;
  readonly control: FakeControl;
  readonly url: string;
  readonly port: number;
  readonly logs: LogLine[];
  close(): Promise<void>;
}

export async function startAdmin(
  adminConfig: Partial<AdminConfig> = {},
  control = new FakeControl(),
): Promise<RunningAdmin> {
  const { logger, entries: logs } = captureLogs("debug");
  const admin = new AdminServer({
    control,
    adminConfig: { tokens: [], publicMetrics: true, allowedHosts: [], ...adminConfig },
    metrics: { contentType: METRICS_CONTENT_TYPE, render: () => Promise.resolve(METRICS_TEXT) },
    logger,
  });
  const { port } = await admin.listen("127.0.0.1", 0);
  return {
    admin,
    control,
    url: `http://127.0.0.1:${port}`,
    port,
    logs,
    close: () => admin.close(),
  };
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}
