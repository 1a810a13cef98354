import { establishedInodes, parseRssBytes } from "./proc";
import { latencySummary, percentile } from "./latency";

describe("bench /proc parsers", () => {
  it("reads VmRSS in bytes from /proc/<pid>/status", () => {
    expect(parseRssBytes("Name:\tnode\nVmRSS:\t   87040 kB\nVmSwap:\t0 kB\n")).toBe(87040 * 1024);
    expect(parseRssBytes("Name:\tnode\n")).toBeUndefined();
  });

  it("keeps only established connections to the given remote port", () => {
    const table = [
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
      "   0: 0100007F:A1B2 0100007F:4A92 01 00000000:00000000 00:00000000 00000000     0        0 1111 1 0",
      "   1: 0100007F:A1B3 0100007F:4A92 06 00000000:00000000 00:00000000 00000000     0        0 2222 1 0",
      "   2: 0100007F:A1B4 0100007F:3D5F 01 00000000:00000000 00:00000000 00000000     0        0 3333 1 0",
    ].join("\n");
    // 0x4A92 = 19090
    expect([...establishedInodes(table, 0x4a92)]).toEqual(["1111"]);
  });
});

describe("bench latency percentiles", () => {
  it("are nearest-rank over the sorted samples", () => {
    const values = Array.from({ length: 1000 }, (_, i) => 1000 - i); // 1000 … 1, unsorted
    expect(latencySummary(values)).toEqual({ samples: 1000, p50: 500, p99: 990, p999: 999, max: 1000 });
    expect(percentile([], 0.5)).toBeNaN();
  });
});
