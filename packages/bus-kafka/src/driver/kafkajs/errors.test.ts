import {
  KafkaJSConnectionError,
  KafkaJSDeleteGroupsError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSSASLAuthenticationError,
} from "kafkajs";
import { BusError } from "../../errors";
import { hasBrokerError, KafkaDriverError, rejectionOf } from "../errors";
import { fromKafkajs, unknownTopicIfNoMetadata } from "./errors";

function protocolError(type: string, retriable: boolean): KafkaJSProtocolError {
  return Object.assign(new KafkaJSProtocolError(type), { type, retriable });
}

/** kafkajs exports no type for its KafkaJSConnectionClosedError; this is its shape. */
function connectionClosed(): Error {
  return Object.assign(new KafkaJSConnectionError("Closed connection"), {
    name: "KafkaJSConnectionClosedError",
  });
}

/** kafkajs' shape: a retry error whose cause is the connection error. */
function retried(cause: Error): Error {
  return new KafkaJSNumberOfRetriesExceeded(cause, { retryCount: 5, retryTime: 1000 });
}

describe("fromKafkajs: the broker's verdict on a record", () => {
  it.each([
    "MESSAGE_TOO_LARGE",
    "RECORD_LIST_TOO_LARGE",
    "INVALID_RECORD",
    "INVALID_TOPIC_EXCEPTION",
    "TOPIC_AUTHORIZATION_FAILED",
    "UNKNOWN_TOPIC_OR_PARTITION",
  ])("names %s, a verdict on the record that retrying cannot change", (type) => {
    expect(rejectionOf(fromKafkajs(protocolError(type, false)))).toBe(type);
  });

  it("finds the broker's verdict under the client's retry and bail wrappers", () => {
    const tooLarge = protocolError("MESSAGE_TOO_LARGE", false);
    // As kafkajs' retrier wraps them: `new KafkaJSNonRetriableError(e, { cause: e.cause || e })`.
    const bailed = fromKafkajs(Object.assign(new KafkaJSNonRetriableError(tooLarge), { cause: tooLarge }));
    expect(rejectionOf(bailed)).toBe("MESSAGE_TOO_LARGE");
    expect(bailed).toMatchObject({ client: "kafkajs", retriable: false, message: tooLarge.message });
    const unknown = protocolError("UNKNOWN_TOPIC_OR_PARTITION", true);
    expect(rejectionOf(fromKafkajs(retried(unknown)))).toBe("UNKNOWN_TOPIC_OR_PARTITION");
  });

  it.each(["LEADER_NOT_AVAILABLE", "NOT_LEADER_FOR_PARTITION", "REQUEST_TIMED_OUT", "NOT_ENOUGH_REPLICAS"])(
    "leaves %s to be retried",
    (type) => {
      const error = fromKafkajs(protocolError(type, true));
      expect(rejectionOf(error)).toBeUndefined();
      expect(error).toMatchObject({ retriable: true, brokerErrors: [type] });
    },
  );

  it("leaves errors without a broker type (connection lost, timeout) to be retried", () => {
    expect(rejectionOf(fromKafkajs(new Error("Connection closed")))).toBeUndefined();
    expect(rejectionOf(undefined)).toBeUndefined();
  });

  it("reads a group deletion's per-group verdicts", () => {
    const error = fromKafkajs(
      new KafkaJSDeleteGroupsError("Error in DeleteGroups", [
        { groupId: "g", errorCode: 68, error: protocolError("NON_EMPTY_GROUP", false) },
      ]),
    );
    expect(hasBrokerError(error, "NON_EMPTY_GROUP")).toBe(true);
    expect(hasBrokerError(error, "GROUP_ID_NOT_FOUND")).toBe(false);
  });

  it("is found through a BusError that wraps it, and leaves bus errors as they are", () => {
    const classified = fromKafkajs(protocolError("MESSAGE_TOO_LARGE", false));
    expect(rejectionOf(new BusError("PUBLISH_FAILED", "x", { cause: classified }))).toBe("MESSAGE_TOO_LARGE");
    const bus = new BusError("STOPPED", "stopped");
    expect(fromKafkajs(bus)).toBe(bus);
  });
});

describe("fromKafkajs: what went wrong reaching the broker", () => {
  const problems = (error: Error): readonly string[] =>
    (fromKafkajs(error) as KafkaDriverError).connectProblems;

  it("a refused SASL login", () => {
    // kafkajs types this constructor without the message it takes.
    const refused = Reflect.construct(KafkaJSSASLAuthenticationError, [
      "SASL SCRAM SHA512 authentication failed",
    ]);
    const error = fromKafkajs(refused as Error);
    expect(error).toMatchObject({ connectProblems: ["SASL_REFUSED"], retriable: false });
  });

  it("an untrusted certificate, with Node's code", () => {
    const socket = new KafkaJSConnectionError("unable to verify the first certificate", {
      code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    });
    expect(fromKafkajs(retried(socket))).toMatchObject({
      connectProblems: ["CERT_UNTRUSTED"],
      tlsCode: "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    });
  });

  it("a connection the broker closed before answering", () => {
    expect(problems(retried(connectionClosed()))).toEqual(["CLOSED_BEFORE_ANSWER"]);
  });

  it("a TLS handshake against a plaintext port", () => {
    const socket = new KafkaJSConnectionError(
      "Connection error: Client network socket disconnected before secure TLS connection was established",
    );
    expect(problems(retried(socket))).toEqual(["NOT_TLS"]);
  });

  it("nothing listening", () => {
    const socket = new KafkaJSConnectionError("Connection error: connect ECONNREFUSED 127.0.0.1:9093", {
      code: "ECONNREFUSED",
    });
    expect(fromKafkajs(retried(socket))).toMatchObject({ connectProblems: ["REFUSED"], retriable: true });
  });
});

describe("unknownTopicIfNoMetadata: kafkajs' null metadata answer (tulios/kafkajs#549)", () => {
  it("reports the TypeError of a metadata request no broker answered as UNKNOWN_TOPIC_OR_PARTITION", () => {
    const typeError = new TypeError("Cannot read properties of null (reading 'topicMetadata')");
    const reported = unknownTopicIfNoMetadata(typeError);
    expect(reported).toBeInstanceOf(KafkaDriverError);
    expect(hasBrokerError(reported, "UNKNOWN_TOPIC_OR_PARTITION")).toBe(true);
    expect((reported as KafkaDriverError).cause).toBe(typeError);
  });

  it("leaves every other failure as it is", () => {
    const otherTypeError = new TypeError("Cannot read properties of undefined (reading 'length')");
    const protocol = protocolError("NOT_CONTROLLER", true);
    expect(unknownTopicIfNoMetadata(otherTypeError)).toBe(otherTypeError);
    expect(unknownTopicIfNoMetadata(protocol)).toBe(protocol);
  });
});
