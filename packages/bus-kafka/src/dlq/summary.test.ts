import type { DlqEntry, ParsedDlqRecord } from "./entry";
import { DlqSummaryTally, MAX_SUMMARY_CLASSES, OTHER_CLASSES, UNKNOWN } from "./summary";

function entry(
  partition: number,
  offset: number,
  fields: Partial<Pick<DlqEntry, "errorClass" | "reason" | "deadLetteredAt">> = {},
): ParsedDlqRecord {
  return {
    kind: "entry",
    entry: {
      partition,
      offset: String(offset),
      key: null,
      rawValue: null,
      valueBytes: 0,
      deadLetteredAt: fields.deadLetteredAt ?? 1000,
      replayed: false,
      headers: {},
      ...(fields.errorClass !== undefined && { errorClass: fields.errorClass }),
      ...(fields.reason !== undefined && { reason: fields.reason }),
    },
  };
}

const marker = (target: string | undefined): ParsedDlqRecord => ({ kind: "marker", target });

describe("DlqSummaryTally", () => {
  it("counts an empty DLQ as empty, with no times", () => {
    expect(new DlqSummaryTally().summary()).toEqual({
      entries: 0,
      replayed: 0,
      errorClasses: [],
      reasons: [],
      oldestAt: null,
      newestAt: null,
    });
  });

  it("counts entries by error class and by reason, most first, and keeps the oldest and newest time", () => {
    const tally = new DlqSummaryTally();
    tally.add(entry(0, 0, { errorClass: "TypeError", reason: "retries_exhausted", deadLetteredAt: 30 }));
    tally.add(entry(0, 1, { errorClass: "RangeError", reason: "non_retriable", deadLetteredAt: 10 }));
    tally.add(entry(1, 0, { errorClass: "TypeError", reason: "retries_exhausted", deadLetteredAt: 20 }));
    tally.add(entry(1, 1, { reason: "invalid_record", deadLetteredAt: 40 }));
    expect(tally.summary()).toEqual({
      entries: 4,
      replayed: 0,
      errorClasses: [
        { errorClass: "TypeError", count: 2 },
        { errorClass: UNKNOWN, count: 1 },
        { errorClass: "RangeError", count: 1 },
      ].sort((a, b) => b.count - a.count || a.errorClass.localeCompare(b.errorClass)),
      reasons: [
        { reason: "retries_exhausted", count: 2 },
        { reason: "invalid_record", count: 1 },
        { reason: "non_retriable", count: 1 },
      ],
      oldestAt: 10,
      newestAt: 40,
    });
  });

  it("counts a replayed entry once however many markers name it, and ignores markers and unreadable targets", () => {
    const tally = new DlqSummaryTally();
    tally.add(entry(0, 0));
    tally.add(entry(0, 1));
    tally.add(marker("0:0"));
    tally.add(marker("0:0")); // replayed again with force
    tally.add(marker("nonsense"));
    tally.add(marker(undefined));
    const summary = tally.summary();
    expect(summary.entries).toBe(2);
    expect(summary.replayed).toBe(1);
  });

  it("counts at most MAX_SUMMARY_CLASSES classes by name and the rest together", () => {
    const tally = new DlqSummaryTally();
    for (let i = 0; i < MAX_SUMMARY_CLASSES + 5; i++) tally.add(entry(0, i, { errorClass: `Error${i}` }));
    tally.add(entry(0, 999, { errorClass: "Error0" }));
    const { errorClasses, entries } = tally.summary();
    expect(entries).toBe(MAX_SUMMARY_CLASSES + 6);
    expect(errorClasses).toHaveLength(MAX_SUMMARY_CLASSES + 1);
    expect(errorClasses.find((c) => c.errorClass === OTHER_CLASSES)?.count).toBe(5);
    expect(errorClasses.find((c) => c.errorClass === "Error0")?.count).toBe(2);
    expect(errorClasses.reduce((sum, c) => sum + c.count, 0)).toBe(entries);
  });
});
