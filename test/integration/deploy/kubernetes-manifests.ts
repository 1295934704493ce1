/**
 * The Kubernetes manifests of deploy/kubernetes/ (the base) and deploy/kubernetes/fleet/, read
 * as `kubectl apply -k` reads them (the files the kustomization lists), with the switchyard
 * config of their ConfigMap loaded, for kubernetes.test.ts and kubernetes-fleet.test.ts.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { formatProblem, loadConfigText } from "../../../src/config/load.ts";
import type { Config } from "../../../src/config/schema.ts";

export const K8S_DIR = fileURLToPath(new URL("../../../deploy/kubernetes/", import.meta.url));
export const FLEET_DIR = join(K8S_DIR, "fleet");
export const DOCKERFILE = fileURLToPath(new URL("../../../Dockerfile", import.meta.url));

/** A pod's environment variables. */
export type EnvVars = Readonly<Record<string, string>>;

/** What the Secret switchyard-admin holds, in the tests. */
export const TOKEN = "token-from-the-kubernetes-secret";
/** What the Secret switchyard-redis's `url` holds, in the tests: the Redis Service, a password. */
export const REDIS_URL = "redis://:password-from-the-secret@redis:6379/0";
export const BASE_ENV: EnvVars = { SWITCHYARD_ADMIN_TOKEN: TOKEN };
/** A fleet pod's environment: the Deployment's variables, and HOSTNAME as the runtime sets it. */
export const FLEET_ENV: EnvVars = {
  SWITCHYARD_ADMIN_TOKEN: TOKEN,
  SWITCHYARD_REDIS_URL: REDIS_URL,
  HOSTNAME: "pod-a",
};
/** Set in every container by the container runtime (to the pod's name), not by the manifest. */
export const RUNTIME_ENV = ["HOSTNAME"];

/** The name of the Deployment, Service and PodDisruptionBudget of switchyard in both variants. */
const SWITCHYARD = "switchyard";
const CONFIG_KEY = "switchyard.yaml";

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
}
export interface HttpProbe {
  httpGet?: { path: string; port: string | number };
}
export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}
export interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  ports?: { name?: string; containerPort: number }[];
  env?: EnvVar[];
  readinessProbe?: HttpProbe;
  livenessProbe?: HttpProbe;
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  securityContext?: { allowPrivilegeEscalation?: boolean; readOnlyRootFilesystem?: boolean };
  volumeMounts?: { name: string; mountPath: string; subPath?: string }[];
}
export interface Volume {
  name: string;
  configMap?: { name: string };
  emptyDir?: object;
}
export interface Deployment extends Manifest {
  spec: {
    replicas?: number;
    selector: { matchLabels: Record<string, string> };
    strategy?: { type: string };
    template: {
      metadata: { labels: Record<string, string> };
      spec: {
        terminationGracePeriodSeconds?: number;
        securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
        topologySpreadConstraints?: {
          topologyKey: string;
          labelSelector?: { matchLabels: Record<string, string> };
        }[];
        containers: Container[];
        volumes?: Volume[];
      };
    };
  };
}
export interface Service extends Manifest {
  spec: {
    type?: string;
    selector: Record<string, string>;
    ports: { port: number; targetPort: string | number }[];
  };
}
export interface ConfigMap extends Manifest {
  data: Record<string, string>;
}
export interface PodDisruptionBudget extends Manifest {
  spec: { minAvailable?: number; selector: { matchLabels: Record<string, string> } };
}

/** One deployment of switchyard: a directory with its kustomization, and what it holds. */
export interface Variant {
  /** The directory's .yaml files, its kustomization.yaml aside, sorted. */
  readonly files: string[];
  /** The files its kustomization.yaml lists as resources, sorted. */
  readonly resources: string[];
  readonly manifests: Manifest[];
  /** switchyard's own, by name: the fleet variant holds Redis's too. */
  readonly deployment: Deployment;
  readonly container: Container;
  readonly service: Service;
  readonly pdb: PodDisruptionBudget;
  /** The ConfigMap the Deployment mounts, and the config in it. */
  readonly configMap: ConfigMap;
  readonly configText: string;
  /** The config as `env` makes it. */
  readonly config: Config;
}

/** The one manifest of this kind and name. */
export function named(manifests: Manifest[], kind: string, name: string): Manifest {
  const found = manifests.filter((m) => m.kind === kind && m.metadata.name === name);
  expect(found, `one ${kind} ${name}`).toHaveLength(1);
  return found[0]!;
}

/** The container port a probe or a Service's targetPort names (by name or number). */
export function containerPort(container: Container, port: string | number): number | undefined {
  if (typeof port === "number") return port;
  return container.ports?.find((p) => p.name === port)?.containerPort;
}

/** Whether a label selector (matchLabels) picks pods with these labels. */
export function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  const entries = Object.entries(selector);
  return entries.length > 0 && entries.every(([key, value]) => labels[key] === value);
}

/** `${NAME}` references without a default: variables the config cannot be loaded without. */
export function requiredVariables(configText: string): string[] {
  const names = [...configText.matchAll(/(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map(
    (match) => match[1] ?? "",
  );
  return [...new Set(names)].sort();
}

/** The config text loaded with `env`; throws with every problem when it does not load. */
export function loadConfig(configText: string, env: EnvVars): Config {
  const loaded = loadConfigText(configText, "configmap.yaml", env);
  if (!loaded.ok) throw new Error(loaded.problems.map(formatProblem).join("\n"));
  return loaded.config;
}

/** The path the image's command reads its config from (the Dockerfile's CMD --config). */
export async function imageConfigPath(): Promise<string> {
  const cmd = /^CMD (\[.*\])$/m.exec(await readFile(DOCKERFILE, "utf8"));
  const command = JSON.parse(cmd?.[1] ?? "[]") as string[];
  return command[command.indexOf("--config") + 1] ?? "";
}

export async function loadVariant(dir: string, env: EnvVars): Promise<Variant> {
  const files = (await readdir(dir))
    .filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml")
    .sort();
  const kustomization = parse(await readFile(join(dir, "kustomization.yaml"), "utf8")) as {
    resources: string[];
  };
  const manifests: Manifest[] = [];
  for (const file of kustomization.resources) {
    for (const doc of parseAllDocuments(await readFile(join(dir, file), "utf8"))) {
      expect(doc.errors, file).toEqual([]);
      manifests.push(doc.toJS() as Manifest);
    }
  }
  const deployment = named(manifests, "Deployment", SWITCHYARD) as Deployment;
  const containers = deployment.spec.template.spec.containers;
  expect(containers).toHaveLength(1);
  const mounted = deployment.spec.template.spec.volumes?.find((v) => v.configMap !== undefined);
  const configMap = named(manifests, "ConfigMap", mounted?.configMap?.name ?? "") as ConfigMap;
  const configText = configMap.data[CONFIG_KEY] ?? "";
  return {
    files,
    resources: [...kustomization.resources].sort(),
    manifests,
    deployment,
    container: containers[0]!,
    service: named(manifests, "Service", SWITCHYARD) as Service,
    pdb: named(manifests, "PodDisruptionBudget", SWITCHYARD) as PodDisruptionBudget,
    configMap,
    configText,
    config: loadConfig(configText, env),
  };
}
