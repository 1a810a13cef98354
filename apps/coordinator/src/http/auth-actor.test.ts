import { actorFrom } from "./actor";
import { bearerMatches } from "./auth";

describe("bearerMatches", () => {
  const token = "0123456789abcdef";

  it.each([
    [`Bearer ${token}`, true],
    [`bearer ${token}`, true],
    [`Bearer   ${token}  `, true],
    [`Bearer ${token}0`, false],
    [`Bearer ${token.slice(1)}`, false],
    [`Basic ${token}`, false],
    [token, false],
    ["Bearer", false],
    ["", false],
    [undefined, false],
  ])("%j → %s", (header, expected) => {
    expect(bearerMatches(header, token)).toBe(expected);
  });
});

describe("actorFrom", () => {
  it.each([
    [undefined, "api"],
    ["", "api"],
    ["   ", "api"],
    ["cli:alice@laptop", "cli:alice@laptop"],
    [["sdk", "other"], "sdk"],
    ["evil\r\nX-Injected: 1", "evil__X-Injected: 1"],
    ["é", "api"],
    ["x".repeat(500), "x".repeat(128)],
  ])("%j → %j", (header, expected) => {
    expect(actorFrom(header)).toEqual({ name: expected });
  });
});
