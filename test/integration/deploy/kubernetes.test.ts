/**
 * deploy/kubernetes/: every manifest parses, the ConfigMap's config passes the config schema
 * and `switchyard check`, and the Deployment agrees with that config and with the image: probe
 * ports and paths, the Secret that holds the admin token, the directory the image reads its
 * config from, and a termination grace period that outlasts preStop plus the drain.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { isLoopbackHost } from "../../../src/config/admin-exposure.ts";
import { formatProblem, loadConfigText } from "../../../src/config/load.ts";
import type { Config } from "../../../src/config/schema.ts";
import { runCli } from "../cli/child-process.ts";

const K8S_DIR = fileURLToPath(new URL("../../../deploy/kubernetes/", import.meta.url));
const DOCKERFILE = fileURLToPath(new URL("../../../Dockerfile", import.meta.url));
const TOKEN = "token-from-the-kubernetes-secret";
const TOKEN_ENV = { SWITCHYARD_ADMIN_TOKEN: TOKEN };
/** Time between the end of the drain and the kubelet's SIGKILL, for a slow node. */
const GRACE_MARGIN_S = 5;

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
}
interface HttpProbe {
  httpGet?: { path: string; port: string | number };
}
interface Container {
  command?: string[];
  args?: string[];
  ports?: { name?: string; containerPort: number }[];
  env?: { name: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  readinessProbe?: HttpProbe;
  livenessProbe?: HttpProbe;
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  securityContext?: { allowPrivilegeEscalation?: boolean; readOnlyRootFilesystem?: boolean };
  volumeMounts?: { name: string; mountPath: string; subPath?: string }[];
}
interface Deployment extends Manifest {
  spec: {
    selector: { matchLabels: Record<string, string> };
    template: {
      metadata: { labels: Record<string, string> };
      spec: {
        terminationGracePeriodSeconds?: number;
        securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
        containers: Container[];
        volumes?: { name: string; configMap?: { name: string } }[];
      };
    };
  };
}
interface Service extends Manifest {
  spec: { selector: Record<string, string>; ports: { targetPort: string | number }[] };
}
interface ConfigMap extends Manifest {
  data: Record<string, string>;
}

let manifests: Manifest[];
let files: string[];
let deployment: Deployment;
let container: Container;
let configMap: ConfigMap;
let service: Service;
let config: Config;
/** The path the image's command reads its config from. */
let imageConfigPath: string;

function only(kind: string): Manifest {
  const found = manifests.filter((m) => m.kind === kind);
  expect(found, `one ${kind}`).toHaveLength(1);
  return found[0]!;
}

function containerPort(name: string | number): number | undefined {
  if (typeof name === "number") return name;
  return container.ports?.find((port) => port.name === name)?.containerPort;
}

beforeAll(async () => {
  files = (await readdir(K8S_DIR)).filter((f) => f.endsWith(".yaml")).sort();
  manifests = [];
  for (const file of files.filter((f) => f !== "kustomization.yaml")) {
    const docs = parseAllDocuments(await readFile(join(K8S_DIR, file), "utf8"));
    for (const doc of Array.isArray(docs) ? docs : [docs]) {
      expect(doc.errors, file).toEqual([]);
      manifests.push(doc.toJS() as Manifest);
    }
  }
  deployment = only("Deployment") as Deployment;
  expect(deployment.spec.template.spec.containers).toHaveLength(1);
  container = deployment.spec.template.spec.containers[0]!;
  configMap = only("ConfigMap") as ConfigMap;
  service = only("Service") as Service;
  const text = configMap.data["switchyard.yaml"] ?? "";
  const loaded = loadConfigText(text, "configmap.yaml", TOKEN_ENV);
  if (!loaded.ok) throw new Error(loaded.problems.map(formatProblem).join("\n"));
  config = loaded.config;
  const cmd = /^CMD (\[.*\])$/m.exec(await readFile(DOCKERFILE, "utf8"));
  const command = JSON.parse(cmd?.[1] ?? "[]") as string[];
  imageConfigPath = command[command.indexOf("--config") + 1] ?? "";
});

describe("deploy/kubernetes", () => {
  it("holds valid manifests, each listed in the kustomization", async () => {
    for (const manifest of manifests) {
      expect(manifest.apiVersion).toMatch(/^[a-z.]*\/?v1$/);
      expect(manifest.metadata.name).toMatch(/^[a-z0-9-]+$/);
    }
    const kustomization = parse(await readFile(join(K8S_DIR, "kustomization.yaml"), "utf8")) as {
      resources: string[];
    };
    expect([...kustomization.resources].sort()).toEqual(
      files.filter((f) => f !== "kustomization.yaml"),
    );
  });

  it("has a ConfigMap whose config passes `switchyard check`", async () => {
    const dir = await mkdtemp(join(tmpdir(), "switchyard-k8s-"));
    try {
      const file = join(dir, "switchyard.yaml");
      await writeFile(file, configMap.data["switchyard.yaml"] ?? "");
      const exit = await runCli(["check", file], { env: TOKEN_ENV });
      expect(exit.stderr).toBe("");
      expect(exit.stdout).toContain(": ok");
      expect(exit.code).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("reads the admin token from the Secret, and is refused without it", () => {
    const env = container.env?.find((e) => e.name === "SWITCHYARD_ADMIN_TOKEN");
    expect(env?.valueFrom?.secretKeyRef).toEqual({ name: "switchyard-admin", key: "token" });
    expect(config.admin.tokens).toContainEqual({ name: "ops", scope: "write", token: TOKEN });
    const without = loadConfigText(configMap.data["switchyard.yaml"] ?? "", "configmap.yaml", {});
    expect(without.ok).toBe(false);
    if (!without.ok) expect(without.problems[0]?.message).toContain("SWITCHYARD_ADMIN_TOKEN");
  });

  it("probes /readyz and /healthz on the admin port, which listens on the pod's address", () => {
    expect(isLoopbackHost(config.listen.admin.host)).toBe(false);
    expect(container.readinessProbe?.httpGet?.path).toBe("/readyz");
    expect(container.livenessProbe?.httpGet?.path).toBe("/healthz");
    for (const probe of [container.readinessProbe, container.livenessProbe]) {
      expect(containerPort(probe?.httpGet?.port ?? "")).toBe(config.listen.admin.port);
    }
  });

  it("gives the drain time to finish: grace > preStop + server.drainTimeout", () => {
    const preStop = container.lifecycle?.preStop?.exec?.command ?? [];
    expect(preStop[0]).toBe("sleep");
    const preStopS = Number(preStop[1]);
    expect(preStopS).toBeGreaterThanOrEqual(0);
    expect(config.server.drainDelay).toBeLessThan(config.server.drainTimeout);
    const graceS = deployment.spec.template.spec.terminationGracePeriodSeconds ?? 30;
    expect(graceS).toBeGreaterThanOrEqual(
      preStopS + config.server.drainTimeout / 1000 + GRACE_MARGIN_S,
    );
  });

  it("mounts the ConfigMap as the directory the image reads its config from", () => {
    expect(container.command).toBeUndefined();
    expect(container.args).toBeUndefined();
    const volume = deployment.spec.template.spec.volumes?.find(
      (v) => v.configMap?.name === configMap.metadata.name,
    );
    const mount = container.volumeMounts?.find((m) => m.name === volume?.name);
    expect(mount?.mountPath).toBe(posix.dirname(imageConfigPath));
    // A subPath mount never sees ConfigMap updates, so hot reload would not either.
    expect(mount?.subPath).toBeUndefined();
    expect(Object.keys(configMap.data)).toEqual([posix.basename(imageConfigPath)]);
  });

  it("runs as the image's non-root user on a read-only root filesystem", () => {
    const pod = deployment.spec.template.spec.securityContext;
    expect(pod?.runAsNonRoot).toBe(true);
    expect(pod?.runAsUser).toBe(1000);
    expect(container.securityContext?.readOnlyRootFilesystem).toBe(true);
    expect(container.securityContext?.allowPrivilegeEscalation).toBe(false);
    // Nothing to write: a state file would need a writable volume.
    expect(config.state).toBeUndefined();
  });

  it("has a Service that selects the pods and sends traffic to the proxy port", () => {
    const labels = deployment.spec.template.metadata.labels;
    expect(labels).toMatchObject(deployment.spec.selector.matchLabels);
    expect(labels).toMatchObject(service.spec.selector);
    expect(service.spec.ports).toHaveLength(1);
    expect(containerPort(service.spec.ports[0]?.targetPort ?? "")).toBe(config.listen.proxy.port);
  });
});
