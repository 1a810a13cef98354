import { BusError } from "../errors";
import { isEmptyFilter, matchesDlqFilter, parseDlqFilter } from "./filter";

const entry = {
  errorClass: "TypeError",
  reason: "retries_exhausted",
  taskId: "task-1",
  lastFailureAt: 2000,
  deadLetteredAt: 2500,
};

describe("matchesDlqFilter", () => {
  it("matches everything with an empty filter", () => {
    expect(matchesDlqFilter(entry, {})).toBe(true);
    expect(isEmptyFilter({})).toBe(true);
    expect(isEmptyFilter({ taskIds: [] })).toBe(true);
    expect(isEmptyFilter({ reason: "non_retriable" })).toBe(false);
  });

  it("matches error class and reason exactly", () => {
    expect(matchesDlqFilter(entry, { errorClass: "TypeError" })).toBe(true);
    expect(matchesDlqFilter(entry, { errorClass: "typeerror" })).toBe(false);
    expect(matchesDlqFilter(entry, { errorClass: "Type" })).toBe(false);
    expect(matchesDlqFilter(entry, { reason: "retries_exhausted" })).toBe(true);
    expect(matchesDlqFilter(entry, { reason: "non_retriable" })).toBe(false);
    expect(matchesDlqFilter({ ...entry, errorClass: undefined }, { errorClass: "TypeError" })).toBe(false);
  });

  it("treats since as inclusive and until as exclusive, on the last failure time", () => {
    expect(matchesDlqFilter(entry, { since: 2000 })).toBe(true);
    expect(matchesDlqFilter(entry, { since: 2001 })).toBe(false);
    expect(matchesDlqFilter(entry, { until: 2001 })).toBe(true);
    expect(matchesDlqFilter(entry, { until: 2000 })).toBe(false);
    expect(matchesDlqFilter(entry, { since: 1000, until: 3000 })).toBe(true);
  });

  it("falls back to the dead-letter time when the failure time header is missing", () => {
    const noHeader = { ...entry, lastFailureAt: undefined };
    expect(matchesDlqFilter(noHeader, { since: 2500 })).toBe(true);
    expect(matchesDlqFilter(noHeader, { until: 2500 })).toBe(false);
  });

  it("matches task ids, never an entry without one", () => {
    expect(matchesDlqFilter(entry, { taskIds: ["x", "task-1"] })).toBe(true);
    expect(matchesDlqFilter(entry, { taskIds: ["x"] })).toBe(false);
    expect(matchesDlqFilter({ ...entry, taskId: undefined }, { taskIds: ["task-1"] })).toBe(false);
  });

  it("requires every given criterion", () => {
    expect(matchesDlqFilter(entry, { errorClass: "TypeError", reason: "non_retriable" })).toBe(false);
    expect(matchesDlqFilter(entry, { errorClass: "TypeError", reason: "retries_exhausted", since: 0 })).toBe(
      true,
    );
  });
});

describe("parseDlqFilter", () => {
  function fieldOf(input: unknown): string | undefined {
    try {
      parseDlqFilter(input, "INVALID_CONFIG");
    } catch (error) {
      expect(error).toBeInstanceOf(BusError);
      expect((error as BusError).code).toBe("INVALID_CONFIG");
      return (error as BusError).field;
    }
    return undefined;
  }

  it("accepts a valid filter", () => {
    expect(parseDlqFilter({ errorClass: "E", since: 1, until: 2, taskIds: ["a"] }, "INVALID_CONFIG")).toEqual(
      {
        errorClass: "E",
        since: 1,
        until: 2,
        taskIds: ["a"],
      },
    );
  });

  it("names the offending field", () => {
    expect(fieldOf({ since: -1 })).toBe("filter.since");
    expect(fieldOf({ since: 1.5 })).toBe("filter.since");
    expect(fieldOf({ since: 5, until: 5 })).toBe("filter.until");
    expect(fieldOf({ errorClass: "" })).toBe("filter.errorClass");
    expect(fieldOf({ taskIds: [""] })).toBe("filter.taskIds.0");
    expect(fieldOf({ errorclass: "E" })).toBe("filter");
  });
});
