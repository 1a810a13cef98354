// The Kafka client as a bench dimension (`--clients=kafkajs,platformatic`): which clients a run measures, and the
// order the sides of a round run in. Pure; unit-tested in clients.test.ts.
import { KAFKA_CLIENTS, type KafkaClientName } from "@omnidaemon/bus-kafka";

/**
 * The clients named in `--clients=a,b`, each once, in the bus's own order (kafkajs first), so every table and
 * ratio reads the same way whatever order they were typed in. An unknown or empty name is an error naming the flag.
 */
export function parseClients(value: string | undefined): KafkaClientName[] {
  const names = (value ?? "")
    .split(",")
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== "");
  if (names.length === 0) {
    throw new Error(
      `--clients needs a comma-separated list of ${KAFKA_CLIENTS.join(", ")}, got "${value ?? ""}"`,
    );
  }
  for (const name of names) {
    if (!(KAFKA_CLIENTS as readonly string[]).includes(name)) {
      throw new Error(`--clients: unknown Kafka client "${name}" (one of ${KAFKA_CLIENTS.join(", ")})`);
    }
  }
  return KAFKA_CLIENTS.filter((client) => names.includes(client));
}

/**
 * The order of a round's sides: round 1 runs them as given, round 2 starts with the second, and so on, so drift in
 * the machine's load (other people's tests) hits every side alike over the rounds.
 */
export function rotation<T>(sides: readonly T[], round: number): T[] {
  if (sides.length === 0) return [];
  const shift = (((round - 1) % sides.length) + sides.length) % sides.length;
  return [...sides.slice(shift), ...sides.slice(0, shift)];
}

/** `OMNIDAEMON_KAFKA_CLIENT` for a process the bench starts (worker, coordinator): the client it must run on. */
export function clientEnv(client: KafkaClientName): { OMNIDAEMON_KAFKA_CLIENT: KafkaClientName } {
  return { OMNIDAEMON_KAFKA_CLIENT: client };
}
