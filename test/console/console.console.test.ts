// The operator console in a real browser (Debian's Chromium, playwright-core) against a real coordinator with an API
// token, two real worker processes and the real broker and Postgres. One fleet for the whole file: the tests run in
// order, as an operator would — sign in, look at the fleet, pause and resume an agent, replay a dead letter, read
// the audit log — and each leaves a screenshot in test-results/console/.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import {
  type AgentSpec,
  type CoordinatorProcess,
  FixtureLog,
  KafkaLeftovers,
  newAgent,
  newTopic,
  Publisher,
  startCoordinatorProcess,
  stopAll,
  waitFor,
  Worker,
} from "@omnidaemon/testkit";
import { launchConsoleBrowser, screenshot, type ConsoleBrowser } from "./support";

const TOKEN = "console-test-token-0123456789abcdef";

const pausable: AgentSpec = { topic: newTopic("console_pause"), name: newAgent("pausable") };
// maxRetries 0: a failing event is dead-lettered at once.
const flaky: AgentSpec = {
  topic: newTopic("console_dlq"),
  name: newAgent("flaky"),
  config: { maxRetries: 0 },
};

let coordinator: CoordinatorProcess;
let log: FixtureLog;
let workers: Worker[];
let publisher: Publisher;
let browser: ConsoleBrowser;
let page: Page;
const leftovers = new KafkaLeftovers();
/** Events published while the agent was paused (the pause test), looked up later on the tasks page. */
let pausedIds: string[] = [];
const scratch = mkdtempSync(join(tmpdir(), "omnidaemon-console-test-"));

/** Sets the console's location hash (the page stays loaded; the console routes on hashchange). */
async function open(hash: string): Promise<void> {
  // A string runs in the page (the test's own TypeScript has no DOM types).
  await page.evaluate(`location.hash = ${JSON.stringify(hash)}`);
}

const href = (page: string, params: Record<string, string>): string =>
  `#/${page}?${new URLSearchParams(params).toString()}`;

/** The workers' own report (heartbeats) of their consumer of `agent`, as the coordinator holds it. */
async function consumerStatuses(agent: AgentSpec): Promise<string[]> {
  const answer = await coordinator.api("GET", "/v1/workers");
  const live = (
    answer.body as Array<{ live: boolean; agents: Array<{ name: string; status: string }> }>
  ).filter((w) => w.live);
  return live.map((w) => w.agents.find((a) => a.name === agent.name)?.status ?? "missing");
}

beforeAll(async () => {
  coordinator = await startCoordinatorProcess({ token: TOKEN });
  leftovers.agent(pausable.topic, pausable.name);
  leftovers.agent(flaky.topic, flaky.name);
  log = new FixtureLog();
  workers = ["console-w1", "console-w2"].map(
    (id) =>
      new Worker({
        id,
        agents: [pausable, flaky],
        coordinatorUrl: coordinator.url,
        logDir: log.dir,
        env: { OMNIDAEMON_API_TOKEN: TOKEN },
      }),
  );
  publisher = await new Publisher().start();
  [browser] = await Promise.all([launchConsoleBrowser(), ...workers.map((w) => w.ready())]);
  page = browser.page;
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await publisher?.stop();
  await stopAll();
  await coordinator?.close();
  await leftovers.clean();
  log?.remove();
  rmSync(scratch, { recursive: true, force: true });
});

it("refuses a wrong token at the sign-in form, and signs in with the right one", async () => {
  await page.goto(`${coordinator.url}/ui/`);
  await page.getByTestId("sign-in").waitFor();
  await page.getByTestId("token").fill("wrong-token-0123456789abcdef");
  await page.getByTestId("sign-in-submit").click();
  await expectText(page.getByTestId("sign-in-error"), /refused this token \(401\)/);
  // Still signed out: no page was shown, and nothing was kept.
  expect(await page.getByTestId("fleet-page").count()).toBe(0);
  expect(await page.evaluate('sessionStorage.getItem("omnidaemon.console.token")')).toBeNull();
  await screenshot(page, "sign-in-refused");

  await page.getByTestId("token").fill(TOKEN);
  await page.getByTestId("sign-in-submit").click();
  await page.getByTestId("fleet-page").waitFor();
  expect(await page.evaluate('sessionStorage.getItem("omnidaemon.console.token")')).toBe(TOKEN);
});

it("shows the live workers on the fleet page", async () => {
  await open("#/fleet");
  for (const worker of workers) {
    await page.locator(`[data-testid="worker-row"][data-worker-id="${worker.id}"]`).waitFor();
  }
  await expectText(page.getByTestId("health-status"), /running/);
  expect(await page.getByTestId("worker-row").count()).toBe(2);
  const row = page.locator(`[data-testid="worker-row"][data-worker-id="${workers[0]?.id}"]`);
  expect(await row.innerText()).toContain(pausable.name);
  await screenshot(page, "fleet");
});

