import type { AgentConsumerStatus } from "@omnidaemon/bus-kafka";
import { StartStop } from "@omnidaemon/lifecycle";
import type { AgentState, ConsumerStatus, CoordinatorClient, WorkerAgentStatus } from "@omnidaemon/protocol";
import { hostname } from "node:os";
import type { Logger } from "pino";
import type { ResolvedAgent } from "./agent-definition";

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
  private lastError: string | undefined;
  private readonly lifecycle = new StartStop(this.name, {
    start: () => this.open(),
    stop: (started) => this.close(started),
  });

  constructor(private readonly options: CoordinatorLinkOptions) {}

  start(): Promise<void> {
    return this.lifecycle.start();
  }

  /** Idempotent and safe before start(); deregisters once, bounded by `deregisterTimeoutMs`. */
  stop(): Promise<void> {
    return this.lifecycle.stop();
  }

  private get stopped(): boolean {
    return this.lifecycle.stopped;
  }

  private async open(): Promise<void> {
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
        await client.registerAgent({
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
      await client.registerWorker({
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
    const answer = await client.heartbeat(workerId, { agents });
    // The coordinator lost us (restarted on an empty database, or we were silent too long): register again.
    if (!answer.known) this.registered = false;
  }

  private agentStatuses(): WorkerAgentStatus[] {
    return this.options.statuses().map(({ topic, name, status }) => ({
      topic,
      name,
      status: consumerStatusOf(status),
      member: status.member,
      assigned_partitions: status.assignedPartitions,
      in_flight: status.inFlight,
    }));
  }

  private async close(started: boolean): Promise<void> {
    clearInterval(this.timer);
    if (!started) return;
    await this.tickRunning;
    if (!this.registered) return;
    // The request's own deadline bounds it: a coordinator that is down never holds up a worker's shutdown.
    await this.options.client
      .deregisterWorker(this.options.workerId, { timeoutMs: this.options.deregisterTimeoutMs ?? 3000 })
      .catch((error: unknown) => this.options.logger.warn({ err: error }, "deregistration failed"));
  }
}

/** A consumer's status as the heartbeat reports it: running, paused (desired state), or stopped. */
function consumerStatusOf(status: AgentConsumerStatus): ConsumerStatus {
  if (status.phase === "running" && !status.paused) return "running";
  return status.paused ? "paused" : "stopped";
}
