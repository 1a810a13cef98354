import type { AgentConsumer } from "@omnidaemon/bus-kafka";

/** What the set needs of a consumer (an `AgentConsumer`); tests pass plain objects. */
export type StoppableConsumer = Pick<AgentConsumer, "name" | "start" | "stop">;

export interface AgentConsumerSetOptions {
  /** What `start()` does: add (and so start) the consumer of every registered agent. @default nothing */
  startAll?: () => Promise<void>;
}

/**
 * Every agent consumer of one process, as one service: `start()` brings up every registered agent (`startAll`),
 * later agents are added one by one, and all stop together. Entered into a stack one by one, they would stop one after another — the later ones still
 * fetching and starting work while the earlier ones drain, each with a full drain deadline of its own — so a
 * worker with several busy agents would overrun its shutdown budget. Here every consumer's `stop()` is called in
 * the same tick: all stop fetching at once and drain in parallel, within their (shared) drain deadline.
 */
export class AgentConsumerSet<C extends StoppableConsumer = AgentConsumer> {
  readonly name = "agent-consumers";
  private readonly members: C[] = [];
  private stopPromise: Promise<void> | undefined;

  constructor(private readonly options: AgentConsumerSetOptions = {}) {}

  /**
   * Starts every registered agent's consumer (`startAll`). If one fails, the error is thrown and the stack stops
   * the set, with the consumers already added.
   */
  async start(): Promise<void> {
    if (this.stopPromise) throw new Error("the agent consumers are stopping");
    await this.options.startAll?.();
  }

  /** Starts a consumer as a member of the set; refused once the set is stopping. */
  async add(consumer: C): Promise<void> {
    if (this.stopPromise) throw new Error(`cannot start ${consumer.name}: the agent consumers are stopping`);
    // A member before it starts: a stop that comes during the start stops it too (stop() is safe on any phase).
    this.members.push(consumer);
    await consumer.start();
  }

  /** Stops every member in parallel. Idempotent; rejects, naming them, if some did not stop cleanly. */
  stop(): Promise<void> {
    this.stopPromise ??= (async () => {
      const members = [...this.members];
      const results = await Promise.allSettled(members.map((consumer) => consumer.stop()));
      const failed = results.flatMap((result, i) =>
        result.status === "rejected"
          ? [{ name: (members[i] as C).name, reason: result.reason as unknown }]
          : [],
      );
      if (failed.length > 0) {
        throw new AggregateError(
          failed.map((f) => f.reason),
          `agent consumers did not stop cleanly: ${failed.map((f) => f.name).join(", ")}`,
        );
      }
    })();
    return this.stopPromise;
  }
}
