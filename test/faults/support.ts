// The fault suite's harness (npm run test:faults; docs/faults.md). A scenario is a real fleet started as users start
// it — the built CLI's `coordinator` and `worker --agents <module>` on the local stack's Kafka and Postgres — fed by
// a steady stream of events whose ids are all known, hit by one fault, and then checked id by id: which ids the
// callbacks saw (the recording fixture packages/testkit/fixtures/agents.js writes a JSON line per start and end,
// one file per process), which ones were dead-lettered, which results reached Postgres.
//
// The processes, the fixture log and the coordinator come from @omnidaemon/testkit; this file adds what only faults
// need: a load generator that remembers every id it published, an incremental reader of the fixture's log (tens of
// thousands of lines are re-read every 250 ms otherwise), a /health watcher, and the verdict with its table row.
import { appendFileSync, closeSync, fstatSync, openSync, readSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEnvelope, encodeEnvelope } from "@omnidaemon/bus-kafka";
import { type Envelope } from "@omnidaemon/protocol";
import {
  FixtureLog,
  KafkaLeftovers,
  Publisher,
  StopWaiting,
  Worker,
  delay,
  http,
  newAgent,
  newTopic,
  rawKafka,
  stackCommand,
  startCoordinatorProcess,
  waitFor,
  withBusAdmin,
  withPostgres,
  type AgentSpec,
  type CoordinatorProcess,
  type FixtureLine,
} from "@omnidaemon/testkit";
import { ConfigResourceTypes } from "kafkajs";

/** The steady rate every scenario publishes at (events/s); modest, for a shared 2-core machine. */
export const STEADY_RATE = 40;
/** Settings passed to every worker. The session timeout variables are ignored by workers that do not know them. */
export const WORKER_ENV: Record<string, string> = {
  OMNIDAEMON_KAFKA_SESSION_TIMEOUT_MS: "6000",
  OMNIDAEMON_KAFKA_HEARTBEAT_INTERVAL_MS: "1000",
  OMNIDAEMON_SHUTDOWN_TIMEOUT_MS: "10000",
};
/** How long the publisher keeps sending one envelope again before it gives up on it (outlasts a broker restart). */
const PUBLISH_PERSISTENCE_MS = 120_000;
/** How long a SIGTERMed worker may take to exit: its shutdown budget plus the time to commit and deregister. */
const EXIT_GRACE_MS = 25_000;
/** The engine commits once a second: a crash may repeat what completed in the last interval (docs/delivery.md). */
const COMMIT_SLACK_MS = 2_000;

// --- the local stack -----------------------------------------------------------------------------------------------

// --- publishing ------------------------------------------------------------------------------------------------------

export interface Published {
  topic: string;
  at: number;
}

/**
 * Publishes envelopes and raw records and remembers every id: `acked` once the broker acknowledged it, `failed`
 * when the producer gave up (such an id may or may not have been written, so it is neither lost nor unexpected).
 */
export class FaultPublisher {
  readonly acked = new Map<string, Published>();
  readonly failed = new Map<string, string>();
  /** Ids sent more than once because an attempt failed (they may be in the topic twice). */
  readonly resent = new Set<string>();
  private readonly pending = new Set<Promise<void>>();
  // A broker restart takes 10–20 s here: the publisher waits it out rather than give up on the records.
  private readonly publisher = new Publisher({ publishTimeoutMs: 180_000 });

  async start(): Promise<this> {
    await this.publisher.start();
    return this;
  }

  ensureTopic(topic: string): Promise<void> {
    return this.publisher.ensureTopic(topic);
  }

  /** Publishes one envelope without waiting for the acknowledgement; returns its id at once. */
  publish(
    topic: string,
    content: unknown,
    options: { key?: string; replyTo?: string; partition?: number } = {},
  ): string {
    const envelope = createEnvelope({ topic, content, replyTo: options.replyTo ?? null });
    this.track(envelope, this.sendEnvelope(envelope, options), options);
    return envelope.id;
  }

