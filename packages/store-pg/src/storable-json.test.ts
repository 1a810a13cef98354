import { findUnstorableJson, toStorableJson, toStorableText, unstorableText } from "./storable-json";

describe("what Postgres can hold", () => {
  it("names NUL and lone surrogates in text; accepts paired surrogates (emoji)", () => {
    expect(unstorableText("a\u0000b")).toMatch(/NUL/);
    expect(unstorableText("\ud800")).toMatch(/surrogate/);
    expect(unstorableText("x\udc00")).toMatch(/surrogate/);
    expect(unstorableText("ok 😀")).toBeUndefined();
  });

  it("finds the first offence in document order, with its path; keys count too", () => {
    expect(findUnstorableJson({ a: "ok", b: [1, "x\u0000"], c: "\u0000" })).toEqual({
      path: ["b", "1"],
      problem: expect.stringMatching(/NUL/),
    });
    expect(findUnstorableJson({ "k\u0000": 1 })).toEqual({
      path: ["k\u0000"],
      problem: expect.stringMatching(/^key /),
    });
    expect(findUnstorableJson({ a: [{ b: "fine" }] })).toBeUndefined();
  });

  it("replaces what Postgres cannot hold with U+FFFD, in strings and keys, and keeps everything else", () => {
    expect(toStorableText("a\u0000b\ud800")).toBe("a\uFFFDb\uFFFD");
    expect(toStorableJson({ t: "a\u0000", ["k\u0000"]: [1, null, true, "\udc00", { n: 2 }] })).toEqual({
      t: "a\uFFFD",
      ["k\uFFFD"]: [1, null, true, "\uFFFD", { n: 2 }],
    });
  });

  it("returns the same value, uncopied, when nothing needs replacing", () => {
    const value = { a: [1, "two"] };
    expect(toStorableJson(value)).toBe(value);
  });

  it("handles hostile depth without overflowing the stack", () => {
    let deep: unknown = "\u0000";
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(findUnstorableJson(deep)?.path).toHaveLength(100_000);
    let converted = toStorableJson(deep);
    for (let i = 0; i < 100_000; i++) converted = (converted as unknown[])[0];
    expect(converted).toBe("\uFFFD");
  });
});
