// docker-compose.yml and the Dockerfile, checked by structure (no Docker engine on these machines): the services
// come up in order, the worker scales, Prometheus finds every replica, Grafana gets its datasource and dashboard,
// and the image runs the apps directly, as non-root, under tini, with a health check.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { ROOT, WORKER_CLOSE_RESERVE_S, type Obj } from "./support";

const compose = parse(readFileSync(join(ROOT, "docker-compose.yml"), "utf8")) as Obj;
const services = compose.services as Record<string, Obj>;
const readYaml = (path: string): Obj => parse(readFileSync(join(ROOT, path), "utf8")) as Obj;
/** "50s", "1m30s" → seconds. */
const seconds = (duration: string): number => {
  const match = /^(?:(\d+)m)?(?:(\d+)s)?$/.exec(duration);
  if (!match) throw new Error(`not a duration: ${duration}`);
  return Number(match[1] ?? 0) * 60 + Number(match[2] ?? 0);
};

describe("docker-compose.yml", () => {
  it("has Kafka (KRaft, official image), Postgres, a one-shot migrate, the coordinator, a worker, Prometheus and Grafana", () => {
    expect(Object.keys(services).sort()).toEqual(
      ["coordinator", "grafana", "kafka", "migrate", "postgres", "prometheus", "worker"].sort(),
    );
    expect(services.kafka?.image).toMatch(/^apache\/kafka:/);
    expect(services.kafka?.environment.KAFKA_PROCESS_ROLES).toBe("broker,controller");
    expect(services.migrate?.command).toEqual(["node", "apps/coordinator/dist/main.js", "migrate"]);
    expect(services.migrate?.restart).toBe("no");
  });

  it("health-checks every long-running service and starts each only after what it needs is healthy", () => {
    for (const [name, service] of Object.entries(services)) {
      if (name === "migrate") continue;
      expect([name, Array.isArray(service.healthcheck?.test)]).toEqual([name, true]);
    }
    expect(services.migrate?.depends_on).toEqual({ postgres: { condition: "service_healthy" } });
    expect(services.coordinator?.depends_on).toEqual({
      migrate: { condition: "service_completed_successfully" },
      kafka: { condition: "service_healthy" },
    });
    expect(services.worker?.depends_on).toEqual({ coordinator: { condition: "service_healthy" } });
    expect(services.grafana?.depends_on).toEqual({ prometheus: { condition: "service_healthy" } });
  });

  it("lets the worker scale: no container name, no host port, a grace period above its shutdown deadline", () => {
    const worker = services.worker as Obj;
    expect(worker.container_name).toBeUndefined();
    expect(worker.ports).toBeUndefined();
    expect(worker.command.slice(0, 2)).toEqual(["node", "apps/worker/dist/main.js"]);
    const budgetS = Number(worker.environment.OMNIDAEMON_SHUTDOWN_TIMEOUT_MS) / 1000;
    expect(seconds(worker.stop_grace_period)).toBeGreaterThan(budgetS + WORKER_CLOSE_RESERVE_S);
    // The agents module it runs is a file of this repository, mounted read-only.
    const [source, target] = (worker.volumes[0] as string).split(":");
    expect(existsSync(join(ROOT, source as string))).toBe(true);
    expect(worker.command).toContain(target);
  });

  it("has Prometheus scrape the coordinator and every worker replica through DNS service discovery", () => {
    const mount = (services.prometheus?.volumes as string[]).find((v) => v.endsWith("prometheus.yml:ro"));
    const config = readYaml((mount as string).split(":")[0] as string);
    const jobs = Object.fromEntries((config.scrape_configs as Obj[]).map((job) => [job.job_name, job]));
    expect(jobs.coordinator.static_configs[0].targets).toEqual(["coordinator:8765"]);
    expect(jobs.worker.dns_sd_configs[0]).toMatchObject({
      names: ["worker"],
      type: "A",
      port: Number(services.worker?.environment.OMNIDAEMON_METRICS_PORT),
    });
  });

  it("provisions Grafana with the Prometheus datasource and the fleet dashboard (the chart's own file)", () => {
    const volumes = services.grafana?.volumes as string[];
    const provisioning = (volumes.find((v) => v.includes("provisioning")) as string).split(":")[0] as string;
    const datasource = readYaml(join(provisioning, "datasources", "prometheus.yml"));
    expect(datasource.datasources[0]).toMatchObject({ type: "prometheus", url: "http://prometheus:9090" });
    const dashboards = (volumes.find((v) => v.includes("dashboards")) as string).split(":")[0] as string;
    expect(dashboards).toBe("./deploy/helm/omnidaemon/dashboards");
    const dashboard = readFileSync(join(ROOT, dashboards, "omnidaemon.json"), "utf8");
    // Throughput, failures, retries, DLQ, lag per agent, in flight, latency percentiles, rebalances, live workers.
    for (const series of [
      "omnidaemon_events_received_total",
      "omnidaemon_events_succeeded_total",
      "omnidaemon_events_failed_total",
      "omnidaemon_events_retried_total",
      "omnidaemon_events_dead_lettered_total",
      "omnidaemon_consumer_lag",
      "omnidaemon_events_in_flight",
      "omnidaemon_handler_duration_seconds_bucket",
      "omnidaemon_rebalances_total",
      "omnidaemon_worker_uptime_seconds",
    ]) {
      expect([series, dashboard.includes(series)]).toEqual([series, true]);
    }
  });
});

describe("Dockerfile", () => {
  const dockerfile = readFileSync(join(ROOT, "Dockerfile"), "utf8");
  const instructions = dockerfile
    .split("\n")
    .filter((line) => /^[A-Z]+ /.test(line))
    .map((line) => line.trim());
  const runtime = instructions.slice(instructions.findIndex((line) => line.includes("AS runtime")));

  it("builds on a supported Node LTS (22 or 24) in stages", () => {
    expect(dockerfile).toMatch(/^ARG NODE_VERSION=(22|24)$/m);
    expect(instructions.filter((line) => line.startsWith("FROM "))).toHaveLength(2);
  });

  it("installs production dependencies only into the runtime image", () => {
    expect(dockerfile).toContain("npm ci --omit=dev");
  });

  it("runs as a non-root user, with tini as PID 1 and the app started directly", () => {
    expect(runtime).toContain("USER 1000:1000");
    expect(runtime).toContain('ENTRYPOINT ["/usr/bin/tini", "--"]');
    expect(runtime).toContain('CMD ["node", "apps/coordinator/dist/main.js"]');
  });

  it("health-checks the probe endpoint of whichever app runs", () => {
    const healthcheck = runtime.find((line) => line.startsWith("HEALTHCHECK")) as string;
    expect(healthcheck).toContain("deploy/docker/healthcheck.js");
    const script = readFileSync(join(ROOT, "deploy", "docker", "healthcheck.js"), "utf8");
    expect(script).toContain("/livez");
  });

  it("copies into the image every path the chart and docker-compose.yml start", () => {
    for (const path of [
      "apps/worker/dist",
      "apps/coordinator/dist",
      "packages/console/dist",
      "packages/store-pg/drizzle",
      "examples",
      "deploy/docker/healthcheck.js",
    ]) {
      expect([path, runtime.some((line) => line.startsWith("COPY ") && line.includes(path))]).toEqual([
        path,
        true,
      ]);
    }
  });
});
