// The apps against production-like connections (npm run test:secure): a Kafka SASL_SSL listener (SCRAM-SHA-512,
// the stack's own CA) and PostgreSQL over TLS with a password, both configured only through the OMNIDAEMON_*
// variables of .stack/env.secure (test/secure/global-setup.js), with the passwords given as files. The coordinator
// and the worker are the built CLI's processes; the CLI drives them.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BusAdmin, agentNames, loadKafkaEnv } from "@omnidaemon/bus-kafka";
import { Client } from "pg";
import {
  CLI,
  childEnv,
  cliProcess,
  FixtureLog,
  freePort,
  http,
  newAgent,
  newTopic,
  Proc,
  runProcess,
  stopAll,
  uniqueName,
  waitFor,
  Worker,
  kafkaClient,
  type RunResult,
} from "@omnidaemon/testkit";

/** The secure services' variables, exactly as the stack wrote them. */
function secureEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && /^OMNIDAEMON_(KAFKA|DATABASE)_/.test(name)) env[name] = value;
  }
  return env;
}

const kafkaPassword = (): string =>
  readFileSync(process.env.OMNIDAEMON_KAFKA_SASL_PASSWORD_FILE as string, "utf8");
const postgresPassword = (): string =>
  readFileSync(process.env.OMNIDAEMON_DATABASE_PASSWORD_FILE as string, "utf8");

/** A Postgres client as the secure role, over TLS verified against the stack's CA. */
async function pgClient(): Promise<Client> {
  const url = new URL(process.env.OMNIDAEMON_DATABASE_URL as string);
  const client = new Client({
    host: url.hostname,
    port: Number(url.port),
    user: decodeURIComponent(url.username),
    database: url.pathname.slice(1),
    password: postgresPassword(),
    ssl: { ca: readFileSync(process.env.OMNIDAEMON_DATABASE_SSL_CA_FILE as string, "utf8") },
    application_name: "secure-test",
  });
  await client.connect();
  return client;
}

function cli(args: string[], coordinatorUrl: string): Promise<RunResult> {
  return runProcess(process.execPath, [CLI, ...args], {
    env: childEnv({ OMNIDAEMON_COORDINATOR_URL: coordinatorUrl }),
  });
}

function startCoordinator(schema: string, port: number, env: Record<string, string> = {}): Proc {
  const settings: Record<string, string> = {
    ...secureEnv(),
    OMNIDAEMON_DATABASE_SCHEMA: schema,
    OMNIDAEMON_KAFKA_CLIENT_ID: uniqueName("secure-coord"),
    OMNIDAEMON_API_HOST: "127.0.0.1",
    OMNIDAEMON_API_PORT: String(port),
    OMNIDAEMON_SHUTDOWN_TIMEOUT_MS: "10000",
    // debug: the most the apps log, so the secrets check below covers it.
    OMNIDAEMON_LOG_LEVEL: "debug",
    ...env,
  };
  return cliProcess("coordinator", ["coordinator"], settings, "coordinator");
}

/** The "build failed, rolling back" line of a process that failed at start, and its error's message. */
function buildFailure(proc: Proc): string {
  const line = proc.stdout
    .split("\n")
    .map((text) => {
      try {
        return JSON.parse(text) as { msg?: string; err?: { message?: string } };
      } catch {
        return undefined;
      }
    })
    .find((entry) => entry?.msg === "build failed, rolling back");
  if (line?.err?.message === undefined) throw new Error(`no "build failed" line\n${proc.tail()}`);
  return line.err.message;
}

const schemas: string[] = [];
/** Agents whose topics and groups this suite made, for the clean-up. */
const made: Array<{ topic: string; agent: string }> = [];
let log: FixtureLog;
let tmp: string;

beforeAll(() => {
  log = new FixtureLog();
  tmp = mkdtempSync(join(tmpdir(), "omnidaemon-secure-"));
});

afterAll(async () => {
  await stopAll(15_000);
  log.remove();
  rmSync(tmp, { recursive: true, force: true });
  const client = await pgClient();
  try {
    for (const schema of schemas) await client.query(`drop schema if exists "${schema}" cascade`);
  } finally {
    await client.end();
  }
  // Over the secure listener too: the suite's own clients use the same variables as the apps.
  const admin = new BusAdmin({
    connection: loadKafkaEnv(process.env, { defaultClientId: "secure-test" }).connection,
  });
  await admin.start();
  try {
    for (const { topic, agent } of made) {
      await admin.deleteGroup(agentNames(topic, agent).groupId).catch(() => undefined);
      await admin.deleteAgentTopics(topic, agent, { retry: true, dlq: true }).catch(() => undefined);
      await admin.deleteTopic(topic).catch(() => undefined);
    }
  } finally {
    await admin.stop();
  }
});

