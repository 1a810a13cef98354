import { OffsetRuns } from "./offset-runs";

describe("OffsetRuns", () => {
  it("answers membership per partition", () => {
    const set = new OffsetRuns();
    set.add(0, 5n);
    set.add(1, 7n);
    expect(set.has(0, 5n)).toBe(true);
    expect(set.has(0, 7n)).toBe(false);
    expect(set.has(1, 7n)).toBe(true);
    expect(set.has(2, 5n)).toBe(false);
  });

  it("keeps a contiguous stretch as one run, whatever the order offsets arrive in", () => {
    const set = new OffsetRuns();
    for (const offset of [3n, 1n, 2n, 0n, 6n, 4n, 5n, 5n]) set.add(0, offset);
    expect(set.runCount).toBe(1);
    for (let offset = 0n; offset <= 6n; offset++) expect(set.has(0, offset)).toBe(true);
    expect(set.has(0, 7n)).toBe(false);
  });

  it("keeps gaps as separate runs and merges them when the gap fills", () => {
    const set = new OffsetRuns();
    set.add(0, 10n);
    set.add(0, 12n);
    set.add(0, 0n);
    expect(set.runCount).toBe(3);
    expect(set.has(0, 11n)).toBe(false);
    set.add(0, 11n);
    expect(set.runCount).toBe(2);
    expect(set.has(0, 11n)).toBe(true);
    expect(set.has(0, 1n)).toBe(false);
  });

  it("holds a million offsets of a full replay in one run", () => {
    const set = new OffsetRuns();
    for (let offset = 0n; offset < 1_000_000n; offset++) set.add(3, offset);
    expect(set.runCount).toBe(1);
    expect(set.has(3, 999_999n)).toBe(true);
  });
});
