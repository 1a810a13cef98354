import { BusError } from "../errors";
import { HEADER } from "../headers";
import type { DlqEntry } from "./entry";
import {
  markerHeaders,
  parseReplaySelector,
  planReplay,
  replayHeaders,
  type DlqReplayOptions,
} from "./replay-plan";

function entry(partition: number, offset: string, overrides: Partial<DlqEntry> = {}): DlqEntry {
  return {
    partition,
    offset,
    key: null,
    rawValue: null,
    valueBytes: 0,
    deadLetteredAt: 1000,
    replayed: false,
    headers: {},
    ...overrides,
  };
}

function refusal(options: DlqReplayOptions): { field: string | undefined; message: string } {
  try {
    parseReplaySelector(options);
  } catch (error) {
    expect(error).toBeInstanceOf(BusError);
    expect((error as BusError).code).toBe("REPLAY_REFUSED");
    return { field: (error as BusError).field, message: (error as BusError).message };
  }
  throw new Error("expected a refusal");
}

describe("parseReplaySelector", () => {
  it("takes exactly one selector", () => {
    expect(parseReplaySelector({ all: true })).toEqual({ kind: "all" });
    expect(parseReplaySelector({ ids: ["a", "a", "b"] })).toEqual({ kind: "ids", ids: ["a", "b"] });
    expect(
      parseReplaySelector({
        offsets: [
          { partition: 1, offset: 7 },
          { partition: 1, offset: "07" },
        ],
      }),
    ).toEqual({
      kind: "offsets",
      keys: ["1:7"],
    });
    expect(parseReplaySelector({ filter: { errorClass: "E" } })).toEqual({
      kind: "filter",
      filter: { errorClass: "E" },
    });
    expect(parseReplaySelector({ all: false, ids: ["a"] })).toEqual({ kind: "ids", ids: ["a"] });
  });

  it("refuses no selector, naming the field to set", () => {
    expect(refusal({})).toMatchObject({ field: "all", message: expect.stringContaining("none was given") });
    expect(refusal({ dryRun: true, force: true }).field).toBe("all");
  });

  it("refuses two selectors, naming the second", () => {
    expect(refusal({ all: true, ids: ["a"] })).toMatchObject({
      field: "ids",
      message: expect.stringContaining("all and ids"),
    });
    expect(refusal({ ids: ["a"], filter: { reason: "x" } }).field).toBe("filter");
  });

  it("refuses empty or malformed selectors", () => {
    expect(refusal({ ids: [] }).field).toBe("ids");
    expect(refusal({ ids: ["a", ""] }).field).toBe("ids.1");
    expect(refusal({ offsets: [] }).field).toBe("offsets");
    expect(refusal({ offsets: [{ partition: -1, offset: 0 }] }).field).toBe("offsets.0");
    expect(
      refusal({
        offsets: [
          { partition: 0, offset: 1 },
          { partition: 0, offset: "x" },
        ],
      }).field,
    ).toBe("offsets.1");
    expect(refusal({ filter: {} }).field).toBe("filter");
    expect(refusal({ filter: { since: -5 } }).field).toBe("filter.since");
    expect(refusal({ all: "yes" as unknown as boolean }).field).toBe("all");
  });
});

describe("planReplay", () => {
  const entries = [
    entry(0, "0", { taskId: "a", errorClass: "TypeError" }),
    entry(0, "1", { taskId: "b", errorClass: "RangeError", replayed: true }),
    entry(1, "0", { taskId: "a", errorClass: "TypeError", replayed: true }),
    entry(1, "1", { errorClass: "TypeError" }),
  ];

  it("replays everything not replayed before, skipping the rest", () => {
    const plan = planReplay(entries, { kind: "all" }, false);
    expect(plan.replay.map((e) => `${e.partition}:${e.offset}`)).toEqual(["0:0", "1:1"]);
    expect(plan.skipped.map((s) => [`${s.entry.partition}:${s.entry.offset}`, s.reason])).toEqual([
      ["0:1", "already replayed"],
      ["1:0", "already replayed"],
    ]);
    expect(plan.notFound).toEqual([]);
  });

  it("replays replayed entries again with force", () => {
    expect(planReplay(entries, { kind: "all" }, true).replay).toHaveLength(4);
  });

  it("selects by task id and reports ids that are not in the DLQ", () => {
    const plan = planReplay(entries, { kind: "ids", ids: ["a", "zzz"] }, false);
    expect(plan.replay.map((e) => `${e.partition}:${e.offset}`)).toEqual(["0:0"]);
    expect(plan.skipped.map((s) => `${s.entry.partition}:${s.entry.offset}`)).toEqual(["1:0"]);
    expect(plan.notFound).toEqual(["zzz"]);
  });

  it("selects by offsets", () => {
    const plan = planReplay(entries, { kind: "offsets", keys: ["1:1", "9:9"] }, false);
    expect(plan.replay.map((e) => `${e.partition}:${e.offset}`)).toEqual(["1:1"]);
    expect(plan.notFound).toEqual(["9:9"]);
  });

  it("selects by filter", () => {
    const plan = planReplay(entries, { kind: "filter", filter: { errorClass: "TypeError" } }, false);
    expect(plan.replay.map((e) => `${e.partition}:${e.offset}`)).toEqual(["0:0", "1:1"]);
    expect(plan.skipped).toHaveLength(1);
  });
});

describe("replay records", () => {
  it("keeps original and origin headers, drops the old failure, and starts at attempt 1 due now", () => {
    const headers = replayHeaders(
      entry(3, "12", {
        headers: {
          "user-header": "u",
          [HEADER.tenantId]: "t",
          [HEADER.originTopic]: "orders",
          [HEADER.originPartition]: "1",
          [HEADER.originOffset]: "99",
          [HEADER.agent]: "billing",
          [HEADER.attempt]: "4",
          [HEADER.errorClass]: "TypeError",
          [HEADER.errorMessage]: "boom",
          [HEADER.errorStack]: "stack",
          [HEADER.dlqReason]: "retries_exhausted",
          [HEADER.firstFailureAt]: "1",
          [HEADER.lastFailureAt]: "2",
          [HEADER.notBefore]: "3",
        },
      }),
      "omnidaemon.dlq.orders.billing",
      5000,
    );
    expect(headers).toEqual({
      "user-header": "u",
      [HEADER.tenantId]: "t",
      [HEADER.originTopic]: "orders",
      [HEADER.originPartition]: "1",
      [HEADER.originOffset]: "99",
      [HEADER.agent]: "billing",
      [HEADER.attempt]: "1",
      [HEADER.notBefore]: "5000",
      [HEADER.replayOf]: "omnidaemon.dlq.orders.billing:3:12",
      [HEADER.replays]: "1",
    });
  });

  it("counts the replays: an event replayed before is replayed for the second time", () => {
    const again = replayHeaders(
      entry(0, "7", { headers: { [HEADER.replays]: "1", [HEADER.attempt]: "3" } }),
      "omnidaemon.dlq.orders.billing",
      5000,
    );
    expect(again[HEADER.replays]).toBe("2");
    expect(again[HEADER.attempt]).toBe("1");
  });

  it("marks the replayed record by partition and offset", () => {
    expect(markerHeaders(entry(3, "12"))).toEqual({ [HEADER.replayedMarker]: "3:12" });
  });
});
