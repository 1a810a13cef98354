import { z } from "zod";
import { hasLoneSurrogate, replaceLoneSurrogates, unstorableText } from "./text-rules";
import { text } from "./api/fields";

describe("text rules: what Postgres can hold", () => {
  it("finds a lone high or low surrogate anywhere, never a pair (an emoji)", () => {
    for (const lone of ["\ud800", "a\udbffb", "\udc00", "x\udfff", "\ud83d\ud83d\ude00", "\ude00\ud83d"]) {
      expect(hasLoneSurrogate(lone)).toBe(true);
    }
    for (const fine of ["", "plain", "\u{1F600}", "a\u{10FFFF}b", "\uffff"])
      expect(hasLoneSurrogate(fine)).toBe(false);
  });

  it("replaces only the lone halves", () => {
    expect(replaceLoneSurrogates("a\ud800b\u{1F600}\udc00", "?")).toBe("a?b\u{1F600}?");
  });

  it("names NUL before a lone surrogate, and nothing for storable text", () => {
    expect(unstorableText("\u0000\ud800")).toMatch(/NUL/);
    expect(unstorableText("\ud800")).toMatch(/lone UTF-16 surrogate/);
    expect(unstorableText("ok \u{1F600}")).toBeUndefined();
  });

  it("text() refuses both, and its JSON Schema states only the NUL pattern (validators in other languages compile it)", () => {
    const field = text({ max: 10 });
    expect(field.safeParse("a\ud800").error?.issues[0]?.message).toMatch(/lone UTF-16 surrogate/);
    expect(field.safeParse("a\u0000").error?.issues[0]?.message).toMatch(/NUL/);
    expect(field.parse("\u{1F600}")).toBe("\u{1F600}");
    expect(z.toJSONSchema(field)).toMatchObject({ type: "string", maxLength: 10, pattern: "^[^\\u0000]*$" });
  });
});
