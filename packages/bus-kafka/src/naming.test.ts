import { agentNames, defaultAgentName, validateAgentName, validateTopic } from "./naming";

describe("naming", () => {
  it("derives group, retry and DLQ names deterministically from (topic, agent)", () => {
    expect(agentNames("file.uploaded", "file-processor")).toEqual({
      topic: "file.uploaded",
      agent: "file-processor",
      groupId: "omnidaemon.file.uploaded.file-processor",
      retryTopic: "omnidaemon.retry.file.uploaded.file-processor",
      dlqTopic: "omnidaemon.dlq.file.uploaded.file-processor",
    });
  });

  it("derives a default agent name from the topic, never a random one", () => {
    expect(defaultAgentName("file.uploaded")).toBe("file-uploaded-agent");
    expect(defaultAgentName("file.uploaded")).toBe(defaultAgentName("file.uploaded"));
  });

  it("rejects names that would collide or that Kafka refuses, naming the field", () => {
    expect(() => validateAgentName("a.b")).toThrow(/name "a\.b"/);
    expect(() => validateTopic("has space")).toThrow(/topic/);
    expect(() => validateTopic("omnidaemon.dlq.x")).toThrow(/reserved/);
    expect(() => validateTopic("")).toThrow(/topic is required/);
    expect(() => agentNames("t", "x".repeat(260))).toThrow(/249/);
  });

  it("refuses Kafka's internal topics and names that collide with the system topics, naming the field", () => {
    expect(() => validateTopic("__consumer_offsets", "reply_to")).toThrow(
      /^reply_to "__consumer_offsets" .*internal/,
    );
    expect(() => validateTopic("__transaction_state")).toThrow(/internal/);
    expect(() => validateTopic("__anything")).toThrow(/internal/);
    // Kafka treats "." and "_" as the same character in topic names, so these collide with omnidaemon.*.
    expect(() => validateTopic("omnidaemon_control")).toThrow(/reserved/);
    expect(() => validateTopic("omnidaemon_dlq.x.y")).toThrow(/reserved/);
    expect(validateTopic("_single.underscore")).toBe("_single.underscore");
    expect(validateTopic("my_omnidaemon_control")).toBe("my_omnidaemon_control");
  });
});
