import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, isLoopback, loadCoordinatorConfig, redactConfig, redactUrl } from "./config";

const BASE = {
  OMNIDAEMON_KAFKA_BROKERS: "localhost:9092",
  OMNIDAEMON_DATABASE_URL: "postgres://omni:s3cret@localhost:5432/omni",
};
const TOKEN = "0123456789abcdef0123";

function issuesOf(env: Record<string, string | undefined>): readonly string[] {
  try {
    loadCoordinatorConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("loadCoordinatorConfig", () => {
  it("applies the documented defaults", () => {
    expect(loadCoordinatorConfig(BASE)).toEqual({
      kafka: {
        brokers: ["localhost:9092"],
        client: "kafkajs",
        clientId: "omnidaemon-coordinator",
        ssl: false,
        connectionTimeoutMs: 10_000,
        requestTimeoutMs: 30_000,
      },
      database: { url: BASE.OMNIDAEMON_DATABASE_URL, schema: "public" },
      api: { host: "127.0.0.1", port: 8765 },
      logLevel: "info",
      shutdownTimeoutMs: 30_000,
      resultTtlMs: 86_400_000,
      heartbeatTimeoutMs: 15_000,
      workerRetentionMs: 86_400_000,
    });
  });

  it("reads every variable", () => {
    const config = loadCoordinatorConfig({
      ...BASE,
      OMNIDAEMON_KAFKA_BROKERS: " k1:9092, k2:9093 ,",
      OMNIDAEMON_KAFKA_CLIENT_ID: "coord-a",
      OMNIDAEMON_KAFKA_CLIENT: "Platformatic",
      OMNIDAEMON_KAFKA_SSL: "true",
      OMNIDAEMON_KAFKA_SASL_MECHANISM: "SCRAM-SHA-512",
      OMNIDAEMON_KAFKA_SASL_USERNAME: "u",
      OMNIDAEMON_KAFKA_SASL_PASSWORD: "p",
      OMNIDAEMON_DATABASE_SCHEMA: "omni_test",
      OMNIDAEMON_DATABASE_SSL: "1",
      OMNIDAEMON_API_TOKEN: TOKEN,
      OMNIDAEMON_API_PORT: "9000",
      OMNIDAEMON_LOG_LEVEL: "debug",
      OMNIDAEMON_SHUTDOWN_TIMEOUT_MS: "5000",
      OMNIDAEMON_RESULT_TTL_MS: "60000",
      OMNIDAEMON_HEARTBEAT_TIMEOUT_MS: "20000",
      OMNIDAEMON_WORKER_RETENTION_MS: "3600000",
    });
    expect(config).toEqual({
      kafka: {
        brokers: ["k1:9092", "k2:9093"],
        client: "platformatic",
        clientId: "coord-a",
        ssl: true,
        sasl: { mechanism: "scram-sha-512", username: "u", password: "p" },
        connectionTimeoutMs: 10_000,
        requestTimeoutMs: 30_000,
      },
      // OMNIDAEMON_DATABASE_SSL=1 (the older switch) means sslmode=require when the URL names none.
      database: { url: `${BASE.OMNIDAEMON_DATABASE_URL}?sslmode=require`, schema: "omni_test" },
      api: { host: "0.0.0.0", port: 9000, token: TOKEN },
      logLevel: "debug",
      shutdownTimeoutMs: 5000,
      resultTtlMs: 60_000,
      heartbeatTimeoutMs: 20_000,
      workerRetentionMs: 3_600_000,
    });
  });

  it("ignores variables it does not know, and treats empty values as unset", () => {
    const config = loadCoordinatorConfig({
      ...BASE,
      PATH: "/bin",
      OMNIDAEMON_API_TOKEN: "",
      OMNIDAEMON_API_PORT: "",
    });
    expect(config.api).toEqual({ host: "127.0.0.1", port: 8765 });
  });

  it("names the variable and the bad value", () => {
    expect(issuesOf({ ...BASE, OMNIDAEMON_API_PORT: "abc" })).toEqual([
      'OMNIDAEMON_API_PORT: expected an integer 1-65535, got "abc"',
    ]);
    expect(issuesOf({ ...BASE, OMNIDAEMON_API_PORT: "70000" })).toEqual([
      'OMNIDAEMON_API_PORT: expected an integer 1-65535, got "70000"',
    ]);
    expect(issuesOf({ ...BASE, OMNIDAEMON_SHUTDOWN_TIMEOUT_MS: "1.5" })).toEqual([
      'OMNIDAEMON_SHUTDOWN_TIMEOUT_MS: expected an integer 1-2147483647, got "1.5"',
    ]);
    expect(issuesOf({ ...BASE, OMNIDAEMON_KAFKA_SSL: "maybe" })).toEqual([
      'OMNIDAEMON_KAFKA_SSL: expected true or false, got "maybe"',
    ]);
    expect(issuesOf({ ...BASE, OMNIDAEMON_LOG_LEVEL: "loud" })).toEqual([
      'OMNIDAEMON_LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, got "loud"',
    ]);
    expect(issuesOf({ ...BASE, OMNIDAEMON_KAFKA_BROKERS: "k1:9092,nohost" })).toEqual([
      'OMNIDAEMON_KAFKA_BROKERS: expected a comma-separated list of host:port, got "nohost"',
    ]);
    expect(issuesOf({ ...BASE, OMNIDAEMON_DATABASE_SCHEMA: "Bad-Schema" })[0]).toMatch(
      /^OMNIDAEMON_DATABASE_SCHEMA: expected a lowercase identifier/,
    );
  });

  it("refuses a worker retention shorter than the heartbeat timeout, naming the variable", () => {
    expect(
      issuesOf({ ...BASE, OMNIDAEMON_HEARTBEAT_TIMEOUT_MS: "20000", OMNIDAEMON_WORKER_RETENTION_MS: "5000" }),
    ).toEqual(["OMNIDAEMON_WORKER_RETENTION_MS: must be at least OMNIDAEMON_HEARTBEAT_TIMEOUT_MS (20000)"]);
  });

  it("lists every missing required variable at once", () => {
    expect(issuesOf({})).toEqual([
      "OMNIDAEMON_KAFKA_BROKERS: is required (comma-separated host:port list)",
      "OMNIDAEMON_DATABASE_URL: is required (postgres://user:password@host:5432/database)",
    ]);
  });

  it("never echoes a secret in an error", () => {
    const issues = issuesOf({
      ...BASE,
      OMNIDAEMON_DATABASE_URL: "mysql://root:hunter2@db/x",
      OMNIDAEMON_API_TOKEN: "short-hunter2",
    });
    expect(issues).toHaveLength(2);
    expect(issues.join("\n")).not.toContain("hunter2");
    expect(issues[0]).toMatch(/^OMNIDAEMON_DATABASE_URL: expected a postgres:\/\/ or postgresql:\/\/ URL/);
    expect(issues[1]).toBe("OMNIDAEMON_API_TOKEN: expected at least 16 characters, got 13 (value not shown)");
  });

  it("defaults the host to 0.0.0.0 with a token and 127.0.0.1 without", () => {
    expect(loadCoordinatorConfig({ ...BASE, OMNIDAEMON_API_TOKEN: TOKEN }).api.host).toBe("0.0.0.0");
    expect(loadCoordinatorConfig(BASE).api.host).toBe("127.0.0.1");
  });

  it("refuses a non-loopback host without a token, with a clear error", () => {
    const issues = issuesOf({ ...BASE, OMNIDAEMON_API_HOST: "0.0.0.0" });
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(/^OMNIDAEMON_API_HOST: "0.0.0.0" is not a loopback address/);
    expect(issues[0]).toContain("set OMNIDAEMON_API_TOKEN");
  });

  it("accepts a loopback host without a token, and any host with one", () => {
    expect(loadCoordinatorConfig({ ...BASE, OMNIDAEMON_API_HOST: "::1" }).api.host).toBe("::1");
    expect(loadCoordinatorConfig({ ...BASE, OMNIDAEMON_API_HOST: "localhost" }).api.host).toBe("localhost");
    const exposed = loadCoordinatorConfig({
      ...BASE,
      OMNIDAEMON_API_HOST: "10.0.0.5",
      OMNIDAEMON_API_TOKEN: TOKEN,
    });
    expect(exposed.api).toEqual({ host: "10.0.0.5", port: 8765, token: TOKEN });
  });

  it("requires SASL username and password with a mechanism, and a mechanism with either", () => {
    expect(issuesOf({ ...BASE, OMNIDAEMON_KAFKA_SASL_MECHANISM: "plain" })).toEqual([
      "OMNIDAEMON_KAFKA_SASL_USERNAME: is required when OMNIDAEMON_KAFKA_SASL_MECHANISM is set",
      "OMNIDAEMON_KAFKA_SASL_PASSWORD: is required when OMNIDAEMON_KAFKA_SASL_MECHANISM is set (or OMNIDAEMON_KAFKA_SASL_PASSWORD_FILE)",
    ]);
    expect(issuesOf({ ...BASE, OMNIDAEMON_KAFKA_SASL_USERNAME: "u" })[0]).toMatch(
      /^OMNIDAEMON_KAFKA_SASL_MECHANISM: is required with a SASL username or password/,
    );
  });

  describe("TLS and secrets from files (Kubernetes Secrets)", () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), "coordinator-config-"));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it("reads the Kafka CA, client certificate and SASL password, and the Postgres CA and password, from files", () => {
      const file = (name: string, content: string): string => {
        writeFileSync(join(dir, name), content);
        return join(dir, name);
      };
      const config = loadCoordinatorConfig({
        ...BASE,
        OMNIDAEMON_DATABASE_URL: "postgres://omni@db:5432/omni?sslmode=verify-full",
        OMNIDAEMON_DATABASE_SSL_CA_FILE: file("pg-ca.pem", "PG CA"),
        OMNIDAEMON_DATABASE_PASSWORD_FILE: file("pg-password", "pg-secret\n"),
        OMNIDAEMON_KAFKA_SSL_CA_FILE: file("ca.pem", "KAFKA CA"),
        OMNIDAEMON_KAFKA_SSL_CERT_FILE: file("client.pem", "CLIENT CERT"),
        OMNIDAEMON_KAFKA_SSL_KEY_FILE: file("client.key", "CLIENT KEY"),
        OMNIDAEMON_KAFKA_SASL_MECHANISM: "scram-sha-256",
        OMNIDAEMON_KAFKA_SASL_USERNAME: "coord",
        OMNIDAEMON_KAFKA_SASL_PASSWORD_FILE: file("kafka-password", "kafka-secret"),
      });
      expect(config.kafka.ssl).toEqual({
        rejectUnauthorized: true,
        ca: "KAFKA CA",
        cert: "CLIENT CERT",
        key: "CLIENT KEY",
      });
      expect(config.kafka.sasl).toEqual({
        mechanism: "scram-sha-256",
        username: "coord",
        password: "kafka-secret",
      });
      expect(config.database).toEqual({
        url: "postgres://omni@db:5432/omni?sslmode=verify-full",
        schema: "public",
        sslCa: "PG CA",
        password: "pg-secret",
      });
      const logged = JSON.stringify(redactConfig(config));
      for (const secret of ["kafka-secret", "pg-secret", "CLIENT KEY"]) expect(logged).not.toContain(secret);
    });

    it("reads the API token from OMNIDAEMON_API_TOKEN_FILE, and checks its length there", () => {
      writeFileSync(join(dir, "token"), `${TOKEN}\n`);
      expect(loadCoordinatorConfig({ ...BASE, OMNIDAEMON_API_TOKEN_FILE: join(dir, "token") }).api).toEqual({
        host: "0.0.0.0",
        port: 8765,
        token: TOKEN,
      });
      writeFileSync(join(dir, "short"), "short-secret");
      expect(issuesOf({ ...BASE, OMNIDAEMON_API_TOKEN_FILE: join(dir, "short") })).toEqual([
        "OMNIDAEMON_API_TOKEN_FILE: expected at least 16 characters, got 12 (value not shown)",
      ]);
    });

    it("refuses a password given both inline and as a file, naming the _FILE variable", () => {
      expect(
        issuesOf({
          ...BASE,
          OMNIDAEMON_KAFKA_SASL_MECHANISM: "plain",
          OMNIDAEMON_KAFKA_SASL_USERNAME: "u",
          OMNIDAEMON_KAFKA_SASL_PASSWORD: "inline-secret",
          OMNIDAEMON_KAFKA_SASL_PASSWORD_FILE: join(__dirname, "config.ts"),
        }),
      ).toEqual([
        "OMNIDAEMON_KAFKA_SASL_PASSWORD_FILE: set either OMNIDAEMON_KAFKA_SASL_PASSWORD or OMNIDAEMON_KAFKA_SASL_PASSWORD_FILE, not both",
      ]);
    });
  });

  it("ConfigError's message lists every issue", () => {
    expect(() => loadCoordinatorConfig({})).toThrow(
      /invalid coordinator configuration:\n {2}OMNIDAEMON_KAFKA_BROKERS: .*\n {2}OMNIDAEMON_DATABASE_URL: /,
    );
  });
});

