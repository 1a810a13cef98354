import { randomBytes, randomUUID } from "node:crypto";
import {
  BusAdmin,
  KafkaProducer,
  createEnvelope,
  type KafkaClientName,
  type KafkaConnection,
} from "@omnidaemon/bus-kafka";
import { sleep } from "@omnidaemon/lifecycle";
import { runClientProbe, runLatencyTrial, runTrial } from "./spawn-trial";
import type { LatencyResult, LatencySpec, ProbeResult, TrialResult, TrialSpec } from "./types";

/** What every scenario gets: the broker, an admin and a producer for setup, and the cleanup ledger. */
export class BenchContext {
  readonly runId = `${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`;
  readonly admin: BusAdmin;
  readonly producer: KafkaProducer;
  private readonly topics = new Set<string>();
  private readonly agents: Array<{ topic: string; agent: string }> = [];
  private readonly groups = new Set<string>();

  readonly brokers: string[];

  constructor(
    kafka: KafkaConnection,
    /** Set with --profile: every trial writes a V8 CPU profile here. */
    readonly profileDir: string | undefined,
  ) {
    this.brokers = kafka.brokers;
    const connection = { ...kafka, clientId: "omnidaemon-bench-setup" };
    this.admin = new BusAdmin({ connection });
    this.producer = new KafkaProducer({ connection });
  }

  async start(): Promise<void> {
    await this.admin.start();
    await this.producer.start();
  }

  /** A topic name no other run uses (the broker is shared with other people's tests). */
  topicName(scenario: string): string {
    return `bench.${scenario.toLowerCase()}.${this.runId}`;
  }

  async createTopic(topic: string, partitions: number): Promise<void> {
    this.topics.add(topic);
    await this.admin.ensureTopic(topic, { partitions });
  }

  /** Creates the agent's retry and dead-letter topics (the engine subscribes to the retry topic) and notes its group. */
  async createAgent(topic: string, agent: string, partitions: number): Promise<void> {
    this.agents.push({ topic, agent });
    this.groups.add(`omnidaemon.${topic}.${agent}`);
    await this.admin.ensureAgentTopics(topic, agent, { partitions });
  }

  /** Notes an agent whose topics a worker process creates itself, so close() deletes them and its group. */
  noteAgent(topic: string, agent: string): void {
    this.agents.push({ topic, agent });
    this.groups.add(`omnidaemon.${topic}.${agent}`);
  }

  baselineGroup(topic: string, name: string): string {
    const group = `bench-baseline.${topic}.${name}`;
    this.groups.add(group);
    return group;
  }

  /**
   * Publishes `count` envelopes of about `valueBytes` bytes each through the product's KafkaProducer (it batches
   * whatever is queued while a request is in flight), each with a unique correlation id, so keys spread evenly.
   * `content.i` is the record's index: the engine side counts unique records with it.
   */
  async preload(
    topic: string,
    count: number,
    valueBytes: number,
    /** Spread the records over this many tenants (`tenant_id` t0, t1, …), round robin. @default none */
    tenants = 0,
  ): Promise<{ ms: number; rate: number; meanValueBytes: number }> {
    const build = (i: number, pad: string): ReturnType<typeof createEnvelope> =>
      createEnvelope({
        topic,
        content: { i, pad },
        correlationId: randomUUID(),
        ...(tenants > 0 ? { tenantId: `t${i % tenants}` } : {}),
      });
    const emptySize = Buffer.byteLength(JSON.stringify(build(count, "")));
    const pad = "x".repeat(Math.max(0, valueBytes - emptySize));
    // Sizes vary by a few bytes (index digits, timestamp); every 100th record is measured for the report.
    let sampledBytes = 0;
    let samples = 0;
    const window = 50_000;
    const started = performance.now();
    for (let from = 0; from < count; from += window) {
      const sends: Array<Promise<void>> = [];
      for (let i = from; i < Math.min(count, from + window); i++) {
        const envelope = build(i, pad);
        if (i % 100 === 0) {
          sampledBytes += Buffer.byteLength(JSON.stringify(envelope));
          samples++;
        }
        sends.push(this.producer.publish(envelope));
      }
      await Promise.all(sends);
    }
    const ms = performance.now() - started;
    return { ms, rate: count / (ms / 1000), meanValueBytes: sampledBytes / samples };
  }

  /** Runs one trial in its own process, profiled when --profile is on. */
  trial(spec: TrialSpec): Promise<TrialResult> {
    return runTrial(spec, this.profileDir === undefined ? {} : { cpuProfDir: this.profileDir });
  }

  /** Runs one B3 latency trial in its own process, profiled when --profile is on. */
  latencyTrial(spec: LatencySpec): Promise<LatencyResult> {
    return runLatencyTrial(spec, this.profileDir === undefined ? {} : { cpuProfDir: this.profileDir });
  }

  /** Starts the bus on `client` in a child process and reports which Kafka client library it really loaded. */
  async probeClient(client: KafkaClientName): Promise<ProbeResult> {
    const topic = this.topicName(`probe-${client}`);
    const agent = "probe";
    await this.createTopic(topic, 1);
    await this.createAgent(topic, agent, 1);
    return runClientProbe({
      label: `client probe ${client}`,
      client,
      brokers: this.brokers,
      topic,
      agent,
      timeoutMs: 60_000,
    });
  }

  /** Deletes every group and topic this run created and closes the setup clients. Never throws. */
  async close(): Promise<void> {
    await this.producer.stop().catch((error: unknown) => warn("producer stop", error));
    for (const group of this.groups) {
      await this.deleteGroup(group);
    }
    for (const { topic, agent } of this.agents) {
      await this.admin
        .deleteAgentTopics(topic, agent, { retry: true, dlq: true })
        .catch((error: unknown) => warn(`delete agent topics of ${agent}`, error));
    }
    for (const topic of this.topics) {
      await this.admin.deleteTopic(topic).catch((error: unknown) => warn(`delete topic ${topic}`, error));
    }
    await this.admin.stop().catch((error: unknown) => warn("admin stop", error));
  }

  private async deleteGroup(group: string): Promise<void> {
    // A member that left a moment ago can still be listed while the coordinator completes the leave.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.admin.deleteGroup(group);
        return;
      } catch (error) {
        if (attempt >= 5) return warn(`delete group ${group}`, error);
        await sleep(1000);
      }
    }
  }
}

function warn(what: string, error: unknown): void {
  console.error(`bench: cleanup: ${what} failed: ${error instanceof Error ? error.message : String(error)}`);
}
