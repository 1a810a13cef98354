// A Kubernetes-free stand-in for `kubectl scale` down and a rolling update: the worker is started exactly as the
// chart's container starts it — the rendered command and args, the rendered environment resolved as the kubelet
// does (ConfigMap, Secret, pod name) — under load, then stopped as the kubelet stops a pod: preStop, SIGTERM, and
// SIGKILL when the chart's terminationGracePeriodSeconds runs out. It must exit 0 within the grace period with
// every in-flight event finished, and a replacement must not run any event again.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  delay,
  duplicates,
  FixtureLog,
  freePort,
  kafkaBrokers,
  KafkaLeftovers,
  newAgent,
  newTopic,
  Publisher,
  waitFor,
  Proc,
} from "@omnidaemon/testkit";
import { containerEnv, find, fromImage, render, type Obj } from "./support";

const leftovers = new KafkaLeftovers();
const log = new FixtureLog();
const scratch = mkdtempSync(join(tmpdir(), "omnidaemon-sigterm-"));

afterAll(async () => {
  await leftovers.clean();
  log.remove();
  rmSync(scratch, { recursive: true, force: true });
});

/** Starts the worker container's process as the kubelet would, with the image's /app as this checkout. */
function startPod(objects: Obj[], name: string, overrides: Record<string, string>): Proc {
  const container = find(objects, "Deployment", "omnidaemon-worker").spec.template.spec.containers[0];
  const [program, ...rest] = [...container.command, ...(container.args ?? [])] as string[];
  expect(program).toBe("node");
  const args = rest.map((arg) => (arg.startsWith("/app/") ? fromImage(arg) : arg));
  const env = { ...containerEnv(objects, container, name), ...overrides };
  // The image's WORKDIR is the checkout's root, Proc's default; the container's environment and nothing else.
  return new Proc(name, args, {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    detached: false,
  });
}

/** What the kubelet does to a pod being removed: preStop, SIGTERM, then SIGKILL once the grace period is over. */
async function terminate(pod: Proc, preStop: string[], graceSeconds: number) {
  const started = Date.now();
  expect(preStop[0]).toBe("sleep");
  await delay(Number(preStop[1]) * 1000);
  pod.signal("SIGTERM");
  const remaining = graceSeconds * 1000 - (Date.now() - started);
  let timer: NodeJS.Timeout | undefined;
  const killed = new Promise<"killed">((resolve) => {
    timer = setTimeout(() => {
      pod.signal("SIGKILL");
      resolve("killed");
    }, remaining);
  });
  const outcome = await Promise.race([pod.exited, killed]);
  clearTimeout(timer);
  if (outcome === "killed")
    throw new Error(`${pod.label} outlived the grace period and was SIGKILLed\n${pod.tail()}`);
  return outcome;
}

it("a worker started as the chart starts it drains on SIGTERM within the chart's grace period: exit 0, in-flight events finished, none run again by its replacement", async () => {
  const topic = newTopic("chart_drain");
  const agent = newAgent("chart-drain");
  leftovers.agent(topic, agent);
  const metricsPort = await freePort();
  // Only what this test needs differs from the dev environment: where Kafka is, the test's agents module (the
  // recording fixture, at its path inside the image) and the fixture's own settings through worker.extraEnv.
  const values = join(scratch, "values-test.yaml");
  writeFileSync(
    values,
    JSON.stringify({
      kafka: { brokers: kafkaBrokers().join(",") },
      worker: {
        agentsModule: "/app/packages/testkit/fixtures/agents.js",
        metricsPort,
        extraEnv: [
          {
            name: "FIXTURE_AGENTS",
            value: JSON.stringify([{ topic, name: agent, config: { concurrency: 4 } }]),
          },
          { name: "FIXTURE_LOG_DIR", value: log.dir },
          { name: "FIXTURE_DELAY_MS", value: "6000" },
        ],
      },
    }),
  );
  const objects = render(["deploy/helm/omnidaemon/values-dev.yaml", values]);
  const pod = find(objects, "Deployment", "omnidaemon-worker").spec.template.spec;
  const preStop = pod.containers[0].lifecycle.preStop.exec.command as string[];
  const grace = pod.terminationGracePeriodSeconds as number;
  // The Service name resolves only inside the cluster; the coordinator is not on the data path, so the worker
  // runs against an address where nothing listens, as when the coordinator is down.
  const coordinator = { OMNIDAEMON_COORDINATOR_URL: `http://127.0.0.1:${await freePort()}` };

  const publisher = await new Publisher().start();
  const pods: Proc[] = [];
  try {
    const first = startPod(objects, "omnidaemon-worker-5d8f7-abcde", coordinator);
    pods.push(first);
    await waitFor(
      "the first pod to be ready (/readyz)",
      async () => (await fetch(`http://127.0.0.1:${metricsPort}/readyz`)).status === 200,
      60_000,
      200,
      () => first.tail(),
    );
    const firstPid = await log.pidOf(first.label);
    const inFlight = await publisher.publishMany(
      topic,
      [1, 2, 3, 4].map((n) => ({ content: { n }, key: `k${n}` })),
    );
    await waitFor(
      "four handlers in flight",
      () => log.lines({ event: "start", agent }).length === 4,
      30_000,
      20,
    );
    // A backlog behind them, which the draining pod must not start.
    const backlog = await publisher.publishMany(
      topic,
      [5, 6, 7, 8, 9, 10, 11, 12].map((n) => ({ content: { n }, key: `k${n}` })),
    );
    await delay(1500);

    expect(await terminate(first, preStop, grace)).toEqual({ code: 0, signal: null });
    const ended = log.lines({ event: "end", agent, pid: firstPid }).map((l) => l.taskId);
    expect(new Set(ended)).toEqual(new Set(inFlight));
    expect(log.lines({ event: "abort", agent })).toEqual([]);

    // The replacement pod (a rolling update's new pod, or the survivor of a scale-down) takes the rest.
    const second = startPod(objects, "omnidaemon-worker-5d8f7-fghij", {
      ...coordinator,
      FIXTURE_DELAY_MS: "0",
    });
    pods.push(second);
    const all = [...inFlight, ...backlog];
    await waitFor(
      "every event ended",
      () => all.every((id) => log.ended(agent).has(id)),
      60_000,
      100,
      () => second.tail(),
    );
    // Time for a wrongly uncommitted event to come back before looking for re-runs.
    await delay(2000);
    const started = log.lines({ event: "start", agent }).map((l) => l.taskId as string);
    expect(duplicates(started)).toEqual([]);
    expect(started.sort()).toEqual([...all].sort());
    expect(await terminate(second, preStop, grace)).toEqual({ code: 0, signal: null });
  } finally {
    for (const pod of pods) pod.signal("SIGKILL");
    await Promise.all(pods.map((pod) => pod.exited));
    await publisher.stop();
  }
});