it("pauses an agent fleet-wide from the agents page: events wait, and resuming processes them", async () => {
  await open(href("agents", { topic: pausable.topic, name: pausable.name }));
  await page.getByTestId("agent-detail").waitFor();
  await expectText(page.getByTestId("agent-state"), /active/);

  await page.getByTestId("pause").click();
  await page.getByRole("dialog").getByRole("button", { name: "Pause fleet-wide" }).click();
  await expectText(page.getByTestId("agent-state"), /paused/);
  // Every worker stopped consuming it (their heartbeats say so), and the console shows no live consumer.
  await waitFor(
    "both workers to report the agent paused",
    async () =>
      (await consumerStatuses(pausable)).every((status) => status === "paused") ? true : undefined,
    30_000,
    500,
  );
  await expectText(page.getByTestId("live-consumers"), /^0$/);

  const ids = await Promise.all(
    Array.from({ length: 5 }, (_, i) => publisher.publish(pausable.topic, { echo: `while paused ${i}` })),
  );
  pausedIds = ids;
  // The events wait in the topic: the agent's lag shows them, and no worker starts one.
  await expectText(page.getByTestId("agent-lag").locator("h2"), /Lag \(5 total\)/, 30_000);
  const started = log
    .lines({ event: "start", agent: pausable.name })
    .filter((l) => ids.includes(l.taskId ?? ""));
  expect(started).toEqual([]);
  await screenshot(page, "agents-paused");

  await page.getByTestId("resume").click();
  await page.getByRole("dialog").getByRole("button", { name: "Resume fleet-wide" }).click();
  await expectText(page.getByTestId("agent-state"), /active/);
  await waitFor(
    "every event published while paused to be processed after resume",
    () => ids.every((id) => log.ended(pausable.name).has(id)),
    60_000,
    250,
  );
  await expectText(page.getByTestId("agent-lag").locator("h2"), /Lag \(0 total\)/, 30_000);
  await screenshot(page, "agents");
});

