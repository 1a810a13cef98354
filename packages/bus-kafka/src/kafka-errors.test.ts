import { KafkaJSNonRetriableError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError } from "kafkajs";
import { rejectionOf } from "./kafka-errors";

function protocolError(type: string, retriable: boolean): KafkaJSProtocolError {
  return Object.assign(new KafkaJSProtocolError(type), { type, retriable });
}

describe("rejectionOf", () => {
  it.each([
    "MESSAGE_TOO_LARGE",
    "RECORD_LIST_TOO_LARGE",
    "INVALID_RECORD",
    "INVALID_TOPIC_EXCEPTION",
    "TOPIC_AUTHORIZATION_FAILED",
    "UNKNOWN_TOPIC_OR_PARTITION",
  ])("names %s, a verdict on the record that retrying cannot change", (type) => {
    expect(rejectionOf(protocolError(type, false))).toBe(type);
  });

  it("finds the broker's verdict under the client's retry and bail wrappers", () => {
    const tooLarge = protocolError("MESSAGE_TOO_LARGE", false);
    // As kafkajs' retrier wraps them: `new KafkaJSNonRetriableError(e, { cause: e.cause || e })`.
    expect(rejectionOf(Object.assign(new KafkaJSNonRetriableError(tooLarge), { cause: tooLarge }))).toBe(
      "MESSAGE_TOO_LARGE",
    );
    const unknown = protocolError("UNKNOWN_TOPIC_OR_PARTITION", true);
    expect(rejectionOf(new KafkaJSNumberOfRetriesExceeded(unknown, { retryCount: 5, retryTime: 1000 }))).toBe(
      "UNKNOWN_TOPIC_OR_PARTITION",
    );
  });

  it.each(["LEADER_NOT_AVAILABLE", "NOT_LEADER_FOR_PARTITION", "REQUEST_TIMED_OUT", "NOT_ENOUGH_REPLICAS"])(
    "leaves %s to be retried",
    (type) => {
      expect(rejectionOf(protocolError(type, true))).toBeUndefined();
    },
  );

  it("leaves errors without a broker type (connection lost, timeout) to be retried", () => {
    expect(rejectionOf(new Error("Connection closed"))).toBeUndefined();
    expect(rejectionOf(undefined)).toBeUndefined();
  });
});