describe("redactConfig", () => {
  it("strips the token, the SASL password and URL credentials, and keeps the rest", () => {
    const config = loadCoordinatorConfig({
      ...BASE,
      OMNIDAEMON_DATABASE_URL: "postgres://omni:s3cret@db:5432/omni?sslpassword=k3y&application_name=coord",
      OMNIDAEMON_API_TOKEN: TOKEN,
      OMNIDAEMON_KAFKA_SASL_MECHANISM: "plain",
      OMNIDAEMON_KAFKA_SASL_USERNAME: "svc",
      OMNIDAEMON_KAFKA_SASL_PASSWORD: "kafkapass",
    });
    const redacted = redactConfig(config);
    const text = JSON.stringify(redacted);
    for (const secret of [TOKEN, "s3cret", "k3y", "kafkapass"]) expect(text).not.toContain(secret);
    expect(redacted.database.url).toBe(
      "postgres://omni:***@db:5432/omni?sslpassword=***&application_name=coord",
    );
    expect(redacted.api.token).toBe("[redacted]");
    expect(redacted.kafka.sasl).toEqual({ mechanism: "plain", username: "svc", password: "[redacted]" });
    expect(redacted.api.port).toBe(config.api.port);
    // The original is untouched.
    expect(config.api.token).toBe(TOKEN);
  });

  it("leaves absent secrets absent", () => {
    const redacted = redactConfig(loadCoordinatorConfig(BASE));
    expect(redacted.api.token).toBeUndefined();
    expect(redacted.kafka.sasl).toBeUndefined();
  });

  it("redactUrl: an unparsable URL is hidden whole", () => {
    expect(redactUrl("not a url with password")).toBe("[redacted]");
  });
});

describe("isLoopback", () => {
  it.each([
    ["127.0.0.1", true],
    ["127.1.2.3", true],
    ["::1", true],
    ["[::1]", true],
    ["::ffff:127.0.0.1", true],
    ["localhost", true],
    ["0.0.0.0", false],
    ["::", false],
    ["10.0.0.1", false],
    ["example.com", false],
  ])("%s → %s", (host, expected) => {
    expect(isLoopback(host)).toBe(expected);
  });
});
