import {
  EnvConfigError,
  envBoolean,
  envFileContent,
  envInteger,
  envIssues,
  envMilliseconds,
  envOneOf,
  envRequired,
  envText,
  secretOf,
  shown,
  type Env,
} from "@omnidaemon/lifecycle";
import { z } from "zod";
import { DEFAULT_KAFKA_CLIENT, KAFKA_CLIENTS, type KafkaConnection } from "./config";

/**
 * The one parser of the `OMNIDAEMON_KAFKA_*` variables, used by the coordinator, the worker, the SDK
 * (`new OmniDaemon()`) and the bench alike. Every variable, its default and whether it is a secret are listed in
 * docs/configuration.md. Files (`*_FILE`) are read when the environment is parsed, i.e. in `main` or at
 * `OmniDaemon.start()`, never at import.
 */

export const SASL_MECHANISMS = ["plain", "scram-sha-256", "scram-sha-512"] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

const BROKER = /^[^\s:,]+:\d{1,5}$/;

const kafkaEnvObject = z.object({
  /** Comma-separated bootstrap brokers, `host:port,host:port`. Required. */
  OMNIDAEMON_KAFKA_BROKERS: envRequired("comma-separated host:port list").transform((value, ctx) => {
    const brokers = value
      .split(",")
      .map((broker) => broker.trim())
      .filter((broker) => broker !== "");
    const bad = brokers.find((broker) => !BROKER.test(broker));
    if (brokers.length === 0 || bad !== undefined) {
      ctx.addIssue({
        code: "custom",
        message: `expected a comma-separated list of host:port, got ${shown(bad ?? value)}`,
      });
      return z.NEVER;
    }
    return brokers;
  }),
  OMNIDAEMON_KAFKA_CLIENT_ID: envText(),
  /** The Kafka client library. @default kafkajs */
  OMNIDAEMON_KAFKA_CLIENT: envOneOf(KAFKA_CLIENTS, DEFAULT_KAFKA_CLIENT),
  /** @default true when a CA, client certificate or server name is given, else false */
  OMNIDAEMON_KAFKA_SSL: envBoolean(undefined),
  OMNIDAEMON_KAFKA_SSL_CA_FILE: envFileContent(),
  OMNIDAEMON_KAFKA_SSL_CERT_FILE: envFileContent(),
  OMNIDAEMON_KAFKA_SSL_KEY_FILE: envFileContent(),
  OMNIDAEMON_KAFKA_SSL_KEY_PASSWORD: envText(),
  OMNIDAEMON_KAFKA_SSL_KEY_PASSWORD_FILE: envFileContent(),
  OMNIDAEMON_KAFKA_SSL_SERVERNAME: envText(),
  /** @default true */
  OMNIDAEMON_KAFKA_SSL_REJECT_UNAUTHORIZED: envBoolean(true),
  OMNIDAEMON_KAFKA_SASL_MECHANISM: envOneOf(SASL_MECHANISMS),
  OMNIDAEMON_KAFKA_SASL_USERNAME: envText(),
  OMNIDAEMON_KAFKA_SASL_PASSWORD: envText(),
  OMNIDAEMON_KAFKA_SASL_PASSWORD_FILE: envFileContent(),
  /** @default 10000 */
  OMNIDAEMON_KAFKA_CONNECTION_TIMEOUT_MS: envMilliseconds(10_000),
  /** @default 30000 */
  OMNIDAEMON_KAFKA_REQUEST_TIMEOUT_MS: envMilliseconds(30_000),
  // The broker bounds the session timeout too (group.min/max.session.timeout.ms, 6 s and 30 min by default).
  /** @default 30000 */
  OMNIDAEMON_KAFKA_SESSION_TIMEOUT_MS: envInteger(1000, 3_600_000, 30_000),
  /** @default 3000 */
  OMNIDAEMON_KAFKA_HEARTBEAT_INTERVAL_MS: envInteger(100, 3_600_000, 3000),
});

/** What an app gets from the `OMNIDAEMON_KAFKA_*` variables. */
export interface KafkaEnvSettings {
  connection: KafkaConnection;
  /** Kafka group session timeout: a worker that stops heartbeating loses its partitions after this. */
  sessionTimeoutMs: number;
  /** Kafka group heartbeat interval; shorter than `sessionTimeoutMs`. */
  heartbeatIntervalMs: number;
}

