import { lagOf, Partitions } from "./partitions";

describe("Partitions", () => {
  it("makes a partition's state on first use and returns the same one after", () => {
    const partitions = new Partitions();
    const state = partitions.stateFor("t", 3);
    expect(state).toMatchObject({ tp: "t:3", topic: "t", partition: 3, highWatermark: -1 });
    expect(partitions.stateFor("t", 3)).toBe(state);
    expect(partitions.get("t:3")).toBe(state);
    expect(partitions.size).toBe(1);
  });

  it("keeps the assigned partitions and hands back the others, to revoke", () => {
    const partitions = new Partitions();
    const kept = partitions.stateFor("t", 0);
    const gone = partitions.stateFor("t", 1);
    const retry = partitions.stateFor("r", 0);
    expect(partitions.retainOnly({ t: [0, 2], r: [0] })).toEqual([gone]);
    expect([...partitions.values()]).toEqual([kept, retry]);
    expect(partitions.clear()).toEqual([kept, retry]);
    expect(partitions.size).toBe(0);
  });

  it("commits only partitions whose contiguous completed run moved since their last commit", () => {
    const partitions = new Partitions();
    const a = partitions.stateFor("t", 0);
    const b = partitions.stateFor("t", 1);
    for (const offset of [5, 6, 7]) a.tracker.receive(offset);
    b.tracker.receive(0);
    partitions.complete(a, 5);
    partitions.complete(a, 7);
    expect(partitions.commitCandidates()).toEqual([
      { state: a, at: 6 },
      { state: b, at: 0 },
    ]);
    a.tracker.markCommitted(6);
    b.tracker.markCommitted(0);
    expect(partitions.commitCandidates()).toEqual([]);
    partitions.complete(a, 6);
    expect(partitions.commitCandidates()).toEqual([{ state: a, at: 8 }]);
  });

  it("does not complete a record of a partition revoked meanwhile (another member owns it now)", () => {
    const partitions = new Partitions();
    const old = partitions.stateFor("t", 0);
    old.tracker.receive(1);
    partitions.retainOnly({});
    expect(partitions.complete(old, 1)).toBe(false);
    const fresh = partitions.stateFor("t", 0);
    expect(fresh).not.toBe(old);
    expect(partitions.complete(old, 1)).toBe(false);
    fresh.tracker.receive(1);
    expect(partitions.complete(fresh, 1)).toBe(true);
  });
});

describe("lagOf", () => {
  it("is unknown before the first fetch", () => {
    expect(lagOf(new Partitions().stateFor("t", 0))).toBeUndefined();
  });

  it("counts from the committed offset, else the position, else nothing taken yet", () => {
    const state = new Partitions().stateFor("t", 0);
    state.highWatermark = 10;
    expect(lagOf(state)).toBe(0);
    state.tracker.receive(4);
    expect(lagOf(state)).toBe(6);
    state.tracker.markCommitted(2);
    expect(lagOf(state)).toBe(8);
    state.highWatermark = 1;
    expect(lagOf(state)).toBe(0);
  });
});