describe("a coordinator and a worker started only from env, on SASL_SSL Kafka and TLS Postgres", () => {
  it("register, process, pause and resume, and dead-letter; Postgres sessions are TLS; no secret reaches a log", async () => {
    const schema = uniqueName("secure_coord");
    schemas.push(schema);
    const topic = newTopic("secure");
    const ok = newAgent("ok");
    const bad = newAgent("bad");
    made.push({ topic, agent: ok }, { topic, agent: bad });
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const coordinator = startCoordinator(schema, port);
    await waitFor(
      "the coordinator on TLS Postgres and SASL_SSL Kafka to answer /livez",
      async () => {
        if (!coordinator.running) throw new Error(`coordinator exited ${JSON.stringify(coordinator.exit)}`);
        return (await http(`${url}/livez`)).status === 200;
      },
      60_000,
      200,
      () => coordinator.tail(),
    );
    const worker = new Worker({
      id: newAgent("secure-worker"),
      agents: [
        { topic, name: ok, behaviour: "record" },
        { topic, name: bad, behaviour: "throw", config: { maxRetries: 0 } },
      ],
      coordinatorUrl: url,
      logDir: log.dir,
      env: { ...secureEnv(), OMNIDAEMON_LOG_LEVEL: "debug" },
    });
    await worker.ready(60_000);
    // The CI runs this suite once per Kafka client (.ci/run): the apps must run the one selected, not the default.
    // Their env carries OMNIDAEMON_KAFKA_CLIENT (testkit's childEnv, and secureEnv() above); each states
    // the client it runs in its start line.
    const coordinatorStart = await coordinator.waitForLog(
      "coordinator starting",
      (entry) => entry.msg === "coordinator starting",
    );
    expect((coordinatorStart.config as { kafka?: { client?: string } }).kafka?.client).toBe(kafkaClient());
    const workerStart = await worker.proc.waitForLog(
      "omnidaemon starting",
      (entry) => entry.msg === "omnidaemon starting",
    );
    expect((workerStart.kafka as { client?: string } | undefined)?.client).toBe(kafkaClient());

    // register
    await waitFor("both agents registered", async () => {
      const list = await cli(["agent", "list", "--json"], url);
      // { topic: [agent, ...] }
      const byTopic = JSON.parse(list.stdout) as Record<string, Array<{ name: string }>>;
      const names = (byTopic[topic] ?? []).map((a) => a.name);
      return names.includes(ok) && names.includes(bad);
    });

    // process (and dead-letter the throwing agent's copy)
    const published = await cli(["task", "publish", "--topic", topic, "--content", '{"n":1}', "--json"], url);
    expect(published.code).toBe(0);
    const first = (JSON.parse(published.stdout) as { task_id: string }).task_id;
    await waitFor(`task ${first} processed by ${ok}`, () => log.ended(ok).has(first), 60_000);
    await waitFor(
      `task ${first} in ${bad}'s DLQ`,
      async () => {
        const dlq = await cli(["bus", "dlq", "--topic", topic, "--name", bad, "--json"], url);
        return (
          dlq.code === 0 &&
          (JSON.parse(dlq.stdout) as Array<{ task_id: string }>).some((e) => e.task_id === first)
        );
      },
      60_000,
    );

    // pause, publish, resume: the event published while paused is processed after the resume
    const paused = await cli(["agent", "unsubscribe", "--topic", topic, "--name", ok, "--json"], url);
    expect(paused.code).toBe(0);
    expect(JSON.parse(paused.stdout)).toMatchObject({ status: "unsubscribed" });
    const whilePaused = await cli(
      ["task", "publish", "--topic", topic, "--content", '{"n":2}', "--json"],
      url,
    );
    const second = (JSON.parse(whilePaused.stdout) as { task_id: string }).task_id;
    const resumed = await cli(["agent", "resume", "--topic", topic, "--name", ok, "--json"], url);
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ status: "resumed" });
    await waitFor(`task ${second} processed after the resume`, () => log.ended(ok).has(second), 60_000);

    // The coordinator's Postgres sessions are TLS (the stack lets the secure role in over TLS only, too).
    const client = await pgClient();
    try {
      const { rows } = await client.query<{ ssl: boolean }>(
        `select s.ssl from pg_stat_activity a join pg_stat_ssl s using (pid)
          where a.usename = current_user and a.application_name = 'omnidaemon'`,
      );
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.every((row) => row.ssl)).toBe(true);
    } finally {
      await client.end();
    }

    await worker.proc.stop(20_000);
    await coordinator.stop(20_000);
    expect(worker.proc.exit).toEqual({ code: 0, signal: null });
    expect(coordinator.exit).toEqual({ code: 0, signal: null });

    // The connection was logged (redacted), and neither password appears anywhere in either process's output.
    expect(worker.proc.stdout).toContain('"password":"[redacted]"');
    for (const proc of [worker.proc, coordinator]) {
      const output = proc.stdout + proc.stderr;
      expect(output).not.toContain(kafkaPassword());
      expect(output).not.toContain(postgresPassword());
    }
  });
});

