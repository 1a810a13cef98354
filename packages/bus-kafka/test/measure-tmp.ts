// Throwaway: records/s through the GroupConsumer of each driver (not committed).
import pino from "pino";
import { Kafka, logLevel, CompressionTypes } from "kafkajs";
import { createGroupConsumer } from "../src/driver/consumer";
async function main() {
  const brokers = [process.env.OMNIDAEMON_KAFKA_BROKERS as string];
  const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin(); await admin.connect();
  const topic = `measure-${Date.now()}`;
  const total = Number(process.env.TOTAL ?? 100000);
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 6 }] });
  const p = kafka.producer(); await p.connect();
  const value = Buffer.alloc(200, "x");
  for (let i = 0; i < total; i += 5000) {
    await p.send({ topic, compression: CompressionTypes.None, messages: Array.from({ length: 5000 }, (_, j) => ({ key: `k${(i + j) % 1000}`, value })) });
  }
  await p.disconnect();
  for (const client of ["kafkajs", "platformatic", "kafkajs", "platformatic"] as const) {
    let n = 0; let t0 = 0;
    const c = createGroupConsumer({ client, brokers }, pino({ level: "silent" }), {
      groupId: `measure-${client}-${Date.now()}`, topics: [{ topic, fromBeginning: true }],
      onBatch: (b) => { if (t0 === 0) t0 = performance.now(); n += b.messages.length; for (const m of b.messages) void m.headers; return b.messages.length; },
    });
    await c.start();
    while (n < total) await new Promise((r) => setTimeout(r, 5));
    const ms = performance.now() - t0;
    console.log(client, `${total} records in ${ms.toFixed(0)} ms = ${Math.round(total / (ms / 1000))} records/s`);
    await c.stop();
  }
  await admin.deleteTopics({ topics: [topic] }); await admin.disconnect();
}
void main();
