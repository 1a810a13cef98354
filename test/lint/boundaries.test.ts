// The boundaries of docs/architecture.md fail when violated: each eslint rule on a deliberate violation (linted
// from stdin under a path inside the package, so the real config applies), and the import-cycle check on a small
// project with a cycle. `npm run lint` runs both over the tree.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const ROOT = join(__dirname, "..", "..");
const run = promisify(execFile);

interface LintMessage {
  ruleId: string | null;
  message: string;
}

/** Lints `code` as if it were the file `filePath` of the repository; the messages eslint reports. */
async function lint(filePath: string, code: string): Promise<LintMessage[]> {
  const eslint = join(ROOT, "node_modules", "eslint", "bin", "eslint.js");
  const child = execFile(
    process.execPath,
    [eslint, "--stdin", "--stdin-filename", filePath, "--format", "json"],
    { cwd: ROOT, maxBuffer: 10 * 1024 * 1024 },
  );
  child.stdin?.end(code);
  const output = await new Promise<string>((resolve, reject) => {
    let text = "";
    child.stdout?.on("data", (chunk: Buffer) => (text += chunk.toString()));
    child.on("error", reject);
    // eslint exits 1 when it reports errors; the JSON on stdout is the answer either way.
    child.on("close", () => resolve(text));
  });
  const [result] = JSON.parse(output) as Array<{ messages: LintMessage[] }>;
  return result?.messages ?? [];
}

const restricted = (messages: LintMessage[]) =>
  messages.filter((m) => m.ruleId === "no-restricted-imports").map((m) => m.message);

describe("eslint boundaries (no-restricted-imports)", () => {
  jest.setTimeout(60_000);

  it.each([
    [
      "kafkajs outside bus-kafka",
      "packages/sdk/src/fixture.ts",
      `import { Kafka } from "kafkajs";`,
      /Kafka clients stay inside packages\/bus-kafka/,
    ],
    [
      "@platformatic/kafka outside bus-kafka",
      "apps/worker/src/fixture.ts",
      `import { Producer } from "@platformatic/kafka";`,
      /Kafka clients stay inside packages\/bus-kafka/,
    ],
    [
      "pg outside store-pg",
      "apps/coordinator/src/fixture.ts",
      `import { Pool } from "pg";`,
      /pg and drizzle stay inside packages\/store-pg/,
    ],
    [
      "drizzle outside store-pg",
      "packages/bus-kafka/src/fixture.ts",
      `import { sql } from "drizzle-orm";`,
      /pg and drizzle stay inside packages\/store-pg/,
    ],
    [
      "an app imported by a package",
      "packages/cli/src/fixture.ts",
      `import { main } from "@omnidaemon/coordinator";`,
      /nothing imports an app/,
    ],
    [
      "a package reaching into an app's files",
      "packages/sdk/src/fixture.ts",
      `import { main } from "../../../apps/worker/src/main";`,
      /nothing imports an app/,
    ],
    [
      "an app imported by an app",
      "apps/worker/src/fixture.ts",
      `import { main } from "@omnidaemon/coordinator";`,
      /nothing imports an app/,
    ],
    [
      "a package importing one above it",
      "packages/cli/src/fixture.ts",
      `import type { PgStore } from "@omnidaemon/store-pg";`,
      /packages\/cli may import only @omnidaemon\/protocol, @omnidaemon\/lifecycle/,
    ],
    [
      "the protocol importing a workspace package",
      "packages/protocol/src/fixture.ts",
      `import { StartStop } from "@omnidaemon/lifecycle";`,
      /packages\/protocol may import no workspace package/,
    ],
    [
      "the protocol importing a Node API",
      "packages/protocol/src/fixture.ts",
      `import { readFileSync } from "node:fs";`,
      /zod only/,
    ],
    [
      "the console importing a package other than the protocol",
      "packages/console/src/fixture.tsx",
      `import { KafkaProducer } from "@omnidaemon/bus-kafka";`,
      /packages\/console may import only @omnidaemon\/protocol/,
    ],
    [
      "the console's browser code importing a Node API",
      "packages/console/src/pages/fixture.tsx",
      `import { readFileSync } from "node:fs";`,
      /runs in a browser: no Node APIs/,
    ],
    [
      "a package importing the console",
      "packages/sdk/src/fixture.ts",
      `import { consoleAssetsDir } from "@omnidaemon/console";`,
      /packages\/sdk may import only/,
    ],
    [
      "a package's runtime code importing the tests' helpers",
      "packages/bus-kafka/src/fixture.ts",
      `import { waitFor } from "@omnidaemon/testkit";`,
      /the tests' shared helpers: runtime code never imports it/,
    ],
    [
      "an app's runtime code reaching into the testkit's files",
      "apps/worker/src/fixture.ts",
      `import { waitFor } from "../../../packages/testkit/src/wait";`,
      /the tests' shared helpers: runtime code never imports it/,
    ],
    [
      "a unit test next to the code importing the tests' helpers",
      "packages/lifecycle/src/fixture.test.ts",
      `import { delay } from "@omnidaemon/testkit";`,
      /the tests' shared helpers: runtime code never imports it/,
    ],
  ])("refuses %s", async (_what, filePath, importLine, expected) => {
    const messages = restricted(
      await lint(filePath, `${importLine}\nexport const used = [${importLine.match(/\{ (\w+) \}/)?.[1]}];\n`),
    );
    expect(messages).toEqual([expect.stringMatching(expected)]);
  });

  it.each([
    ["kafkajs inside bus-kafka", "packages/bus-kafka/src/fixture.ts", `import { Kafka } from "kafkajs";`],
    ["pg inside store-pg", "packages/store-pg/src/fixture.ts", `import { Pool } from "pg";`],
    [
      "the CLI on the protocol",
      "packages/cli/src/fixture.ts",
      `import { CoordinatorClient } from "@omnidaemon/protocol";`,
    ],
    [
      "the console on the protocol",
      "packages/console/src/fixture.tsx",
      `import { CoordinatorClient } from "@omnidaemon/protocol";`,
    ],
    [
      "the console's Node entry on a Node API",
      "packages/console/src/index.ts",
      `import { join } from "node:path";`,
    ],
    [
      "the coordinator on the console (the path of its built files)",
      "apps/coordinator/src/fixture.ts",
      `import { consoleAssetsDir } from "@omnidaemon/console";`,
    ],
    [
      "an app on store-pg",
      "apps/coordinator/src/fixture.ts",
      `import { PgStore } from "@omnidaemon/store-pg";`,
    ],
    [
      "a test observing Kafka directly",
      "packages/cli/test/fixture.int.test.ts",
      `import { Kafka } from "kafkajs";`,
    ],
    [
      "an integration test on the tests' helpers",
      "apps/coordinator/test/fixture.int.test.ts",
      `import { waitFor } from "@omnidaemon/testkit";`,
    ],
  ])("allows %s", async (_what, filePath, importLine) => {
    const messages = restricted(
      await lint(filePath, `${importLine}\nexport const used = [${importLine.match(/\{ (\w+) \}/)?.[1]}];\n`),
    );
    expect(messages).toEqual([]);
  });
});

