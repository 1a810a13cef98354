// Which Kafka client library the bus really runs on when asked for `spec.client`: a child process (started by
// spawn-trial.ts, spec as JSON in argv[2]) starts the product's KafkaProducer and an AgentConsumer on that client,
// joins the group, stops, and reports which client libraries the process loaded. The bus loads
// @platformatic/kafka only when a platformatic driver runs (driver/platformatic/load.ts), so a platformatic request
// that leaves it unloaded ran on kafkajs: the bench then says so beside every platformatic figure.
import { AgentConsumer, KafkaProducer } from "@omnidaemon/bus-kafka";
import type { ProbeMessage, ProbeSpec } from "./types";
import { reportToParent, trialConnection } from "./trial-child";

function loaded(name: string): boolean {
  const marker = `/node_modules/${name}/`;
  return Object.keys(require.cache).some((file) => file.includes(marker));
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? "{}") as ProbeSpec;
  const connection = { ...trialConnection(spec.brokers), client: spec.client };
  const producer = new KafkaProducer({ connection });
  const consumer = new AgentConsumer({
    connection,
    topic: spec.topic,
    agent: spec.agent,
    publisher: producer,
    handler: () => undefined,
  });
  let message: ProbeMessage;
  try {
    await producer.start();
    await consumer.start();
    message = {
      type: "result",
      result: {
        client: spec.client,
        platformaticLoaded: loaded("@platformatic/kafka"),
        kafkajsLoaded: loaded("kafkajs"),
      },
    };
  } catch (error) {
    message = {
      type: "error",
      message: error instanceof Error ? (error.stack ?? error.message) : String(error),
    };
  } finally {
    await consumer.stop().catch(() => undefined);
    await producer.stop().catch(() => undefined);
  }
  await reportToParent(message);
}

void main();
