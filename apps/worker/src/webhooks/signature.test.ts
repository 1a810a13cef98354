import { createHmac } from "node:crypto";
import { signWebhook, verifyWebhookSignature, WEBHOOK_HEADER } from "./signature";

const secret = "s3cret";
const body = '{"result":{"ok":true}}';
const now = 1_700_000_000_000;
const timestamp = now / 1000;

function headersFor(signature: string, ts: number = timestamp): Record<string, string> {
  return { [WEBHOOK_HEADER.timestamp]: String(ts), [WEBHOOK_HEADER.signature]: signature };
}

describe("signWebhook", () => {
  it("is sha256=<hex HMAC-SHA256 of '<timestamp>.<raw body>'>", () => {
    const expected = createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");
    expect(signWebhook(secret, timestamp, body)).toBe(`sha256=${expected}`);
    expect(signWebhook(secret, timestamp, Buffer.from(body))).toBe(`sha256=${expected}`);
  });
});

describe("verifyWebhookSignature", () => {
  const signature = signWebhook(secret, timestamp, body);

  it("accepts the signature of the exact body within the tolerance", () => {
    expect(verifyWebhookSignature(secret, headersFor(signature), body, { now })).toBe(true);
    expect(verifyWebhookSignature(secret, headersFor(signature), body, { now: now + 299_000 })).toBe(true);
  });

  it("reads node, fetch and mixed-case headers", () => {
    const mixed = { "X-Omnidaemon-Timestamp": String(timestamp), "X-Omnidaemon-Signature": [signature] };
    expect(verifyWebhookSignature(secret, mixed, body, { now })).toBe(true);
    expect(
      verifyWebhookSignature(secret, new Headers(headersFor(signature)), Buffer.from(body), { now }),
    ).toBe(true);
  });

  it("refuses a wrong secret, a changed body, a changed timestamp and a malformed signature", () => {
    expect(verifyWebhookSignature("other", headersFor(signature), body, { now })).toBe(false);
    expect(verifyWebhookSignature(secret, headersFor(signature), body + " ", { now })).toBe(false);
    expect(verifyWebhookSignature(secret, headersFor(signature, timestamp + 1), body, { now })).toBe(false);
    expect(verifyWebhookSignature(secret, headersFor("sha256=abc"), body, { now })).toBe(false);
    expect(verifyWebhookSignature(secret, headersFor(signature.toUpperCase()), body, { now })).toBe(false);
  });

  it("refuses a stale or future timestamp even with a valid signature", () => {
    expect(verifyWebhookSignature(secret, headersFor(signature), body, { now: now + 301_000 })).toBe(false);
    expect(verifyWebhookSignature(secret, headersFor(signature), body, { now: now - 301_000 })).toBe(false);
    expect(
      verifyWebhookSignature(secret, headersFor(signature), body, {
        now: now + 30_000,
        toleranceSeconds: 10,
      }),
    ).toBe(false);
  });

  it("refuses missing or non-numeric headers", () => {
    expect(verifyWebhookSignature(secret, {}, body, { now })).toBe(false);
    expect(verifyWebhookSignature(secret, { [WEBHOOK_HEADER.signature]: signature }, body, { now })).toBe(
      false,
    );
    const bad = { [WEBHOOK_HEADER.timestamp]: "17e8", [WEBHOOK_HEADER.signature]: signature };
    expect(verifyWebhookSignature(secret, bad, body, { now })).toBe(false);
  });
});
