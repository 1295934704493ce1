/**
 * deploy/kubernetes/ and its fleet variant deploy/kubernetes/fleet/, checked alike: every
 * manifest parses, the ConfigMap's config passes the config schema and `switchyard check`, and
 * the Deployment agrees with that config and with the image: the variables the config needs,
 * probe ports and paths, the Secret that holds the admin token, the directory the image reads
 * its config from, and a termination grace period that outlasts preStop plus the drain.
 * What only the fleet has is in kubernetes-fleet.test.ts.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { isLoopbackHost } from "../../../src/config/admin-exposure.ts";
import { loadConfigText } from "../../../src/config/load.ts";
import { runCli } from "../cli/child-process.ts";
import {
  BASE_ENV,
  containerPort,
  FLEET_DIR,
  FLEET_ENV,
  imageConfigPath,
  K8S_DIR,
  loadVariant,
  requiredVariables,
  RUNTIME_ENV,
  selects,
  TOKEN,
  type Variant,
} from "./kubernetes-manifests.ts";

/** Time between the end of the drain and the kubelet's SIGKILL, for a slow node. */
const GRACE_MARGIN_S = 5;

const VARIANTS = [
  { title: "deploy/kubernetes", dir: K8S_DIR, env: BASE_ENV },
  { title: "deploy/kubernetes/fleet", dir: FLEET_DIR, env: FLEET_ENV },
];

describe.each(VARIANTS)("$title", ({ dir, env }) => {
  let v: Variant;
  /** The path the image's command reads its config from. */
  let configPath: string;

  beforeAll(async () => {
    v = await loadVariant(dir, env);
    configPath = await imageConfigPath();
  });

  it("holds valid manifests, each listed in the kustomization", () => {
    for (const manifest of v.manifests) {
      expect(manifest.apiVersion).toMatch(/^[a-z.]*\/?v1$/);
      expect(manifest.metadata.name).toMatch(/^[a-z0-9-]+$/);
    }
    const ids = v.manifests.map((m) => `${m.kind}/${m.metadata.name}`);
    expect(new Set(ids).size).toBe(ids.length);
    expect(v.resources).toEqual(v.files);
  });

  it("has a ConfigMap whose config passes `switchyard check`", async () => {
    const tmp = await mkdtemp(join(tmpdir(), "switchyard-k8s-"));
    try {
      const file = join(tmp, "switchyard.yaml");
      await writeFile(file, v.configText);
      const exit = await runCli(["check", file], { env: { ...env } });
      expect(exit.stderr).toBe("");
      expect(exit.stdout).toContain(": ok");
      expect(exit.code).toBe(0);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });

  it("sets every variable the config needs, and the config is refused without each", () => {
    const required = requiredVariables(v.configText);
    expect(required).toContain("SWITCHYARD_ADMIN_TOKEN");
    const set = [...(v.container.env ?? []).map((e) => e.name), ...RUNTIME_ENV];
    for (const name of required) {
      expect(set, name).toContain(name);
      const without = loadConfigText(v.configText, "configmap.yaml", { ...env, [name]: undefined });
      expect(without.ok, name).toBe(false);
      if (!without.ok) expect(without.problems.map((p) => p.message).join("\n")).toContain(name);
    }
  });

  it("reads the admin token from the Secret", () => {
    const secret = v.container.env?.find((e) => e.name === "SWITCHYARD_ADMIN_TOKEN");
    expect(secret?.valueFrom?.secretKeyRef).toEqual({ name: "switchyard-admin", key: "token" });
    expect(v.config.admin.tokens).toContainEqual({ name: "ops", scope: "write", token: TOKEN });
  });

  it("probes /readyz and /healthz on the admin port, which listens on the pod's address", () => {
    expect(isLoopbackHost(v.config.listen.admin.host)).toBe(false);
    expect(v.container.readinessProbe?.httpGet?.path).toBe("/readyz");
    expect(v.container.livenessProbe?.httpGet?.path).toBe("/healthz");
    for (const probe of [v.container.readinessProbe, v.container.livenessProbe]) {
      const port = containerPort(v.container, probe?.httpGet?.port ?? "");
      expect(port).toBe(v.config.listen.admin.port);
    }
  });

  it("gives the drain time to finish: grace > preStop + server.drainTimeout", () => {
    const preStop = v.container.lifecycle?.preStop?.exec?.command ?? [];
    expect(preStop[0]).toBe("sleep");
    const preStopS = Number(preStop[1]);
    expect(preStopS).toBeGreaterThanOrEqual(0);
    expect(v.config.server.drainDelay).toBeLessThan(v.config.server.drainTimeout);
    const graceS = v.deployment.spec.template.spec.terminationGracePeriodSeconds ?? 30;
    expect(graceS).toBeGreaterThanOrEqual(
      preStopS + v.config.server.drainTimeout / 1000 + GRACE_MARGIN_S,
    );
  });

  it("mounts the ConfigMap as the directory the image reads its config from", () => {
    expect(v.container.command).toBeUndefined();
    expect(v.container.args).toBeUndefined();
    const volume = v.deployment.spec.template.spec.volumes?.find(
      (vol) => vol.configMap?.name === v.configMap.metadata.name,
    );
    const mount = v.container.volumeMounts?.find((m) => m.name === volume?.name);
    expect(mount?.mountPath).toBe(posix.dirname(configPath));
    // A subPath mount never sees ConfigMap updates, so hot reload would not either.
    expect(mount?.subPath).toBeUndefined();
    expect(Object.keys(v.configMap.data)).toEqual([posix.basename(configPath)]);
  });

  it("runs as the image's non-root user on a read-only root filesystem", () => {
    const pod = v.deployment.spec.template.spec.securityContext;
    expect(pod?.runAsNonRoot).toBe(true);
    expect(pod?.runAsUser).toBe(1000);
    expect(v.container.securityContext?.readOnlyRootFilesystem).toBe(true);
    expect(v.container.securityContext?.allowPrivilegeEscalation).toBe(false);
    // Nothing to write: a state file would need a writable volume.
    expect(v.config.state).toBeUndefined();
  });

  it("has a Service that selects the pods and sends traffic to the proxy port", () => {
    const labels = v.deployment.spec.template.metadata.labels;
    expect(selects(v.deployment.spec.selector.matchLabels, labels)).toBe(true);
    expect(selects(v.service.spec.selector, labels)).toBe(true);
    expect(v.service.spec.ports).toHaveLength(1);
    const port = containerPort(v.container, v.service.spec.ports[0]?.targetPort ?? "");
    expect(port).toBe(v.config.listen.proxy.port);
  });

  it("lets voluntary evictions take one replica at a time", () => {
    const replicas = v.deployment.spec.replicas ?? 1;
    expect(replicas).toBeGreaterThanOrEqual(2);
    expect(
      selects(v.pdb.spec.selector.matchLabels, v.deployment.spec.template.metadata.labels),
    ).toBe(true);
    expect(v.pdb.spec.minAvailable).toBe(replicas - 1);
  });
});
