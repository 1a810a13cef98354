import { agentNames } from "../naming";
import { DlqDepths } from "./depth";

const dlq = (topic: string, agent: string): string => agentNames(topic, agent).dlqTopic;

describe("DlqDepths", () => {
  it("reports nothing for an agent before its DLQ was read once", () => {
    const depths = new DlqDepths();
    depths.watch("orders", "biller");
    depths.wrote(dlq("orders", "biller"));
    expect(depths.readings()).toEqual([]);
  });

  it("sums high − low over the DLQ's partitions; a missing DLQ topic is empty", async () => {
    const depths = new DlqDepths();
    depths.watch("orders", "biller");
    depths.watch("orders", "mailer");
    const failed = await depths.refresh(async (topic) =>
      topic === dlq("orders", "biller")
        ? [
            { low: "0", high: "3" },
            { low: "10", high: "14" },
            { low: "5", high: "5" },
          ]
        : undefined,
    );
    expect(failed).toEqual({ failed: [], raced: [] });
    expect(depths.readings()).toEqual([
      { topic: "orders", agent: "biller", depth: 7 },
      { topic: "orders", agent: "mailer", depth: 0 },
    ]);
  });

  it("raises the depth at once for a dead letter this process wrote, until the next read corrects it", async () => {
    const depths = new DlqDepths();
    depths.watch("orders", "biller");
    await depths.refresh(async () => [{ low: "0", high: "2" }]);
    depths.wrote(dlq("orders", "biller"));
    depths.wrote(dlq("other", "agent"));
    expect(depths.readings()).toEqual([{ topic: "orders", agent: "biller", depth: 3 }]);
    await depths.refresh(async () => [{ low: "2", high: "3" }]);
    expect(depths.readings()).toEqual([{ topic: "orders", agent: "biller", depth: 1 }]);
  });

  it("keeps the last value of a DLQ whose read failed, and names it", async () => {
    const depths = new DlqDepths();
    depths.watch("orders", "biller");
    await depths.refresh(async () => [{ low: "0", high: "4" }]);
    const error = new Error("broker away");
    const failed = await depths.refresh(async () => {
      throw error;
    });
    expect(failed).toEqual({ failed: [{ dlqTopic: dlq("orders", "biller"), error }], raced: [] });
    expect(depths.readings()).toEqual([{ topic: "orders", agent: "biller", depth: 4 }]);
  });

  it("names a DLQ written to while it was read, and reads only the topics it is asked to", async () => {
    const depths = new DlqDepths();
    depths.watch("orders", "biller");
    depths.watch("orders", "mailer");
    const biller = dlq("orders", "biller");
    const first = await depths.refresh(async (topic) => {
      // The engine hands a dead letter to the manager while the broker answers: the read may not include it.
      if (topic === biller) depths.wrote(biller);
      return [{ low: "0", high: "1" }];
    });
    expect(first.raced).toEqual([biller]);
    const read: string[] = [];
    const second = await depths.refresh(async (topic) => {
      read.push(topic);
      return [{ low: "0", high: "2" }];
    }, first.raced);
    expect(read).toEqual([biller]);
    expect(second).toEqual({ failed: [], raced: [] });
    expect(depths.readings()).toEqual([
      { topic: "orders", agent: "biller", depth: 2 },
      { topic: "orders", agent: "mailer", depth: 1 },
    ]);
  });

  it("watches an agent once however often it is watched, and forgets it when unwatched", async () => {
    const depths = new DlqDepths();
    depths.watch("orders", "biller");
    depths.watch("orders", "biller");
    const read: string[] = [];
    await depths.refresh(async (topic) => {
      read.push(topic);
      return [];
    });
    expect(read).toEqual([dlq("orders", "biller")]);
    depths.unwatch("orders", "biller");
    expect(depths.readings()).toEqual([]);
  });
});
