import { compareClients, pairedRatio, sideBySideTable, verdict, type Comparison } from "./compare";

describe("Kafka clients side by side", () => {
  it("gives the ratio of the medians with the range of the per-round ratios", () => {
    const ratio = pairedRatio([200, 300, 100], [100, 100, 100]);
    expect(ratio.median).toBe(2); // 200 ÷ 100
    expect(ratio.min).toBe(1);
    expect(ratio.max).toBe(3);
    expect(ratio.n).toBe(3);
  });

  it("names the client that did better in every round, else mixed, following which way is better", () => {
    const clients: [string, string] = ["kafkajs", "platformatic"];
    expect(verdict("higher", clients, [100, 110], [150, 160])).toBe("platformatic (all 2 rounds)");
    expect(verdict("lower", clients, [100, 110], [150, 160])).toBe("kafkajs (all 2 rounds)");
    expect(verdict("higher", clients, [100, 200], [150, 160])).toBe("mixed");
    expect(verdict("lower", clients, [5], [7])).toBe("kafkajs (1 round)");
    expect(verdict("lower", clients, [5, 6], [5, 6])).toBe("equal");
    expect(verdict("lower", clients, [], [])).toBe("n/a");
  });

  const b1: Comparison = {
    figure: "B1 engine — steady state",
    unit: "ev/s",
    better: "higher",
    values: { kafkajs: [50_000, 60_000, 40_000], platformatic: [75_000, 90_000, 80_000] },
    baseline: { label: "bare kafkajs", values: [100_000, 100_000, 100_000] },
  };

  it("compares platformatic ÷ kafkajs and each client against the run's baseline", () => {
    const line = compareClients(b1, ["kafkajs", "platformatic"]);
    expect(line.byClient.map((c) => c.value.median)).toEqual([50_000, 80_000]);
    expect(line.ratio?.median).toBeCloseTo(1.6);
    expect(line.ratio?.min).toBeCloseTo(1.5);
    expect(line.ratio?.max).toBe(2);
    expect(line.byClient.map((c) => c.vsBaseline?.median)).toEqual([0.5, 0.8]);
    expect(line.verdict).toBe("platformatic (all 3 rounds)");
  });

  it("prints one line per figure with a column per client, the ratios, the baseline and the verdict", () => {
    const table = sideBySideTable(
      [
        compareClients(b1, ["kafkajs", "platformatic"]),
        compareClients(
          {
            figure: "B7 scale 1 → 3: group stop",
            unit: "s",
            better: "lower",
            values: { kafkajs: [3.2], platformatic: [0.4] },
          },
          ["kafkajs", "platformatic"],
        ),
      ],
      ["kafkajs", "platformatic"],
    );
    const lines = table.split("\n");
    expect(lines[0]).toBe(
      "| figure | unit | better is | kafkajs | platformatic | platformatic ÷ kafkajs | kafkajs ÷ baseline | platformatic ÷ baseline | baseline | better |",
    );
    expect(lines[2]).toBe(
      "| B1 engine — steady state | ev/s | higher | 50,000 (40,000–60,000) | 80,000 (75,000–90,000) | 1.60 (1.50–2.00) | 0.50 (0.40–0.60) | 0.80 (0.75–0.90) | bare kafkajs: 100,000 | platformatic (all 3 rounds) |",
    );
    expect(lines[3]).toBe(
      "| B7 scale 1 → 3: group stop | s | lower | 3.20 | 0.40 | 0.13 | n/a | n/a | none | platformatic (1 round) |",
    );
  });
});
