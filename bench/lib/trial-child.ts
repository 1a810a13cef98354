// What every trial child process (trial.ts, latency-trial.ts, client-probe.ts) does the same way: read the Kafka
// connection the apps would (TLS and SASL from the bench's environment, brokers from the spec), make a raw kafkajs
// client for the baselines, and hand its one message to the parent.
import { loadKafkaEnv, type KafkaConnection } from "@omnidaemon/bus-kafka";
import { Kafka, logLevel, type SASLOptions } from "kafkajs";

/** The connection as the apps read it from the environment, on the spec's brokers. */
export function trialConnection(brokers: string[]): KafkaConnection {
  return { ...loadKafkaEnv(process.env, { defaultClientId: "omnidaemon-bench" }).connection, brokers };
}

/** A silent kafkajs client on the same connection (TLS and SASL included), for the bare-client baselines. */
export function baselineKafka(brokers: string[]): Kafka {
  const { ssl, sasl } = trialConnection(brokers);
  return new Kafka({
    clientId: "omnidaemon-bench",
    brokers,
    ssl,
    ...(sasl === undefined ? {} : { sasl: sasl as SASLOptions }),
    logLevel: logLevel.NOTHING,
  });
}

/**
 * Sends the trial's one message to the parent (over IPC when forked, else as a JSON line on stdout) and lets the
 * process end; an "error" message sets exit code 1.
 */
export async function reportToParent(message: { type: string }): Promise<void> {
  await new Promise<void>((resolve) => {
    if (process.send) process.send(message, () => resolve());
    else {
      console.log(JSON.stringify(message));
      resolve();
    }
  });
  process.disconnect?.();
  if (message.type === "error") process.exitCode = 1;
}
