// The user's path: agents live in the user's own repository, not in this monorepo. The workspace packages are packed
// (`npm pack`), installed from the tarballs into a scratch project outside the checkout, a TypeScript agent there
// imports @omnidaemon/sdk and is compiled with that project's own tsc, and the project's `npx omnidaemon` runs a
// coordinator and a worker on it against the stack: one event in (`omnidaemon task publish --wait`), its result out.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import {
  databaseUrl,
  dropSchema,
  freePort,
  kafkaBrokers,
  KafkaLeftovers,
  newAgent,
  newTopic,
  uniqueName,
  waitFor,
} from "@omnidaemon/testkit";
import { ROOT } from "./support";

/** Every package the SDK and the CLI need; unpublished, so each comes from its own tarball. */
const WORKSPACES = [
  "packages/protocol",
  "packages/lifecycle",
  "packages/bus-kafka",
  "packages/store-pg",
  "packages/sdk",
  "packages/cli",
  // The coordinator serves the console's built files (a dependency of it, with no runtime dependency of its own).
  "packages/console",
  "apps/coordinator",
  "apps/worker",
];

const AGENT_SOURCE = `import { defineAgent, NonRetriableError, type Envelope } from "@omnidaemon/sdk";

interface Greeting {
  name?: unknown;
}

export const agents = [
  defineAgent({
    topic: process.env.GREETER_TOPIC ?? "greetings",
    name: process.env.GREETER_NAME ?? "greeter",
    description: "Greets whoever the event names",
    config: { maxRetries: 1 },
    async callback(message: Envelope) {
      const { name } = (message.content ?? {}) as Greeting;
      if (typeof name !== "string") throw new NonRetriableError("content.name must be a string");
      return { greeting: \`hello, \${name}\` };
    },
  }),
];
`;

const TSCONFIG = {
  compilerOptions: {
    target: "ES2022",
    module: "node16",
    moduleResolution: "node16",
    strict: true,
    outDir: "dist",
    rootDir: "src",
    types: ["node"],
  },
  include: ["src"],
};

const version = (name: string): string =>
  (JSON.parse(readFileSync(join(ROOT, "node_modules", name, "package.json"), "utf8")) as { version: string })
    .version;

const work = mkdtempSync(join(tmpdir(), "omnidaemon-own-project-"));
const project = join(work, "my-agents");
const leftovers = new KafkaLeftovers();
const children: Array<{ child: ChildProcess; closed: Promise<void> }> = [];
let schema: string | undefined;

/** A clean environment, as a user's shell would have: nothing of this repository's npm run leaks in. */
function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    npm_config_audit: "false",
    npm_config_fund: "false",
    npm_config_update_notifier: "false",
    // The registry's packages the tarballs depend on (kafkajs, pg, fastify, …) are in npm's cache on CI machines.
    npm_config_prefer_offline: "true",
    ...extra,
  };
}

