import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { apiTokenFrom, loadSdkConfig, SdkConfigError } from "./sdk-config";

const base = { OMNIDAEMON_KAFKA_BROKERS: "127.0.0.1:9092" };

function errorOf(env: Record<string, string>): string {
  try {
    loadSdkConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(SdkConfigError);
    return (error as Error).message;
  }
  throw new Error("expected loadSdkConfig to throw");
}

describe("Kafka group session timeout and heartbeat", () => {
  it("default to a 30 s session timeout and a 3 s heartbeat", () => {
    const config = loadSdkConfig(base);
    expect(config.sessionTimeoutMs).toBe(30_000);
    expect(config.heartbeatIntervalMs).toBe(3000);
  });

  it("are read from OMNIDAEMON_KAFKA_SESSION_TIMEOUT_MS and OMNIDAEMON_KAFKA_HEARTBEAT_INTERVAL_MS", () => {
    const config = loadSdkConfig({
      ...base,
      OMNIDAEMON_KAFKA_SESSION_TIMEOUT_MS: "6000",
      OMNIDAEMON_KAFKA_HEARTBEAT_INTERVAL_MS: "1000",
    });
    expect(config.sessionTimeoutMs).toBe(6000);
    expect(config.heartbeatIntervalMs).toBe(1000);
  });

  it("refuse a value that is not a whole number, naming the variable", () => {
    expect(errorOf({ ...base, OMNIDAEMON_KAFKA_SESSION_TIMEOUT_MS: "6s" })).toMatch(
      /^OMNIDAEMON_KAFKA_SESSION_TIMEOUT_MS: expected an integer 1000-3600000, got "6s"/,
    );
    expect(errorOf({ ...base, OMNIDAEMON_KAFKA_HEARTBEAT_INTERVAL_MS: "-1" })).toMatch(
      /^OMNIDAEMON_KAFKA_HEARTBEAT_INTERVAL_MS: expected an integer 100-3600000, got "-1"/,
    );
  });

  it("refuse values out of range, naming the variable", () => {
    expect(errorOf({ ...base, OMNIDAEMON_KAFKA_SESSION_TIMEOUT_MS: "999" })).toMatch(
      /^OMNIDAEMON_KAFKA_SESSION_TIMEOUT_MS: expected an integer 1000-3600000/,
    );
    expect(errorOf({ ...base, OMNIDAEMON_KAFKA_HEARTBEAT_INTERVAL_MS: "99" })).toMatch(
      /^OMNIDAEMON_KAFKA_HEARTBEAT_INTERVAL_MS: expected an integer 100-/,
    );
  });

  it("refuse a heartbeat that is not shorter than the session timeout, naming the heartbeat variable", () => {
    const message = errorOf({
      ...base,
      OMNIDAEMON_KAFKA_SESSION_TIMEOUT_MS: "6000",
      OMNIDAEMON_KAFKA_HEARTBEAT_INTERVAL_MS: "6000",
    });
    expect(message).toMatch(/^OMNIDAEMON_KAFKA_HEARTBEAT_INTERVAL_MS: /);
    expect(message).toContain("OMNIDAEMON_KAFKA_SESSION_TIMEOUT_MS (6000)");
    // The default heartbeat (3 s) against a short session timeout is refused too, not silently adjusted.
    expect(errorOf({ ...base, OMNIDAEMON_KAFKA_SESSION_TIMEOUT_MS: "2000" })).toMatch(
      /^OMNIDAEMON_KAFKA_HEARTBEAT_INTERVAL_MS: 3000 must be shorter than OMNIDAEMON_KAFKA_SESSION_TIMEOUT_MS \(2000\)/,
    );
  });
});

