import { z } from "zod";

const optionalText = z.string().min(1).max(1024).nullish();

/**
 * The event envelope, the wire format of every event: the Kafka value is this object as JSON. Field names follow
 * the reference system (OmniDaemon) so its clients and documentation read true; unknown fields are kept (forward
 * compatibility), not dropped. bus-kafka builds, encodes and decodes envelopes with this schema.
 */
export const envelopeSchema = z.looseObject({
  id: z.string().min(1).max(256),
  topic: z.string().min(1).max(249),
  // Decoded records are JSON by construction; bus-kafka's `createEnvelope` checks what publishers hand it.
  content: z.unknown().refine((value) => value !== undefined, "content is required"),
  correlation_id: optionalText,
  causation_id: optionalText,
  tenant_id: optionalText,
  source: optionalText,
  webhook: z
    .url({ protocol: /^https?$/ })
    .max(2048)
    .nullish(),
  reply_to: z.string().min(1).max(249).nullish(),
  /** Seconds since the epoch (float), as in the reference system. */
  created_at: z.number().nonnegative(),
  delivery_attempts: z.number().int().min(1).default(1),
});

export type Envelope = z.output<typeof envelopeSchema>;