  /** Publishes and waits for the acknowledgement (throws if the producer gives up). */
  async publishNow(
    topic: string,
    content: unknown,
    options: { key?: string; replyTo?: string; partition?: number } = {},
  ): Promise<string> {
    const id = this.publish(topic, content, options);
    await this.settled();
    if (!this.acked.has(id)) throw new Error(`publishing ${id} failed: ${this.failed.get(id)}`);
    return id;
  }

  /** A record whose value is not an envelope (not JSON, or JSON of another shape), on one partition. */
  async publishRaw(topic: string, value: string, partition: number): Promise<void> {
    await this.publisher.send({ topic, key: "poison", value: Buffer.from(value, "utf8"), partition });
  }

  /** Waits until every publish so far was acknowledged or failed. */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  waitGroupStable(spec: AgentSpec, members: number, timeoutMs: number): Promise<void> {
    return this.publisher.waitGroupStable(spec.topic, spec.name, members, timeoutMs);
  }

  async stop(): Promise<void> {
    await this.settled();
    await this.publisher.stop();
  }

  private sendEnvelope(envelope: Envelope, options: { key?: string; partition?: number }): Promise<void> {
    if (options.partition === undefined) return this.publisher.publishEnvelope(envelope, options);
    return this.publisher.send({
      topic: envelope.topic,
      key: options.key ?? envelope.id,
      value: encodeEnvelope(envelope),
      partition: options.partition,
    });
  }

  private track(
    envelope: Envelope,
    sent: Promise<void>,
    options: { key?: string; partition?: number } = {},
  ): void {
    // As a producing application would: a publish the client gave up on (a broker restart outlasts kafkajs'
    // retries) is sent again, the same envelope, a few times. If the failed attempt was in fact written, the id
    // is in the topic twice: `resent` lets the verdict tell such a repeat from the fleet's.
    const attempt = async (first: Promise<void>): Promise<void> => {
      const giveUpAt = Date.now() + PUBLISH_PERSISTENCE_MS;
      let pending = first;
      for (;;) {
        try {
          await pending;
          this.acked.set(envelope.id, { topic: envelope.topic, at: Date.now() });
          return;
        } catch (error) {
          if (Date.now() >= giveUpAt) {
            this.failed.set(envelope.id, String((error as Error)?.message ?? error));
            return;
          }
          this.resent.add(envelope.id);
          await delay(2_000);
          pending = this.sendEnvelope(envelope, options);
        }
      }
    };
    const done = attempt(sent);
    this.pending.add(done);
    void done.finally(() => this.pending.delete(done));
  }
}

/** Publishes `content(i)` to `topic` at `rate` events/s (catching up after a stall) until stopped. */
export class SteadyLoad {
  readonly ids: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private sent = 0;
  private budget = 0;
  private last = 0;

  constructor(
    private readonly publisher: FaultPublisher,
    private readonly topic: string,
    private rate: number,
    private readonly content: (i: number) => unknown = (i) => ({ i, delayMs: 20 }),
    private readonly options: { key?: (i: number) => string } = {},
  ) {}

  start(): this {
    this.last = Date.now();
    this.timer = setInterval(() => this.tick(), 50);
    return this;
  }

  /** Changes the rate from now on (the burst scenario). */
  setRate(rate: number): void {
    this.tick();
    this.rate = rate;
  }

  /** Stops publishing and waits until every event it published was acknowledged or failed. */
  async stop(): Promise<string[]> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.publisher.settled();
    return this.ids;
  }

  private tick(): void {
    const now = Date.now();
    this.budget += ((now - this.last) * this.rate) / 1000;
    this.last = now;
    while (this.budget >= 1) {
      this.budget -= 1;
      const i = this.sent++;
      const key = this.options.key?.(i);
      this.ids.push(this.publisher.publish(this.topic, this.content(i), key === undefined ? {} : { key }));
    }
  }
}

// --- what the callbacks saw --------------------------------------------------------------------------------------------

/** Reads the fixture's JSON lines incrementally (only what was appended since the last call). */
export class Tally {
  readonly starts = new Map<string, FixtureLine[]>();
  readonly ends = new Map<string, FixtureLine[]>();
  readonly loaded: FixtureLine[] = [];
  private readonly offsets = new Map<string, number>();
  private readonly partial = new Map<string, string>();

