import { z } from "zod";

/**
 * The Kafka clients bus-kafka can run on (docs/configuration.md, `OMNIDAEMON_KAFKA_CLIENT`). Nothing outside this
 * package learns which one runs: each sits behind the driver interfaces in `driver/`.
 */
export const KAFKA_CLIENTS = ["kafkajs", "platformatic"] as const;
export type KafkaClientName = (typeof KAFKA_CLIENTS)[number];
export const DEFAULT_KAFKA_CLIENT: KafkaClientName = "kafkajs";

/**
 * How to reach Kafka, as the bus uses it. Apps build it from `OMNIDAEMON_KAFKA_*` with `loadKafkaEnv`
 * (connection-env.ts), the one parser of those variables; the bus only validates shape.
 */
export const kafkaConnectionSchema = z.object({
  /** Which Kafka client library talks to the brokers. @default "kafkajs" */
  client: z.enum(KAFKA_CLIENTS).default(DEFAULT_KAFKA_CLIENT),
  /** Bootstrap brokers, `host:port`. */
  brokers: z.array(z.string().regex(/^[^\s:]+:\d{1,5}$/, "expected host:port")).min(1),
  /** Client id sent to the broker (shows in broker logs and quotas). @default "omnidaemon" */
  clientId: z.string().min(1).default("omnidaemon"),
  /** TLS: `true` for the system CAs, or options with PEM material. @default false */
  ssl: z
    .union([
      z.boolean(),
      z.object({
        /** PEM CA bundle that signed the brokers' certificates. @default the system CAs */
        ca: z.string().optional(),
        /** PEM client certificate, for mutual TLS (with `key`). */
        cert: z.string().optional(),
        /** PEM private key of `cert`. Secret. */
        key: z.string().optional(),
        /** Passphrase of an encrypted `key`. Secret. */
        passphrase: z.string().optional(),
        /** Name the brokers' certificates are checked against (SNI). @default each broker's host */
        servername: z.string().optional(),
        /** Refuse brokers whose certificate does not verify. @default true */
        rejectUnauthorized: z.boolean().default(true),
      }),
    ])
    .default(false),
  /** SASL authentication. @default undefined (none) */
  sasl: z
    .object({
      mechanism: z.enum(["plain", "scram-sha-256", "scram-sha-512"]),
      username: z.string().min(1),
      password: z.string().min(1),
    })
    .optional(),
  /** Timeout for establishing a broker connection. @default 10000 */
  connectionTimeoutMs: z.number().int().positive().default(10_000),
  /** Timeout for one broker request. @default 30000 */
  requestTimeoutMs: z.number().int().positive().default(30_000),
});

export type KafkaConnectionInput = z.input<typeof kafkaConnectionSchema>;
export type KafkaConnection = z.output<typeof kafkaConnectionSchema>;

export function parseKafkaConnection(input: KafkaConnectionInput): KafkaConnection {
  const result = kafkaConnectionSchema.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new Error(`invalid Kafka connection: ${issue?.path.join(".") || "(root)"}: ${issue?.message}`);
  }
  return result.data;
}
