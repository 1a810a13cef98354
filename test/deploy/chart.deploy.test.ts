// The Helm chart (deploy/helm/omnidaemon), rendered by helm with every environment's values file: the properties an
// operator relies on. Strict validation against Kubernetes' own types is scripts/check-deploy.sh's Go checker; this
// file asserts what the types cannot.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadSdkConfig } from "@omnidaemon/sdk";
import { parse } from "yaml";
import { loadCoordinatorConfig } from "../../apps/coordinator/src/config";
import { loadWorkerConfig } from "../../apps/worker/src/config";
import {
  CHART,
  WORKER_CLOSE_RESERVE_S,
  containerEnv,
  find,
  podTemplates,
  render,
  renderRefusal,
  type Obj,
} from "./support";

const ENVIRONMENTS = [
  "deploy/helm/omnidaemon/values-dev.yaml",
  "deploy/helm/omnidaemon/values-staging.yaml",
  "deploy/helm/omnidaemon/values-prod.yaml",
  "deploy/check/fixtures/inline-sasl.yaml",
];

const rendered = new Map<string, Obj[]>();
const objectsOf = (file: string): Obj[] => {
  let objects = rendered.get(file);
  if (!objects) {
    objects = render([file]);
    rendered.set(file, objects);
  }
  return objects;
};
const valuesOf = (file: string): Obj =>
  parse(readFileSync(join(CHART, "..", "..", "..", file), "utf8")) as Obj;
const workerOf = (objects: Obj[]): Obj => find(objects, "Deployment", "omnidaemon-worker");
const containerOf = (deployment: Obj): Obj => deployment.spec.template.spec.containers[0];

describe.each(ENVIRONMENTS)("the chart rendered with %s", (file) => {
  it("gives workers a grace period above preStop plus the worker's shutdown deadline", () => {
    const worker = workerOf(objectsOf(file));
    const pod = worker.spec.template.spec;
    const container = containerOf(worker);
    const env = containerEnv(objectsOf(file), container, "omnidaemon-worker-test");
    const budgetS = Math.ceil(Number(env.OMNIDAEMON_SHUTDOWN_TIMEOUT_MS) / 1000);
    const preStop = container.lifecycle.preStop.exec.command;
    expect(preStop[0]).toBe("sleep");
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(
      Number(preStop[1]) + budgetS + WORKER_CLOSE_RESERVE_S,
    );
  });

  it("probes the worker's and the coordinator's /livez and /readyz on their own ports", () => {
    const objects = objectsOf(file);
    for (const [name, port] of [
      ["omnidaemon-worker", "metrics"],
      ["omnidaemon-coordinator", "http"],
    ] as const) {
      const container = containerOf(find(objects, "Deployment", name));
      expect(container.livenessProbe.httpGet).toEqual({ path: "/livez", port });
      expect(container.readinessProbe.httpGet).toEqual({ path: "/readyz", port });
      expect(container.ports.map((p: Obj) => p.name)).toContain(port);
    }
  });

  it("runs every pod as non-root, read-only root filesystem, no privilege escalation, with requests and a memory limit", () => {
    const pods = podTemplates(objectsOf(file));
    expect(pods.map((p) => p.owner).sort()).toEqual([
      "Deployment/omnidaemon-coordinator",
      "Deployment/omnidaemon-worker",
      "Job/omnidaemon-migrations",
    ]);
    for (const { spec } of pods) {
      expect(spec.securityContext.runAsNonRoot).toBe(true);
      expect(spec.automountServiceAccountToken).toBe(false);
      for (const container of spec.containers) {
        expect(container.securityContext).toMatchObject({
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          capabilities: { drop: ["ALL"] },
        });
        expect(container.resources.requests).toEqual(
          expect.objectContaining({ cpu: expect.anything(), memory: expect.anything() }),
        );
        expect(container.resources.limits.memory).toBeDefined();
        // The read-only root filesystem needs a writable /tmp (each delivery's ctx.workdir).
        expect(container.volumeMounts).toEqual(expect.arrayContaining([{ name: "tmp", mountPath: "/tmp" }]));
      }
    }
  });

  it("starts the apps directly with node, never through the CLI launcher", () => {
    const objects = objectsOf(file);
    expect(containerOf(workerOf(objects)).command).toEqual(["node", "apps/worker/dist/main.js"]);
    expect(containerOf(find(objects, "Deployment", "omnidaemon-coordinator")).command).toEqual([
      "node",
      "apps/coordinator/dist/main.js",
    ]);
    const job = find(objects, "Job", "omnidaemon-migrations");
    expect(job.spec.template.spec.containers[0].command).toEqual([
      "node",
      "apps/coordinator/dist/main.js",
      "migrate",
    ]);
    expect(job.metadata.annotations["helm.sh/hook"]).toBe("pre-install,pre-upgrade");
  });

  it("inlines no secret: the token, database URL and SASL password appear only in Secrets", () => {
    const values = valuesOf(file);
    const secrets = [values.apiToken, values.database?.url, values.kafka?.sasl?.password].filter(
      (value): value is string => typeof value === "string" && value !== "",
    );
    const objects = objectsOf(file);
    for (const object of objects.filter((o) => o.kind !== "Secret")) {
      const text = JSON.stringify(object);
      for (const secret of secrets) expect(text).not.toContain(secret);
    }
    for (const secret of objects.filter((o) => o.kind === "Secret"))
      expect(secret.stringData).toBeUndefined();
    const env = containerEnv(objects, containerOf(workerOf(objects)), "pod");
    if (values.kafka?.sasl?.mechanism) {
      // Read from a mounted file, never from the environment.
      expect(env.OMNIDAEMON_KAFKA_SASL_PASSWORD).toBeUndefined();
      expect(env.OMNIDAEMON_KAFKA_SASL_PASSWORD_FILE).toBe("/var/run/secrets/omnidaemon/kafka-sasl-password");
    }
  });

  it("runs the coordinator replicas the values ask for (1 by default) and rolls it without a gap in the API", () => {
    const coordinator = find(objectsOf(file), "Deployment", "omnidaemon-coordinator");
    expect(coordinator.spec.replicas).toBe(valuesOf(file).coordinator?.replicas ?? 1);
    expect(coordinator.spec.strategy).toEqual({
      type: "RollingUpdate",
      rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
    });
  });

  it("has a PodDisruptionBudget over exactly the worker pods", () => {
    const objects = objectsOf(file);
    const pdb = find(objects, "PodDisruptionBudget", "omnidaemon-worker");
    const labels = workerOf(objects).spec.template.metadata.labels;
    expect(Object.entries(pdb.spec.selector.matchLabels).every(([k, v]) => labels[k] === v)).toBe(true);
    expect(pdb.spec.selector.matchLabels["app.kubernetes.io/component"]).toBe("worker");
    expect(pdb.spec.maxUnavailable).toBeDefined();
  });
});