  constructor(private readonly dir: string) {}

  refresh(): this {
    for (const file of readdirSync(this.dir)) {
      if (!file.endsWith(".jsonl")) continue;
      const path = join(this.dir, file);
      const fd = openSync(path, "r");
      try {
        const from = this.offsets.get(file) ?? 0;
        const size = fstatSync(fd).size;
        if (size <= from) continue;
        const buffer = Buffer.alloc(size - from);
        const read = readSync(fd, buffer, 0, buffer.length, from);
        this.offsets.set(file, from + read);
        const lines = ((this.partial.get(file) ?? "") + buffer.toString("utf8", 0, read)).split("\n");
        this.partial.set(file, lines.pop() ?? "");
        for (const line of lines) if (line !== "") this.add(JSON.parse(line) as FixtureLine);
      } finally {
        closeSync(fd);
      }
    }
    return this;
  }

  /** Whether the callbacks of `agent` ended for `id`. */
  ended(id: string, agent?: string): boolean {
    return (this.ends.get(id) ?? []).some((l) => agent === undefined || l.agent === agent);
  }

  pidOf(workerId: string): number | undefined {
    return this.loaded.find((l) => l.workerId === workerId)?.pid;
  }

  /** Ends of `ids` between two instants. */
  endedBetween(ids: Iterable<string>, from: number, to: number): number {
    let n = 0;
    for (const id of ids) if ((this.ends.get(id) ?? []).some((l) => l.t >= from && l.t <= to)) n++;
    return n;
  }

  private add(line: FixtureLine): void {
    if (line.event === "loaded") this.loaded.push(line);
    const id = line.taskId;
    if (id === undefined) return;
    const into = line.event === "start" ? this.starts : line.event === "end" ? this.ends : undefined;
    if (!into) return;
    const list = into.get(id);
    if (list) list.push(line);
    else into.set(id, [line]);
  }
}

// --- /health ---------------------------------------------------------------------------------------------------------

export interface HealthSample {
  t: number;
  status: string;
}

/** Polls the coordinator's /health twice a second; "unreachable" when it does not answer. */
export class HealthWatch {
  readonly samples: HealthSample[] = [];
  private running = false;
  private loop: Promise<void> | undefined;

  constructor(private url: string) {}

  start(): this {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        this.samples.push({ t: Date.now(), status: await this.status() });
        await delay(500);
      }
    })();
    return this;
  }

  async status(): Promise<string> {
    try {
      const answer = await http(`${this.url}/health`);
      return typeof answer.body?.status === "string" ? answer.body.status : `http ${answer.status}`;
    } catch {
      return "unreachable";
    }
  }

  /** Statuses seen between two instants. */
  seen(from: number, to: number): Set<string> {
    return new Set(this.samples.filter((s) => s.t >= from && s.t <= to).map((s) => s.status));
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}

// --- the scenario -------------------------------------------------------------------------------------------------------

export interface Fault {
  what: string;
  at: number;
  endAt: number;
}

/** Whether a repeated run of an id (more than one start) is explained by the fault. */
export type MayRepeat = (id: string, starts: FixtureLine[]) => boolean;

/** The events of one agent that a scenario's verdict checks. */
export interface Checked {
  spec: AgentSpec;
  /** Its steady load: every id the load published that the broker acknowledged is checked. */
  load: SteadyLoad;
  /** Its ids published besides the load (a backlog before it, events sent during the fault), checked alike. */
  also?: readonly string[];
  /** Which repeats the fault explains. @default none: the fault is not on the data path */
  mayRepeat?: MayRepeat;
}