describe("the Kafka connection of new OmniDaemon() (the shared OMNIDAEMON_KAFKA_* schema)", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "sdk-config-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("carries TLS (CA file, servername) and SASL with the password read from a file", () => {
    const ca = join(dir, "ca.pem");
    const password = join(dir, "password");
    writeFileSync(ca, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
    writeFileSync(password, "s3cret-from-a-secret\n");
    const config = loadSdkConfig({
      ...base,
      OMNIDAEMON_KAFKA_SSL_CA_FILE: ca,
      OMNIDAEMON_KAFKA_SSL_SERVERNAME: "kafka.internal",
      OMNIDAEMON_KAFKA_SASL_MECHANISM: "SCRAM-SHA-512",
      OMNIDAEMON_KAFKA_SASL_USERNAME: "fleet",
      OMNIDAEMON_KAFKA_SASL_PASSWORD_FILE: password,
    });
    expect(config.kafka).toEqual({
      brokers: ["127.0.0.1:9092"],
      client: "kafkajs",
      clientId: "omnidaemon-worker",
      ssl: {
        rejectUnauthorized: true,
        ca: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
        servername: "kafka.internal",
      },
      sasl: { mechanism: "scram-sha-512", username: "fleet", password: "s3cret-from-a-secret" },
      connectionTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
    });
  });

  it("names the variable of an unreadable file, and reports every bad variable at once", () => {
    const message = errorOf({
      ...base,
      OMNIDAEMON_KAFKA_SSL_CA_FILE: join(dir, "missing.pem"),
      OMNIDAEMON_COORDINATOR_URL: "not a url",
    });
    expect(message).toContain(
      `OMNIDAEMON_KAFKA_SSL_CA_FILE: cannot read "${join(dir, "missing.pem")}" (ENOENT)`,
    );
    expect(message).toContain("OMNIDAEMON_COORDINATOR_URL");
  });

  it("requires the SASL username and password with a mechanism, naming each", () => {
    const message = errorOf({ ...base, OMNIDAEMON_KAFKA_SASL_MECHANISM: "plain" });
    expect(message).toContain("OMNIDAEMON_KAFKA_SASL_USERNAME: is required");
    expect(message).toContain("OMNIDAEMON_KAFKA_SASL_PASSWORD: is required");
  });

  it("never puts a secret in an error message", () => {
    const message = errorOf({
      ...base,
      OMNIDAEMON_KAFKA_SASL_PASSWORD: "hunter2-password",
      OMNIDAEMON_KAFKA_SASL_MECHANISM: "kerberos",
    });
    expect(message).toMatch(
      /OMNIDAEMON_KAFKA_SASL_MECHANISM: expected one of plain, scram-sha-256, scram-sha-512/,
    );
    expect(message).not.toContain("hunter2-password");
  });
});

describe("the coordinator's API token", () => {
  it("is read from OMNIDAEMON_API_TOKEN, or from the file OMNIDAEMON_API_TOKEN_FILE names", () => {
    const dir = mkdtempSync(join(tmpdir(), "sdk-token-"));
    try {
      writeFileSync(join(dir, "token"), "token-from-a-mounted-secret\n");
      expect(loadSdkConfig({ ...base, OMNIDAEMON_API_TOKEN_FILE: join(dir, "token") }).apiToken).toBe(
        "token-from-a-mounted-secret",
      );
      expect(loadSdkConfig({ ...base, OMNIDAEMON_API_TOKEN: "inline-token" }).apiToken).toBe("inline-token");
      expect(apiTokenFrom({ OMNIDAEMON_API_TOKEN_FILE: join(dir, "token") })).toBe(
        "token-from-a-mounted-secret",
      );
      expect(() => apiTokenFrom({ OMNIDAEMON_API_TOKEN_FILE: join(dir, "missing") })).toThrow(
        /^OMNIDAEMON_API_TOKEN_FILE: cannot read/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("agent start concurrency", () => {
  const base = { OMNIDAEMON_KAFKA_BROKERS: "localhost:9092" };
  it("defaults to 16 agents at once and is read from OMNIDAEMON_AGENT_START_CONCURRENCY", () => {
    expect(loadSdkConfig(base).agentStartConcurrency).toBe(16);
    expect(loadSdkConfig({ ...base, OMNIDAEMON_AGENT_START_CONCURRENCY: "4" }).agentStartConcurrency).toBe(4);
  });

  it("refuses 0, naming the variable", () => {
    expect(() => loadSdkConfig({ ...base, OMNIDAEMON_AGENT_START_CONCURRENCY: "0" })).toThrow(
      /OMNIDAEMON_AGENT_START_CONCURRENCY/,
    );
  });
});