describe("the chart's optional parts", () => {
  it("renders the dev environment's configuration so that the apps' own schemas accept it", () => {
    const objects = objectsOf("deploy/helm/omnidaemon/values-dev.yaml");
    const coordinator = containerEnv(
      objects,
      containerOf(find(objects, "Deployment", "omnidaemon-coordinator")),
      "c",
    );
    expect(loadCoordinatorConfig(coordinator)).toMatchObject({ api: { host: "0.0.0.0", port: 8765 } });
    const worker = containerEnv(objects, containerOf(workerOf(objects)), "omnidaemon-worker-abc");
    expect(loadWorkerConfig(worker)).toMatchObject({ metricsPort: 9464, shutdownTimeoutMs: 30_000 });
    expect(loadSdkConfig(worker)).toMatchObject({ workerId: "omnidaemon-worker-abc" });
  });

  it("scales on CPU with an HPA (staging) and then leaves replicas to it", () => {
    const objects = objectsOf("deploy/helm/omnidaemon/values-staging.yaml");
    const hpa = find(objects, "HorizontalPodAutoscaler", "omnidaemon-worker");
    expect(hpa.spec.scaleTargetRef).toEqual({
      apiVersion: "apps/v1",
      kind: "Deployment",
      name: "omnidaemon-worker",
    });
    expect(workerOf(objects).spec.replicas).toBeUndefined();
  });

  it("scales on each agent's consumer lag with KEDA (prod): one trigger per agent on its consumer group", () => {
    const objects = objectsOf("deploy/helm/omnidaemon/values-prod.yaml");
    const scaled = find(objects, "ScaledObject", "omnidaemon-worker");
    expect(
      scaled.spec.triggers.map((t: Obj) => [t.type, t.metadata.consumerGroup, t.metadata.topic]),
    ).toEqual([
      ["kafka", "omnidaemon.pipeline.ingest.ingest", "pipeline.ingest"],
      ["kafka", "omnidaemon.pipeline.summarize.summarize", "pipeline.summarize"],
    ]);
    expect(workerOf(objects).spec.replicas).toBeUndefined();
  });

  it("scrapes the coordinator and every worker pod, alerts on lag, DLQ, missing consumers, coordinator down and restarts, and ships the dashboard", () => {
    const objects = objectsOf("deploy/helm/omnidaemon/values-staging.yaml");
    expect(find(objects, "ServiceMonitor", "omnidaemon-coordinator").spec.endpoints[0].port).toBe("http");
    expect(find(objects, "PodMonitor", "omnidaemon-worker").spec.podMetricsEndpoints[0].port).toBe("metrics");
    const rules = find(objects, "PrometheusRule", "omnidaemon").spec.groups[0].rules.map((r: Obj) => r.alert);
    expect(rules).toEqual([
      "OmnidaemonLagGrowing",
      "OmnidaemonDlqGrowing",
      "OmnidaemonAgentWithoutConsumer",
      "OmnidaemonCoordinatorDown",
      "OmnidaemonWorkerRestarts",
    ]);
    const dashboard = find(objects, "ConfigMap", "omnidaemon-dashboard");
    expect(dashboard.metadata.labels.grafana_dashboard).toBe("1");
    const json = JSON.parse(dashboard.data["omnidaemon.json"]) as { uid: string };
    expect(json.uid).toBe("omnidaemon-fleet");
  });

  it("annotates pods for Prometheus when the Operator is not used (dev)", () => {
    const objects = objectsOf("deploy/helm/omnidaemon/values-dev.yaml");
    const annotations = workerOf(objects).spec.template.metadata.annotations;
    expect(annotations).toMatchObject({ "prometheus.io/scrape": "true", "prometheus.io/port": "9464" });
    expect(objects.some((o) => o.kind === "PodMonitor")).toBe(false);
  });
});

describe("values the chart refuses", () => {
  it.each([
    ["deploy/check/fixtures/schema-violation.yaml", /worker.*replicas|replicas.*integer/is],
    ["deploy/check/fixtures/unknown-key.yaml", /workers/],
    ["deploy/check/fixtures/short-grace.yaml", /terminationGracePeriodSeconds/],
    ["deploy/helm/omnidaemon/values.yaml", /kafka\.brokers is required/],
  ])("%s, naming the field", (file, message) => {
    expect(renderRefusal([file])).toMatch(message);
  });
});
