import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sleep } from "@omnidaemon/lifecycle";
import type { Logger } from "pino";
import { createEnvelope, decodeEnvelope, encodeEnvelope, type Envelope, type NewEnvelope } from "../envelope";
import { ResultNotJsonError, retryAfterMsOf } from "../handler-errors";
import { findNonJson } from "../json-value";
import type { AgentNames } from "../naming";
import type { Publisher } from "../producer";
import type { AgentRuntimeConfig } from "./agent-config";
import { deadLetterRecord, retryRecord, type InboundRecord } from "./dead-letter";
import { failureVerdict, invalidRecordVerdict } from "./failure-policy";
import { HandOff } from "./hand-off";
import { notify } from "./notify";
import type { PartitionState } from "./partitions";
import type {
  AgentHandler,
  DeadLetterReason,
  DeadLetterSink,
  DeliveryContext,
  EngineObserver,
} from "./types";

/** What every delivery of one agent shares: passed in, so a delivery never reaches into its consumer. */
export interface DeliveryScope {
  readonly agent: string;
  /** The consumer's logger; each delivery makes a child of it on first use. */
  readonly logger: Logger;
  /** Publishes a follow-up event of `parent` (`ctx.publish`). */
  followUp(parent: Envelope, event: NewEnvelope): Promise<string>;
}

/**
 * One attempt's context, handed to the callback. Its AbortSignal, workdir and child logger are made on first use:
 * most handlers never touch them, and at tens of thousands of deliveries a second an AbortController and a timer
 * each add up.
 */
export class Delivery implements DeliveryContext {
  readonly agent: string;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  /** The delivery was aborted for a reason that is not the handler's fault (revocation, forced shutdown). */
  abandoned = false;
  /** performance.now() of the abort, if aborted. */
  abortedAt: number | undefined;
  /** The callback was called and has not settled yet (it may outlive an abort if it ignores its signal). */
  callbackRunning = false;
  private settled: Promise<void> | undefined;
  private onSettled: (() => void) | undefined;
  private controller: AbortController | undefined;
  private reason: Error | undefined;
  private rejectRun: ((reason: Error) => void) | undefined;
  private dir: string | undefined;
  private childLogger: Logger | undefined;

  constructor(
    private readonly scope: DeliveryScope,
    private readonly envelope: Envelope,
    record: InboundRecord,
    readonly attempt: number,
    readonly startedAt: number,
  ) {
    this.agent = scope.agent;
    this.topic = record.topic;
    this.partition = record.partition;
    this.offset = String(record.offset);
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.reason) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  /** Runs the handler; settles with it, or rejects with the abort reason as soon as the delivery is aborted. */
  run(handler: AgentHandler): Promise<unknown> {
    return new Promise<unknown>((resolve, reject) => {
      if (this.reason) return reject(this.reason);
      this.rejectRun = reject;
      let outcome: unknown;
      try {
        outcome = handler(this.envelope, this);
      } catch (error) {
        return reject(error as Error);
      }
      if (outcome !== null && typeof (outcome as Promise<unknown>)?.then === "function") {
        this.callbackRunning = true;
        (outcome as Promise<unknown>).then(
          (value) => {
            this.callbackDone();
            resolve(value);
          },
          (error: unknown) => {
            this.callbackDone();
            reject(error as Error);
          },
        );
      } else {
        resolve(outcome);
      }
    });
  }

  /** Settles when the callback itself has settled, which may be long after the engine stopped waiting for it. */
  get callbackSettled(): Promise<void> {
    if (!this.callbackRunning) return Promise.resolve();
    // Made only for an aborted callback that is still running: the common path allocates nothing.
    this.settled ??= new Promise<void>((resolve) => (this.onSettled = resolve));
    return this.settled;
  }

  private callbackDone(): void {
    this.callbackRunning = false;
    this.onSettled?.();
  }

  /** Deadline (`abandon` false: the attempt counts), revocation or forced shutdown (`abandon` true: it does not). */
  abort(reason: Error, abandon: boolean): void {
    if (this.reason) return;
    this.reason = reason;
    this.abortedAt = performance.now();
    this.abandoned = abandon;
    this.controller?.abort(reason);
    this.rejectRun?.(reason);
  }

  get taskId(): string {
    return this.envelope.id;
  }

  get logger(): Logger {
    this.childLogger ??= this.scope.logger.child({
      taskId: this.envelope.id,
      correlationId: this.envelope.correlation_id ?? undefined,
      tenantId: this.envelope.tenant_id ?? undefined,
      attempt: this.attempt,
    });
    return this.childLogger;
  }

  get workdir(): string {
    this.dir ??= mkdtempSync(join(tmpdir(), `omnidaemon-${this.agent}-`));
    return this.dir;
  }

