import { colourEnabled, paint, statusStyle, stripAnsi } from "./colour";
import { formatMs, formatTime, formatUptime, plural, truncate } from "./format";
import { renderFields, renderTable } from "./table";

describe("colour rules", () => {
  it("colours only when stdout is a terminal and NO_COLOR is unset or empty", () => {
    expect(colourEnabled({}, true)).toBe(true);
    expect(colourEnabled({}, false)).toBe(false);
    expect(colourEnabled({ NO_COLOR: "1" }, true)).toBe(false);
    expect(colourEnabled({ NO_COLOR: "" }, true)).toBe(true);
  });

  it("maps statuses: green running/active, yellow paused/degraded/stopped, red down/dead_lettered", () => {
    for (const status of ["running", "active"]) expect(statusStyle(status)).toBe("green");
    for (const status of ["paused", "degraded", "stopped"]) expect(statusStyle(status)).toBe("yellow");
    for (const status of ["down", "dead_lettered"]) expect(statusStyle(status)).toBe("red");
    expect(statusStyle("pending")).toBeUndefined();
  });

  it("paints with ANSI codes only when enabled", () => {
    expect(paint("running", "green", true)).toBe("\u001b[32mrunning\u001b[39m");
    expect(paint("running", "green", false)).toBe("running");
    expect(paint("x", undefined, true)).toBe("x");
    expect(stripAnsi(paint("down", "red", true))).toBe("down");
  });
});

describe("renderTable", () => {
  it("aligns columns, upper-cases headers, right-aligns numbers and leaves no trailing spaces", () => {
    const text = renderTable(
      ["topic", "agent", "consumers", "description"],
      [
        ["orders", "billing", 2, "bills"],
        ["file.uploaded", "x", 10, ""],
      ],
      { right: [2], colour: false },
    );
    expect(text).toBe(
      [
        "TOPIC          AGENT    CONSUMERS  DESCRIPTION",
        "orders         billing          2  bills",
        "file.uploaded  x               10",
        "",
      ].join("\n"),
    );
  });

  it("keeps alignment when cells are coloured, and colours the text only", () => {
    const rows = [
      ["a", { text: "active", style: "green" as const }, "x"],
      ["bb", { text: "paused", style: "yellow" as const }, "y"],
    ];
    const coloured = renderTable(["name", "state", "more"], rows, { colour: true });
    const plain = renderTable(["name", "state", "more"], rows, { colour: false });
    expect(stripAnsi(coloured)).toBe(plain);
    expect(coloured).toContain("\u001b[32mactive\u001b[39m  x");
    expect(plain).not.toContain("\u001b");
  });

  it("keeps a row on one line and counts characters, not bytes", () => {
    const text = renderTable(
      ["a", "b"],
      [
        ["line\nbreak", "é"],
        ["x", "y"],
      ],
      { colour: false },
    );
    expect(text.split("\n")).toEqual(["A           B", "line break  é", "x           y", ""]);
  });

  it("renders key/value fields aligned", () => {
    expect(
      renderFields(
        [
          ["status", "running"],
          ["registered agents", 3],
        ],
        { colour: false },
      ),
    ).toBe("status             running\nregistered agents  3\n");
  });
});

describe("formatters", () => {
  it("formats uptime as the reference's health does, in days/hours/minutes/seconds", () => {
    expect(formatUptime(null)).toBe("-");
    expect(formatUptime(42.7)).toBe("42s");
    expect(formatUptime(125)).toBe("2m 5s");
    expect(formatUptime(3_720)).toBe("1h 2m");
    expect(formatUptime(90_000)).toBe("1d 1h");
  });

  it("formats durations, times, truncation and plurals", () => {
    expect(formatMs(null)).toBe("-");
    expect(formatMs(3.14)).toBe("3.1 ms");
    expect(formatMs(250)).toBe("250 ms");
    expect(formatMs(1_500)).toBe("1.5 s");
    expect(formatMs(120_000)).toBe("2.0 min");
    expect(formatTime("2026-11-22T02:30:00.123Z")).toBe("2026-11-22 02:30:00Z");
    expect(formatTime(0)).toBe("1970-01-01 00:00:00Z");
    expect(formatTime(null)).toBe("-");
    expect(truncate("abcdef", 4)).toBe("abc…");
    expect(truncate("abc", 4)).toBe("abc");
    expect(plural(1, "agent")).toBe("1 agent");
    expect(plural(2, "agent")).toBe("2 agents");
  });
});
