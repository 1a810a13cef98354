import {
  createEnvelope,
  decodeEnvelope,
  encodeEnvelope,
  fastEnvelope,
  keyOf,
  parseEnvelope,
} from "./envelope";
import { BusError } from "./errors";

describe("envelope", () => {
  it("creates an envelope with reference-system field names and defaults", () => {
    const envelope = createEnvelope(
      { topic: "file.uploaded", content: { path: "/a" }, tenantId: "t1" },
      () => 5000,
    );
    expect(envelope).toMatchObject({
      topic: "file.uploaded",
      content: { path: "/a" },
      tenant_id: "t1",
      created_at: 5,
      delivery_attempts: 1,
    });
    expect(envelope.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("names the field when content is not JSON", () => {
    expect(() => createEnvelope({ topic: "t", content: { when: new Date() } })).toThrow(/content\.when/);
    expect(() => createEnvelope({ topic: "t", content: undefined })).toThrow(/content/);
    expect(() => createEnvelope({ topic: "t", content: { n: 1n } })).toThrow(/bigint/);
  });

  it("names the field of an invalid envelope", () => {
    try {
      parseEnvelope({ id: "x", topic: "t", content: 1, created_at: "yesterday" });
    } catch (error) {
      expect((error as BusError).field).toBe("created_at");
    }
    expect.assertions(1);
  });

  it("decodes without throwing: non-JSON and non-envelopes are reasons, not crashes", () => {
    expect(decodeEnvelope(Buffer.from("not json"))).toMatchObject({ ok: false, reason: /not JSON/ });
    expect(decodeEnvelope(Buffer.from('{"hello":1}'))).toMatchObject({ ok: false, reason: /id/ });
    expect(decodeEnvelope(null)).toMatchObject({ ok: false, reason: /empty/ });
  });

  it("round-trips and keeps unknown fields (forward compatibility)", () => {
    const envelope = { ...createEnvelope({ topic: "t", content: [1, 2] }), future_field: "kept" };
    const decoded = decodeEnvelope(encodeEnvelope(envelope));
    expect(decoded).toEqual({ ok: true, envelope });
  });

  it("rejects an envelope over the size limit before sending, naming the limit", () => {
    const envelope = createEnvelope({ topic: "t", content: "x".repeat(2000) });
    expect(() => encodeEnvelope(envelope, 1000)).toThrow(/over the limit of 1000 bytes/);
  });

  it("keys by explicit key, else correlation id, else task id", () => {
    const envelope = createEnvelope({ topic: "t", content: 1, id: "task", correlationId: "conv" });
    expect(keyOf(envelope, "explicit")).toBe("explicit");
    expect(keyOf(envelope)).toBe("conv");
    expect(keyOf({ ...envelope, correlation_id: null })).toBe("task");
  });
});

describe("fastEnvelope (the hot path)", () => {
  const base = { id: "t1", topic: "orders", content: { a: 1 }, created_at: 1.5 };
  const samples: unknown[] = [
    base,
    { ...base, delivery_attempts: 3, correlation_id: "c", tenant_id: null, extra: true },
    { ...base, correlation_id: "" },
    { ...base, content: undefined },
    { ...base, created_at: -1 },
    { ...base, delivery_attempts: 0 },
    { ...base, delivery_attempts: 1.5 },
    { ...base, reply_to: "x".repeat(250) },
    { ...base, id: 7 },
    { ...base, webhook: "https://example.test/hook" },
    [base],
    null,
  ];

  it.each(samples.map((sample, i) => [i, sample]))(
    "agrees with the zod schema on sample %i",
    (_i, sample) => {
      const fast = fastEnvelope(structuredClone(sample));
      let viaZod: unknown;
      try {
        viaZod = parseEnvelope(structuredClone(sample));
      } catch {
        viaZod = undefined;
      }
      // The fast path may decline (undefined) what zod accepts, but never accepts what zod refuses.
      if (fast !== undefined) expect(fast).toEqual(viaZod);
      if (viaZod === undefined) expect(fast).toBeUndefined();
    },
  );

  it("takes the common envelope without zod", () => {
    expect(fastEnvelope({ ...base })).toEqual({ ...base, delivery_attempts: 1 });
  });
});