  publish(event: NewEnvelope): Promise<string> {
    return this.scope.followUp(this.envelope, event);
  }

  dispose(): void {
    if (this.dir !== undefined) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** What one delivery run tells the scheduler's in-flight accounting (the scheduler keeps it). */
export interface InFlightDeliveries {
  /** A callback starts: the deadline sweep and forced aborts see it from now on. */
  started(delivery: Delivery, partition: PartitionState): void;
  /** The attempt is over; a callback still running after its abort keeps its key and slot until it settles. */
  ended(delivery: Delivery, partition: PartitionState, record: InboundRecord): void;
  /**
   * Resolves once the aborted callback of `record`'s previous attempt (if any) has settled, at most `abortGraceMs`
   * after its abort; undefined when there is none (the common case allocates nothing).
   */
  untilSettled(record: InboundRecord): Promise<void> | undefined;
}

type AttemptOutcome =
  | { kind: "succeeded"; result: unknown; durationMs: number }
  | { kind: "failed"; error: unknown; durationMs: number }
  | { kind: "abandoned" };

export interface DeliveryRunnerOptions {
  names: AgentNames;
  config: AgentRuntimeConfig;
  handler: AgentHandler;
  /** Retries, replies and follow-up events. */
  publisher: Publisher;
  deadLetters: DeadLetterSink;
  logger: Logger;
  observer: EngineObserver;
  inFlight: InFlightDeliveries;
  /** Aborted when a drain deadline passes or shutdown is forced: a hand-off in progress gives up. */
  forced(): AbortSignal;
  /** The record is done (its offset may be committed), unless its partition was revoked meanwhile. */
  complete(state: PartitionState, record: InboundRecord): void;
  /** Whether the agent has fleet-wide limits now: a push-back is then a wait (failure-policy.ts). */
  waitOnRetryAfter(): boolean;
  /**
   * A callback threw `RetryAfterError(retryAfterMs)`: the provider pushes back (the consumer's throttle lowers the
   * agent's rate, docs/rate-limits.md). `startedAt`: epoch ms the attempt started. Must not throw.
   */
  onPushBack?(retryAfterMs: number, startedAt: number): void;
}

/**
 * One record, start to finish: decode it, call the callback (again in place for a strict-order retry), publish
 * its reply, and execute the failure policy's verdict — a retry record, a dead letter, or nothing — before the
 * record counts as done. Everything a callback does wrong ends here as a verdict; only a revoked partition or a
 * forced shutdown leaves a record undone (another worker then repeats it).
 */
export class DeliveryRunner implements DeliveryScope {
  readonly agent: string;
  readonly logger: Logger;
  private readonly handOff: HandOff;

  constructor(private readonly options: DeliveryRunnerOptions) {
    this.agent = options.names.agent;
    this.logger = options.logger;
    this.handOff = new HandOff({
      names: options.names,
      publisher: options.publisher,
      logger: options.logger,
      forced: options.forced,
    });
  }

  async run(record: InboundRecord, state: PartitionState): Promise<void> {
    if (state.revoked.signal.aborted) return;
    const { names, config, observer } = this.options;
    const decoded = decodeEnvelope(record.value);
    if (!decoded.ok) {
      const error = Object.assign(new Error(decoded.reason), { name: "InvalidEnvelope" });
      this.logger.warn(
        { offset: record.offset, partition: record.partition, reason: decoded.reason },
        "invalid record",
      );
      const verdict = invalidRecordVerdict(error);
      await this.deadLetter(state, record, verdict.reason, error, record.attempt);
      return;
    }
    let attempt = record.attempt;
    let waits = record.waits;
    for (;;) {
      const envelope: Envelope =
        decoded.envelope.delivery_attempts === attempt
          ? decoded.envelope
          : { ...decoded.envelope, delivery_attempts: attempt };
      let outcome = await this.attempt(state, record, envelope, attempt);
      if (outcome.kind === "abandoned") return;
      if (outcome.kind === "succeeded") {
        const reply = envelope.reply_to ? await this.handOff.reply(state, envelope, outcome.result) : true;
        if (reply === false) return;
        if (reply === true) {
          // Reported only now: a task whose reply can never be published ends dead-lettered, not completed.
          const { durationMs, result } = outcome;
          if (observer.onSucceeded) {
            notify(this.logger, "onSucceeded", () =>
              observer.onSucceeded?.({
                envelope,
                attempt,
                replays: record.replays,
                agent: names.agent,
                durationMs,
                result,
              }),
            );
          }
          this.options.complete(state, record);
          return;
        }
        outcome = { kind: "failed", error: reply, durationMs: outcome.durationMs };
      }
      const { error, durationMs } = outcome;
      const pushBack = retryAfterMsOf(error);
      if (typeof pushBack === "number" && pushBack >= 0 && this.options.onPushBack) {
        const startedAt = Date.now() - durationMs;
        notify(this.logger, "onPushBack", () => this.options.onPushBack?.(pushBack, startedAt));
      }
      const verdict = failureVerdict(
        { error, attempt, waits },
        { ...config, waitOnRetryAfter: this.options.waitOnRetryAfter() },
      );
      notify(this.logger, "onFailed", () =>
        observer.onFailed?.({
          envelope,
          attempt,
          replays: record.replays,
          agent: names.agent,
          durationMs,
          error,
          summary: verdict.summary,
          outcome: verdict.outcome,
        }),
      );
      this.logger.warn(
        { taskId: envelope.id, attempt, err: error, next: verdict.outcome },
        "delivery failed",
      );
      if (verdict.outcome === "retry") {
        if (config.strictKeyOrder) {
          // In place: the key stays locked, so this key's later events wait behind this one.
          const stop = AbortSignal.any([state.revoked.signal, this.options.forced()]);
          await sleep(verdict.delayMs, { signal: stop });
          if (stop.aborted) return;
          if (verdict.wait) waits++;
          else attempt++;
          continue;
        }
        const nextAttempt = verdict.wait ? attempt : attempt + 1;
        const value = encodeEnvelope(
          { ...decoded.envelope, delivery_attempts: nextAttempt },
          Number.MAX_SAFE_INTEGER,
        );
        const failure = { error, attempt, now: Date.now() };
        const next = retryRecord(
          { ...record, waits },
          names,
          failure,
          value,
          failure.now + verdict.delayMs,
          verdict.wait === true,
        );
        if (!(await this.handOff.durably(state, next, () => this.options.publisher.send(next)))) return;
        this.options.complete(state, record);
      } else if (verdict.outcome === "dead_letter") {
        await this.deadLetter(state, record, verdict.reason, error, attempt, envelope);
      } else {
        this.options.complete(state, record);
      }
      return;
    }
  }

  /** The envelope of a follow-up event: correlation and tenant inherited, causation this task. */
  async followUp(parent: Envelope, event: NewEnvelope): Promise<string> {
    const envelope = createEnvelope({
      ...event,
      correlationId: event.correlationId ?? parent.correlation_id ?? parent.id,
      causationId: event.causationId ?? parent.id,
      tenantId: event.tenantId ?? parent.tenant_id ?? null,
      source: event.source ?? this.agent,
    });
    await this.options.publisher.publish(envelope, event.key === undefined ? {} : { key: event.key });
    return envelope.id;
  }

  private async attempt(
    state: PartitionState,
    record: InboundRecord,
    envelope: Envelope,
    attempt: number,
  ): Promise<AttemptOutcome> {
    const { inFlight, observer, names } = this.options;
    // A strict-order retry in place: the previous attempt's callback may still be running after its deadline.
    const previous = inFlight.untilSettled(record);
    if (previous) await previous;
    const delivery = new Delivery(this, envelope, record, attempt, performance.now());
    inFlight.started(delivery, state);
    if (observer.onStarted) {
      notify(this.logger, "onStarted", () =>
        observer.onStarted?.({ envelope, attempt, replays: record.replays, agent: names.agent }),
      );
    }
    try {
      const result = await delivery.run(this.options.handler);
      const durationMs = performance.now() - delivery.startedAt;
      const normalized = result === undefined ? null : result;
      const problem = findNonJson(normalized, "result");
      if (problem !== undefined) {
        const error = new ResultNotJsonError(`callback returned non-JSON: ${problem}`);
        return { kind: "failed", error, durationMs };
      }
      return { kind: "succeeded", result: normalized, durationMs };
    } catch (error) {
      // Revocation and forced shutdown are not the handler's fault: the attempt does not count, nothing commits.
      if (delivery.abandoned) return { kind: "abandoned" };
      return { kind: "failed", error, durationMs: performance.now() - delivery.startedAt };
    } finally {
      inFlight.ended(delivery, state, record);
    }
  }

  /** Hands the record to the DLQ sink until acknowledged; then it is done. */
  private async deadLetter(
    state: PartitionState,
    record: InboundRecord,
    reason: DeadLetterReason,
    error: unknown,
    attempt: number,
    envelope?: Envelope,
  ): Promise<void> {
    const { names, deadLetters, observer } = this.options;
    const letter = deadLetterRecord(record, names, { reason, error, attempt, now: Date.now() });
    const meta = { topic: names.topic, agent: names.agent, reason };
    if (!(await this.handOff.durably(state, letter, () => deadLetters.deadLetter(letter, meta)))) return;
    notify(this.logger, "onDeadLettered", () =>
      observer.onDeadLettered?.({
        agent: names.agent,
        topic: names.topic,
        reason,
        ...(envelope === undefined ? {} : { envelope }),
      }),
    );
    this.options.complete(state, record);
  }
}