function kafkaEnvSchema(defaultClientId: string) {
  return kafkaEnvObject.transform((env, ctx): KafkaEnvSettings => {
    const saslPassword = secretOf(env, "OMNIDAEMON_KAFKA_SASL_PASSWORD", ctx);
    const keyPassword = secretOf(env, "OMNIDAEMON_KAFKA_SSL_KEY_PASSWORD", ctx);
    const mechanism = env.OMNIDAEMON_KAFKA_SASL_MECHANISM;
    const username = env.OMNIDAEMON_KAFKA_SASL_USERNAME;
    if (mechanism !== undefined) {
      if (username === undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["OMNIDAEMON_KAFKA_SASL_USERNAME"],
          message: "is required when OMNIDAEMON_KAFKA_SASL_MECHANISM is set",
        });
      }
      if (saslPassword === undefined && env.OMNIDAEMON_KAFKA_SASL_PASSWORD_FILE === undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["OMNIDAEMON_KAFKA_SASL_PASSWORD"],
          message:
            "is required when OMNIDAEMON_KAFKA_SASL_MECHANISM is set (or OMNIDAEMON_KAFKA_SASL_PASSWORD_FILE)",
        });
      }
    } else if (
      username !== undefined ||
      saslPassword !== undefined ||
      env.OMNIDAEMON_KAFKA_SASL_PASSWORD_FILE !== undefined
    ) {
      ctx.addIssue({
        code: "custom",
        path: ["OMNIDAEMON_KAFKA_SASL_MECHANISM"],
        message: `is required with a SASL username or password (one of ${SASL_MECHANISMS.join(", ")})`,
      });
    }

    const ca = env.OMNIDAEMON_KAFKA_SSL_CA_FILE?.content;
    const cert = env.OMNIDAEMON_KAFKA_SSL_CERT_FILE?.content;
    const key = env.OMNIDAEMON_KAFKA_SSL_KEY_FILE?.content;
    const servername = env.OMNIDAEMON_KAFKA_SSL_SERVERNAME;
    if ((cert === undefined) !== (key === undefined)) {
      ctx.addIssue({
        code: "custom",
        path: [cert === undefined ? "OMNIDAEMON_KAFKA_SSL_CERT_FILE" : "OMNIDAEMON_KAFKA_SSL_KEY_FILE"],
        message: "is required for mutual TLS: give the client certificate and its key together",
      });
    }
    const tlsDetails =
      ca !== undefined || cert !== undefined || servername !== undefined || keyPassword !== undefined;
    if (env.OMNIDAEMON_KAFKA_SSL === false && tlsDetails) {
      ctx.addIssue({
        code: "custom",
        path: ["OMNIDAEMON_KAFKA_SSL"],
        message:
          "is false, but a TLS CA, client certificate or server name is set: remove them or set it to true",
      });
    }
    const tls = env.OMNIDAEMON_KAFKA_SSL ?? tlsDetails;
    const rejectUnauthorized = env.OMNIDAEMON_KAFKA_SSL_REJECT_UNAUTHORIZED;

    if (env.OMNIDAEMON_KAFKA_HEARTBEAT_INTERVAL_MS >= env.OMNIDAEMON_KAFKA_SESSION_TIMEOUT_MS) {
      // A heartbeat as long as the session would expire the session between two beats.
      ctx.addIssue({
        code: "custom",
        path: ["OMNIDAEMON_KAFKA_HEARTBEAT_INTERVAL_MS"],
        message:
          `${env.OMNIDAEMON_KAFKA_HEARTBEAT_INTERVAL_MS} must be shorter than OMNIDAEMON_KAFKA_SESSION_TIMEOUT_MS ` +
          `(${env.OMNIDAEMON_KAFKA_SESSION_TIMEOUT_MS}); a third of it is usual`,
      });
    }

    const ssl: KafkaConnection["ssl"] = !tls
      ? false
      : !tlsDetails && rejectUnauthorized
        ? true
        : {
            rejectUnauthorized,
            ...(ca === undefined ? {} : { ca }),
            ...(cert === undefined ? {} : { cert }),
            ...(key === undefined ? {} : { key }),
            ...(keyPassword === undefined ? {} : { passphrase: keyPassword }),
            ...(servername === undefined ? {} : { servername }),
          };
    return {
      connection: {
        client: env.OMNIDAEMON_KAFKA_CLIENT,
        brokers: env.OMNIDAEMON_KAFKA_BROKERS,
        clientId: env.OMNIDAEMON_KAFKA_CLIENT_ID ?? defaultClientId,
        ssl,
        ...(mechanism !== undefined && {
          sasl: { mechanism, username: username ?? "", password: saslPassword ?? "" },
        }),
        connectionTimeoutMs: env.OMNIDAEMON_KAFKA_CONNECTION_TIMEOUT_MS,
        requestTimeoutMs: env.OMNIDAEMON_KAFKA_REQUEST_TIMEOUT_MS,
      },
      sessionTimeoutMs: env.OMNIDAEMON_KAFKA_SESSION_TIMEOUT_MS,
      heartbeatIntervalMs: env.OMNIDAEMON_KAFKA_HEARTBEAT_INTERVAL_MS,
    };
  });
}

/** The Kafka settings, or one issue line per bad variable (each starting with its name). */
export function safeLoadKafkaEnv(
  env: Env,
  options: { defaultClientId: string },
): { ok: true; settings: KafkaEnvSettings } | { ok: false; issues: string[] } {
  const result = kafkaEnvSchema(options.defaultClientId).safeParse(env);
  return result.success
    ? { ok: true, settings: result.data }
    : { ok: false, issues: envIssues(result.error) };
}

/** Parses `OMNIDAEMON_KAFKA_*`; throws an {@link EnvConfigError} naming every bad variable. */
export function loadKafkaEnv(env: Env, options: { defaultClientId: string }): KafkaEnvSettings {
  const result = safeLoadKafkaEnv(env, options);
  if (result.ok) return result.settings;
  throw new EnvConfigError(result.issues, "Kafka configuration");
}

const REDACTED = "[redacted]";

/** A copy of `connection` fit for a log line: passwords and the private key replaced, PEM material summarised. */
export function redactKafkaConnection(connection: KafkaConnection): Record<string, unknown> {
  const { ssl, sasl, ...rest } = connection;
  const pem = (value: string | undefined) =>
    value === undefined ? undefined : `(PEM, ${value.length} bytes)`;
  return {
    ...rest,
    ssl:
      typeof ssl === "boolean"
        ? ssl
        : {
            rejectUnauthorized: ssl.rejectUnauthorized,
            ...(ssl.servername === undefined ? {} : { servername: ssl.servername }),
            ...(ssl.ca === undefined ? {} : { ca: pem(ssl.ca) }),
            ...(ssl.cert === undefined ? {} : { cert: pem(ssl.cert) }),
            ...(ssl.key === undefined ? {} : { key: REDACTED }),
            ...(ssl.passphrase === undefined ? {} : { passphrase: REDACTED }),
          },
    ...(sasl === undefined ? {} : { sasl: { ...sasl, password: REDACTED } }),
  };
}
