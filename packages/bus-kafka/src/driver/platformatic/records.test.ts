import type { Platformatic } from "./load";
import { IS_CONTROL, fetchedRecords, positionAfter } from "./records";

type RecordsBatch = Platformatic.RecordsBatch;

function record(offsetDelta: number, value: string, headers: Array<[string | null, string | null]> = []) {
  return {
    length: 0,
    attributes: 0,
    timestampDelta: BigInt(offsetDelta),
    offsetDelta,
    key: Buffer.from(`k${offsetDelta}`),
    value: Buffer.from(value),
    headers: headers.map(([n, v]) => [
      n === null ? null : Buffer.from(n),
      v === null ? null : Buffer.from(v),
    ]),
  } as RecordsBatch["records"][number];
}

function batch(firstOffset: number, values: string[], attributes = 0): RecordsBatch {
  return {
    firstOffset: BigInt(firstOffset),
    lastOffsetDelta: values.length - 1,
    attributes,
    firstTimestamp: 1_700_000_000_000n,
    records: values.map((value, i) => record(i, value)),
  } as unknown as RecordsBatch;
}

describe("fetchedRecords", () => {
  it("hands over the records from the requested offset on, skipping the start of a batch that began before it", () => {
    const fetched = fetchedRecords([batch(10, ["a", "b", "c"]), batch(13, ["d"])], 11n);
    expect(fetched?.messages.map((m) => [m.offset, m.value?.toString()])).toEqual([
      ["11", "b"],
      ["12", "c"],
      ["13", "d"],
    ]);
    expect(fetched?.lastOffset).toBe(13n);
  });

  it("never hands over control records, but counts their offsets", () => {
    const fetched = fetchedRecords([batch(0, ["a"]), batch(1, ["marker"], IS_CONTROL)], 0n);
    expect(fetched?.messages.map((m) => m.offset)).toEqual(["0"]);
    expect(fetched?.lastOffset).toBe(1n);
    // Only a control record at or after the position: an empty batch that still moves the position on.
    expect(fetchedRecords([batch(5, ["marker"], IS_CONTROL)], 5n)).toEqual({ messages: [], lastOffset: 5n });
  });

  it("is undefined when the result covers nothing at or after the requested offset", () => {
    expect(fetchedRecords([], 0n)).toBeUndefined();
    expect(fetchedRecords([batch(0, ["a", "b"])], 2n)).toBeUndefined();
  });

  it("gives string offsets and timestamps, Buffer keys and values, and headers decoded once, first value winning", () => {
    const [message] =
      fetchedRecords(
        [
          {
            ...batch(7, ["v"]),
            records: [
              record(0, "v", [
                ["a", "1"],
                ["a", "2"],
                ["b", null],
                [null, "x"],
              ]),
            ],
          } as RecordsBatch,
        ],
        7n,
      )?.messages ?? [];
    expect(message?.offset).toBe("7");
    expect(message?.timestamp).toBe("1700000000000");
    expect(message?.key).toEqual(Buffer.from("k0"));
    expect(message?.headers()).toEqual({ a: "1" });
    expect(message?.headers()).toBe(message?.headers());
  });
});

describe("positionAfter", () => {
  const messages =
    fetchedRecords([batch(20, ["a", "b", "c"]), batch(23, ["m"], IS_CONTROL)], 20n)?.messages ?? [];

  it("moves past everything the fetch covered when all was taken, trailing control records included", () => {
    expect(positionAfter(messages, 23n, 3)).toBe(24n);
    expect(positionAfter(messages, 23n, 99)).toBe(24n);
    expect(positionAfter([], 23n, 0)).toBe(24n);
  });

  it("stops at the first record not taken, so it is fetched again", () => {
    expect(positionAfter(messages, 23n, 0)).toBe(20n);
    expect(positionAfter(messages, 23n, 2)).toBe(22n);
  });

  it("takes nothing for a count that is not one: fetching again is safe, skipping is not", () => {
    expect(positionAfter(messages, 23n, -1)).toBe(20n);
    expect(positionAfter(messages, 23n, Number.NaN)).toBe(20n);
  });
});
