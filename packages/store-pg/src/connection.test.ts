import { clientConfig, describeTarget, validateDatabaseUrl, validateSchema } from "./connection";
import { StoreError } from "./errors";

describe("connection settings", () => {
  it("accepts plain lowercase schema names and refuses anything that would need quoting", () => {
    expect(validateSchema("public")).toBe("public");
    expect(validateSchema("tenant_42")).toBe("tenant_42");
    for (const bad of ["", "Public", "1abc", "a-b", 'x"; drop table agents; --', "a b", "x".repeat(64)]) {
      expect(() => validateSchema(bad)).toThrow(StoreError);
    }
    try {
      validateSchema("a-b");
    } catch (error) {
      expect(error).toMatchObject({ code: "INVALID_CONFIG", field: "schema", retriable: false });
    }
  });

  it("starts every connection in the configured schema", () => {
    const config = clientConfig({
      databaseUrl: "postgres://u:p@db:5432/x",
      schema: "tenant_a",
      connectTimeoutMs: 1234,
      statementTimeoutMs: 500,
      applicationName: "app",
    });
    expect(config).toMatchObject({
      options: "-c search_path=tenant_a",
      connectionTimeoutMillis: 1234,
      statement_timeout: 500,
      application_name: "app",
      keepAlive: true,
    });
    const withoutTimeout = clientConfig({
      databaseUrl: "postgres://db/x",
      schema: "public",
      connectTimeoutMs: 1,
      statementTimeoutMs: undefined,
      applicationName: "app",
    });
    expect(withoutTimeout).not.toHaveProperty("statement_timeout");
  });

  it("describes the target without the password", () => {
    expect(describeTarget("postgres://alice:s3cret@db.internal:6543/omni?sslmode=require")).toBe(
      "db.internal:6543/omni",
    );
    expect(describeTarget("postgres://db")).toBe("db:5432/(default database)");
    expect(describeTarget("not a url")).not.toContain("not a url");
  });

  it("requires a postgres:// URL", () => {
    expect(validateDatabaseUrl("postgresql://db/x")).toBe("postgresql://db/x");
    for (const bad of [undefined, "", "mysql://db/x", "nope"]) {
      expect(() => validateDatabaseUrl(bad)).toThrow(expect.objectContaining({ field: "databaseUrl" }));
    }
  });
});
