import { createEnvelope, validateTopic, type BusAdmin, type KafkaProducer } from "@omnidaemon/bus-kafka";
import type {
  CounterSummary,
  CountersRepository,
  TaskListOptions,
  TaskRecord,
  TasksRepository,
} from "@omnidaemon/store-pg";
import { asInputError } from "./input-errors";
import type { MetricsHistory } from "./metrics-history";
import {
  CoordinatorError,
  type Actor,
  type CounterHistory,
  type PublishTaskInput,
  type TaskService,
} from "./types";

export interface TaskDeskOptions {
  store: { tasks: TasksRepository; counters: CountersRepository };
  admin: Pick<BusAdmin, "ensureTopic">;
  producer: Pick<KafkaProducer, "publish">;
  /** How long a task record lives when no agent ever reports on it. */
  resultTtlMs: number;
  /** This coordinator's samples of the counters, for `metricsHistory`; without one the history is empty. */
  history?: Pick<MetricsHistory, "intervalMs" | "series">;
  /** Refuses an agent that is not registered (404 naming the known ones). */
  requireAgent(topic: string, name: string): Promise<unknown>;
}

/**
 * Tasks: publishing (a pending record first, then the event, acks=all), the records workers report into, and the
 * per-agent counters the same reports feed.
 */
export class TaskDesk implements TaskService {
  private readonly knownTopics = new Set<string>();

  constructor(private readonly options: TaskDeskOptions) {}

  async publishTask(input: PublishTaskInput, actor: Actor): Promise<{ taskId: string; topic: string }> {
    let envelope;
    try {
      validateTopic(input.topic, "topic");
      envelope = createEnvelope({ ...input, source: input.source ?? actor.name });
    } catch (error) {
      asInputError(error);
    }
    // Publishing before any agent registered must work (events wait for the agent), so the topic is made here.
    if (!this.knownTopics.has(input.topic)) {
      await this.options.admin.ensureTopic(input.topic);
      this.knownTopics.add(input.topic);
    }
    await this.options.store.tasks.createPending({
      taskId: envelope.id,
      topic: envelope.topic,
      correlationId: envelope.correlation_id ?? null,
      tenantId: envelope.tenant_id ?? null,
      ttlMs: this.options.resultTtlMs,
    });
    try {
      await this.options.producer.publish(envelope, input.key === undefined ? {} : { key: input.key });
    } catch (error) {
      asInputError(error);
    }
    return { taskId: envelope.id, topic: envelope.topic };
  }

  async getTask(taskId: string): Promise<TaskRecord[]> {
    const records = await this.options.store.tasks.get(taskId);
    if (records.length === 0)
      throw new CoordinatorError("not_found", `no task "${taskId}" (unknown, or its result expired)`);
    return records;
  }

  listTasks(options: TaskListOptions & { limit: number }): Promise<TaskRecord[]> {
    return this.options.store.tasks.list(options);
  }

  metricsSummary(options: { topic?: string }): Promise<CounterSummary[]> {
    return this.options.store.counters.summary(options);
  }

  async metricsHistory(topic: string, agent: string): Promise<CounterHistory> {
    await this.options.requireAgent(topic, agent);
    const { history } = this.options;
    return {
      topic,
      agent,
      sampleIntervalMs: history?.intervalMs ?? 0,
      points: history?.series(topic, agent) ?? [],
    };
  }
}
