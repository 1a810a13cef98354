// Reads the control topic as a worker's follower does — from the beginning, then following — and decodes each record
// with bus-kafka's follower-side decoder, for the suites that check what a control change puts on the wire.
import { decodeControlRecord, SYSTEM_TOPICS } from "@omnidaemon/bus-kafka";
import type { ControlRecord } from "@omnidaemon/protocol";
import type { Consumer } from "kafkajs";
import { rawKafka } from "./kafka";
import { uniqueName } from "./names";
import { waitFor } from "./wait";

export interface SeenControlRecord {
  key: string;
  record: ControlRecord;
  /** When this reader got it (epoch ms). */
  seenAt: number;
}

/** A throwaway-group reader of the control topic that keeps the decoded records whose key `wanted` accepts. */
export class ControlTopicReader {
  readonly records: SeenControlRecord[] = [];
  /** Values on the topic that are not control records, with the reason (kept so a test can assert none). */
  readonly invalid: Array<{ key: string; reason: string }> = [];
  private readonly kafka = rawKafka("control-reader-test");
  private readonly groupId = uniqueName("control-reader-test");
  private consumer: Consumer | undefined;

  constructor(private readonly wanted: (key: string) => boolean) {}

  async start(): Promise<void> {
    const consumer = this.kafka.consumer({ groupId: this.groupId, maxWaitTimeInMs: 100 });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topic: SYSTEM_TOPICS.control, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ message }) => {
        const key = message.key?.toString("utf8") ?? "";
        if (!this.wanted(key)) return;
        const decoded = decodeControlRecord(message.value);
        if ("record" in decoded) this.records.push({ key, record: decoded.record, seenAt: Date.now() });
        else if ("invalid" in decoded) this.invalid.push({ key, reason: decoded.invalid });
      },
    });
  }

  /** The first record (in arrival order) that `match` accepts, waiting up to `timeoutMs` for it. */
  waitFor<T>(
    what: string,
    match: (seen: SeenControlRecord) => T | undefined,
    timeoutMs = 15_000,
  ): Promise<T> {
    return waitFor(
      what,
      () => {
        for (const seen of this.records) {
          const value = match(seen);
          if (value !== undefined) return value;
        }
        return undefined;
      },
      timeoutMs,
      50,
    );
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
    const admin = this.kafka.admin();
    await admin.connect();
    await admin.deleteGroups([this.groupId]).catch(() => undefined);
    await admin.disconnect();
  }
}
