import { createHmac, timingSafeEqual } from "node:crypto";

/** Headers of a webhook POST. Lower-case, as node's `IncomingHttpHeaders` presents them. */
export const WEBHOOK_HEADER = {
  timestamp: "x-omnidaemon-timestamp",
  signature: "x-omnidaemon-signature",
  taskId: "x-omnidaemon-task-id",
  topic: "x-omnidaemon-topic",
  agent: "x-omnidaemon-agent",
  attempt: "x-omnidaemon-attempt",
} as const;

const SCHEME = "sha256=";

/**
 * The signature header value for `body` sent at `timestamp` (unix seconds): `sha256=<hex HMAC-SHA256 of
 * "<timestamp>.<raw body>">`. The timestamp is inside the MAC so a captured request cannot be replayed later with a
 * fresh timestamp.
 */
export function signWebhook(secret: string, timestamp: number, body: string | Uint8Array): string {
  return SCHEME + createHmac("sha256", secret).update(`${timestamp}.`).update(body).digest("hex");
}

/** Anything a receiver has at hand: node's `req.headers`, a fetch `Headers`, or a plain record. */
export type WebhookHeaders = Headers | Readonly<Record<string, string | readonly string[] | undefined>>;

export interface VerifyWebhookOptions {
  /** How far the timestamp may be from now, either way, before the request is refused as stale. @default 300 */
  toleranceSeconds?: number;
  /** The receiver's clock, in epoch ms (tests). @default Date.now() */
  now?: number;
}

/**
 * True when `headers` carry a timestamp within tolerance and a signature of exactly `rawBody` (the bytes received,
 * before any JSON parsing) under `secret`. The comparison is constant-time.
 */
export function verifyWebhookSignature(
  secret: string,
  headers: WebhookHeaders,
  rawBody: string | Uint8Array,
  options: VerifyWebhookOptions = {},
): boolean {
  const timestampText = headerValue(headers, WEBHOOK_HEADER.timestamp);
  const signature = headerValue(headers, WEBHOOK_HEADER.signature);
  if (timestampText === undefined || signature === undefined || !/^\d{1,12}$/.test(timestampText))
    return false;
  const timestamp = Number(timestampText);
  const nowSeconds = Math.floor((options.now ?? Date.now()) / 1000);
  if (Math.abs(nowSeconds - timestamp) > (options.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(signWebhook(secret, timestamp, rawBody));
  const received = Buffer.from(signature.trim());
  // timingSafeEqual throws on unequal lengths; the length of a well-formed signature is public anyway.
  return expected.length === received.length && timingSafeEqual(expected, received);
}

function headerValue(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof (headers as Headers).get === "function") return (headers as Headers).get(name) ?? undefined;
  const record = headers as Readonly<Record<string, string | readonly string[] | undefined>>;
  for (const [key, value] of Object.entries(record)) {
    if (key.toLowerCase() !== name) continue;
    return typeof value === "string" ? value : value?.[0];
  }
  return undefined;
}
