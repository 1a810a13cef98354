import { agentNames } from "../naming";

/** One agent's DLQ depth, as the worker reports it. */
export interface DlqDepth {
  topic: string;
  agent: string;
  /** Records in the agent's dead-letter topic: entries and replay markers, as a purge counts them. */
  depth: number;
}

/** Low and high watermark of each partition of a topic, or undefined when it does not exist (`BusAdmin.topicOffsets`). */
export type TopicWatermarks = (topic: string) => Promise<Array<{ low: string; high: string }> | undefined>;

interface Watched {
  topic: string;
  agent: string;
  dlqTopic: string;
  /** Undefined until the first read. */
  depth: number | undefined;
  /** Dead letters this process wrote to it, ever: a read that raced with a write is read again. */
  written: number;
}

export interface DepthRefresh {
  /** DLQ topics whose read failed (their depth is kept). */
  failed: Array<{ dlqTopic: string; error: unknown }>;
  /** DLQ topics this process wrote to while they were read: the read may have missed the write. */
  raced: string[];
}

/**
 * The depth of each watched agent's DLQ: read from the topic's watermarks (high − low, summed over partitions) —
 * cheap, and the same count a purge deletes — and raised at once by each dead letter this process writes, so the
 * gauge moves between two reads. A read that fails keeps the last value; the next read corrects everything.
 * (Replays add markers and purges and retention remove records on the broker: only a read sees those.)
 */
export class DlqDepths {
  private readonly watched = new Map<string, Watched>();

  /** Starts reporting the depth of one agent's DLQ (idempotent). */
  watch(topic: string, agent: string): void {
    const names = agentNames(topic, agent);
    if (this.watched.has(names.dlqTopic)) return;
    this.watched.set(names.dlqTopic, {
      topic,
      agent,
      dlqTopic: names.dlqTopic,
      depth: undefined,
      written: 0,
    });
  }

  unwatch(topic: string, agent: string): void {
    this.watched.delete(agentNames(topic, agent).dlqTopic);
  }

  /** This process wrote one dead letter to `dlqTopic`. */
  wrote(dlqTopic: string): void {
    const entry = this.watched.get(dlqTopic);
    if (entry === undefined) return;
    entry.written++;
    if (entry.depth !== undefined) entry.depth++;
  }

  /**
   * Reads the watermarks of every watched DLQ (or of `only`). A read that fails keeps the last value; one that raced
   * with this process's own write is reported in `raced`, for the caller to read again.
   */
  async refresh(watermarks: TopicWatermarks, only?: readonly string[]): Promise<DepthRefresh> {
    const result: DepthRefresh = { failed: [], raced: [] };
    const entries = [...this.watched.values()].filter((e) => only === undefined || only.includes(e.dlqTopic));
    // One after another: a worker with fifty agents must not send fifty metadata requests at once every period.
    for (const entry of entries) {
      const written = entry.written;
      try {
        const partitions = await watermarks(entry.dlqTopic);
        entry.depth = (partitions ?? []).reduce(
          (sum, { low, high }) => sum + Math.max(0, Number(BigInt(high) - BigInt(low))),
          0,
        );
        if (entry.written !== written) result.raced.push(entry.dlqTopic);
      } catch (error) {
        result.failed.push({ dlqTopic: entry.dlqTopic, error });
      }
    }
    return result;
  }

  /** The depths known now, one per watched agent that was read at least once. */
  readings(): DlqDepth[] {
    return [...this.watched.values()].flatMap(({ topic, agent, depth }) =>
      depth === undefined ? [] : [{ topic, agent, depth }],
    );
  }
}