export interface ConcludeOptions {
  /** Bound of the wait for recovery (see {@link Scenario.recovery}). @default 120000 */
  recoveryTimeoutMs?: number;
  /** A pause after recovery, before the loads stop, so the fleet is seen working normally again. @default 3000 */
  pauseMs?: number;
  /** Bound of the wait until every checked id was processed. @default 90000 */
  settleTimeoutMs?: number;
  /**
   * The scenario's own checks, before the workers are stopped: gets the checked ids of each entry of `checked`, in
   * order (results in Postgres, DLQ entries); it pushes what it finds wrong to `violations`.
   */
  before?: (ids: string[][]) => Promise<void>;
}

export interface Row {
  scenario: string;
  published: number;
  /** null when the scenario broke off before its verdict. */
  processed: number | null;
  lost: number | null;
  duplicates: number | null;
  recoverySeconds: number | null;
  verdict: "pass" | "FAIL";
  notes: string[];
}

/**
 * One scenario's fleet: its own coordinator (Postgres schema), topics, agents and fixture log, a publisher, a health
 * watcher and the workers; `close()` removes all of it. `violations` collects every broken promise, so one run
 * reports all of them; the test ends with `expect(violations).toEqual([])`.
 */
export class Scenario {
  coordinator!: CoordinatorProcess;
  readonly log = new FixtureLog();
  readonly tally = new Tally(this.log.dir);
  readonly publisher = new FaultPublisher();
  health!: HealthWatch;
  readonly workers: Worker[] = [];
  readonly faults: Fault[] = [];
  readonly violations: string[] = [];
  readonly notes: string[] = [];
  /** Workers the scenario stops or kills on purpose: not counted as "died". */
  readonly departed = new Set<Worker>();
  /** When the fleet had recovered from the fault (set by {@link Scenario.conclude}). */
  private recoveredAt: number | undefined;
  private readonly leftovers = new KafkaLeftovers();
  private readonly extraTopics: string[] = [];

  /** For process and worker ids: the scenario's name with only [A-Za-z0-9._-]. */
  readonly slug: string;