it("changes an agent's limits fleet-wide from the agents page; a bad field is named; clearing brings back the config", async () => {
  await open(href("agents", { topic: pausable.topic, name: pausable.name }));
  const section = page.getByTestId("agent-limits");
  await expectText(section.getByTestId("limits-rate"), /no limit/);
  await expectText(section.getByTestId("limits-source"), /the agent's config/);

  await section.getByTestId("limits-edit").click();
  await section.getByTestId("limits-perSecond").fill("-3");
  await section.getByTestId("limits-apply").click();
  await expectText(section.getByTestId("limits-outcome"), /Events per second must be a number above 0/);

  await section.getByTestId("limits-perSecond").fill("20");
  await section.getByTestId("limits-maxInFlight").fill("4");
  await section.getByTestId("limits-apply").click();
  await expectText(
    section.getByTestId("limits-outcome"),
    /limits changed fleet-wide; every worker applies revision/,
  );
  await expectText(section.getByTestId("limits-rate"), /^20\/s, burst 20$/);
  await expectText(section.getByTestId("limits-in-flight"), /^4$/);
  await expectText(section.getByTestId("limits-source"), /an operator's override/);
  // The API holds the override, and the effective limits every worker reads from the control topic.
  const answer = await coordinator.api("GET", `/agents/${pausable.topic}/${pausable.name}/limits`);
  expect(answer.body).toMatchObject({
    limits: {
      override: { rateLimit: { perSecond: 20, scope: "agent" }, maxInFlight: 4 },
      effective: { rateLimit: { perSecond: 20, scope: "agent" }, maxInFlight: 4 },
    },
  });
  await screenshot(page, "agents-limits");

  await section.getByTestId("limits-clear").click();
  await expectText(section.getByTestId("limits-rate"), /no limit/);
  await expectText(section.getByTestId("limits-source"), /the agent's config/);
  const cleared = await coordinator.api("GET", `/agents/${pausable.topic}/${pausable.name}/limits`);
  expect(cleared.body).toMatchObject({ limits: { override: null, effective: {} } });
});

/** Looks the task up on the tasks page; its record for `agent`. */
async function findTaskRecord(id: string, agent: string) {
  await open("#/tasks");
  await page.getByTestId("task-search").fill(id);
  await page.getByRole("button", { name: "Find" }).click();
  return page.getByTestId("task-result").locator(`[data-testid="task-record"][data-agent="${agent}"]`);
}

it("finds a dead-lettered event, inspects its provenance and error, and replays it once the bug is fixed", async () => {
  // The handler fails while this file exists; deleting it is the fix.
  const bug = join(scratch, "bug");
  writeFileSync(bug, "");
  const id = await publisher.publish(flaky.topic, { failWhileExists: bug, echo: "replay me" });

  await open("#/dlq");
  await page.getByTestId("dlq-agent").selectOption(`${flaky.topic}\n${flaky.name}`);
  const row = page.locator(`[data-testid="dlq-row"][data-task-id="${id}"]`);
  // The DLQ list refreshes every 15 s; Refresh asks now.
  await waitFor(
    "the dead letter to be listed",
    async () => {
      if ((await row.count()) > 0) return true;
      await page.getByRole("button", { name: "Refresh" }).click();
      await page.waitForTimeout(1000);
      return undefined;
    },
    60_000,
    0,
  );
  await row.click();
  const inspect = page.getByTestId("dlq-inspect");
  await expectText(inspect.getByTestId("dlq-error"), new RegExp(`TypeError: ${escape(bug)} still exists`));
  const provenance = await inspect.innerText();
  expect(provenance).toContain(`${flaky.topic} partition`);
  expect(provenance).toContain(`omnidaemon.${flaky.topic}.${flaky.name}`);
  expect(provenance).toMatch(/non retriable|non_retriable|retries_exhausted/);
  const envelope = await inspect.getByTestId("dlq-envelope").innerText();
  expect(envelope).toContain('"echo": "replay me"');
  // The user's content exactly as published: its keys are not renamed on the way to the browser.
  expect(envelope).toContain(`"failWhileExists": ${JSON.stringify(bug)}`);
  await screenshot(page, "dlq");

  rmSync(bug);
  await row.getByTestId("dlq-select").check();
  await page.getByTestId("replay-selected").click();
  const dialog = page.getByRole("dialog");
  // The dry run first: what would be replayed, before anything is.
  await expectText(dialog.getByTestId("replay-preview"), /Dry run: 1 would be replayed, 0 skipped/);
  expect(log.lines({ event: "start", agent: flaky.name }).filter((l) => l.taskId === id)).toHaveLength(1);
  await screenshot(page, "dlq-replay-preview");
  await dialog.getByRole("button", { name: "Replay 1 event" }).click();
  await expectText(page.getByTestId("dlq-outcome"), /Replayed 1 event to the agent/);

  await waitFor("the replayed event to be processed", () => log.ended(flaky.name).has(id), 60_000, 250);
  await expectText(row, /replayed/, 30_000);

  // The task's record started over with the replay and ended completed (it used to stay dead_lettered).
  const record = await findTaskRecord(id, flaky.name);
  await expectText(record.getByTestId("task-status"), /completed/, 30_000);
  await expectText(record.getByTestId("task-attempts"), /1 \(replay 1\)/);
});

it("looks a task up by its id: its record per agent, status and result", async () => {
  const id = pausedIds[0] as string;
  const record = await findTaskRecord(id, pausable.name);
  await expectText(record.getByTestId("task-status"), /completed/, 30_000);
  expect(await record.getByTestId("task-result-json").innerText()).toContain('"echo": "while paused 0"');
  expect(page.url()).toContain(`#/tasks?id=${id}`);
  await screenshot(page, "tasks");
});

it("shows the console's own changes in the audit log", async () => {
  await open("#/audit");
  for (const action of ["pause", "resume", "set_limits", "dlq_replay"]) {
    await page.locator(`[data-testid="audit-row"][data-action="${action}"]`).first().waitFor();
  }
  const pause = await page.locator('[data-testid="audit-row"][data-action="pause"]').first().innerText();
  expect(pause).toContain("console");
  expect(pause).toContain(pausable.name);
  const limits = await page
    .locator('[data-testid="audit-row"][data-action="set_limits"]')
    .first()
    .innerText();
  expect(limits).toContain("console");
  await screenshot(page, "audit");
});

it("made no request beyond the coordinator, and no Content-Security-Policy violation", () => {
  const foreign = browser.requests.filter((url) => !url.startsWith(`${coordinator.url}/`));
  expect(foreign).toEqual([]);
  expect(browser.problems.filter((p) => /Content Security Policy|Refused to/i.test(p))).toEqual([]);
  expect(browser.problems.filter((p) => p.startsWith("page error"))).toEqual([]);
});

it("ships the protocol's client without its schemas: zod stays out of the bundle", () => {
  // The console imports the protocol's types, client and errors; its schemas are left out only because the protocol
  // is marked sideEffects: false. A value import of a schema, or a lost flag, would add zod (about 100 KB).
  const assets = join(__dirname, "..", "..", "packages", "console", "dist", "ui", "assets");
  const scripts = readdirSync(assets).filter((file) => file.endsWith(".js"));
  const code = scripts.map((file) => readFileSync(join(assets, file), "utf8")).join("\n");
  expect(scripts.length).toBeGreaterThan(0);
  expect(code).toContain("cannot reach the coordinator at");
  expect(code).not.toContain("$ZodType");
});

/** Waits until the element's text matches (the console polls, so the text changes by itself). */
async function expectText(
  locator: ReturnType<Page["locator"]>,
  pattern: RegExp,
  timeoutMs = 20_000,
): Promise<void> {
  await waitFor(
    `text matching ${pattern}`,
    async () => (pattern.test((await locator.innerText({ timeout: timeoutMs })).trim()) ? true : undefined),
    timeoutMs,
    200,
    () => "",
  ).catch(async (error: Error) => {
    const text = await locator.innerText({ timeout: 1000 }).catch(() => "(element not found)");
    throw new Error(`${error.message}; the element says: ${JSON.stringify(text)}`);
  });
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
