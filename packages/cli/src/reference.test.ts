// docs/cli.md stays in step with `--help`: its generated section is every command's help text, verbatim.
// After changing a command, regenerate it: UPDATE_CLI_DOCS=1 npx jest packages/cli/src/reference.test.ts
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { COMMANDS } from "./commands";
import { commandName } from "./commands/types";
import { REFERENCE_BEGIN, REFERENCE_END, renderHelp, renderReference, usageLine } from "./help";

const DOC = join(__dirname, "..", "..", "..", "docs", "cli.md");

function generatedSection(text: string): string {
  const begin = text.indexOf(REFERENCE_BEGIN);
  const end = text.indexOf(REFERENCE_END);
  if (begin === -1 || end === -1 || end < begin) {
    throw new Error(
      `docs/cli.md has no generated section between "${REFERENCE_BEGIN}" and "${REFERENCE_END}"`,
    );
  }
  return text.slice(begin, end + REFERENCE_END.length);
}

describe("docs/cli.md", () => {
  let doc = readFileSync(DOC, "utf8");

  if (process.env.UPDATE_CLI_DOCS === "1") {
    doc = doc.replace(generatedSection(doc), renderReference());
    writeFileSync(DOC, doc);
  }

  it("has every command's --help verbatim in its generated section", () => {
    const section = generatedSection(doc);
    // On failure: UPDATE_CLI_DOCS=1 npx jest packages/cli/src/reference.test.ts
    expect(section).toBe(renderReference());
    for (const command of COMMANDS) expect(section).toContain(renderHelp(command));
  });

  it("mentions every command's usage line and documents the exit codes and the environment", () => {
    for (const command of COMMANDS) {
      expect(doc).toContain(usageLine(command));
      expect(doc).toContain(`omnidaemon ${commandName(command)}`);
    }
    for (const text of [
      "OMNIDAEMON_COORDINATOR_URL",
      "OMNIDAEMON_API_TOKEN",
      "NO_COLOR",
      "| 0 |",
      "| 1 |",
      "| 2 |",
    ]) {
      expect(doc).toContain(text);
    }
  });

  it("gives every command an example that is a complete omnidaemon command line", () => {
    for (const command of COMMANDS) {
      expect(command.examples.length).toBeGreaterThan(0);
      for (const example of command.examples) expect(example).toContain(`omnidaemon ${commandName(command)}`);
    }
  });
});
