import { groupState } from "./group-state";

describe("groupState", () => {
  it.each([
    ["STABLE", "Stable"],
    ["PREPARINGREBALANCE", "PreparingRebalance"],
    ["COMPLETINGREBALANCE", "CompletingRebalance"],
    ["EMPTY", "Empty"],
    ["DEAD", "Dead"],
    ["Reconciling", "Reconciling"],
    ["Assigning", "Assigning"],
  ])("spells %s as the broker does: %s", (reported, spelled) => {
    expect(groupState(reported)).toBe(spelled);
  });

  it("passes a state it does not know through as reported", () => {
    expect(groupState("NOT_READY")).toBe("NOT_READY");
  });
});