  constructor(readonly name: string) {
    this.slug = name.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^-|-$/g, "");
  }

  static async open(name: string): Promise<Scenario> {
    const scenario = new Scenario(name);
    scenario.coordinator = await startCoordinatorProcess();
    scenario.health = new HealthWatch(scenario.coordinator.url).start();
    await scenario.publisher.start();
    return scenario;
  }

  agent(prefix: string, config: Record<string, unknown> = {}, behaviour?: AgentSpec["behaviour"]): AgentSpec {
    const spec: AgentSpec = { topic: newTopic(prefix), name: newAgent(prefix), config };
    if (behaviour !== undefined) spec.behaviour = behaviour;
    this.leftovers.agent(spec.topic, spec.name);
    return spec;
  }

  /** A topic with a `max.message.bytes` of its own (the oversized-reply poison), removed by close(). */
  async topicWithMaxBytes(prefix: string, maxBytes: number): Promise<string> {
    const topic = newTopic(prefix);
    // Created the product's way (BusAdmin waits until it is usable), then given its limit: kafkajs' createTopics
    // with config entries fails now and then with UNKNOWN_TOPIC_OR_PARTITION on a fresh topic.
    await this.publisher.ensureTopic(topic);
    this.extraTopics.push(topic);
    const admin = rawKafka("faults-admin").admin();
    await admin.connect();
    try {
      await waitFor(
        `${topic}'s max.message.bytes`,
        async () => {
          await admin.alterConfigs({
            validateOnly: false,
            resources: [
              {
                type: ConfigResourceTypes.TOPIC,
                name: topic,
                configEntries: [{ name: "max.message.bytes", value: String(maxBytes) }],
              },
            ],
          });
          return true;
        },
        30_000,
        500,
      );
    } finally {
      await admin.disconnect();
    }
    return topic;
  }

  /** Starts a worker carrying `agents` and waits until it is ready (every agent a member of its group). */
  async worker(id: string, agents: AgentSpec[]): Promise<Worker> {
    const worker = new Worker({
      id: `${this.slug}-${id}`.slice(0, 60),
      agents,
      coordinatorUrl: this.coordinator.url,
      logDir: this.log.dir,
      env: WORKER_ENV,
    });
    this.workers.push(worker);
    await worker.ready(60_000);
    return worker;
  }

  waitGroup(spec: AgentSpec, members: number, timeoutMs = 60_000): Promise<void> {
    return this.publisher.waitGroupStable(spec, members, timeoutMs);
  }

  /** Whether /health reads `status` within `timeoutMs`; false at once when the coordinator process is gone. */
  async waitHealth(status: string, timeoutMs = 60_000): Promise<boolean> {
    try {
      const seen = await waitFor(
        `/health ${status}`,
        async () => !this.coordinator.proc.running || (await this.health.status()) === status,
        timeoutMs,
        250,
      );
      return seen && this.coordinator.proc.running;
    } catch {
      return false;
    }
  }

  /** Setup: the fleet must be healthy before any fault, or the scenario proves nothing. */
  async healthy(): Promise<void> {
    if (!(await this.waitHealth("running"))) {
      throw new Error(`/health did not read running before the fault (last: ${await this.health.status()})`);
    }
  }

  /** Runs `inject` and records it as a fault from its start to its end. */
  async fault(what: string, inject: () => Promise<void>): Promise<Fault> {
    const fault = { what, at: Date.now(), endAt: 0 };
    this.faults.push(fault);
    await inject();
    fault.endAt = Date.now();
    return fault;
  }

  /**
   * Seconds from the end of `fault` until /health reads `running` again and every id of `ids` acknowledged before
   * the fault ended has completed (`done`); null (and a violation) when that does not happen within `timeoutMs`.
   */
  async recovery(
    fault: Fault,
    ids: readonly string[],
    done: (id: string) => boolean,
    timeoutMs = 120_000,
  ): Promise<number | null> {
    const before = ids.filter((id) => (this.publisher.acked.get(id)?.at ?? Infinity) <= fault.endAt);
    try {
      await waitFor(
        `recovery from ${fault.what}`,
        async () => {
          this.tally.refresh();
          if (!this.coordinator.proc.running) throw new StopWaiting("the coordinator died");
          return before.every(done) && (await this.health.status()) === "running";
        },
        timeoutMs,
        250,
        () => `${before.filter((id) => !done(id)).length}/${before.length} still pending`,
      );
      return (Date.now() - fault.endAt) / 1000;
    } catch (error) {
      this.violations.push(`no recovery from ${fault.what}: ${(error as Error).message}`);
      return null;
    }
  }

  /** Waits (bounded) until every id of `ids` satisfies `done`; the ids still missing are returned. */
  async settle(ids: string[], done: (id: string) => boolean, timeoutMs = 90_000): Promise<string[]> {
    try {
      await waitFor(
        "every published event to be processed",
        () => ids.every((id) => (this.tally.refresh(), done(id))),
        timeoutMs,
        500,
      );
    } catch {
      // Reported as lost by the caller.
    }
    this.tally.refresh();
    return ids.filter((id) => !done(id));
  }

  /**
   * The id-by-id verdict for the events of `agent` (`ids`, all acknowledged): lost ones, duplicates (more than one
   * start) not explained by `mayRepeat`, and ids the callbacks saw that nobody published.
   */
  checkDeliveries(
    agent: string,
    ids: string[],
    mayRepeat: (id: string, starts: FixtureLine[]) => boolean,
  ): { processed: number; lost: string[]; duplicates: string[] } {
    this.tally.refresh();
    const lost = ids.filter((id) => !this.tally.ended(id, agent));
    const duplicates: string[] = [];
    for (const id of ids) {
      const starts = (this.tally.starts.get(id) ?? []).filter((l) => l.agent === agent);
      if (starts.length > 1) {
        duplicates.push(id);
        if (!this.publisher.resent.has(id) && !mayRepeat(id, starts)) {
          this.violations.push(
            `${id} of ${agent} ran ${starts.length} times, not explained by the fault: ` +
              starts
                .map((s) => `pid ${s.pid} attempt ${s.attempt} at ${new Date(s.t).toISOString()}`)
                .join(", "),
          );
        }
      }
    }
    if (lost.length > 0) {
      const neverStarted = lost.filter(
        (id) => !(this.tally.starts.get(id) ?? []).some((l) => l.agent === agent),
      );
      this.notes.push(`${neverStarted.length} of the lost events of ${agent} never started a callback`);
      this.violations.push(
        `${lost.length} of ${ids.length} events of ${agent} lost (e.g. ${lost.slice(0, 3).join(", ")})`,
      );
    }
    return { processed: ids.length - lost.length, lost, duplicates };
  }

  /**
   * A repeat is explained when its first run started inside a fault's window: from one commit interval before the
   * fault until `afterEnd` after its end: a number of ms, or "recovery" (a restarted broker: until the fleet had
   * recovered, as {@link Scenario.conclude} measured it).
   */
  inFaultWindow(afterEnd: number | "recovery" = COMMIT_SLACK_MS): MayRepeat {
    return (_id, starts) => {
      const first = Math.min(...starts.map((s) => s.t));
      return this.faults.some((f) => {
        const until = afterEnd === "recovery" ? (this.recoveredAt ?? f.endAt) : f.endAt + afterEnd;
        return first >= f.at - COMMIT_SLACK_MS && first <= until;
      });
    };
  }

  /**
   * The tail every scenario shares once its fault is over: waits for recovery (/health running and every event
   * published before the fault's end processed), lets the fleet run a moment, stops the loads, waits until every
   * acknowledged id was processed, checks them id by id (lost, repeats the fault does not explain), runs the
   * scenario's own checks, and finishes (survivors, health, clean exits). Returns the row's figures.
   */
  async conclude(fault: Fault, checked: Checked[], options: ConcludeOptions = {}): Promise<Outcome> {
    const ended = (id: string): boolean => this.tally.ended(id);
    const recovery = await this.recovery(
      fault,
      checked.flatMap((c) => [...(c.also ?? []), ...c.load.ids]),
      ended,
      options.recoveryTimeoutMs,
    );
    this.recoveredAt = Date.now();
    await delay(options.pauseMs ?? 3_000);
    const ids: string[][] = [];
    for (const { load, also = [] } of checked) {
      ids.push([...also, ...(await load.stop())].filter((id) => this.publisher.acked.has(id)));
    }
    const missing = await this.settle(ids.flat(), ended, options.settleTimeoutMs);
    let processed = 0;
    let duplicates = 0;
    checked.forEach(({ spec, mayRepeat = () => false }, i) => {
      const verdict = this.checkDeliveries(spec.name, ids[i] as string[], mayRepeat);
      processed += verdict.processed;
      duplicates += verdict.duplicates.length;
    });
    await options.before?.(ids);
    await this.finish();
    return {
      published: ids.flat().length,
      processed,
      lost: missing.length,
      duplicates,
      recoverySeconds: recovery,
    };
  }

  /** Every worker not stopped on purpose is still running, and so is the coordinator. */
  checkSurvivors(): void {
    for (const worker of this.workers) {
      if (!this.departed.has(worker) && !worker.proc.running) {
        this.violations.push(
          `${worker.id} died: ${JSON.stringify(worker.proc.exit)}\n${worker.proc.tail(3000)}`,
        );
      }
    }
    if (!this.coordinator.proc.running) {
      this.violations.push(
        `the coordinator died: ${JSON.stringify(this.coordinator.proc.exit)}\n${this.coordinator.proc.tail(4000)}`,
      );
    }
  }

  /** SIGTERM to a worker: it must drain, commit, deregister and exit 0 within its budget. */
  async stopWorker(worker: Worker): Promise<void> {
    this.departed.add(worker);
    worker.proc.term();
    try {
      const exit = await worker.proc.waitExit(EXIT_GRACE_MS);
      if (exit.code !== 0) {
        this.violations.push(
          `${worker.id} exited ${JSON.stringify(exit)} on SIGTERM, not 0\n${worker.proc.tail(3000)}`,
        );
      }
    } catch (error) {
      this.violations.push(
        `${worker.id} did not exit on SIGTERM: ${(error as Error).message.split("\n")[0]}`,
      );
      worker.proc.signalGroup("SIGKILL");
      await worker.proc.exited;
    }
  }

  /** SIGKILL to a worker's process group (the CLI and the app). */
  async killWorker(worker: Worker): Promise<void> {
    this.departed.add(worker);
    worker.proc.signalGroup("SIGKILL");
    await worker.proc.exited;
  }

  /** SIGKILL the coordinator, wait `downMs`, start it again on the same schema and port. */
  async killCoordinatorFor(downMs: number): Promise<void> {
    const { proc, schema, url } = this.coordinator;
    proc.signalGroup("SIGKILL");
    await proc.exited;
    await delay(downMs);
    this.coordinator = await startCoordinatorProcess({ schema, port: Number(new URL(url).port) });
  }

  /** Task status per id, straight from the coordinator's Postgres schema. */
  async taskStatuses(ids: string[]): Promise<Map<string, string>> {
    return withPostgres(async (client) => {
      const { rows } = await client.query<{ task_id: string; status: string }>(
        `select task_id, status from "${this.coordinator.schema}".tasks where task_id = any($1) and agent <> ''`,
        [ids],
      );
      return new Map(rows.map((r) => [r.task_id, r.status]));
    });
  }

  /** Waits (bounded) until every id has a `completed` task record; a violation names the missing ones. */
  async checkResultsIngested(ids: string[], timeoutMs = 120_000): Promise<void> {
    let missing = ids;
    const started = Date.now();
    try {
      await waitFor(
        "every result in Postgres",
        async () => {
          if (!this.coordinator.proc.running) throw new StopWaiting("the coordinator died");
          const statuses = await this.taskStatuses(ids);
          missing = ids.filter((id) => statuses.get(id) !== "completed");
          return missing.length === 0;
        },
        timeoutMs,
        1000,
      );
      this.notes.push(
        `every result in Postgres ${((Date.now() - started) / 1000).toFixed(1)} s after the last event`,
      );
    } catch (error) {
      const at = missing.length;
      const last = /\(last error: (.*)\)/.exec((error as Error).message)?.[1];
      await delay(10_000);
      const statuses = await this.taskStatuses(missing).catch(() => new Map<string, string>());
      const later = [...statuses.values()].filter((status) => status === "completed").length;
      const why = /gave up waiting[^:]*: (.*)/.exec((error as Error).message)?.[1];
      this.violations.push(
        `${at} of ${ids.length} results not ingested by the coordinator ` +
          (why === undefined ? `within ${timeoutMs / 1000} s ` : `(${why}) `) +
          `(${later} more arrived in the next 10 s; e.g. ${missing.slice(0, 3).join(", ")})` +
          (last === undefined ? "" : `; reading them failed: ${last}`),
      );
    }
  }

  /** Dead-lettered entries of an agent, through the coordinator's API (as an operator sees them). */
  async dlq(spec: AgentSpec): Promise<Array<Record<string, unknown>>> {
    const answer = await this.coordinator.api(
      "GET",
      `/bus/dlq?topic=${encodeURIComponent(spec.topic)}&agent=${encodeURIComponent(spec.name)}`,
    );
    if (answer.status !== 200) throw new Error(`GET /bus/dlq answered ${answer.status}: ${answer.text}`);
    return answer.body as Array<Record<string, unknown>>;
  }

  /** The agent's DLQ once `ready` says so, or as it is after `timeoutMs` (the caller checks what is missing). */
  async waitDlq(
    spec: AgentSpec,
    ready: (entries: Array<Record<string, unknown>>) => boolean,
    timeoutMs = 60_000,
  ): Promise<Array<Record<string, unknown>>> {
    let entries: Array<Record<string, unknown>> = [];
    try {
      await waitFor(
        `${spec.name}'s DLQ`,
        async () => ready((entries = await this.dlq(spec))),
        timeoutMs,
        500,
      );
    } catch {
      // The caller names what is missing.
    }
    return entries;
  }

  /** The final checks every scenario shares: survivors alive, /health back to running by itself, clean exits. */
  async finish(): Promise<void> {
    this.checkSurvivors();
    this.tally.refresh();
    const known = new Set([...this.publisher.acked.keys(), ...this.publisher.failed.keys()]);
    const unexpected = [...this.tally.starts.keys()].filter((id) => !known.has(id));
    if (unexpected.length > 0)
      this.violations.push(`the callbacks saw ${unexpected.length} ids nobody published`);
    if (this.publisher.resent.size > 0) {
      this.notes.push(`${this.publisher.resent.size} publishes were sent again after a failed attempt`);
    }
    if (this.publisher.failed.size > 0) {
      this.notes.push(
        `${this.publisher.failed.size} publishes failed after retries (neither lost nor expected)`,
      );
    }
    if (!(await this.waitHealth("running", 60_000))) {
      this.violations.push(`/health did not return to running (last: ${await this.health.status()})`);
    }
    for (const worker of this.workers) if (worker.proc.running) await this.stopWorker(worker);
  }

  row(fields: Outcome): Row {
    const row: Row = {
      scenario: this.name,
      ...fields,
      verdict: this.violations.length === 0 ? "pass" : "FAIL",
      notes: [...this.notes, ...this.violations.map((v) => v.split("\n")[0] as string)],
    };
    recordRow(row);
    console.log(
      `fault scenario "${row.scenario}": published ${row.published}, processed ${row.processed}, lost ${row.lost}, ` +
        `duplicates ${row.duplicates}, recovery ${row.recoverySeconds ?? "—"} s: ${row.verdict}` +
        (row.notes.length ? `\n  - ${row.notes.join("\n  - ")}` : ""),
    );
    return row;
  }

  async close(): Promise<void> {
    for (const worker of this.workers) await worker.proc.stop(15_000);
    // A scenario that broke off mid-fault must not leave the next one without a broker or a database.
    await stackCommand("start", "kafka").catch((error: Error) => console.error(error.message));
    await stackCommand("start", "postgres").catch((error: Error) => console.error(error.message));
    await this.health?.stop();
    await this.publisher.stop().catch(() => undefined);
    await this.coordinator?.close();
    await this.leftovers.clean().catch(() => undefined);
    if (this.extraTopics.length > 0) {
      await withBusAdmin(async (admin) => {
        for (const topic of this.extraTopics) await admin.deleteTopic(topic).catch(() => undefined);
      });
    }
    this.log.remove();
  }
}

