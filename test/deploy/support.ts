// Shared by the deploy tests (npm run test:deploy): render the Helm chart with the helm that
// scripts/check-deploy.sh installed (OMNIDAEMON_HELM), parse what it rendered, and resolve a container's environment
// the way the kubelet does (envFrom ConfigMaps, secretKeyRef, fieldRef).
import { execFileSync } from "node:child_process";
import { join, resolve } from "node:path";
import { parseAllDocuments } from "yaml";

export const ROOT = resolve(__dirname, "..", "..");
export const CHART = join(ROOT, "deploy", "helm", "omnidaemon");
/** The image's WORKDIR (Dockerfile): the chart's paths are relative to it, as the repository root is here. */
export const IMAGE_ROOT = "/app";
/** `helm template --kube-version`: the oldest Kubernetes the chart supports is 1.27 (Chart.yaml). */
const KUBE_VERSION = "1.33.0";

/**
 * The worker's own hard stop after the drain budget: runService's deadline is OMNIDAEMON_SHUTDOWN_TIMEOUT_MS plus
 * this (apps/worker/src/main.ts). The chart's grace period must cover preStop + budget + this.
 */
export const WORKER_CLOSE_RESERVE_S = 15;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- rendered Kubernetes objects are read by path
export type Obj = Record<string, any>;

function helm(): string {
  const binary = process.env.OMNIDAEMON_HELM;
  if (!binary) throw new Error("OMNIDAEMON_HELM is not set: run `npm run test:deploy` (it installs helm)");
  return binary;
}

function templateArgs(valuesFiles: string[], sets: Record<string, string>): string[] {
  return [
    "template",
    "omnidaemon",
    CHART,
    "--namespace",
    "omnidaemon",
    "--kube-version",
    KUBE_VERSION,
    ...valuesFiles.flatMap((file) => ["-f", resolve(ROOT, file)]),
    ...Object.entries(sets).flatMap(([key, value]) => ["--set-string", `${key}=${value}`]),
  ];
}

/** `helm template` with these values files (paths from the repository root); every rendered object. */
export function render(valuesFiles: string[], sets: Record<string, string> = {}): Obj[] {
  const text = execFileSync(helm(), templateArgs(valuesFiles, sets), {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  return parseAllDocuments(text)
    .map((document) => document.toJS() as Obj | null)
    .filter((object): object is Obj => object !== null);
}

/** The error `helm template` prints when it refuses these values; throws when it renders them. */
export function renderRefusal(valuesFiles: string[]): string {
  try {
    execFileSync(helm(), templateArgs(valuesFiles, {}), {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (error) {
    return String((error as { stderr?: string }).stderr ?? error);
  }
  throw new Error(`helm rendered ${valuesFiles.join(", ")}, but the chart must refuse it`);
}

export function find(objects: Obj[], kind: string, name: string): Obj {
  const found = objects.find((o) => o.kind === kind && o.metadata?.name === name);
  if (!found) {
    const have = objects.map((o) => `${o.kind}/${o.metadata?.name}`).join(", ");
    throw new Error(`no ${kind}/${name} rendered (have: ${have})`);
  }
  return found;
}

/** Every pod template (Deployments, Jobs) with its owner. */
export function podTemplates(objects: Obj[]): Array<{ owner: string; spec: Obj; metadata: Obj }> {
  return objects
    .filter((o) => o.kind === "Deployment" || o.kind === "Job")
    .map((o) => ({
      owner: `${o.kind}/${o.metadata.name}`,
      spec: o.spec.template.spec,
      metadata: o.spec.template.metadata,
    }));
}

/** A container's environment as the kubelet builds it: envFrom ConfigMaps, then env (secretKeyRef, fieldRef). */
export function containerEnv(objects: Obj[], container: Obj, podName: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    const data = find(objects, "ConfigMap", source.configMapRef.name).data ?? {};
    Object.assign(env, data);
  }
  for (const entry of container.env ?? []) {
    if (entry.value !== undefined) env[entry.name] = String(entry.value);
    else if (entry.valueFrom?.secretKeyRef) {
      const ref = entry.valueFrom.secretKeyRef;
      const secret = objects.find((o) => o.kind === "Secret" && o.metadata?.name === ref.name);
      // existingSecret: a Secret the operator manages, not rendered by the chart.
      if (!secret) {
        env[entry.name] = `<${ref.name}/${ref.key}>`;
        continue;
      }
      const encoded = secret.data?.[ref.key];
      if (encoded === undefined) throw new Error(`Secret ${ref.name} has no key ${ref.key}`);
      env[entry.name] = Buffer.from(encoded, "base64").toString("utf8");
    } else if (entry.valueFrom?.fieldRef?.fieldPath === "metadata.name") env[entry.name] = podName;
    else
      throw new Error(
        `env ${entry.name}: a source this test cannot resolve (${JSON.stringify(entry.valueFrom)})`,
      );
  }
  return env;
}

/** A path inside the image, as a path of this checkout (the image copies the repository layout to /app). */
export function fromImage(path: string): string {
  if (!path.startsWith(`${IMAGE_ROOT}/`)) throw new Error(`${path} is not under the image's ${IMAGE_ROOT}`);
  return join(ROOT, path.slice(IMAGE_ROOT.length + 1));
}
