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

describe("a failed connect names the setting to fix", () => {
  it("a refused password: the password file or the URL", () => {
    expect(connectError(pgError("28P01", "password authentication failed"), "db:5432/x").message).toMatch(
      /check the password \(OMNIDAEMON_DATABASE_PASSWORD_FILE, or the one in OMNIDAEMON_DATABASE_URL\)$/,
    );
  });

  it("an untrusted server certificate: the CA file", () => {
    const error = pgError("UNABLE_TO_VERIFY_LEAF_SIGNATURE", "unable to verify the first certificate");
    expect(connectError(error, "db:5432/x").message).toMatch(
      /: set OMNIDAEMON_DATABASE_SSL_CA_FILE to the CA that signed the server's certificate$/,
    );
  });

  it("a server that wants TLS, or one that has none: sslmode", () => {
    const noEncryption = pgError(
      "28000",
      'no pg_hba.conf entry for host "127.0.0.1", user "u", database "x", no encryption',
    );
    expect(connectError(noEncryption, "db:5432/x").message).toMatch(
      /: the server requires TLS: set sslmode=verify-full \(or require\) in OMNIDAEMON_DATABASE_URL$/,
    );
    expect(
      connectError(new Error("The server does not support SSL connections"), "db:5432/x").message,
    ).toMatch(
      /: the server has no TLS: remove sslmode from OMNIDAEMON_DATABASE_URL, or enable ssl on the server$/,
    );
  });
});
