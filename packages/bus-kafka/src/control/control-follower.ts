import { randomUUID } from "node:crypto";
import { raceDeadline, StartStop, TIMED_OUT } from "@omnidaemon/lifecycle";
import pino, { type Logger } from "pino";
import { BusAdmin } from "../admin";
import type { KafkaConnectionInput } from "../config";
import { type GroupBatch, type GroupConsumer } from "../driver/consumer";
import { createGroupConsumer } from "../driver/factories";
import { RESERVED_PREFIX, SYSTEM_TOPICS } from "../naming";
import type { RateHint } from "@omnidaemon/protocol";
import { decodeControlRecord } from "./control-record";
import { controlKey, type DesiredState } from "./desired-state";

export interface ControlFollowerOptions {
  connection: KafkaConnectionInput;
  /** Called for every newer desired state (older revisions of an agent are dropped). Must not throw. */
  onState: (state: DesiredState) => void | Promise<void>;
  /**
   * Called for every rate hint on the topic (a worker's throttle lowered an agent's rate: docs/rate-limits.md).
   * Hints carry no revision: merging one is idempotent and order-free, so every hint is passed on. Must not throw.
   */
  onRateHint?: (hint: RateHint) => void;
  logger?: Logger;
  /** How long start() waits to catch up with the topic before going on with what it has. @default 15000 */
  catchUpTimeoutMs?: number;
  /** The compacted control topic; every process of a fleet must follow the same one. @default "omnidaemon.control" */
  topic?: string;
  /**
   * Called once, when the records that were on the topic at start have all been read (also when that happens
   * after `start()` gave up waiting): from then on, an agent without a record has never been paused. Must not throw.
   */
  onCaughtUp?: () => void;
  /** Bound of each step of stop() (consumer disconnect, group delete, admin disconnect). @default 3000 */
  stopStepTimeoutMs?: number;
}

/**
 * Follows the compacted control topic: reads it from the beginning (a throwaway consumer group each time — the
 * topic is tiny) so a worker knows every agent's desired state before its consumers start, then applies changes as
 * they arrive. Works while the coordinator is down: the state lives in Kafka.
 */
export class ControlFollower {
  readonly name = "control-follower";
  private readonly logger: Logger;
  private readonly applied = new Map<string, number>();
  private consumer: GroupConsumer | undefined;
  private admin: BusAdmin | undefined;
  private groupId: string | undefined;
  private readonly lifecycle = new StartStop(this.name, {
    start: () => this.doStart(),
    stop: () => this.doStop(),
  });
  private isCaughtUp = false;

  constructor(private readonly options: ControlFollowerOptions) {
    this.logger = (options.logger ?? pino({ level: "silent" })).child({ component: "control-follower" });
  }

  /**
   * Whether every record that was on the topic at start has been read. Until then, a missing record proves
   * nothing: the agent's state is unknown, and it must not be taken as active.
   */
  get caughtUp(): boolean {
    return this.isCaughtUp;
  }

  /** The latest desired state seen for an agent, if any. */
  revisionOf(topic: string, agent: string): number | undefined {
    return this.applied.get(controlKey(topic, agent));
  }

  /** Reads the topic up to its end (bounded), then follows it. Idempotent; a failed start may be tried again. */
  start(): Promise<void> {
    return this.lifecycle.start();
  }

  private async doStart(): Promise<void> {
    try {
      await this.follow();
    } catch (error) {
      // What this attempt opened is released, so another start begins clean.
      await this.release();
      throw error;
    }
  }

