import { loadSdkConfig, SdkConfigError } from "./sdk-config";

const base = { OMNIDAEMON_KAFKA_BROKERS: "127.0.0.1:9092" };

function errorOf(env: Record<string, string>): string {
  try {
    loadSdkConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(SdkConfigError);
    return (error as Error).message;
  }
  throw new Error("expected loadSdkConfig to throw");
}

describe("Kafka group session timeout and heartbeat", () => {
  it("default to a 30 s session timeout and a 3 s heartbeat", () => {
    const config = loadSdkConfig(base);
    expect(config.sessionTimeoutMs).toBe(30_000);
    expect(config.heartbeatIntervalMs).toBe(3000);
  });

  it("are read from OMNIDAEMON_KAFKA_SESSION_TIMEOUT_MS and OMNIDAEMON_KAFKA_HEARTBEAT_INTERVAL_MS", () => {
    const config = loadSdkConfig({
      ...base,
      OMNIDAEMON_KAFKA_SESSION_TIMEOUT_MS: "6000",
      OMNIDAEMON_KAFKA_HEARTBEAT_INTERVAL_MS: "1000",
    });
    expect(config.sessionTimeoutMs).toBe(6000);
    expect(config.heartbeatIntervalMs).toBe(1000);
  });

  it("refuse a value that is not a whole number, naming the variable", () => {
    expect(errorOf({ ...base, OMNIDAEMON_KAFKA_SESSION_TIMEOUT_MS: "6s" })).toMatch(
      /^OMNIDAEMON_KAFKA_SESSION_TIMEOUT_MS: expected a whole number/,
    );
    expect(errorOf({ ...base, OMNIDAEMON_KAFKA_HEARTBEAT_INTERVAL_MS: "-1" })).toMatch(
      /^OMNIDAEMON_KAFKA_HEARTBEAT_INTERVAL_MS: expected a whole number/,
    );
  });

  it("refuse values out of range, naming the variable", () => {
    expect(errorOf({ ...base, OMNIDAEMON_KAFKA_SESSION_TIMEOUT_MS: "999" })).toMatch(
      /^OMNIDAEMON_KAFKA_SESSION_TIMEOUT_MS: expected 1000–3600000/,
    );
    expect(errorOf({ ...base, OMNIDAEMON_KAFKA_HEARTBEAT_INTERVAL_MS: "99" })).toMatch(
      /^OMNIDAEMON_KAFKA_HEARTBEAT_INTERVAL_MS: expected 100–/,
    );
  });

  it("refuse a heartbeat that is not shorter than the session timeout, naming the heartbeat variable", () => {
    const message = errorOf({
      ...base,
      OMNIDAEMON_KAFKA_SESSION_TIMEOUT_MS: "6000",
      OMNIDAEMON_KAFKA_HEARTBEAT_INTERVAL_MS: "6000",
    });
    expect(message).toMatch(/^OMNIDAEMON_KAFKA_HEARTBEAT_INTERVAL_MS: /);
    expect(message).toContain("OMNIDAEMON_KAFKA_SESSION_TIMEOUT_MS (6000)");
    // The default heartbeat (3 s) against a short session timeout is refused too, not silently adjusted.
    expect(errorOf({ ...base, OMNIDAEMON_KAFKA_SESSION_TIMEOUT_MS: "2000" })).toMatch(
      /^OMNIDAEMON_KAFKA_HEARTBEAT_INTERVAL_MS: 3000 must be shorter than OMNIDAEMON_KAFKA_SESSION_TIMEOUT_MS \(2000\)/,
    );
  });
});
