import { AgentConsumerSet, type StoppableConsumer } from "./agent-consumer-set";

/** A consumer whose stop() stays pending until released, recording when it was called. */
function consumer(name: string, calls: string[]): StoppableConsumer & { release(error?: Error): void } {
  let release: (error?: Error) => void = () => undefined;
  const stopped = new Promise<void>((resolve, reject) => {
    release = (error) => (error ? reject(error) : resolve());
  });
  return {
    name,
    start: () => Promise.resolve(),
    stop: () => {
      calls.push(`stop ${name}`);
      return stopped;
    },
    release: (error?: Error) => release(error),
  };
}

describe("the agent consumers of one process", () => {
  it("are all told to stop at once, not one after another's drain", async () => {
    const calls: string[] = [];
    const a = consumer("a", calls);
    const b = consumer("b", calls);
    const set = new AgentConsumerSet<StoppableConsumer>();
    await set.add(a);
    await set.add(b);

    const stopping = set.stop();
    await Promise.resolve();
    // Neither has finished draining, and both are draining.
    expect(calls).toEqual(["stop a", "stop b"]);
    a.release();
    b.release();
    await expect(stopping).resolves.toBeUndefined();
  });

  it("stop once however often stop() is called, and report the consumers that failed to stop by name", async () => {
    const calls: string[] = [];
    const a = consumer("agent-consumer:t/a", calls);
    const b = consumer("agent-consumer:t/b", calls);
    const set = new AgentConsumerSet<StoppableConsumer>();
    await set.add(a);
    await set.add(b);
    const first = set.stop();
    const second = set.stop();
    b.release(new Error("disconnect failed"));
    a.release();
    await expect(first).rejects.toThrow("agent consumers did not stop cleanly: agent-consumer:t/b");
    expect(second).toBe(first);
    expect(calls).toEqual(["stop agent-consumer:t/a", "stop agent-consumer:t/b"]);
  });

  it("refuse a new consumer once stopping", async () => {
    const set = new AgentConsumerSet<StoppableConsumer>();
    await set.stop();
    await expect(set.add(consumer("late", []))).rejects.toThrow(
      "cannot start late: the agent consumers are stopping",
    );
  });
});