  private async follow(): Promise<void> {
    this.admin = new BusAdmin({ connection: this.options.connection, logger: this.logger });
    await this.admin.start();
    const topic = this.options.topic ?? SYSTEM_TOPICS.control;
    const ends = await this.admin.topicOffsets(topic);
    if (ends === undefined) throw new Error(`the control topic ${topic} does not exist`);
    const pending = new Map(
      ends.filter((p) => Number(p.high) > Number(p.low)).map((p) => [p.partition, Number(p.high)]),
    );
    let caughtUp: () => void = () => undefined;
    const caughtUpPromise = new Promise<void>((resolve) => {
      caughtUp = () => {
        if (this.isCaughtUp) return;
        this.isCaughtUp = true;
        resolve();
        try {
          this.options.onCaughtUp?.();
        } catch (error) {
          this.logger.error({ err: error }, "caught-up callback failed");
        }
      };
    });
    if (pending.size === 0) caughtUp();

    this.groupId = `${RESERVED_PREFIX}control-reader.${randomUUID()}`;
    const onBatch = async ({ partition, messages }: GroupBatch): Promise<number> => {
      let taken = 0;
      for (const message of messages) {
        // A consumer's stop waits for the batch being handled: once stopping, nothing more is applied.
        if (this.lifecycle.stopped) return taken;
        await this.apply(message.value);
        taken++;
        const end = pending.get(partition);
        if (end !== undefined && Number(message.offset) + 1 >= end) {
          pending.delete(partition);
          if (pending.size === 0) caughtUp();
        }
      }
      return taken;
    };
    // Never commits: the group is thrown away at stop, and the next start reads the topic from the beginning.
    this.consumer = createGroupConsumer(this.options.connection, this.logger, {
      groupId: this.groupId,
      topics: [{ topic, fromBeginning: true }],
      maxWaitTimeMs: 200,
      onBatch,
    });
    await this.consumer.start();
    const timeoutMs = this.options.catchUpTimeoutMs ?? 15_000;
    if ((await raceDeadline(caughtUpPromise, timeoutMs)) === TIMED_OUT) {
      this.logger.warn(
        { timeoutMs, topic },
        "control topic not caught up in time; agents without a known state start paused until it is",
      );
      void caughtUpPromise.then(() => this.logger.info({ topic }, "control topic caught up"));
    }
    this.logger.info({ agents: this.applied.size }, "control topic followed");
  }

  private async apply(value: Buffer | null): Promise<void> {
    const decoded = decodeControlRecord(value);
    // A tombstone: a removed agent's key, compacted away; nothing to apply.
    if ("tombstone" in decoded) return;
    if ("invalid" in decoded) {
      this.logger.warn({ reason: decoded.invalid }, "ignoring an invalid control record");
      return;
    }
    const { record } = decoded;
    if (record.kind === "rate_hint") {
      try {
        this.options.onRateHint?.(record.hint);
      } catch (error) {
        this.logger.error(
          { err: error, topic: record.hint.topic, agent: record.hint.agent },
          "applying a rate hint failed",
        );
      }
      return;
    }
    const { state } = record;
    const key = controlKey(state.topic, state.agent);
    if ((this.applied.get(key) ?? -1) >= state.revision) return;
    this.applied.set(key, state.revision);
    try {
      await this.options.onState(state);
    } catch (error) {
      this.logger.error(
        { err: error, topic: state.topic, agent: state.agent },
        "applying desired state failed",
      );
    }
  }

  stop(): Promise<void> {
    return this.lifecycle.stop();
  }

  private async doStop(): Promise<void> {
    await this.release();
  }

  private async release(): Promise<void> {
    const { consumer, admin, groupId } = this;
    this.consumer = undefined;
    this.admin = undefined;
    this.groupId = undefined;
    // Each step is bounded: after a broker restart kafkajs can sit in a rejoin or a retry loop and make
    // disconnect() wait for it, and a worker's shutdown budget must not be spent here. The reader group is
    // throwaway and never commits, so a failed delete only leaves an empty group that Kafka expires by itself.
    await this.bounded("consumer disconnect", consumer?.stop());
    if (groupId) await this.bounded("group delete", admin?.deleteGroup(groupId));
    await this.bounded("admin disconnect", admin?.stop());
  }

  private async bounded(step: string, work: Promise<unknown> | undefined): Promise<void> {
    if (work === undefined) return;
    const stepTimeoutMs = this.options.stopStepTimeoutMs ?? 3000;
    const outcome = await raceDeadline(
      work.catch(() => undefined),
      stepTimeoutMs,
    );
    if (outcome === TIMED_OUT) {
      this.logger.warn({ step, stepTimeoutMs }, "control follower stop step timed out; going on");
    }
  }
}
