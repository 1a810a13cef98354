import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { EnvConfigError, envBoolean, envFileContent, envInteger, envText, parseEnv, secretOf } from "./env";

const schema = z
  .object({
    APP_PORT: envInteger(1, 65_535, 8080),
    APP_DEBUG: envBoolean(false),
    APP_NAME: envText(),
    APP_PASSWORD: envText(),
    APP_PASSWORD_FILE: envFileContent(),
  })
  .transform((env, ctx) => ({ ...env, password: secretOf(env, "APP_PASSWORD", ctx) }));

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "env-test-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function issuesOf(env: Record<string, string>): readonly string[] {
  try {
    parseEnv(schema, env);
  } catch (error) {
    expect(error).toBeInstanceOf(EnvConfigError);
    return (error as EnvConfigError).issues;
  }
  throw new Error("expected parseEnv to throw");
}

describe("environment parsing shared by every app", () => {
  it("treats empty and blank values as unset, so the defaults apply", () => {
    expect(parseEnv(schema, { APP_PORT: "", APP_DEBUG: "  ", APP_NAME: "" })).toMatchObject({
      APP_PORT: 8080,
      APP_DEBUG: false,
      APP_NAME: undefined,
    });
  });

  it("reads a secret from its _FILE, without the one trailing newline an editor adds", () => {
    writeFileSync(join(dir, "pw"), "s3cret\n");
    expect(parseEnv(schema, { APP_PASSWORD_FILE: join(dir, "pw") }).password).toBe("s3cret");
    expect(parseEnv(schema, { APP_PASSWORD: "inline" }).password).toBe("inline");
  });

  it("names the variable in every issue and never shows a secret's value", () => {
    writeFileSync(join(dir, "pw"), "from-file");
    expect(issuesOf({ APP_PASSWORD: "inline-secret", APP_PASSWORD_FILE: join(dir, "pw") })).toEqual([
      "APP_PASSWORD_FILE: set either APP_PASSWORD or APP_PASSWORD_FILE, not both",
    ]);
    expect(
      issuesOf({ APP_PORT: "http", APP_DEBUG: "maybe", APP_PASSWORD_FILE: join(dir, "missing") }),
    ).toEqual([
      'APP_PORT: expected an integer 1-65535, got "http"',
      'APP_DEBUG: expected true or false, got "maybe"',
      `APP_PASSWORD_FILE: cannot read "${join(dir, "missing")}" (ENOENT)`,
    ]);
  });
});
