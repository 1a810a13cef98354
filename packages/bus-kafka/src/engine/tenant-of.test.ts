import type { GroupMessage } from "../driver/consumer";
import { createEnvelope, encodeEnvelope } from "../envelope";
import { HEADER } from "../headers";
import { retryRecord, tenantOf, type InboundRecord } from "./dead-letter";
import { agentNames } from "../naming";

function message(value: Buffer | null, headers: Record<string, string> = {}): GroupMessage {
  return { offset: "0", key: null, value, timestamp: "0", headers: () => headers };
}

describe("tenantOf: the tenant a record is scheduled under", () => {
  it("reads the omni-tenant-id header first, without looking at the value", () => {
    expect(tenantOf(message(Buffer.from("not json at all"), { [HEADER.tenantId]: "acme" }))).toBe("acme");
  });

  it("falls back to the envelope's tenant_id for a record another producer wrote without the header", () => {
    const value = encodeEnvelope(createEnvelope({ topic: "t", content: { a: 1 }, tenantId: "globex" }));
    expect(tenantOf(message(value))).toBe("globex");
  });

  it("is the empty tenant for an envelope without one, a tombstone, and a value that is not an envelope", () => {
    expect(tenantOf(message(encodeEnvelope(createEnvelope({ topic: "t", content: {} }))))).toBe("");
    expect(tenantOf(message(null))).toBe("");
    expect(tenantOf(message(Buffer.from('{"tenant_id":"half')))).toBe("");
    expect(tenantOf(message(Buffer.from('{"tenant_id":"x","tenant_id":7}')))).toBe("");
  });
});

describe("retryRecord: a push-back under limits is a wait", () => {
  const names = agentNames("orders", "writer");
  const record = (headers: Record<string, string>, waits: number): InboundRecord => ({
    tp: "orders:0",
    topic: "orders",
    partition: 0,
    offset: 5,
    kafkaKey: "k",
    value: Buffer.from("{}"),
    message: message(Buffer.from("{}"), headers),
    retry: true,
    attempt: 2,
    waits,
    replays: 0,
    key: "k",
    tenant: "",
  });
  const failure = { error: new Error("429"), attempt: 2, now: 1000 };

  it("keeps the attempt number and counts one more wait", () => {
    const next = retryRecord(
      record({ [HEADER.tenantId]: "acme" }, 3),
      names,
      failure,
      Buffer.from("{}"),
      2000,
      true,
    );
    expect(next.headers).toMatchObject({
      [HEADER.attempt]: "2",
      [HEADER.waits]: "4",
      [HEADER.tenantId]: "acme",
    });
  });

  it("counts the attempt after a failure, carrying the waits so far (none written when there were none)", () => {
    const after = retryRecord(record({}, 3), names, failure, Buffer.from("{}"), 2000);
    expect(after.headers).toMatchObject({ [HEADER.attempt]: "3", [HEADER.waits]: "3" });
    const plain = retryRecord(record({}, 0), names, failure, Buffer.from("{}"), 2000);
    expect(plain.headers?.[HEADER.attempt]).toBe("3");
    expect(plain.headers).not.toHaveProperty(HEADER.waits);
  });
});
