import { markdownTable, spread, type Row } from "./report";

describe("results table", () => {
  const row = (driver: string | undefined, unit: string, values: number[]): Row => ({
    scenario: "a figure",
    ...(driver === undefined ? {} : { driver }),
    measured: spread(values),
    baseline: { ideal: 10, label: "target" },
    ratio: spread(values.map((v) => v / 10)),
    target: undefined,
    unit,
  });

  it("names the Kafka client each row ran on, and a dash for rows no client is part of", () => {
    const lines = markdownTable([row("platformatic", "ev/s", [1000]), row(undefined, "MiB", [85])]).split(
      "\n",
    );
    expect(lines[0]).toBe("| scenario | driver | measured | baseline | ratio | target | result |");
    expect(lines[2]).toBe(
      "| a figure | platformatic | 1,000 ev/s | 10 ev/s (target) | 100.00 | context | context |",
    );
    expect(lines[3]?.startsWith("| a figure | – | 85 MiB |")).toBe(true);
  });

  it("shows seconds with two decimals, so a sub-second pause is not printed as 0 s", () => {
    const line = markdownTable([row("kafkajs", "s", [0.12, 0.3, 0.2])]).split("\n")[2];
    expect(line).toContain("| 0.20 s (0.12–0.30, n=3) |");
  });
});
