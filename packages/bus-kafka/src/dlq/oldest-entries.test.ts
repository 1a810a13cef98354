import type { DlqEntry } from "./entry";
import { OldestEntries } from "./oldest-entries";

function entry(partition: number, offset: number, deadLetteredAt: number): DlqEntry {
  return {
    partition,
    offset: String(offset),
    key: null,
    rawValue: null,
    valueBytes: 0,
    deadLetteredAt,
    replayed: false,
    headers: {},
  };
}

describe("OldestEntries", () => {
  it("keeps the oldest entries offered, however many are offered, and returns them oldest first", () => {
    const kept = new OldestEntries(3);
    const times = [50, 10, 40, 30, 20, 60, 5, 70];
    times.forEach((at, index) => kept.offer(entry(0, index, at)));
    expect(kept.sorted().map((e) => e.deadLetteredAt)).toEqual([5, 10, 20]);
  });

  it("breaks ties by partition, then offset", () => {
    const kept = new OldestEntries(2);
    kept.offer(entry(1, 0, 10));
    kept.offer(entry(0, 9, 10));
    kept.offer(entry(0, 2, 10));
    expect(kept.sorted().map((e) => `${e.partition}:${e.offset}`)).toEqual(["0:2", "0:9"]);
  });

  it("finds kept entries by key and forgets evicted ones", () => {
    const kept = new OldestEntries(1);
    kept.offer(entry(0, 1, 20));
    expect(kept.get("0:1")).toBeDefined();
    kept.offer(entry(0, 2, 10));
    expect(kept.get("0:1")).toBeUndefined();
    expect(kept.get("0:2")?.deadLetteredAt).toBe(10);
  });
});
