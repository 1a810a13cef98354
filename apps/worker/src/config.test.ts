import { loadWorkerConfig, WorkerConfigError } from "./config";

describe("the worker's webhook bounds from the environment", () => {
  it("defaults to the deliverer's own bounds", () => {
    expect(loadWorkerConfig({}).webhookLimits).toEqual({
      timeoutMs: 10_000,
      maxAttempts: 5,
      maxConcurrent: 16,
      maxPending: 1000,
      maxPendingBytes: 64 * 1024 * 1024,
    });
  });

  it("takes each one from its variable", () => {
    const config = loadWorkerConfig({
      OMNIDAEMON_WEBHOOK_TIMEOUT_MS: "2500",
      OMNIDAEMON_WEBHOOK_MAX_ATTEMPTS: "3",
      OMNIDAEMON_WEBHOOK_MAX_CONCURRENT: "64",
      OMNIDAEMON_WEBHOOK_MAX_PENDING: "20000",
      OMNIDAEMON_WEBHOOK_MAX_PENDING_BYTES: String(256 * 1024 * 1024),
    });
    expect(config.webhookLimits).toEqual({
      timeoutMs: 2500,
      maxAttempts: 3,
      maxConcurrent: 64,
      maxPending: 20_000,
      maxPendingBytes: 256 * 1024 * 1024,
    });
  });

  it("refuses a value out of bounds, naming the variable and the bounds", () => {
    expect(() => loadWorkerConfig({ OMNIDAEMON_WEBHOOK_MAX_ATTEMPTS: "0" })).toThrow(WorkerConfigError);
    expect(() => loadWorkerConfig({ OMNIDAEMON_WEBHOOK_MAX_ATTEMPTS: "0" })).toThrow(
      'OMNIDAEMON_WEBHOOK_MAX_ATTEMPTS: expected an integer 1-20, got "0"',
    );
    expect(() => loadWorkerConfig({ OMNIDAEMON_WEBHOOK_TIMEOUT_MS: "soon" })).toThrow(
      /OMNIDAEMON_WEBHOOK_TIMEOUT_MS: expected an integer 100-600000/,
    );
  });
});
