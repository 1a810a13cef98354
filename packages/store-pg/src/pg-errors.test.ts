import { StoreError } from "./errors";
import { codeForSqlState, connectError, toStoreError } from "./pg-errors";

function pgError(code: string, message = "boom"): Error {
  return Object.assign(new Error(message), { code });
}

describe("Postgres error translation", () => {
  it("maps SQLSTATEs to codes with a retry verdict", () => {
    expect(codeForSqlState("08006")).toBe("UNAVAILABLE");
    expect(codeForSqlState("57P01")).toBe("UNAVAILABLE");
    expect(codeForSqlState("57P03")).toBe("UNAVAILABLE");
    expect(codeForSqlState("57014")).toBe("TIMEOUT");
    expect(codeForSqlState("40001")).toBe("CONFLICT");
    expect(codeForSqlState("40P01")).toBe("CONFLICT");
    expect(codeForSqlState("28P01")).toBe("INVALID_CONFIG");
    expect(codeForSqlState("23505")).toBe("QUERY_FAILED");
  });

  it("finds the driver error inside drizzle's wrapper and keeps it as the cause", () => {
    const driver = pgError("40P01", "deadlock detected");
    const wrapped = new Error("Failed query: update …", { cause: driver });
    const error = toStoreError(wrapped, "setting an agent paused");
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ code: "CONFLICT", retriable: true, sqlState: "40P01" });
    expect(error.message).toContain("setting an agent paused");
    expect(error.cause).toBe(wrapped);
  });

  it("treats socket errors and lost connections as UNAVAILABLE", () => {
    expect(toStoreError(pgError("ECONNREFUSED"), "x").code).toBe("UNAVAILABLE");
    expect(toStoreError(new Error("Connection terminated unexpectedly"), "x")).toMatchObject({
      code: "UNAVAILABLE",
      retriable: true,
    });
    expect(toStoreError(new Error("timeout exceeded when trying to connect"), "x").code).toBe("UNAVAILABLE");
  });

  it("keeps other failures as QUERY_FAILED, not retriable", () => {
    expect(toStoreError(pgError("23505", "duplicate key"), "x")).toMatchObject({
      code: "QUERY_FAILED",
      retriable: false,
      sqlState: "23505",
    });
    expect(toStoreError(new Error("something odd"), "x").code).toBe("QUERY_FAILED");
  });

  it("passes StoreErrors through untouched", () => {
    const original = new StoreError("NOT_STARTED", "not yet");
    expect(toStoreError(original, "x")).toBe(original);
  });

  it("reports a failed connection as UNAVAILABLE unless credentials or database are wrong", () => {
    expect(connectError(new Error("self-signed certificate"), "db:5432/x").code).toBe("UNAVAILABLE");
    expect(connectError(pgError("28P01", "password authentication failed"), "db:5432/x")).toMatchObject({
      code: "INVALID_CONFIG",
      field: "databaseUrl",
      retriable: false,
    });
  });
});
