import {
  formatAgo,
  formatCount,
  formatJson,
  formatMs,
  formatPercent,
  formatSpan,
  formatTime,
} from "./format";

describe("console formatting", () => {
  it("formats spans of time by their size", () => {
    expect(formatSpan(0)).toBe("0 s");
    expect(formatSpan(59.9)).toBe("59 s");
    expect(formatSpan(725)).toBe("12 min 05 s");
    expect(formatSpan(3 * 3600 + 7 * 60)).toBe("3 h 07 min");
    expect(formatSpan(2 * 86_400 + 4 * 3600)).toBe("2 d 04 h");
    expect(formatSpan(-5)).toBe("0 s");
  });

  it("says how long ago, and — for nothing", () => {
    const now = Date.parse("2026-01-01T00:01:00Z");
    expect(formatAgo("2026-01-01T00:00:57Z", now)).toBe("3 s ago");
    expect(formatAgo(now - 200, now)).toBe("just now");
    expect(formatAgo(null, now)).toBe("–");
  });

  it("formats times in local time, and keeps what it cannot read", () => {
    const at = new Date(2026, 0, 2, 3, 4, 5);
    expect(formatTime(at.getTime())).toBe("2026-01-02 03:04:05");
    expect(formatTime(at.toISOString())).toBe("2026-01-02 03:04:05");
    expect(formatTime(undefined)).toBe("–");
    expect(formatTime("not a time")).toBe("not a time");
  });

  it("formats durations, counts, percentages and JSON", () => {
    expect(formatMs(12.34)).toBe("12.3 ms");
    expect(formatMs(2400)).toBe("2.40 s");
    expect(formatMs(65_000)).toBe("65.0 s");
    expect(formatMs(null)).toBe("–");
    expect(formatCount(1234567)).toBe("1\u202f234\u202f567");
    expect(formatCount(12)).toBe("12");
    expect(formatPercent(0.125)).toBe("12.5 %");
    expect(formatJson({ a: 1 })).toBe('{\n  "a": 1\n}');
    expect(formatJson(undefined)).toBe("(none)");
    expect(formatJson(null)).toBe("null");
  });
});
