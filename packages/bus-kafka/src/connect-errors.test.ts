import type { KafkaConnection } from "./config";
import { explainConnectError } from "./connect-errors";

const plaintext: KafkaConnection = {
  client: "kafkajs",
  brokers: ["k:9093"],
  clientId: "c",
  ssl: false,
  connectionTimeoutMs: 1000,
  requestTimeoutMs: 1000,
};
const secure: KafkaConnection = {
  ...plaintext,
  ssl: true,
  sasl: { mechanism: "scram-sha-512", username: "fleet", password: "pw" },
};

/** kafkajs's shape: a retry error whose cause is the connection error. */
function wrapped(name: string, message: string, code?: string): Error {
  const cause = Object.assign(new Error(message), { name, code });
  return Object.assign(new Error(message), { name: "KafkaJSNumberOfRetriesExceeded", cause });
}

describe("explainConnectError names the setting to fix", () => {
  it("a refused SASL login: the password variables", () => {
    const error = Object.assign(new Error("SASL SCRAM SHA512 authentication failed"), {
      name: "KafkaJSSASLAuthenticationError",
    });
    const sentence = explainConnectError(error, secure);
    expect(sentence).toContain('refused the SASL scram-sha-512 login of user "fleet"');
    expect(sentence).toContain("OMNIDAEMON_KAFKA_SASL_PASSWORD");
    expect(sentence).not.toContain("pw");
  });

  it("an untrusted certificate: the CA file", () => {
    const error = wrapped(
      "KafkaJSConnectionError",
      "unable to verify the first certificate",
      "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    );
    expect(explainConnectError(error, secure)).toMatch(
      /^the TLS certificate of Kafka at k:9093 is not trusted \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\): set OMNIDAEMON_KAFKA_SSL_CA_FILE/,
    );
  });

  it("a plaintext client closed by a TLS listener: OMNIDAEMON_KAFKA_SSL", () => {
    const error = wrapped("KafkaJSConnectionClosedError", "Closed connection");
    expect(explainConnectError(error, plaintext)).toContain("set OMNIDAEMON_KAFKA_SSL=true");
  });

  it("nothing listening: the brokers", () => {
    const error = wrapped(
      "KafkaJSConnectionError",
      "Connection error: connect ECONNREFUSED 127.0.0.1:9093",
      "ECONNREFUSED",
    );
    expect(explainConnectError(error, plaintext)).toBe(
      "nothing accepts connections at k:9093: check OMNIDAEMON_KAFKA_BROKERS.",
    );
  });

  it("anything else is left to the caller's generic message", () => {
    expect(explainConnectError(new Error("boom"), plaintext)).toBeUndefined();
  });
});
