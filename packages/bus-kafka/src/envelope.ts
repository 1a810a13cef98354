import { randomUUID } from "node:crypto";
import { envelopeSchema, type Envelope } from "@omnidaemon/protocol";
import { BusError } from "./errors";
import { findNonJson } from "./json-value";

/** Default largest serialized envelope accepted by `publish`, in bytes (1 MiB). */
export const DEFAULT_MAX_ENVELOPE_BYTES = 1024 * 1024;

// The wire format itself (what the Kafka value holds) is the protocol's; this file builds, encodes and decodes it.
export { envelopeSchema, type Envelope };

/** What a publisher supplies; everything but `topic` and `content` has a default. */
export interface NewEnvelope {
  topic: string;
  content: unknown;
  id?: string;
  correlationId?: string | null;
  causationId?: string | null;
  tenantId?: string | null;
  source?: string | null;
  webhook?: string | null;
  replyTo?: string | null;
  /** Kafka key; defaults to the correlation id, else the task id. */
  key?: string;
}

export function createEnvelope(input: NewEnvelope, now: () => number = Date.now): Envelope {
  const problem = findNonJson(input.content, "content");
  if (problem !== undefined) {
    throw new BusError("INVALID_ENVELOPE", `invalid envelope: ${problem}`, { field: "content" });
  }
  return parseEnvelope({
    id: input.id ?? randomUUID(),
    topic: input.topic,
    content: input.content,
    correlation_id: input.correlationId ?? null,
    causation_id: input.causationId ?? null,
    tenant_id: input.tenantId ?? null,
    source: input.source ?? null,
    webhook: input.webhook ?? null,
    reply_to: input.replyTo ?? null,
    created_at: now() / 1000,
    delivery_attempts: 1,
  });
}

/** Validates an already-decoded value; the error names the first offending field. */
export function parseEnvelope(value: unknown): Envelope {
  const result = envelopeSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue?.path.join(".") || "(root)";
    throw new BusError("INVALID_ENVELOPE", `invalid envelope: ${field}: ${issue?.message ?? "invalid"}`, {
      field,
    });
  }
  return result.data;
}

/** Decodes a Kafka value. Never throws: a record that is not an envelope is a result, routed to the DLQ. */
export function decodeEnvelope(
  value: Buffer | null,
): { ok: true; envelope: Envelope } | { ok: false; reason: string } {
  if (value === null || value.length === 0) return { ok: false, reason: "empty record value" };
  let decoded: unknown;
  try {
    decoded = JSON.parse(value.toString("utf8"));
  } catch (error) {
    return { ok: false, reason: `value is not JSON: ${(error as Error).message}` };
  }
  const fast = fastEnvelope(decoded);
  if (fast) return { ok: true, envelope: fast };
  try {
    return { ok: true, envelope: parseEnvelope(decoded) };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
}

function optionalString(value: unknown, max: number): boolean {
  return (
    value === undefined ||
    value === null ||
    (typeof value === "string" && value.length >= 1 && value.length <= max)
  );
}

/**
 * The hot path of every delivery: accepts the common, plainly valid envelope without zod's general machinery.
 * It accepts a strict subset of what `envelopeSchema` accepts (anything unusual — a webhook URL to check, a bad
 * field — falls through to zod, which also words the error), so both paths agree.
 */
export function fastEnvelope(value: unknown): Envelope | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const v = value as Record<string, unknown>;
  const id = v.id;
  const topic = v.topic;
  const createdAt = v.created_at;
  const attempts = v.delivery_attempts;
  if (typeof id !== "string" || id.length < 1 || id.length > 256) return undefined;
  if (typeof topic !== "string" || topic.length < 1 || topic.length > 249) return undefined;
  if (v.content === undefined) return undefined;
  if (typeof createdAt !== "number" || !(createdAt >= 0) || createdAt === Infinity) return undefined;
  if (attempts !== undefined && !(Number.isInteger(attempts) && (attempts as number) >= 1)) return undefined;
  if (v.webhook !== undefined && v.webhook !== null) return undefined;
  if (
    !optionalString(v.correlation_id, 1024) ||
    !optionalString(v.causation_id, 1024) ||
    !optionalString(v.tenant_id, 1024) ||
    !optionalString(v.source, 1024) ||
    !optionalString(v.reply_to, 249)
  ) {
    return undefined;
  }
  if (attempts === undefined) v.delivery_attempts = 1;
  return v as Envelope;
}

/** Kafka key: explicit key, else correlation id, else task id — so one conversation stays in one partition. */
export function keyOf(envelope: Envelope, explicitKey?: string | null): string {
  return explicitKey ?? envelope.correlation_id ?? envelope.id;
}

export function encodeEnvelope(envelope: Envelope, maxBytes = DEFAULT_MAX_ENVELOPE_BYTES): Buffer {
  const buffer = Buffer.from(JSON.stringify(envelope), "utf8");
  if (buffer.length > maxBytes) {
    throw new BusError(
      "ENVELOPE_TOO_LARGE",
      `envelope ${envelope.id} is ${buffer.length} bytes, over the limit of ${maxBytes} bytes (maxEnvelopeBytes)`,
      { field: "content" },
    );
  }
  return buffer;
}
