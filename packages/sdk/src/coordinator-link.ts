import type { AgentConsumerStatus } from "@omnidaemon/bus-kafka";
import type { AgentState } from "@omnidaemon/protocol";
import { hostname } from "node:os";
import type { Logger } from "pino";
import type { ResolvedAgent } from "./agent-definition";
import type { CoordinatorClient } from "./coordinator-client";

export interface CoordinatorLinkOptions {
  client: CoordinatorClient;
  workerId: string;
  logger: Logger;
  agents: () => ResolvedAgent[];
  statuses: () => Array<{ topic: string; name: string; desired: AgentState; status: AgentConsumerStatus }>;
  heartbeatIntervalMs: number;
  /** @default 3000 */
  deregisterTimeoutMs?: number;
}

const VERSION = "0.1.0";

/**
 * The worker's side of the coordinator protocol: register the agent definitions and the worker, heartbeat with
 * each consumer's status, deregister on stop. The coordinator being down never blocks a worker: registration is
 * retried on every tick until it succeeds, heartbeats are best effort, and stop gives up after a short bound.
 */
export class CoordinatorLink {
  readonly name = "coordinator-link";
  private timer: NodeJS.Timeout | undefined;
  private registered = false;
  private agentsDirty = true;
  private tickRunning: Promise<void> | undefined;
  private stopped = false;
  private lastError: string | undefined;

  constructor(private readonly options: CoordinatorLinkOptions) {}

  async start(): Promise<void> {
    this.timer = setInterval(() => void this.tick(), this.options.heartbeatIntervalMs);
    // The first attempt runs in the background: start() must not wait for (or fail on) the coordinator.
    void this.tick();
  }

  /** New agents were added: register them on the next tick (soon). */
  agentsChanged(): void {
    this.agentsDirty = true;
    if (!this.stopped) setImmediate(() => void this.tick());
  }

  private tick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.tickRunning ??= this.beat()
      .catch((error: unknown) => {
        const message = (error as Error).message;
        if (message !== this.lastError)
          this.options.logger.warn({ err: error }, "coordinator not reachable; retrying");
        this.lastError = message;
      })
      .finally(() => {
        this.tickRunning = undefined;
      });
    return this.tickRunning;
  }

  private async beat(): Promise<void> {
    const { client, workerId } = this.options;
    if (this.agentsDirty) {
      for (const agent of this.options.agents()) {
        await client.request("POST", "/agents", {
          topic: agent.topic,
          name: agent.name,
          description: agent.description,
          version: agent.version,
          tags: agent.tags,
          config: agent.config,
        });
      }
      this.agentsDirty = false;
      this.registered = false;
    }
    const agents = this.agentStatuses();
    if (!this.registered) {
      await client.request("POST", "/v1/workers", {
        id: workerId,
        host: hostname(),
        pid: process.pid,
        version: VERSION,
        agents,
      });
      this.registered = true;
      this.lastError = undefined;
      this.options.logger.info({ workerId, coordinator: client.url }, "registered with the coordinator");
      return;
    }
    const answer = await client.request<{ known: boolean }>(
      "PUT",
      `/v1/workers/${encodeURIComponent(workerId)}/heartbeat`,
      {
        agents,
      },
    );
    // The coordinator lost us (restarted on an empty database, or we were silent too long): register again.
    if (!answer.known) this.registered = false;
  }

  private agentStatuses(): Array<Record<string, unknown>> {
    return this.options.statuses().map(({ topic, name, status }) => ({
      topic,
      name,
      status: status.phase === "running" && !status.paused ? "running" : status.paused ? "paused" : "stopped",
      member: status.member,
      assigned_partitions: status.assignedPartitions,
      in_flight: status.inFlight,
    }));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.tickRunning;
    if (!this.registered) return;
    const timeoutMs = this.options.deregisterTimeoutMs ?? 3000;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.options.client
        .request("DELETE", `/v1/workers/${encodeURIComponent(this.options.workerId)}`)
        .catch((error: unknown) => this.options.logger.warn({ err: error }, "deregistration failed")),
      new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ]);
    clearTimeout(timer);
  }
}