describe("a misconfigured secure connection fails at start, with one sentence naming the setting", () => {
  /** A CA of our own, which did not sign the broker's certificate. */
  function untrustedCa(): string {
    const key = join(tmp, "other-ca.key");
    const cert = join(tmp, "other-ca.pem");
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=not the stack's CA",
        "-keyout",
        key,
        "-out",
        cert,
      ],
      { stdio: "ignore" },
    );
    return cert;
  }

  it("a wrong SASL password, an untrusted CA, a plaintext client against the TLS listener and a wrong Postgres password: exit 1, and the stack rolled back", async () => {
    const wrongPassword = join(tmp, "wrong-password");
    writeFileSync(wrongPassword, "not-the-password");
    const deadCoordinator = `http://127.0.0.1:${await freePort()}`;
    const agents = [{ topic: newTopic("secure_bad"), name: newAgent("a") }];
    made.push({ topic: agents[0]!.topic, agent: agents[0]!.name });
    const badPassword = new Worker({
      id: newAgent("wrong-password"),
      agents,
      coordinatorUrl: deadCoordinator,
      logDir: log.dir,
      env: { ...secureEnv(), OMNIDAEMON_KAFKA_SASL_PASSWORD_FILE: wrongPassword },
    });
    const plaintext = new Worker({
      id: newAgent("plaintext"),
      agents,
      coordinatorUrl: deadCoordinator,
      logDir: log.dir,
      env: Object.fromEntries(
        Object.entries(secureEnv()).filter(([name]) => !name.startsWith("OMNIDAEMON_KAFKA_SSL")),
      ),
    });
    const schema = uniqueName("secure_bad_ca");
    schemas.push(schema);
    const badCa = startCoordinator(schema, await freePort(), { OMNIDAEMON_KAFKA_SSL_CA_FILE: untrustedCa() });

    const badPgPassword = startCoordinator(uniqueName("secure_bad_pg"), await freePort(), {
      OMNIDAEMON_DATABASE_PASSWORD_FILE: wrongPassword,
    });

    const [passwordExit, plaintextExit, caExit, pgExit] = await Promise.all([
      badPassword.proc.waitExit(90_000),
      plaintext.proc.waitExit(90_000),
      badCa.waitExit(90_000),
      badPgPassword.waitExit(90_000),
    ]);
    expect([passwordExit, plaintextExit, caExit, pgExit]).toEqual([
      { code: 1, signal: null },
      { code: 1, signal: null },
      { code: 1, signal: null },
      { code: 1, signal: null },
    ]);
    expect(buildFailure(badPgPassword)).toMatch(
      /^connecting to Postgres at 127\.0\.0\.1:\d+\/omnidaemon \(28P01: .*\): check the password \(OMNIDAEMON_DATABASE_PASSWORD_FILE, or the one in OMNIDAEMON_DATABASE_URL\)/,
    );
    expect(buildFailure(badPassword.proc)).toMatch(
      /^Kafka at 127\.0\.0\.1:\d+ refused the SASL scram-sha-512 login of user "omnidaemon": check OMNIDAEMON_KAFKA_SASL_PASSWORD \(or OMNIDAEMON_KAFKA_SASL_PASSWORD_FILE\)/,
    );
    expect(buildFailure(plaintext.proc)).toMatch(
      /^Kafka at 127\.0\.0\.1:\d+ closed the connection before answering, as a TLS listener does with a plaintext client: set OMNIDAEMON_KAFKA_SSL=true/,
    );
    expect(buildFailure(badCa)).toMatch(
      /^the TLS certificate of Kafka at 127\.0\.0\.1:\d+ is not trusted \(\w+\): set OMNIDAEMON_KAFKA_SSL_CA_FILE to the CA/,
    );
    // Nothing half-started: the coordinator had opened Postgres before Kafka failed, and closed it again.
    expect(badCa.stdout).toMatch(/"service":"pg-store".*"outcome":"stopped"/);
    expect(badPassword.proc.stdout + badPassword.proc.stderr).not.toContain(kafkaPassword());
  });

  it("an unreadable secret file is a configuration error: exit 2 before connecting, naming the variable", async () => {
    const missing = join(tmp, "no-such-password");
    const worker = new Worker({
      id: newAgent("missing-file"),
      agents: [{ topic: newTopic("secure_cfg"), name: newAgent("a") }],
      coordinatorUrl: `http://127.0.0.1:${await freePort()}`,
      logDir: log.dir,
      env: { ...secureEnv(), OMNIDAEMON_KAFKA_SASL_PASSWORD_FILE: missing },
    });
    const coordinator = startCoordinator(uniqueName("secure_cfg"), await freePort(), {
      OMNIDAEMON_DATABASE_PASSWORD_FILE: missing,
    });
    const [workerExit, coordinatorExit] = await Promise.all([
      worker.proc.waitExit(30_000),
      coordinator.waitExit(30_000),
    ]);
    expect(workerExit).toEqual({ code: 2, signal: null });
    expect(coordinatorExit).toEqual({ code: 2, signal: null });
    expect(worker.proc.stderr).toContain(
      `OMNIDAEMON_KAFKA_SASL_PASSWORD_FILE: cannot read "${missing}" (ENOENT)`,
    );
    expect(coordinator.stderr).toContain(
      `OMNIDAEMON_DATABASE_PASSWORD_FILE: cannot read "${missing}" (ENOENT)`,
    );
  });
});
