import { clientEnv, parseClients, rotation } from "./clients";

describe("--clients", () => {
  it("lists each client once, kafkajs first, whatever order and case they were typed in", () => {
    expect(parseClients("platformatic,kafkajs")).toEqual(["kafkajs", "platformatic"]);
    expect(parseClients(" Platformatic , platformatic ")).toEqual(["platformatic"]);
    expect(parseClients("kafkajs")).toEqual(["kafkajs"]);
  });

  it("rejects an unknown or empty list with an error naming the flag", () => {
    expect(() => parseClients("kafkajs,rdkafka")).toThrow(/--clients: unknown Kafka client "rdkafka"/);
    expect(() => parseClients("")).toThrow(/--clients needs a comma-separated list/);
    expect(() => parseClients(undefined)).toThrow(/--clients/);
  });

  it("passes the client to a process as OMNIDAEMON_KAFKA_CLIENT", () => {
    expect(clientEnv("platformatic")).toEqual({ OMNIDAEMON_KAFKA_CLIENT: "platformatic" });
  });
});

describe("rotation of a round's sides", () => {
  it("starts each round one side later, so every side runs first as often", () => {
    const sides = ["baseline", "kafkajs", "platformatic"];
    expect(rotation(sides, 1)).toEqual(["baseline", "kafkajs", "platformatic"]);
    expect(rotation(sides, 2)).toEqual(["kafkajs", "platformatic", "baseline"]);
    expect(rotation(sides, 3)).toEqual(["platformatic", "baseline", "kafkajs"]);
    expect(rotation(sides, 4)).toEqual(sides);
    expect(rotation([], 2)).toEqual([]);
  });
});
