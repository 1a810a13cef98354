import type { KafkaConnection } from "./config";
import { BusError } from "./errors";

/**
 * Why a first connection to Kafka failed, as one sentence naming the setting to fix. Used by the services that
 * connect first (producer, admin), so an app with a wrong password, an untrusted CA or TLS switched off against a
 * TLS listener fails at start with that sentence instead of a client library's retry message.
 */

// Node's certificate verification failures (tls.TLSSocket#authorizationError codes).
const UNTRUSTED_CERT_CODES = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_UNTRUSTED",
  "CERT_SIGNATURE_FAILURE",
]);

interface Link {
  name: string;
  message: string;
  code: string | undefined;
}

/** The error and what it wraps (kafkajs nests the socket error under its retry error). */
function chain(error: unknown): Link[] {
  const links: Link[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current !== null && typeof current === "object"; depth++) {
    const e = current as {
      name?: unknown;
      message?: unknown;
      code?: unknown;
      cause?: unknown;
      originalError?: unknown;
    };
    links.push({
      name: typeof e.name === "string" ? e.name : "",
      message: typeof e.message === "string" ? e.message : "",
      code: typeof e.code === "string" ? e.code : undefined,
    });
    current = e.cause ?? e.originalError;
  }
  return links;
}

/** The sentence for a failed connect, or undefined when the failure is not a configuration problem we know. */
export function explainConnectError(error: unknown, connection: KafkaConnection): string | undefined {
  const links = chain(error);
  const brokers = connection.brokers.join(",");
  const has = (test: (link: Link) => boolean) => links.find(test);

  if (has((l) => l.name === "KafkaJSSASLAuthenticationError")) {
    const mechanism = connection.sasl?.mechanism ?? "none";
    return (
      `Kafka at ${brokers} refused the SASL ${mechanism} login of user "${connection.sasl?.username ?? ""}": ` +
      `check OMNIDAEMON_KAFKA_SASL_PASSWORD (or OMNIDAEMON_KAFKA_SASL_PASSWORD_FILE), ` +
      `OMNIDAEMON_KAFKA_SASL_USERNAME and OMNIDAEMON_KAFKA_SASL_MECHANISM.`
    );
  }
  const untrusted = has((l) => l.code !== undefined && UNTRUSTED_CERT_CODES.has(l.code));
  if (untrusted) {
    return (
      `the TLS certificate of Kafka at ${brokers} is not trusted (${untrusted.code}): set ` +
      `OMNIDAEMON_KAFKA_SSL_CA_FILE to the CA that signed the brokers' certificates.`
    );
  }
  const altname = has((l) => l.code === "ERR_TLS_CERT_ALTNAME_INVALID");
  if (altname) {
    return (
      `the TLS certificate of Kafka at ${brokers} does not match the broker's host name: set ` +
      `OMNIDAEMON_KAFKA_SSL_SERVERNAME to a name the certificate holds, or use that name in OMNIDAEMON_KAFKA_BROKERS.`
    );
  }
  if (connection.ssl === false && has((l) => l.name === "KafkaJSConnectionClosedError")) {
    return (
      `Kafka at ${brokers} closed the connection before answering, as a TLS listener does with a plaintext ` +
      `client: set OMNIDAEMON_KAFKA_SSL=true (with OMNIDAEMON_KAFKA_SSL_CA_FILE for a private CA).`
    );
  }
  if (
    connection.ssl !== false &&
    has((l) => l.code === "EPROTO" || /wrong version number|before secure TLS connection/i.test(l.message))
  ) {
    return (
      `Kafka at ${brokers} does not speak TLS on this port: set OMNIDAEMON_KAFKA_SSL=false, or point ` +
      `OMNIDAEMON_KAFKA_BROKERS at the TLS listener.`
    );
  }
  if (has((l) => l.code === "ECONNREFUSED" || /ECONNREFUSED/.test(l.message))) {
    return `nothing accepts connections at ${brokers}: check OMNIDAEMON_KAFKA_BROKERS.`;
  }
  return undefined;
}

/** A BusError for a failed first connect, with the explanation when there is one. */
export function connectFailure(what: string, error: unknown, connection: KafkaConnection): BusError {
  const explained = explainConnectError(error, connection);
  return new BusError(
    "CONNECT_FAILED",
    explained ?? `could not connect the Kafka ${what}: ${(error as Error).message}`,
    { cause: error },
  );
}
