import type { KafkaConnection } from "../../config";
import type { Platformatic } from "./load";

/** The SASL mechanism names @platformatic/kafka takes, from the connection schema's lower-case ones. */
const MECHANISM = {
  plain: "PLAIN",
  "scram-sha-256": "SCRAM-SHA-256",
  "scram-sha-512": "SCRAM-SHA-512",
} as const;

/**
 * The connection options every @platformatic/kafka client (admin, producer, consumer) is built with: the same
 * brokers, TLS, SASL and timeouts as the kafkajs driver gets from the same {@link KafkaConnection}.
 */
export function platformaticBaseOptions(connection: KafkaConnection): Platformatic.BaseOptions {
  const { ssl, sasl } = connection;
  return {
    clientId: connection.clientId,
    bootstrapBrokers: connection.brokers,
    connectTimeout: connection.connectionTimeoutMs,
    requestTimeout: connection.requestTimeoutMs,
    ...(ssl === false
      ? {}
      : ssl === true
        ? { tls: {} }
        : {
            tls: {
              rejectUnauthorized: ssl.rejectUnauthorized,
              ...(ssl.ca === undefined ? {} : { ca: ssl.ca }),
              ...(ssl.cert === undefined ? {} : { cert: ssl.cert }),
              ...(ssl.key === undefined ? {} : { key: ssl.key }),
              ...(ssl.passphrase === undefined ? {} : { passphrase: ssl.passphrase }),
              ...(ssl.servername === undefined ? {} : { servername: ssl.servername }),
            },
            ...(ssl.servername === undefined ? {} : { tlsServerName: ssl.servername }),
          }),
    ...(sasl === undefined
      ? {}
      : { sasl: { mechanism: MECHANISM[sasl.mechanism], username: sasl.username, password: sasl.password } }),
  };
}

/**
 * How the producer and admin clients retry a request that failed in a way the client deems retriable (a leader
 * moving, a broker restarting): up to 5 more times, 100 ms doubling to 1.6 s, about 3 s in all — close to kafkajs'
 * default (5 retries from 300 ms). The library's default for an idempotent producer is to retry forever, holding
 * every failed attempt's error in memory; the bus bounds each publish itself and reports the failure instead.
 */
export const platformaticRetries = {
  retries: 5,
  retryDelay: (_client: unknown, _operation: string, attempt: number): number =>
    100 * 2 ** Math.max(0, attempt - 1),
} satisfies Pick<Platformatic.BaseOptions, "retries" | "retryDelay">;
