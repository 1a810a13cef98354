import type { KafkaConnection } from "./config";
import { driverErrorOf } from "./driver/errors";
import { BusError } from "./errors";

/**
 * Why a first connection to Kafka failed, as one sentence naming the setting to fix. Used by the services that
 * connect first (producer, admin), so an app with a wrong password, an untrusted CA or TLS switched off against a
 * TLS listener fails at start with that sentence instead of a client library's retry message. The same sentence on
 * either client: it reads the drivers' classification (driver/errors.ts), never a library's error.
 */
export function explainConnectError(error: unknown, connection: KafkaConnection): string | undefined {
  const failure = driverErrorOf(error);
  if (failure === undefined) return undefined;
  const seen = new Set(failure.connectProblems);
  const brokers = connection.brokers.join(",");

  if (seen.has("SASL_REFUSED")) {
    const mechanism = connection.sasl?.mechanism ?? "none";
    return (
      `Kafka at ${brokers} refused the SASL ${mechanism} login of user "${connection.sasl?.username ?? ""}": ` +
      `check OMNIDAEMON_KAFKA_SASL_PASSWORD (or OMNIDAEMON_KAFKA_SASL_PASSWORD_FILE), ` +
      `OMNIDAEMON_KAFKA_SASL_USERNAME and OMNIDAEMON_KAFKA_SASL_MECHANISM.`
    );
  }
  if (seen.has("CERT_UNTRUSTED")) {
    return (
      `the TLS certificate of Kafka at ${brokers} is not trusted (${failure.tlsCode ?? "unverified"}): set ` +
      `OMNIDAEMON_KAFKA_SSL_CA_FILE to the CA that signed the brokers' certificates.`
    );
  }
  if (seen.has("CERT_NAME_MISMATCH")) {
    return (
      `the TLS certificate of Kafka at ${brokers} does not match the broker's host name: set ` +
      `OMNIDAEMON_KAFKA_SSL_SERVERNAME to a name the certificate holds, or use that name in OMNIDAEMON_KAFKA_BROKERS.`
    );
  }
  if (connection.ssl === false && seen.has("CLOSED_BEFORE_ANSWER")) {
    return (
      `Kafka at ${brokers} closed the connection before answering, as a TLS listener does with a plaintext ` +
      `client: set OMNIDAEMON_KAFKA_SSL=true (with OMNIDAEMON_KAFKA_SSL_CA_FILE for a private CA).`
    );
  }
  if (connection.ssl !== false && seen.has("NOT_TLS")) {
    return (
      `Kafka at ${brokers} does not speak TLS on this port: set OMNIDAEMON_KAFKA_SSL=false, or point ` +
      `OMNIDAEMON_KAFKA_BROKERS at the TLS listener.`
    );
  }
  if (seen.has("REFUSED")) {
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
