import { stickyAssign, type Ownership } from "./sticky-assignment";

const twelve = { t: Array.from({ length: 12 }, (_, i) => i) };

function counts(assignment: Record<string, Ownership>): number[] {
  return Object.values(assignment).map((a) => a.t?.length ?? 0);
}

describe("stickyAssign", () => {
  it("balances a fresh group to within one partition and covers every partition once", () => {
    const result = stickyAssign(twelve, [
      { memberId: "a", owned: {} },
      { memberId: "b", owned: {} },
      { memberId: "c", owned: {} },
    ]);
    expect(counts(result)).toEqual([4, 4, 4]);
    expect(
      Object.values(result)
        .flatMap((a) => a.t ?? [])
        .sort((x, y) => x - y),
    ).toEqual(twelve.t);
  });

  it("moves only the leaver's partitions when a member leaves: survivors keep all of theirs", () => {
    const before = stickyAssign(
      twelve,
      ["a", "b", "c"].map((memberId) => ({ memberId, owned: {} })),
    );
    const after = stickyAssign(twelve, [
      { memberId: "a", owned: before.a as Ownership },
      { memberId: "c", owned: before.c as Ownership },
    ]);
    expect(after.a?.t).toEqual(expect.arrayContaining(before.a?.t ?? []));
    expect(after.c?.t).toEqual(expect.arrayContaining(before.c?.t ?? []));
    expect(counts(after)).toEqual([6, 6]);
  });

  it("gives a joining member its share by taking only the surplus from the others", () => {
    const two = stickyAssign(
      twelve,
      ["a", "b"].map((memberId) => ({ memberId, owned: {} })),
    );
    const three = stickyAssign(twelve, [
      { memberId: "a", owned: two.a as Ownership },
      { memberId: "b", owned: two.b as Ownership },
      { memberId: "c", owned: {} },
    ]);
    expect(counts(three)).toEqual([4, 4, 4]);
    const kept = (id: "a" | "b") => (three[id]?.t ?? []).filter((p) => two[id]?.t?.includes(p)).length;
    expect(kept("a") + kept("b")).toBe(8);
  });

  it("ignores partitions that no longer exist and partitions claimed twice", () => {
    const result = stickyAssign({ t: [0, 1, 2, 3] }, [
      { memberId: "a", owned: { t: [0, 1, 9] } },
      { memberId: "b", owned: { t: [1, 2] } },
    ]);
    expect(result).toEqual({ a: { t: [0, 1] }, b: { t: [2, 3] } });
  });

  it("assigns each topic separately, so every member gets main-topic partitions", () => {
    const result = stickyAssign({ main: [0, 1], retry: [0, 1] }, [
      { memberId: "a", owned: {} },
      { memberId: "b", owned: {} },
    ]);
    expect(result.a?.main).toHaveLength(1);
    expect(result.b?.main).toHaveLength(1);
  });
});
