import { findNonJson } from "./json-value";

describe("findNonJson", () => {
  it("accepts plain JSON values", () => {
    expect(findNonJson({ a: [1, "two", null, { b: true }] })).toBeUndefined();
  });

  it("names the path of the first value JSON would lose or refuse", () => {
    expect(findNonJson({ a: { b: () => 1 } })).toBe("$.a.b: a function is not JSON");
    expect(findNonJson([1, undefined])).toBe("$[1]: undefined is not JSON");
    expect(findNonJson({ n: NaN })).toBe("$.n: NaN is not a JSON number");
    expect(findNonJson({ d: new Map() })).toBe("$.d: a Map instance is not plain JSON");
  });

  it("detects cycles but accepts shared (non-cyclic) references", () => {
    const shared = { x: 1 };
    expect(findNonJson({ a: shared, b: shared })).toBeUndefined();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(findNonJson(cyclic)).toBe("$.self: circular reference");
  });
});

describe("findNonJson on hostile depth", () => {
  const nested = (depth: number): unknown => {
    let value: unknown = 1;
    for (let i = 0; i < depth; i++) value = [value];
    return value;
  };

  it("refuses a value nested deeper than the bound, naming the limit, without overflowing the stack", () => {
    expect(findNonJson(nested(3000))).toMatch(/nested deeper than 256 levels$/);
    expect(findNonJson(nested(200_000), "content")).toMatch(
      /^content(\[0\])+: nested deeper than 256 levels$/,
    );
  });

  it("accepts a value exactly at the bound", () => {
    expect(findNonJson(nested(256))).toBeUndefined();
  });
});
