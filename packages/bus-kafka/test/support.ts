// bus-kafka's own helpers for its integration suites, on top of @omnidaemon/testkit: an agent's topics made and
// removed with the package's naming, and envelopes published with its producer. Using kafkajs directly is fine here.
import { createTopics, uniqueName } from "@omnidaemon/testkit";
import type { Admin } from "kafkajs";
import { createEnvelope, type Envelope } from "../src/envelope";
import { agentNames, type AgentNames } from "../src/naming";
import type { KafkaProducer } from "../src/producer";

/** Creates the agent's topic, retry topic and DLQ with `partitions` partitions each; returns the names. */
export async function createAgentTopics(
  admin: Admin,
  partitions = 12,
  prefix = "engine",
): Promise<AgentNames> {
  const names = agentNames(uniqueName(prefix), uniqueName("agent").replace(/_/g, "-"));
  await createTopics(
    admin,
    [names.topic, names.retryTopic, names.dlqTopic].map((topic) => ({ topic, numPartitions: partitions })),
  );
  return names;
}

export async function deleteAgentTopics(admin: Admin, names: AgentNames): Promise<void> {
  await admin
    .deleteTopics({ topics: [names.topic, names.retryTopic, names.dlqTopic] })
    .catch(() => undefined);
  await admin.deleteGroups([names.groupId]).catch(() => undefined);
}

export async function publishMany(
  producer: KafkaProducer,
  topic: string,
  count: number,
  build: (i: number) => { content?: unknown; key?: string; correlationId?: string } = (i) => ({
    content: { i },
  }),
): Promise<Envelope[]> {
  const envelopes = Array.from({ length: count }, (_, i) => {
    const spec = build(i);
    return {
      envelope: createEnvelope({
        topic,
        content: spec.content ?? { i },
        correlationId: spec.correlationId ?? null,
      }),
      key: spec.key,
    };
  });
  await Promise.all(
    envelopes.map(({ envelope, key }) => producer.publish(envelope, key === undefined ? {} : { key })),
  );
  return envelopes.map((e) => e.envelope);
}
