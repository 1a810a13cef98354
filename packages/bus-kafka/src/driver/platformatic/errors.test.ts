import { hasBrokerError, rejectionOf } from "../errors";
import { fromPlatformatic } from "./errors";
import { platformatic } from "./load";

const { AuthenticationError, MultipleErrors, NetworkError, ProtocolError, ResponseError, UserError } =
  platformatic();

/** The client's shape after its retries: one aggregate per attempt, each holding what that attempt hit. */
function retried(operation: string, ...errors: Error[]): Error {
  return new MultipleErrors(`${operation} failed ${errors.length} times.`, errors);
}

/** A produce response with one partition's error, as the client reports it. */
function produceRefused(id: string): Error {
  const code = { MESSAGE_TOO_LARGE: 10, INVALID_RECORD: 87, TOPIC_AUTHORIZATION_FAILED: 29 }[id] ?? 0;
  return new MultipleErrors("Producing messages failed.", [
    new ResponseError(0, 9, { "/responses/0/partitions/0": [code, null] }, {}),
  ]);
}

describe("fromPlatformatic: the broker's verdict on a record", () => {
  it.each(["MESSAGE_TOO_LARGE", "INVALID_RECORD", "TOPIC_AUTHORIZATION_FAILED"])(
    "names %s from the produce response's partition error",
    (id) => {
      const error = fromPlatformatic(produceRefused(id));
      expect(rejectionOf(error)).toBe(id);
      expect(error).toMatchObject({ client: "platformatic", retriable: false });
      expect(error.message).toBe(`Producing messages failed. (${id})`);
    },
  );

  it("reads the client's 'Unknown topic' answer (which drops the broker's code) as UNKNOWN_TOPIC_OR_PARTITION", () => {
    const error = fromPlatformatic(new UserError("Unknown topic orders-missing."));
    expect(rejectionOf(error)).toBe("UNKNOWN_TOPIC_OR_PARTITION");
  });

  it("leaves a retriable broker error and a lost connection to be retried", () => {
    const leader = fromPlatformatic(retried("produce", new ProtocolError("NOT_LEADER_OR_FOLLOWER")));
    expect(rejectionOf(leader)).toBeUndefined();
    expect(leader).toMatchObject({ retriable: true, brokerErrors: ["NOT_LEADER_OR_FOLLOWER"] });
    expect(rejectionOf(fromPlatformatic(new NetworkError("Connection error")))).toBeUndefined();
  });

  it("reads a group deletion's per-group verdicts", () => {
    const error = fromPlatformatic(
      new MultipleErrors("Deleting groups failed.", [
        retried("deleteGroups", new ResponseError(42, 2, { "/results/0": [69, null] }, {})),
      ]),
    );
    expect(hasBrokerError(error, "GROUP_ID_NOT_FOUND")).toBe(true);
  });
});

describe("fromPlatformatic: what went wrong reaching the broker", () => {
  const connectFailed = (cause: Error): Error =>
    retried(
      "metadata",
      new MultipleErrors("Cannot connect to any broker.", [
        new NetworkError("Connection to 127.0.0.1:9094 failed.", { cause }),
      ]),
    );

  it("a refused SASL login", () => {
    const refused = new AuthenticationError("SASL authentication failed.", {
      cause: new ResponseError(36, 2, { "": [58, "Authentication failed"] }, {}),
    });
    expect(fromPlatformatic(connectFailed(refused))).toMatchObject({
      connectProblems: ["SASL_REFUSED"],
      retriable: false,
    });
  });

  it("an untrusted certificate, with Node's code", () => {
    const socket = Object.assign(new Error("unable to verify the first certificate"), {
      code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    });
    expect(fromPlatformatic(connectFailed(socket))).toMatchObject({
      connectProblems: ["CERT_UNTRUSTED"],
      tlsCode: "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    });
  });

  it("a TLS handshake against a plaintext port", () => {
    const socket = Object.assign(
      new Error("Client network socket disconnected before secure TLS connection was established"),
      { code: "ECONNRESET" },
    );
    const handshake = new UserError("TLS handshake failed. Please verify the broker supports TLS.", {
      cause: socket,
    });
    expect(fromPlatformatic(connectFailed(handshake))).toMatchObject({ connectProblems: ["NOT_TLS"] });
  });

  it("a connection the broker closed before answering", () => {
    const closed = retried(
      "listApis",
      new NetworkError("Connection closed"),
      new NetworkError("Connection closed"),
    );
    expect(fromPlatformatic(retried("metadata", closed))).toMatchObject({
      connectProblems: ["CLOSED_BEFORE_ANSWER"],
    });
  });

  it("nothing listening, with the socket's message in the one line", () => {
    const socket = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9094"), { code: "ECONNREFUSED" });
    const error = fromPlatformatic(connectFailed(socket));
    expect(error).toMatchObject({ connectProblems: ["REFUSED"], retriable: true });
    expect(error.message).toBe("metadata failed 1 times. (connect ECONNREFUSED 127.0.0.1:9094)");
  });
});
