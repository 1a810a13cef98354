import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EnvConfigError } from "@omnidaemon/lifecycle";
import { loadKafkaEnv, redactKafkaConnection } from "./connection-env";

const base = { OMNIDAEMON_KAFKA_BROKERS: "k1:9093" };
const options = { defaultClientId: "app" };

function issuesOf(env: Record<string, string>): readonly string[] {
  try {
    loadKafkaEnv(env, options);
  } catch (error) {
    expect(error).toBeInstanceOf(EnvConfigError);
    return (error as EnvConfigError).issues;
  }
  throw new Error("expected loadKafkaEnv to throw");
}

let dir: string;
const file = (name: string, content: string): string => {
  writeFileSync(join(dir, name), content);
  return join(dir, name);
};
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "kafka-env-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("loadKafkaEnv", () => {
  it("defaults: plaintext, no SASL, the app's client id, documented timeouts", () => {
    expect(loadKafkaEnv(base, options)).toEqual({
      connection: {
        client: "kafkajs",
        brokers: ["k1:9093"],
        clientId: "app",
        ssl: false,
        connectionTimeoutMs: 10_000,
        requestTimeoutMs: 30_000,
      },
      sessionTimeoutMs: 30_000,
      heartbeatIntervalMs: 3000,
    });
  });

  it("selects the Kafka client from OMNIDAEMON_KAFKA_CLIENT and names the variable on an unknown one", () => {
    expect(
      loadKafkaEnv({ ...base, OMNIDAEMON_KAFKA_CLIENT: "platformatic" }, options).connection.client,
    ).toBe("platformatic");
    expect(loadKafkaEnv({ ...base, OMNIDAEMON_KAFKA_CLIENT: "KafkaJS" }, options).connection.client).toBe(
      "kafkajs",
    );
    expect(() => loadKafkaEnv({ ...base, OMNIDAEMON_KAFKA_CLIENT: "rdkafka" }, options)).toThrow(
      /OMNIDAEMON_KAFKA_CLIENT.*expected one of kafkajs, platformatic, got "rdkafka"/,
    );
  });

  it("OMNIDAEMON_KAFKA_SSL=true alone means TLS with the system CAs", () => {
    expect(loadKafkaEnv({ ...base, OMNIDAEMON_KAFKA_SSL: "true" }, options).connection.ssl).toBe(true);
  });

  it("a CA file turns TLS on by itself; reject-unauthorized can be switched off", () => {
    const ca = file("ca.pem", "CA PEM");
    expect(loadKafkaEnv({ ...base, OMNIDAEMON_KAFKA_SSL_CA_FILE: ca }, options).connection.ssl).toEqual({
      rejectUnauthorized: true,
      ca: "CA PEM",
    });
    expect(
      loadKafkaEnv(
        { ...base, OMNIDAEMON_KAFKA_SSL: "on", OMNIDAEMON_KAFKA_SSL_REJECT_UNAUTHORIZED: "false" },
        options,
      ).connection.ssl,
    ).toEqual({ rejectUnauthorized: false });
  });

  it("reads the client key's passphrase from a file, and the SASL password inline", () => {
    const settings = loadKafkaEnv(
      {
        ...base,
        OMNIDAEMON_KAFKA_SSL_CERT_FILE: file("c.pem", "CERT"),
        OMNIDAEMON_KAFKA_SSL_KEY_FILE: file("c.key", "KEY"),
        OMNIDAEMON_KAFKA_SSL_KEY_PASSWORD_FILE: file("pass", "key-pass\n"),
        OMNIDAEMON_KAFKA_SASL_MECHANISM: "PLAIN",
        OMNIDAEMON_KAFKA_SASL_USERNAME: "u",
        OMNIDAEMON_KAFKA_SASL_PASSWORD: "p",
        OMNIDAEMON_KAFKA_CONNECTION_TIMEOUT_MS: "2500",
        OMNIDAEMON_KAFKA_REQUEST_TIMEOUT_MS: "5000",
      },
      options,
    );
    expect(settings.connection).toMatchObject({
      ssl: { rejectUnauthorized: true, cert: "CERT", key: "KEY", passphrase: "key-pass" },
      sasl: { mechanism: "plain", username: "u", password: "p" },
      connectionTimeoutMs: 2500,
      requestTimeoutMs: 5000,
    });
  });

  it("names the variable of every inconsistency", () => {
    expect(
      issuesOf({ ...base, OMNIDAEMON_KAFKA_SSL: "false", OMNIDAEMON_KAFKA_SSL_SERVERNAME: "k" }),
    ).toEqual([
      "OMNIDAEMON_KAFKA_SSL: is false, but a TLS CA, client certificate or server name is set: remove them or set it to true",
    ]);
    expect(issuesOf({ ...base, OMNIDAEMON_KAFKA_SSL_CERT_FILE: file("c.pem", "CERT") })).toEqual([
      "OMNIDAEMON_KAFKA_SSL_KEY_FILE: is required for mutual TLS: give the client certificate and its key together",
    ]);
    expect(
      issuesOf({
        ...base,
        OMNIDAEMON_KAFKA_SASL_MECHANISM: "plain",
        OMNIDAEMON_KAFKA_SASL_USERNAME: "u",
        OMNIDAEMON_KAFKA_SASL_PASSWORD_FILE: file("empty", ""),
      }),
    ).toEqual([`OMNIDAEMON_KAFKA_SASL_PASSWORD_FILE: "${join(dir, "empty")}" is empty`]);
    expect(issuesOf({ OMNIDAEMON_KAFKA_SSL_CA_FILE: join(dir, "none") })).toEqual([
      "OMNIDAEMON_KAFKA_BROKERS: is required (comma-separated host:port list)",
      `OMNIDAEMON_KAFKA_SSL_CA_FILE: cannot read "${join(dir, "none")}" (ENOENT)`,
    ]);
  });
});

describe("redactKafkaConnection", () => {
  it("keeps what helps an operator and drops every secret", () => {
    const { connection } = loadKafkaEnv(
      {
        ...base,
        OMNIDAEMON_KAFKA_SSL_CA_FILE: file("ca.pem", "CA PEM"),
        OMNIDAEMON_KAFKA_SSL_CERT_FILE: file("c.pem", "CERT"),
        OMNIDAEMON_KAFKA_SSL_KEY_FILE: file("c.key", "PRIVATE-KEY-MATERIAL"),
        OMNIDAEMON_KAFKA_SSL_KEY_PASSWORD: "key-passphrase",
        OMNIDAEMON_KAFKA_SASL_MECHANISM: "scram-sha-512",
        OMNIDAEMON_KAFKA_SASL_USERNAME: "fleet",
        OMNIDAEMON_KAFKA_SASL_PASSWORD: "sasl-password",
      },
      options,
    );
    const redacted = redactKafkaConnection(connection);
    const text = JSON.stringify(redacted);
    for (const secret of ["PRIVATE-KEY-MATERIAL", "key-passphrase", "sasl-password"]) {
      expect(text).not.toContain(secret);
    }
    expect(redacted).toMatchObject({
      brokers: ["k1:9093"],
      ssl: { ca: "(PEM, 6 bytes)", cert: "(PEM, 4 bytes)", key: "[redacted]", passphrase: "[redacted]" },
      sasl: { mechanism: "scram-sha-512", username: "fleet", password: "[redacted]" },
    });
  });
});
