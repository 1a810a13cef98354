import { HEADER } from "../headers";
import { entryKey, parseDlqRecord, parseEntryKey, type DlqRecord } from "./entry";

const envelope = {
  id: "task-1",
  topic: "orders",
  content: { n: 1 },
  correlation_id: "c-1",
  created_at: 1_700_000_000,
  delivery_attempts: 1,
};

function record(overrides: Partial<DlqRecord> = {}): DlqRecord {
  return {
    partition: 2,
    offset: "17",
    timestamp: "1700000009000",
    key: Buffer.from("c-1"),
    value: Buffer.from(JSON.stringify(envelope)),
    headers: {
      [HEADER.originTopic]: "orders",
      [HEADER.originPartition]: "5",
      [HEADER.originOffset]: "42",
      [HEADER.agent]: "billing",
      [HEADER.consumerGroup]: "omnidaemon.orders.billing",
      [HEADER.attempt]: "4",
      [HEADER.errorClass]: "TypeError",
      [HEADER.errorMessage]: "boom",
      [HEADER.errorStack]: "TypeError: boom\n    at x",
      [HEADER.firstFailureAt]: "1700000001000",
      [HEADER.lastFailureAt]: "1700000008000",
      [HEADER.dlqReason]: "retries_exhausted",
      "user-header": "kept",
    },
    ...overrides,
  };
}

describe("parseDlqRecord", () => {
  it("decodes the envelope and every provenance header", () => {
    const parsed = parseDlqRecord(record());
    expect(parsed.kind).toBe("entry");
    if (parsed.kind !== "entry") return;
    expect(parsed.entry).toMatchObject({
      partition: 2,
      offset: "17",
      key: "c-1",
      taskId: "task-1",
      envelope: expect.objectContaining({ id: "task-1", content: { n: 1 } }),
      rawValue: JSON.stringify(envelope),
      reason: "retries_exhausted",
      errorClass: "TypeError",
      errorMessage: "boom",
      errorStack: "TypeError: boom\n    at x",
      attempts: 4,
      sourceTopic: "orders",
      sourcePartition: 5,
      sourceOffset: "42",
      agent: "billing",
      consumerGroup: "omnidaemon.orders.billing",
      firstFailureAt: 1_700_000_001_000,
      lastFailureAt: 1_700_000_008_000,
      deadLetteredAt: 1_700_000_009_000,
      replayed: false,
    });
    expect(parsed.entry.headers["user-header"]).toBe("kept");
  });

  it("keeps a task id from an invalid envelope and shows the raw value", () => {
    const value = Buffer.from(JSON.stringify({ id: "task-2", topic: "orders" }));
    const parsed = parseDlqRecord(record({ value, headers: { [HEADER.dlqReason]: "invalid_record" } }));
    if (parsed.kind !== "entry") throw new Error("expected an entry");
    expect(parsed.entry.envelope).toBeUndefined();
    expect(parsed.entry.taskId).toBe("task-2");
    expect(parsed.entry.rawValue).toBe(value.toString());
    expect(parsed.entry.reason).toBe("invalid_record");
  });

  it("handles a value that is not JSON, a null value and a null key", () => {
    const notJson = parseDlqRecord(record({ value: Buffer.from("not json") }));
    if (notJson.kind !== "entry") throw new Error("expected an entry");
    expect(notJson.entry.taskId).toBeUndefined();
    expect(notJson.entry.rawValue).toBe("not json");

    const empty = parseDlqRecord(record({ value: null, key: null, headers: {} }));
    if (empty.kind !== "entry") throw new Error("expected an entry");
    expect(empty.entry).toMatchObject({ key: null, rawValue: null, valueBytes: 0, replayed: false });
    expect(empty.entry.attempts).toBeUndefined();
  });

  it("clips a long value but reports its full size", () => {
    const value = Buffer.from("x".repeat(1000));
    const parsed = parseDlqRecord(record({ value }), 100);
    if (parsed.kind !== "entry") throw new Error("expected an entry");
    expect(parsed.entry.rawValue?.startsWith("x".repeat(100))).toBe(true);
    expect(parsed.entry.rawValue?.length).toBeLessThan(200);
    expect(parsed.entry.valueBytes).toBe(1000);
  });

  it("ignores malformed numeric headers instead of reporting NaN", () => {
    const parsed = parseDlqRecord(
      record({
        headers: { [HEADER.attempt]: "many", [HEADER.originOffset]: "-3", [HEADER.lastFailureAt]: "" },
      }),
    );
    if (parsed.kind !== "entry") throw new Error("expected an entry");
    expect(parsed.entry.attempts).toBeUndefined();
    expect(parsed.entry.sourceOffset).toBeUndefined();
    expect(parsed.entry.lastFailureAt).toBeUndefined();
  });

  it("recognises a replay marker and normalises its target", () => {
    expect(parseDlqRecord(record({ value: null, headers: { [HEADER.replayedMarker]: "2:017" } }))).toEqual({
      kind: "marker",
      target: "2:17",
    });
    expect(parseDlqRecord(record({ value: null, headers: { [HEADER.replayedMarker]: "junk" } }))).toEqual({
      kind: "marker",
      target: undefined,
    });
  });
});

describe("entry keys", () => {
  it("round-trips partition and offset", () => {
    expect(entryKey(3, "9007199254740993")).toBe("3:9007199254740993");
    expect(parseEntryKey("3:9007199254740993")).toEqual({ partition: 3, offset: "9007199254740993" });
    expect(parseEntryKey(" 0:0 ")).toEqual({ partition: 0, offset: "0" });
  });

  it("rejects anything else", () => {
    for (const text of ["", "3", "3:", ":4", "-1:4", "1:-4", "1:4.5", "a:b", "1:2:3"]) {
      expect(parseEntryKey(text)).toBeUndefined();
    }
  });
});