function run(command: string, args: string[], cwd: string, env = userEnv()): string {
  return execFileSync(command, args, { cwd, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

function start(args: string[], env: Record<string, string>): { child: ChildProcess; output: () => string } {
  // Its own process group: npx runs the bin through a shell, so the app is a grandchild; signals go to the group.
  const child = spawn("npx", ["--no-install", "omnidaemon", ...args], {
    cwd: project,
    env: userEnv(env),
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  // "close": every process holding the pipes is gone, not only npx.
  children.push({ child, closed: new Promise((resolve) => child.once("close", () => resolve())) });
  let output = "";
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  return { child, output: () => output };
}

afterAll(async () => {
  const signal = (pid: number | undefined, name: NodeJS.Signals): void => {
    try {
      if (pid !== undefined) process.kill(-pid, name);
    } catch {
      // the group is gone
    }
  };
  // Workers first (they deregister from the coordinator), then the coordinator; SIGKILL after 30 s.
  for (const { child, closed } of [...children].reverse()) {
    signal(child.pid, "SIGTERM");
    const timer = setTimeout(() => signal(child.pid, "SIGKILL"), 30_000);
    await closed;
    clearTimeout(timer);
  }
  if (schema) await dropSchema(schema);
  await leftovers.clean();
  rmSync(work, { recursive: true, force: true });
});

it("packs the SDK and the CLI, installs them into a project outside the repository, builds a TypeScript agent there and runs it with that project's npx omnidaemon: one event in, its result out", async () => {
  expect(relative(ROOT, work).startsWith("..")).toBe(true);

  // npm pack: what a registry would serve.
  const packs = join(work, "packs");
  mkdirSync(packs);
  run("npm", ["pack", "--pack-destination", packs, ...WORKSPACES.flatMap((w) => ["-w", w])], ROOT, {
    ...userEnv(),
  });
  const tarballs = readdirSync(packs).filter((file) => file.endsWith(".tgz"));
  expect(tarballs).toHaveLength(WORKSPACES.length);

  // The user's project: its own package.json, tsconfig and TypeScript compiler.
  mkdirSync(join(project, "src"), { recursive: true });
  writeFileSync(
    join(project, "package.json"),
    JSON.stringify({ name: "my-agents", private: true, scripts: { build: "tsc" } }, null, 2),
  );
  writeFileSync(join(project, "tsconfig.json"), JSON.stringify(TSCONFIG, null, 2));
  writeFileSync(join(project, "src", "agents.ts"), AGENT_SOURCE);
  run(
    "npm",
    [
      "install",
      ...tarballs.map((file) => join(packs, file)),
      `typescript@${version("typescript")}`,
      `@types/node@${version("@types/node")}`,
    ],
    project,
  );
  run("npm", ["run", "build"], project);
  expect(readdirSync(join(project, "dist"))).toContain("agents.js");
  expect(run("npx", ["--no-install", "omnidaemon", "--help"], project)).toMatch(/^usage: omnidaemon/);

  // The fleet, from the project's own npx omnidaemon.
  const topic = newTopic("own_project");
  const agent = newAgent("greeter");
  leftovers.agent(topic, agent);
  schema = uniqueName("own_project");
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const coordinator = start(["coordinator"], {
    OMNIDAEMON_KAFKA_BROKERS: kafkaBrokers().join(","),
    OMNIDAEMON_DATABASE_URL: databaseUrl(),
    OMNIDAEMON_DATABASE_SCHEMA: schema,
    OMNIDAEMON_API_HOST: "127.0.0.1",
    OMNIDAEMON_API_PORT: String(port),
    OMNIDAEMON_LOG_LEVEL: "warn",
  });
  await waitFor(
    "the coordinator",
    async () => (await fetch(`${url}/livez`)).ok,
    60_000,
    250,
    coordinator.output,
  );
  const worker = start(["worker", "--agents", "dist/agents.js"], {
    OMNIDAEMON_KAFKA_BROKERS: kafkaBrokers().join(","),
    OMNIDAEMON_COORDINATOR_URL: url,
    OMNIDAEMON_METRICS_PORT: "0",
    OMNIDAEMON_METRICS_HOST: "127.0.0.1",
    OMNIDAEMON_LOG_LEVEL: "warn",
    GREETER_TOPIC: topic,
    GREETER_NAME: agent,
  });
  await waitFor(
    "the greeter to be consumed by a live worker",
    async () => {
      const health = (await (await fetch(`${url}/health`)).json()) as {
        agents?: Array<{ name: string; live_consumers: number }>;
      };
      return health.agents?.some((a) => a.name === agent && a.live_consumers > 0);
    },
    90_000,
    500,
    () => `${coordinator.output()}\n${worker.output()}`,
  );

  const answer = run(
    "npx",
    [
      "--no-install",
      "omnidaemon",
      "task",
      "publish",
      "--topic",
      topic,
      "--content",
      '{"name":"world"}',
      "--wait",
      "--timeout-ms",
      "60000",
      "--json",
    ],
    project,
    userEnv({ OMNIDAEMON_COORDINATOR_URL: url }),
  );
  const task = JSON.parse(answer) as { records: Array<{ agent: string; status: string; result: unknown }> };
  expect(task.records).toEqual([
    expect.objectContaining({ agent, status: "completed", result: { greeting: "hello, world" } }),
  ]);
});
