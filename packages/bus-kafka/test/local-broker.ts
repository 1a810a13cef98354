// Stops and starts the local stack's Kafka broker from a test, keeping its data, through the stack script
// (`scripts/stack.sh stop|start kafka`: SIGTERM is Kafka's controlled shutdown; the pid file stays right, so
// `npm run stack -- down` still stops it). Works in the stack's secure mode too.
import { kafkaBrokers, onLocalStack, stackCommand } from "../../../test/helpers";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { waitForKafka } = require("../../../scripts/wait-kafka.js") as {
  waitForKafka: (options: { brokers: string[]; timeoutMs: number }) => Promise<unknown>;
};

/** True when the tests run against the local stack's broker (not testcontainers or someone else's cluster). */
export function localBroker(): boolean {
  return onLocalStack();
}

/** Stops the broker (SIGTERM: Kafka's controlled shutdown) and waits until it has exited. */
export async function stopLocalBroker(): Promise<void> {
  if (!localBroker()) throw new Error("the tests do not run against the local stack's broker");
  await stackCommand("stop", "kafka");
}

/** Starts the broker stopped by `stopLocalBroker`, with its data, and waits until it serves. */
export async function startLocalBroker(): Promise<void> {
  await stackCommand("start", "kafka");
  await waitForKafka({ brokers: kafkaBrokers(), timeoutMs: 90_000 });
}

/** Stops the broker, keeps it down for `downMs`, starts it again and waits until it serves. */
export async function restartLocalBroker(downMs = 0): Promise<void> {
  await stopLocalBroker();
  if (downMs > 0) await new Promise((done) => setTimeout(done, downMs));
  await startLocalBroker();
}
