import type { RecordHeaders } from "../headers";

/** One record as the bus writes it; the value is already encoded. */
export interface OutgoingRecord {
  topic: string;
  /** UTF-8 key; the partition is `murmur2(key)` as the Java client computes it (the same on every driver). */
  key: string | null;
  /** null writes a tombstone. */
  value: Buffer | null;
  headers?: RecordHeaders;
  /** Explicit partition; otherwise the key decides (a null key: the driver spreads the records). */
  partition?: number;
}

/**
 * The Kafka producer the bus writes through. Every driver is idempotent with acks=all, one request in flight per
 * broker (so a retried request cannot reorder records) and never creates topics. Errors are
 * {@link import("./errors").KafkaDriverError}s.
 */
export interface ProducerDriver {
  /** Opens the connections and (idempotence) gets a producer id; fails when the cluster cannot be reached. */
  connect(): Promise<void>;
  /** Closes the connections. Safe to call after a failed connect. */
  disconnect(): Promise<void>;
  /**
   * Sends `records` (any topics and partitions) and resolves once the broker acknowledged all of them. Records of
   * one partition keep their order. A failure may leave some of them written (at least once).
   */
  send(records: OutgoingRecord[]): Promise<void>;
}
