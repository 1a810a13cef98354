import { snakeKeys } from "./control-plane";

describe("snakeKeys (bus results to the API's snake_case)", () => {
  it("converts the keys of bus objects at any depth", () => {
    expect(snakeKeys({ groupId: "g", partitions: [{ topicName: "t", committedOffset: "1" }] })).toEqual({
      group_id: "g",
      partitions: [{ topic_name: "t", committed_offset: "1" }],
    });
  });

  it("leaves a DLQ entry's envelope and headers as they travelled: the user's content keys are not renamed", () => {
    const entry = {
      taskId: "t-1",
      sourceTopic: "orders",
      envelope: { id: "t-1", content: { failWhileExists: "/tmp/x", nested: { camelCase: 1 } } },
      headers: { "omni-error-class": "TypeError", traceparent: "00-abc" },
    };
    const replay = { dryRun: true, replayed: [entry], skipped: [{ entry, reason: "replayed before" }] };
    expect(snakeKeys(replay)).toEqual({
      dry_run: true,
      replayed: [
        {
          task_id: "t-1",
          source_topic: "orders",
          envelope: entry.envelope,
          headers: entry.headers,
        },
      ],
      skipped: [
        {
          entry: { task_id: "t-1", source_topic: "orders", envelope: entry.envelope, headers: entry.headers },
          reason: "replayed before",
        },
      ],
    });
  });
});
