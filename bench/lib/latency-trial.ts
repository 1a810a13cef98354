// B3: latency publish → callback start, one consumer in its own process. The same process publishes at a steady
// rate through the product's KafkaProducer (acks=all) and stamps each event with its publish time
// (`content.t`, epoch ms with sub-ms precision); the handler records `now - t` when it starts. Producer and
// consumer share the process so they share the clock, and every side (the engine on each client, the bare kafkajs
// and bare @platformatic/kafka consumers) carries the same producer: the product's KafkaProducer on
// `spec.producerClient`, one client for the whole run, so the sides differ only in how they consume. Started by
// spawn-trial.ts with the spec as JSON in argv[2]; sends one LatencyMessage over IPC.
import { AgentConsumer, KafkaProducer, createEnvelope } from "@omnidaemon/bus-kafka";
import type { Consumer } from "kafkajs";
import { startBarePlatformatic } from "./bare-platformatic";
import { latencySummary } from "./latency";
import type { LatencyMessage, LatencySpec } from "./types";
import { raceDeadline, sleep } from "@omnidaemon/lifecycle";
import { baselineKafka, reportToParent, trialConnection } from "./trial-child";

const now = (): number => performance.timeOrigin + performance.now();

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? "{}") as LatencySpec;
  const connection = trialConnection(spec.brokers);
  const total = Math.round((spec.rate * spec.durationMs) / 1000);
  const latencies = new Float64Array(total);
  const seen = new Uint8Array(total);
  let received = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const onStart = (content: { i: number; t: number }): void => {
    const at = now();
    if (seen[content.i] === 1) return;
    seen[content.i] = 1;
    latencies[content.i] = at - content.t;
    if (++received === total) resolveDone();
  };

  const producer = new KafkaProducer({ connection: { ...connection, client: spec.producerClient } });
  await producer.start();
  let stopConsumer: () => Promise<void>;
  if (spec.kind === "engine") {
    const consumer = new AgentConsumer({
      connection: { ...connection, client: spec.client },
      topic: spec.topic,
      agent: spec.agent as string,
      publisher: producer,
      maxWaitTimeMs: spec.maxWaitTimeMs,
      handler: (envelope) => onStart(envelope.content as { i: number; t: number }),
    });
    await consumer.start();
    stopConsumer = () => consumer.stop();
  } else if (spec.client === "platformatic") {
    // As comparable as the client allows to the bare kafkajs side below: a new group that starts at the end, the
    // client's default commit after every fetch, the same JSON.parse of each value, the same fetch wait.
    const consumer = await startBarePlatformatic({
      connection,
      groupId: spec.groupId as string,
      topic: spec.topic,
      groupProtocol: spec.groupProtocol ?? "consumer",
      startAt: "latest",
      maxWaitTimeMs: spec.maxWaitTimeMs,
      commit: "per-fetch",
      onRecord: (value) => {
        const envelope = JSON.parse(value.toString("utf8")) as { content: { i: number; t: number } };
        onStart(envelope.content);
      },
    });
    stopConsumer = () => consumer.stop();
  } else {
    const kafka = baselineKafka(spec.brokers);
    const consumer: Consumer = kafka.consumer({
      groupId: spec.groupId as string,
      maxWaitTimeInMs: spec.maxWaitTimeMs,
      allowAutoTopicCreation: false,
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [spec.topic], fromBeginning: false });
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    await consumer.run({
      eachMessage: ({ message }) => {
        const envelope = JSON.parse((message.value as Buffer).toString("utf8")) as {
          content: { i: number; t: number };
        };
        onStart(envelope.content);
        return Promise.resolve();
      },
    });
    await joined;
    stopConsumer = () => consumer.disconnect();
  }
  // Let the group settle (first fetches, offsets) before the clock starts.
  await sleep(2000);

  // A steady rate: every tick publishes what is due by now, so a late timer catches up instead of drifting.
  const started = performance.now();
  let sent = 0;
  const sends: Array<Promise<void>> = [];
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * spec.rate));
      for (; sent < due; sent++) {
        const envelope = createEnvelope({
          topic: spec.topic,
          content: { i: sent, t: now(), pad: spec.pad },
          correlationId: `c${sent}`,
        });
        sends.push(producer.publish(envelope));
      }
      if (sent >= total) {
        clearInterval(timer);
        resolve();
      }
    }, 1);
  });
  await Promise.all(sends);
  await raceDeadline(done, 30_000);
  await stopConsumer();
  await producer.stop();
  const measured = Array.from(latencies.subarray(0, total)).filter((_, i) => seen[i] === 1);
  const message: LatencyMessage = {
    type: "result",
    result: {
      label: spec.label,
      kind: spec.kind,
      client: spec.client,
      published: total,
      lost: total - received,
      ...latencySummary(measured),
    },
  };
  await reportToParent(message);
}

main().catch((error: unknown) => {
  const message: LatencyMessage = {
    type: "error",
    message: error instanceof Error ? (error.stack ?? error.message) : String(error),
  };
  void reportToParent(message).finally(() => process.exit(1));
});