describe("import cycle check (scripts/check-import-cycles.js)", () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS script of the repository
  const { findCycles } = require("../../scripts/check-import-cycles") as {
    findCycles(graph: Map<string, string[]>): string[][];
  };

  it("finds each cycle once, as a path back to its start, and nothing in an acyclic graph", () => {
    const graph = new Map([
      ["a", ["b"]],
      ["b", ["c"]],
      ["c", ["a", "d"]],
      ["d", []],
      ["e", ["e"]],
    ]);
    expect(findCycles(graph)).toEqual([
      ["a", "b", "c", "a"],
      ["e", "e"],
    ]);
    expect(
      findCycles(
        new Map([
          ["a", ["b"]],
          ["b", []],
        ]),
      ),
    ).toEqual([]);
  });

  it("fails, naming the files, on a project whose modules import each other (type-only imports count)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cycles-"));
    try {
      writeFileSync(
        join(dir, "tsconfig.json"),
        JSON.stringify({ compilerOptions: { module: "node16", strict: true }, include: ["*.ts"] }),
      );
      writeFileSync(join(dir, "a.ts"), `import type { B } from "./b";\nexport interface A { b?: B }\n`);
      writeFileSync(join(dir, "b.ts"), `import type { A } from "./a";\nexport interface B { a?: A }\n`);
      writeFileSync(join(dir, "c.ts"), `import type { A } from "./a";\nexport type C = A;\n`);
      const failed = await run(process.execPath, [
        join(ROOT, "scripts", "check-import-cycles.js"),
        "--project",
        join(dir, "tsconfig.json"),
      ]).then(
        () => undefined,
        (error: { code: number; stderr: string }) => error,
      );
      expect(failed?.code).toBe(1);
      expect(failed?.stderr).toMatch(/1 import cycle\(s\)/);
      expect(failed?.stderr).toMatch(/a\.ts\s+→ .*b\.ts\s+→ .*a\.ts/);
      expect(failed?.stderr).not.toMatch(/c\.ts/);

      writeFileSync(join(dir, "b.ts"), `export interface B { name: string }\n`);
      const passed = await run(process.execPath, [
        join(ROOT, "scripts", "check-import-cycles.js"),
        "--project",
        join(dir, "tsconfig.json"),
      ]);
      expect(passed.stdout).toMatch(/no import cycles among 3 TypeScript files/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("passes on this repository", async () => {
    const { stdout } = await run(process.execPath, [join(ROOT, "scripts", "check-import-cycles.js")], {
      cwd: ROOT,
    });
    expect(stdout).toMatch(/^no import cycles among \d+ TypeScript files/);
  });
});
