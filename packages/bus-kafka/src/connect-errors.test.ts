import type { KafkaConnection } from "./config";
import { explainConnectError } from "./connect-errors";
import { KafkaDriverError, type ConnectProblem } from "./driver/errors";

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

/** A driver's classification of a failed connect (driver/*\/errors.ts map each library's errors into it). */
function failed(connectProblems: ConnectProblem[], tlsCode?: string): KafkaDriverError {
  return new KafkaDriverError("platformatic", "metadata failed 3 times.", {
    cause: new Error("boom"),
    connectProblems,
    ...(tlsCode === undefined ? {} : { tlsCode }),
  });
}

describe("explainConnectError names the setting to fix", () => {
  it("a refused SASL login: the password variables", () => {
    const sentence = explainConnectError(failed(["SASL_REFUSED"]), secure);
    expect(sentence).toContain('refused the SASL scram-sha-512 login of user "fleet"');
    expect(sentence).toContain("OMNIDAEMON_KAFKA_SASL_PASSWORD");
    expect(sentence).not.toContain("pw");
  });

  it("an untrusted certificate: the CA file", () => {
    expect(
      explainConnectError(failed(["CERT_UNTRUSTED"], "UNABLE_TO_VERIFY_LEAF_SIGNATURE"), secure),
    ).toMatch(
      /^the TLS certificate of Kafka at k:9093 is not trusted \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\): set OMNIDAEMON_KAFKA_SSL_CA_FILE/,
    );
  });

  it("a certificate for another name: the server name", () => {
    expect(explainConnectError(failed(["CERT_NAME_MISMATCH"]), secure)).toContain(
      "set OMNIDAEMON_KAFKA_SSL_SERVERNAME",
    );
  });

  it("a plaintext client closed by a TLS listener: OMNIDAEMON_KAFKA_SSL", () => {
    expect(explainConnectError(failed(["CLOSED_BEFORE_ANSWER"]), plaintext)).toContain(
      "set OMNIDAEMON_KAFKA_SSL=true",
    );
  });

  it("a TLS client against a plaintext port: OMNIDAEMON_KAFKA_SSL=false", () => {
    expect(explainConnectError(failed(["NOT_TLS"]), secure)).toMatch(
      /^Kafka at k:9093 does not speak TLS on this port: set OMNIDAEMON_KAFKA_SSL=false/,
    );
    // Without TLS configured, a failed handshake is not the explanation.
    expect(explainConnectError(failed(["NOT_TLS"]), plaintext)).toBeUndefined();
  });

  it("nothing listening: the brokers", () => {
    expect(explainConnectError(failed(["REFUSED"]), plaintext)).toBe(
      "nothing accepts connections at k:9093: check OMNIDAEMON_KAFKA_BROKERS.",
    );
  });

  it("the login before the socket: a refused login is the explanation even when a retry was refused too", () => {
    expect(explainConnectError(failed(["REFUSED", "SASL_REFUSED"]), secure)).toContain("refused the SASL");
  });

  it("anything else, or an error no driver classified, is left to the caller's generic message", () => {
    expect(explainConnectError(failed([]), plaintext)).toBeUndefined();
    expect(explainConnectError(new Error("boom"), plaintext)).toBeUndefined();
  });
});
