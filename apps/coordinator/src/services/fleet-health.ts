import {
  COORDINATOR_GROUP,
  SYSTEM_TOPICS,
  type BusAdmin,
  type RecordConsumerStatus,
} from "@omnidaemon/bus-kafka";
import { withDeadline } from "@omnidaemon/lifecycle";
import type { HealthReport, IngestionHealth, WorkerAgentStatus } from "@omnidaemon/protocol";
import type { AgentRecord, PgStore, WorkerRecord, WorkerRegistration } from "@omnidaemon/store-pg";
import type { Logger } from "pino";
import { computeHealth } from "./health";
import type { FleetService, WorkerState } from "./types";

export interface FleetHealthOptions {
  store: Pick<PgStore, "ping" | "agents" | "workers">;
  admin: Pick<BusAdmin, "ping" | "groupLag">;
  logger: Logger;
  /** A worker without a heartbeat for this long no longer counts as live. */
  heartbeatTimeoutMs: number;
  /** How often workers are told to heartbeat. */
  heartbeatIntervalMs: number;
  /** The task-events consumer, whose state and lag /health reports. */
  ingestion?: { status(): RecordConsumerStatus };
  /** Bound on each health ping, so /health answers even when a dependency hangs. @default 2000 */
  pingTimeoutMs?: number;
  now?: () => Date;
}

/**
 * Fleet health: the workers' side of the protocol (register, heartbeat, deregister) and the health computed from it
 * and from real pings of Kafka and Postgres — never from a stored flag.
 */
export class FleetHealth implements FleetService {
  private readonly now: () => Date;

  constructor(private readonly options: FleetHealthOptions) {
    this.now = options.now ?? (() => new Date());
  }

  async health(): Promise<HealthReport> {
    const { store, admin } = this.options;
    const timeout = this.options.pingTimeoutMs ?? 2000;
    const [kafka, postgres] = await Promise.all([
      probe(withDeadline(admin.ping(timeout), timeout + 200, () => notAnswering("Kafka", timeout + 200))),
      probe(withDeadline(store.ping(), timeout, () => notAnswering("Postgres", timeout))),
    ]);
    let agents: AgentRecord[] = [];
    let live: WorkerRecord[] = [];
    if (postgres.ok) {
      try {
        [agents, live] = await Promise.all([store.agents.list(), this.liveWorkers()]);
      } catch (error) {
        postgres.ok = false;
        postgres.error = (error as Error).message;
      }
    }
    return computeHealth({
      now: this.now(),
      kafka,
      postgres,
      agents,
      liveWorkers: live,
      ...(this.options.ingestion === undefined
        ? {}
        : { ingestion: await this.ingestionHealth(this.options.ingestion, kafka.ok, timeout) }),
    });
  }

  private async ingestionHealth(
    ingestion: { status(): RecordConsumerStatus },
    kafkaOk: boolean,
    timeoutMs: number,
  ): Promise<IngestionHealth> {
    const status = ingestion.status();
    const lag = kafkaOk
      ? await withDeadline(
          this.options.admin.groupLag(COORDINATOR_GROUP, [SYSTEM_TOPICS.taskEvents]),
          timeoutMs,
          () => notAnswering("Kafka", timeoutMs),
        ).then(
          (result) => result.total,
          () => null,
        )
      : null;
    return {
      running: status.running,
      lag,
      restarts: status.restarts,
      ...(status.lastError === undefined ? {} : { last_error: status.lastError }),
    };
  }

  async registerWorker(input: WorkerRegistration): Promise<{ heartbeatIntervalMs: number }> {
    await this.options.store.workers.register(input);
    this.options.logger.info(
      { workerId: input.id, host: input.host, agents: input.agents.length },
      "worker registered",
    );
    return { heartbeatIntervalMs: this.options.heartbeatIntervalMs };
  }

  async heartbeat(id: string, agents: WorkerAgentStatus[]): Promise<{ known: boolean }> {
    return { known: await this.options.store.workers.heartbeat(id, agents) };
  }

  async deregisterWorker(id: string): Promise<void> {
    await this.options.store.workers.deregister(id);
    this.options.logger.info({ workerId: id }, "worker deregistered");
  }

  async listWorkers(): Promise<WorkerState[]> {
    const cutoff = this.now().getTime() - this.options.heartbeatTimeoutMs;
    return (await this.options.store.workers.list()).map((worker) => ({
      ...worker,
      live: worker.stoppedAt === null && worker.lastHeartbeat.getTime() >= cutoff,
    }));
  }

  private liveWorkers(): Promise<WorkerRecord[]> {
    return this.options.store.workers.listLive(this.options.heartbeatTimeoutMs);
  }
}

interface ProbeResult {
  ok: boolean;
  latencyMs?: number;
  error?: string;
}

function probe(ping: Promise<{ latencyMs: number }>): Promise<ProbeResult> {
  return ping.then(
    (result): ProbeResult => ({ ok: true, latencyMs: result.latencyMs }),
    (error: unknown): ProbeResult => ({ ok: false, error: (error as Error).message }),
  );
}

function notAnswering(what: string, ms: number): Error {
  return new Error(`${what} did not answer within ${ms} ms`);
}
