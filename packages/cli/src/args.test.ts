import { editDistance, oneOf, parseArgs, positiveInt, suggest, type FlagSpec } from "./args";
import { UsageError } from "./errors";

const flags: FlagSpec[] = [
  { name: "topic", short: "t", value: "topic", required: true, description: "" },
  { name: "name", short: "n", value: "name", description: "" },
  { name: "cleanup", description: "" },
  { name: "id", value: "id", multiple: true, description: "" },
  { name: "content", value: "json", description: "" },
  { name: "force", description: "" },
  { name: "task-id", value: "id", hidden: true, description: "" },
  { name: "help", short: "h", description: "" },
];
const spec = { flags, positionals: [{ name: "id", description: "" }], command: "test cmd" };

function usage(tokens: string[]): string {
  try {
    parseArgs(tokens, spec);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).command).toBe("test cmd");
    return (error as Error).message;
  }
  throw new Error("expected a usage error");
}

describe("parseArgs", () => {
  it("reads long, short and --flag=value forms, booleans and a positional", () => {
    const args = parseArgs(["-t", "orders", "--name=billing", "--cleanup", "abc"], spec);
    expect(args.string("topic")).toBe("orders");
    expect(args.required("name")).toBe("billing");
    expect(args.flag("cleanup")).toBe(true);
    expect(args.flag("force")).toBe(false);
    expect(args.has("content")).toBe(false);
    expect(args.positionals).toEqual(["abc"]);
    expect(args.help).toBe(false);
  });

  it("collects a repeatable flag, given again or followed by several values", () => {
    const args = parseArgs(["--topic", "x", "--id", "a", "b", "--force", "--id", "c", "--id=d"], spec);
    expect(args.strings("id")).toEqual(["a", "b", "c", "d"]);
    expect(args.flag("force")).toBe(true);
  });

  it("takes '-' and negative numbers as values, and everything after -- as positionals", () => {
    expect(parseArgs(["--topic", "x", "--content", "-1"], spec).string("content")).toBe("-1");
    expect(parseArgs(["--topic", "-"], spec).string("topic")).toBe("-");
    expect(parseArgs(["--topic", "x", "--", "--weird"], spec).positionals).toEqual(["--weird"]);
  });

  it("answers --help or -h before validating anything", () => {
    expect(parseArgs(["--nonsense", "-h"], spec).help).toBe(true);
    expect(parseArgs(["--help"], spec).help).toBe(true);
  });

  it("names the flag in every usage error", () => {
    expect(usage(["--topic", "x", "--cleanpu"])).toBe("unknown flag --cleanpu (did you mean --cleanup?)");
    expect(usage(["--topic", "x", "--zzzzzzzz"])).toBe("unknown flag --zzzzzzzz");
    expect(usage(["--topic", "x", "-z"])).toBe("unknown flag -z");
    expect(usage(["--name", "a"])).toBe("missing required flag --topic");
    expect(usage(["--topic"])).toBe("--topic needs a value (<topic>)");
    expect(usage(["-t", "--cleanup"])).toBe("-t (--topic) needs a value (<topic>)");
    expect(usage(["--topic="])).toBe("--topic needs a value (<topic>)");
    expect(usage(["--topic", "a", "--topic", "b"])).toBe("--topic given more than once");
    expect(usage(["--topic", "a", "--cleanup=yes"])).toBe("--cleanup takes no value");
    expect(usage(["--topic", "a", "one", "two"])).toBe('unexpected argument "two"');
  });

  it("refuses a missing required positional", () => {
    expect(() =>
      parseArgs([], {
        flags: [],
        positionals: [{ name: "id", required: true, description: "" }],
        command: "c",
      }),
    ).toThrow("missing argument <id>");
  });

  it("does not suggest hidden flags", () => {
    expect(suggest("--task-ik", flags)).toBeUndefined();
    expect(suggest("--forse", flags)).toBe("--force");
  });
});

describe("value checks", () => {
  it("positiveInt names the flag and the range", () => {
    expect(positiveInt(undefined, "limit")).toBeUndefined();
    expect(positiveInt("10", "limit", 100)).toBe(10);
    expect(() => positiveInt("0", "limit", 100)).toThrow('--limit must be an integer from 1 to 100, got "0"');
    expect(() => positiveInt("abc", "limit", 100)).toThrow(UsageError);
    expect(() => positiveInt("101", "limit", 100)).toThrow(UsageError);
  });

  it("oneOf names the flag and the choices", () => {
    expect(oneOf("b", "status", ["a", "b"])).toBe("b");
    expect(() => oneOf("c", "status", ["a", "b"])).toThrow('--status must be one of a, b, got "c"');
  });

  it("editDistance", () => {
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(editDistance("", "abc")).toBe(3);
    expect(editDistance("same", "same")).toBe(0);
  });
});
