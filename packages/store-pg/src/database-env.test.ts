import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { clientConfig } from "./connection";
import { loadDatabaseEnv } from "./database-env";

const PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const settings = {
  schema: "public",
  connectTimeoutMs: 1000,
  statementTimeoutMs: undefined,
  applicationName: "t",
};

describe("Postgres TLS from the URL's sslmode", () => {
  it("require: encrypts without verifying the server's certificate", () => {
    const config = clientConfig({ ...settings, databaseUrl: "postgres://u:p@db/x?sslmode=require" });
    expect(config.ssl).toEqual({ rejectUnauthorized: false });
    // pg lets a connection string's own ssl settings win over `ssl`: the TLS parameters must not stay in it.
    expect(config.connectionString).toBe("postgres://u:p@db/x");
  });

  it("verify-ca: checks the chain against the CA but not the host name", () => {
    const config = clientConfig({
      ...settings,
      databaseUrl: "postgres://db/x?sslmode=verify-ca",
      sslCa: PEM,
    });
    expect(config.ssl).toMatchObject({ ca: PEM, rejectUnauthorized: true });
    const check = (config.ssl as { checkServerIdentity: () => unknown }).checkServerIdentity;
    expect(check()).toBeUndefined();
  });

  it("verify-full: checks the chain and the host name", () => {
    const config = clientConfig({
      ...settings,
      databaseUrl: "postgres://db/x?sslmode=verify-full",
      sslCa: PEM,
    });
    expect(config.ssl).toEqual({ ca: PEM, rejectUnauthorized: true });
  });

  it("disable, or no sslmode: plaintext", () => {
    expect(clientConfig({ ...settings, databaseUrl: "postgres://db/x" }).ssl).toBe(false);
    expect(clientConfig({ ...settings, databaseUrl: "postgres://db/x?sslmode=disable" }).ssl).toBe(false);
  });

  it("puts a password given apart (from a file) into the connection, URL-encoded", () => {
    const config = clientConfig({ ...settings, databaseUrl: "postgres://omni@db/x", password: "p@ss:/word" });
    expect(config.connectionString).toBe("postgres://omni:p%40ss%3A%2Fword@db/x");
  });
});

describe("loadDatabaseEnv", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "database-env-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("reads the URL, the CA file and the password file", () => {
    writeFileSync(join(dir, "ca.pem"), PEM);
    writeFileSync(join(dir, "password"), "from-a-secret\n");
    const database = loadDatabaseEnv({
      OMNIDAEMON_DATABASE_URL: "postgres://omni@db:5432/x?sslmode=verify-full",
      OMNIDAEMON_DATABASE_SSL_CA_FILE: join(dir, "ca.pem"),
      OMNIDAEMON_DATABASE_PASSWORD_FILE: join(dir, "password"),
    });
    expect(database).toEqual({
      url: "postgres://omni@db:5432/x?sslmode=verify-full",
      schema: "public",
      sslCa: PEM,
      password: "from-a-secret",
    });
  });

  it("names the variable: a bad sslmode, a password twice, an unreadable CA file", () => {
    writeFileSync(join(dir, "password"), "x");
    expect(() =>
      loadDatabaseEnv({
        OMNIDAEMON_DATABASE_URL: "postgres://omni:inline-secret@db/x?sslmode=sometimes",
        OMNIDAEMON_DATABASE_PASSWORD_FILE: join(dir, "password"),
        OMNIDAEMON_DATABASE_SSL_CA_FILE: join(dir, "nope.pem"),
      }),
    ).toThrow(
      expect.objectContaining({
        issues: expect.arrayContaining([
          expect.stringMatching(/^OMNIDAEMON_DATABASE_SSL_CA_FILE: cannot read .*nope\.pem" \(ENOENT\)$/),
        ]),
      }),
    );
    const issuesOf = (env: Record<string, string>): string[] => {
      try {
        loadDatabaseEnv(env);
      } catch (error) {
        return [...(error as { issues: string[] }).issues];
      }
      throw new Error("expected a throw");
    };
    expect(
      issuesOf({ OMNIDAEMON_DATABASE_URL: "postgres://omni:inline-secret@db/x?sslmode=sometimes" }),
    ).toEqual([
      'OMNIDAEMON_DATABASE_URL: sslmode must be one of disable, allow, prefer, require, verify-ca, verify-full, got "sometimes"',
    ]);
    const issues = issuesOf({
      OMNIDAEMON_DATABASE_URL: "postgres://omni:inline-secret@db/x?sslmode=require",
      OMNIDAEMON_DATABASE_PASSWORD_FILE: join(dir, "password"),
    });
    {
      expect(issues).toEqual([
        "OMNIDAEMON_DATABASE_PASSWORD_FILE: the URL in OMNIDAEMON_DATABASE_URL holds a password too; give it once",
      ]);
      expect(issues.join("\n")).not.toContain("inline-secret");
    }
  });
});