export type Outcome = Omit<Row, "scenario" | "verdict" | "notes">;

/**
 * Opens a scenario, runs `body` (which returns the row's figures), records the row even when the body throws (then
 * the scenario "broke off" and that is a violation), fails the test on any violation, and always cleans up.
 */
export async function runScenario(name: string, body: (s: Scenario) => Promise<Outcome>): Promise<void> {
  let scenario: Scenario | undefined;
  try {
    scenario = await Scenario.open(name);
    let outcome: Outcome;
    try {
      outcome = await body(scenario);
    } catch (error) {
      scenario.violations.push(`the scenario broke off: ${(error as Error).stack ?? String(error)}`);
      outcome = {
        published: scenario.publisher.acked.size,
        processed: null,
        lost: null,
        duplicates: null,
        recoverySeconds: null,
      };
    }
    scenario.row(outcome);
    expect(scenario.violations).toEqual([]);
  } catch (error) {
    if (scenario === undefined) {
      recordRow({
        scenario: name,
        published: 0,
        processed: null,
        lost: null,
        duplicates: null,
        recoverySeconds: null,
        verdict: "FAIL",
        notes: [`could not start: ${(error as Error).message.split("\n")[0]}`],
      });
    }
    throw error;
  } finally {
    await scenario?.close();
  }
}

// --- the table ------------------------------------------------------------------------------------------------------------

/** Where the rows go: the file test/faults/global-setup.js created for this run (else a private one). */
function rowsFile(): string {
  return process.env.OMNIDAEMON_FAULTS_ROWS ?? join(tmpdir(), `omnidaemon-faults-rows-${process.pid}.jsonl`);
}

export function recordRow(row: Row): void {
  appendFileSync(rowsFile(), `${JSON.stringify(row)}\n`);
}
