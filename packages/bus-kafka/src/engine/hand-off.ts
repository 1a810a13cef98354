import { sleep } from "@omnidaemon/lifecycle";
import type { Logger } from "pino";
import { createEnvelope, encodeEnvelope, type Envelope } from "../envelope";
import { BusError } from "../errors";
import { ReplyRejectedError } from "../handler-errors";
import type { AgentNames } from "../naming";
import type { OutgoingRecord, Publisher } from "../producer";
import { backoffMs } from "./backoff";
import type { PartitionState } from "./partitions";

export interface HandOffOptions {
  names: AgentNames;
  publisher: Publisher;
  logger: Logger;
  /** Aborted when a drain deadline passes or shutdown is forced. */
  forced(): AbortSignal;
}

/**
 * What a record's end publishes before its offset may complete — its reply, its retry record, its dead letter —
 * retried until the broker acknowledges it, so a broker outage delays events but never drops them.
 */
export class HandOff {
  constructor(private readonly options: HandOffOptions) {}

  /** True once acknowledged; false when abandoned (revoked, forced); the error when the reply can never go out. */
  async reply(
    state: PartitionState,
    envelope: Envelope,
    result: unknown,
  ): Promise<boolean | ReplyRejectedError> {
    const reply = createEnvelope({
      topic: envelope.reply_to as string,
      content: result,
      correlationId: envelope.correlation_id ?? null,
      causationId: envelope.id,
      tenantId: envelope.tenant_id ?? null,
      source: this.options.names.agent,
    });
    const record: OutgoingRecord = {
      topic: reply.topic,
      key: reply.correlation_id ?? reply.id,
      value: encodeEnvelope(reply, Number.MAX_SAFE_INTEGER),
    };
    const sent = await this.durably(state, record, () => this.options.publisher.send(record), true);
    if (!(sent instanceof BusError)) return sent;
    return new ReplyRejectedError(`reply_to "${reply.topic}" cannot be published: ${sent.message}`, {
      cause: sent,
    });
  }

  /**
   * Runs `send` (the publish of `record`) until it succeeds, or until the partition is revoked or shutdown is
   * forced (then false: the record stays undone, and its next owner repeats it). A record the broker refuses for
   * good (`PUBLISH_REJECTED`) is returned as the error when `rejectable`; the engine's own retry and DLQ records
   * are not (their topics are the agent's own): those keep being retried, without holding up anyone else's
   * records, until an operator fixes the topic.
   */
  async durably(state: PartitionState, record: OutgoingRecord, send: () => Promise<void>): Promise<boolean>;
  async durably(
    state: PartitionState,
    record: OutgoingRecord,
    send: () => Promise<void>,
    rejectable: true,
  ): Promise<boolean | BusError>;
  async durably(
    state: PartitionState,
    record: OutgoingRecord,
    send: () => Promise<void>,
    rejectable = false,
  ): Promise<boolean | BusError> {
    for (let attempt = 1; ; attempt++) {
      const forced = this.options.forced();
      if (state.revoked.signal.aborted || forced.aborted) return false;
      try {
        await send();
        return true;
      } catch (error) {
        // Only the broker's verdict on the record; STOPPED and the like are not about the record.
        const rejected = error instanceof BusError && error.code === "PUBLISH_REJECTED";
        if (rejected && rejectable) return error;
        const fields = { err: error, topic: record.topic, attempt };
        if (rejected) this.options.logger.error(fields, "record rejected by the broker; retrying");
        else this.options.logger.warn(fields, "publish failed; retrying");
        await sleep(backoffMs(attempt, 200, 10_000), {
          signal: AbortSignal.any([state.revoked.signal, forced]),
        });
      }
    }
  }
}
